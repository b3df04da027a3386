// Node peer for invitebot's webhook benchmark (bench/README.md).
//
// @octokit/webhooks' createNodeMiddleware verifies X-Hub-Signature-256 over the raw body and
// parses the JSON; handlers for `issues` and `ping` do nothing. The library answers 200 on
// success and 400 on a bad signature; to match invitebot's HTTP contract as far as the
// library allows, the answer's status is rewritten on its way out:
//   - verified `issues` deliveries: 200 -> 202 (invitebot: 202 for a join request)
//   - signature mismatch:           400 -> 401 (invitebot: 401)
// Differences that remain: no dedup by X-GitHub-Delivery, nothing is stored before the answer,
// no triage of the issue (every verified `issues` delivery gets 202), JSON error bodies.
//
// Usage: INVITEBOT_WEBHOOK_SECRET=... node server.mjs [port]   (listens on 127.0.0.1 only)
import { createServer } from "node:http";
import { Webhooks, createNodeMiddleware } from "@octokit/webhooks";

const secret = process.env.INVITEBOT_WEBHOOK_SECRET;
if (!secret) {
  console.error("INVITEBOT_WEBHOOK_SECRET is not set");
  process.exit(2);
}
const port = Number(process.argv[2] ?? process.env.PORT ?? 8082);

const webhooks = new Webhooks({ secret });
webhooks.on("issues", () => {});
webhooks.on("ping", () => {});
// The library logs every failed delivery with console.error; keep the benchmark quiet.
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const middleware = createNodeMiddleware(webhooks, { path: "/webhook", log: quiet });

const server = createServer((req, res) => {
  const writeHead = res.writeHead;
  const end = res.end;
  let pending = null;
  // The middleware calls writeHead(status, headers).end(body) in one go: hold the head until
  // the body is known, then adjust the status.
  res.writeHead = function (status, headers) {
    pending = [status, headers];
    return res;
  };
  res.end = function (body, ...rest) {
    if (pending) {
      let [status, headers] = pending;
      if (status === 200 && req.headers["x-github-event"] === "issues") status = 202;
      else if (status === 400 && typeof body === "string" && body.includes("signature does not match")) status = 401;
      writeHead.call(res, status, headers);
      pending = null;
    }
    return end.call(res, body, ...rest);
  };
  if (req.url === "/healthz") {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("ok\n");
    return;
  }
  middleware(req, res, () => {
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("not found\n");
  });
});
server.keepAliveTimeout = 65_000;
server.listen(port, "127.0.0.1", () => {
  console.log(`node peer listening on 127.0.0.1:${port}`);
});
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => server.close(() => process.exit(0)));
