#!/usr/bin/env python3
"""A do-nothing GitHub API for the benchmark (scripts/bench): `github-stub.py PORT`.

Listens on 127.0.0.1:PORT; answers every GET with `200 []` (catch-up's issue list: nothing
new) and every other method with `201 {}`. Keeps invitebot's background work on its happy
path during the ack benchmark (a closed port makes every catch-up pass fail and log an error).
"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Stub(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self, status, body):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self._answer(200, b"[]")

    def do_POST(self):
        self._answer(201, b"{}")

    do_PUT = do_PATCH = do_DELETE = do_POST

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Stub).serve_forever()
