#!/usr/bin/env python3
"""Renders docs/benchmarks.md from the raw results scripts/bench collected in WORK.

    report.py WORK > docs/benchmarks.md

Reads WORK/results.tsv (one load run, wrk or oha, per line), WORK/cells.tsv (invitebot's peak
RSS and delivery counters per cell and log level), WORK/footprint.tsv and WORK/cargo-benches.txt; the settings come
from BENCH_* environment variables set by scripts/bench.
"""
import csv
import os
import platform
import re
import subprocess
import sys
from collections import defaultdict
from datetime import datetime, timezone
from statistics import median

SCENARIOS = {
    "ping": "(a) ignored event (`ping`, 7.6 KB, signed, a new delivery id each with wrk, one fixed id with oha)",
    "repeat": "(a') the same `ping` under one delivery id (GitHub's \"Redeliver\")",
    "bad": "(b) bad signature (`ping` body, wrong `X-Hub-Signature-256`)",
    "join": "(c) join request (`issues` opened, 13.6 KB, each a new issue signed by the load generator, unique delivery id; wrk only)",
    "paced": "(c') the join requests of (c) offered at a set rate (`BENCH_JOIN_RATE` a second over all connections, bench/webhook-paced.lua): the latency of a server that keeps up; req/s is the offered rate, so its ratios say nothing",
}
SERVERS = ["invitebot", "invitebot-warn", "peer", "minimal", "ceiling"]
LABELS = {"invitebot": "invitebot (default log level)", "invitebot-warn": "invitebot (`RUST_LOG=warn`)"}
TOOLS = ["wrk", "oha"]
# What each server must answer for the run to count (wrk counts non-2xx answers).
EXPECT_NON2XX = {("bad", srv): "all" for srv in ("invitebot", "invitebot-warn", "peer", "minimal")}


def sh(command):
    try:
        return subprocess.run(command, shell=True, capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception:
        return ""


def read_tsv(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return list(csv.DictReader(f, delimiter="\t"))


def fmt_rps(x):
    return f"{x:,.0f}"


def fmt_ms(x):
    return f"{x:.2f}" if x < 10 else f"{x:.1f}"


def main():
    work = sys.argv[1]
    env = os.environ
    runs = read_tsv(os.path.join(work, "results.tsv"))
    cells = {(c["scenario"], c["conns"], c["server"]): c for c in read_tsv(os.path.join(work, "cells.tsv"))}
    foot = read_tsv(os.path.join(work, "footprint.tsv"))
    cargo_lines = []
    if os.path.exists(os.path.join(work, "cargo-benches.txt")):
        with open(os.path.join(work, "cargo-benches.txt")) as f:
            cargo_lines = [line.rstrip("\n").split("\t", 1) for line in f if "\t" in line]

    by = defaultdict(list)  # (scenario, conns, tool, server) -> runs
    for r in runs:
        by[(r["scenario"], int(r["conns"]), r.get("tool", "wrk"), r["server"])].append(r)
    scenarios = [s for s in SCENARIOS if any(k[0] == s for k in by)]
    conns_list = sorted({k[1] for k in by})
    tools = [t for t in TOOLS if any(k[2] == t for k in by)]

    def med(scenario, conns, server, field, tool="wrk"):
        values = [float(r[field]) for r in by[(scenario, conns, tool, server)]]
        return median(values) if values else float("nan")

    def ratios(scenario, conns, other, tool="wrk", mine_server="invitebot"):
        mine = {r["run"]: float(r["rps"]) for r in by[(scenario, conns, tool, mine_server)]}
        theirs = {r["run"]: float(r["rps"]) for r in by[(scenario, conns, tool, other)]}
        return [mine[k] / theirs[k] for k in sorted(mine) if k in theirs and theirs[k] > 0]

    def spread(rs):
        return f"{median(rs):.2f} ({min(rs):.2f}–{max(rs):.2f})" if rs else "–"

    def valid(scenario, server, r):
        non2xx, requests, errors = int(r["non2xx"]), int(r["requests"]), int(r["errors"])
        if errors:
            return False
        if EXPECT_NON2XX.get((scenario, server)) == "all":
            return non2xx == requests
        return non2xx == 0

    out = []
    w = out.append
    model = sh("lscpu | sed -n 's/^Model name: *//p'") or platform.processor()
    w("# Benchmarks")
    w("")
    w("Written by `scripts/bench` (do not edit by hand; rerun it). "
      f"Last run: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}.")
    w("")
    w("## Machine")
    w("")
    w(f"- CPU: {model}, `nproc` = {sh('nproc')}")
    mem = sh("free -h | awk '/^Mem:/ {print $2\" total, \"$7\" available\"}'")
    w(f"- Memory (`free -h`): {mem}")
    w(f"- Kernel: {platform.release()}; {sh('rustc --version')}; node {sh('node --version')}; "
      f"{sh('wrk -v 2>&1 | head -1').split(' [')[0]}; @octokit/webhooks {env.get('BENCH_PEER_VERSION', '?')}")
    w(f"- Load generators: {sh('wrk -v 2>&1 | head -1').split(' [')[0]}; {sh('oha --version')}")
    w(f"- Servers pinned to CPU {env.get('BENCH_SERVER_CPU', '0')}, the load generator to CPU {env.get('BENCH_LOAD_CPU', '1')} "
      "(`taskset -c`); loopback (127.0.0.1) only")
    w("")
    w("## Commands")
    w("")
    w("```sh")
    w("scripts/bench                 # everything below; BENCH_RUNS, BENCH_SECONDS, ... see the script's header")
    w("```")
    w("")
    w("What it runs, per cell (scenario x connections), after a "
      f"{env.get('BENCH_WARMUP', '2')} s warm-up of each server, {env.get('BENCH_RUNS', '5')} runs of "
      f"{env.get('BENCH_SECONDS', '10')} s ({env.get('BENCH_PACED_SECONDS', '10')} s for the paced join), "
      "the servers back to back within each run:")
    w("")
    w("```sh")
    w("cargo build --release --locked --bin invitebot --example ceiling --example minimal_receiver")
    w("INVITEBOT_WEBHOOK_SECRET=$SECRET taskset -c 0 target/release/invitebot --config $CELL/invitebot.toml serve  # default log level; fresh data dir per cell")
    w("RUST_LOG=warn INVITEBOT_WEBHOOK_SECRET=$SECRET taskset -c 0 target/release/invitebot --config $CELL-warn/invitebot.toml serve  # the same at warn")
    w("INVITEBOT_WEBHOOK_SECRET=$SECRET taskset -c 0 node bench/node-peer/server.mjs 18082")
    w("INVITEBOT_WEBHOOK_SECRET=$SECRET taskset -c 0 target/release/examples/minimal_receiver 127.0.0.1:18086")
    w("taskset -c 0 target/release/examples/ceiling 127.0.0.1:18083")
    w("taskset -c 1 wrk -t1 -c$CONNS -d${SECONDS}s --timeout 10s --latency -s bench/webhook.lua \\")
    w("    http://127.0.0.1:$PORT/webhook -- $BODY_FILE $EVENT $SIGNATURE $RUN_TAG [repeat]")
    w("taskset -c 1 oha --no-tui --output-format json -z ${SECONDS}s -c $CONNS -t 10s -m POST -H 'X-GitHub-Event: $EVENT' \\")
    w("    -H 'X-GitHub-Delivery: $RUN_TAG' -H 'X-Hub-Signature-256: $SIGNATURE' -D $BODY_FILE http://127.0.0.1:$PORT/webhook | bench/oha_result.py")
    w(f"BENCH_ROUNDS={env.get('BENCH_ROUNDS', '200')} cargo bench --bench delivery_to_smtp")
    w(f"BENCH_MEMBERS={env.get('BENCH_MEMBERS', '10000')} cargo bench --bench series_update")
    w("cargo bench --bench invitation   # criterion: CPU time of building one invitation")
    w("```")
    w("")
    w("invitebot's config for the ack benchmark: mail to `.eml` files, `[github] api_url` at a loopback "
      "stub (`bench/github-stub.py`: `200 []` for GETs, on the load generator's CPU) and no token "
      "(replies are only logged) and `failed_signature_limit = 0` (the load generator is one source "
      "address; with the default limit it would get `429` after 60 bad signatures, measuring the limit "
      "rather than the check); ignored events (ping) are recorded in the store after the answer, in "
      "batches; join requests are committed to SQLite "
      "before the `202` and then worked on by the single worker on the same CPU, during the runs. "
      "With wrk every request carries a new `X-GitHub-Delivery` (invitebot answers a seen id with `200` and does nothing), "
      "but in (a') all carry the same one; oha sends one fixed id per run, so its (a) is (a') and it does not run (c). "
      "invitebot runs at its default log level (`info`: a line per delivery), as deployed, and at `RUST_LOG=warn` beside it. "
      "Ignored deliveries are recorded in the store's history up to 1,000 a second; more are counted "
      "(`delivery_log_dropped_total` below), not written. "
      "In (c) every request is a new issue (`bench/webhook.lua vary`: its own `issue.number`, signed "
      "in the load generator), so each is committed with its job before the `202` (the durable path; "
      "a body accepted before would be a replay, answered `200`), and the worker works through them "
      "on the same CPU meanwhile. "
      "The Node peer is `@octokit/webhooks`' `createNodeMiddleware` (verify + parse; `202` for `issues`, "
      "`401` for a bad signature, by rewriting the library's `200`/`400`); it stores nothing and does not "
      "deduplicate. The minimal receiver is the least a correct receiver does on invitebot's stack "
      "(axum, the raw body, HMAC-SHA256 compared in constant time, the JSON validated without building "
      "a tree; `202`/`401`): the floor the ack path is measured against. The ceiling reads the body and "
      "answers `202`, whatever the request.")
    w("")

    # --- part 1
    w("## 1. Webhook ack")
    w("")
    w("Medians over the runs; latency (p50, p99) in ms as the load generator measured it. "
      "\"ok\" is how many runs got the expected answers (2xx; 401 for (b) from invitebot and the peer) "
      "with no socket errors.")
    w("")
    w("### Ratios (the headline)")
    w("")
    w("invitebot's throughput divided by the other server's, per run (same run, back to back); "
      "median and range over the runs. The target is invitebot at its default log level ≥ 0.85 of the "
      "minimal receiver in (a), (a') and (b).")
    w("")
    w("| scenario | conns | tool | invitebot ÷ minimal receiver | invitebot (warn) ÷ minimal receiver | invitebot ÷ peer | invitebot ÷ ceiling | invitebot p99 ms | minimal p99 ms |")
    w("|---|---:|---|---:|---:|---:|---:|---:|---:|")
    for s, c, t in ((s, c, t) for s in scenarios for c in conns_list for t in tools):
        if not by[(s, c, t, "invitebot")]:
            continue
        cols = [spread(ratios(s, c, "minimal", t)), spread(ratios(s, c, "minimal", t, "invitebot-warn"))]
        cols += [spread(ratios(s, c, other, t)) for other in ("peer", "ceiling")]
        w(f"| {s} | {c} | {t} | {' | '.join(cols)} | {fmt_ms(med(s, c, 'invitebot', 'p99_ms', t))} "
          f"| {fmt_ms(med(s, c, 'minimal', 'p99_ms', t))} |")
    w("")
    for s in scenarios:
        w(f"### {SCENARIOS[s]}")
        w("")
        w("| conns | tool | server | req/s | p50 ms | p99 ms | ok |")
        w("|---:|---|---|---:|---:|---:|---:|")
        for c in conns_list:
            for t in tools:
                for srv in SERVERS:
                    rs = by[(s, c, t, srv)]
                    if not rs:
                        continue
                    ok = sum(valid(s, srv, r) for r in rs)
                    w(f"| {c} | {t} | {LABELS.get(srv, srv)} | {fmt_rps(med(s, c, srv, 'rps', t))} "
                      f"| {fmt_ms(med(s, c, srv, 'p50_ms', t))} | {fmt_ms(med(s, c, srv, 'p99_ms', t))} | {ok}/{len(rs)} |")
        w("")
    if cells:
        w("invitebot per cell (its own counters, read from `/metrics` after the runs, warm-up and both "
          "load generators included; peak RSS = `VmHWM`):")
        w("")
        w("| scenario | conns | invitebot | peak RSS | counters |")
        w("|---|---:|---|---:|---|")
        order = lambda kv: (list(SCENARIOS).index(kv[0][0]), int(kv[0][1]), SERVERS.index(kv[0][2]))
        for (s, c, srv), cell in sorted(cells.items(), key=order):
            peak = cell["peak_rss_kib"]
            peak = f"{int(peak) / 1024:.1f} MiB" if peak.isdigit() else peak
            w(f"| {s} | {c} | {LABELS.get(srv, srv)} | {peak} | {cell['deliveries'].replace('|', '/')} |")
        w("")

    # --- parts 2 and 3
    w("## 2. Issue → invite and 3. Series update at scale")
    w("")
    if cargo_lines:
        w("The existing cargo benches' output (servers not pinned):")
        w("")
        w("```")
        for name, line in cargo_lines:
            w(f"{name}: {line}")
        w("```")
    elif env.get("BENCH_CARGO") == "0":
        w("Skipped in this run (`BENCH_CARGO=0`).")
    else:
        w("No output: the cargo benches failed (see the script's log).")
    w("")

    # --- part 4
    w("## 4. Footprint")
    w("")
    binary = env.get("BENCH_BINARY_BYTES", "")
    stripped = env.get("BENCH_STRIPPED_BYTES", "")
    if binary.isdigit():
        line = f"- Release binary `target/release/invitebot`: {int(binary) / 1048576:.1f} MiB"
        if stripped.isdigit():
            line += f" ({int(stripped) / 1048576:.1f} MiB after `strip`)"
        w(line)
    if foot:
        w("- Start-up to ready (process start until `/readyz`, or `/healthz` for the others, answers 200) "
          "and idle RSS (`VmRSS` 2 s after ready), medians of 5 starts, on the server CPU:")
        w("")
        w("| server | start-up ms | idle RSS |")
        w("|---|---:|---:|")
        for srv in SERVERS + ["invitebot-github-down"]:
            rs = [r for r in foot if r["server"] == srv]
            if rs:
                st = median(float(r["startup_ms"]) for r in rs)
                rss = median(float(r["idle_rss_kib"]) for r in rs)
                label = "invitebot, GitHub API unreachable" if srv == "invitebot-github-down" else srv
                w(f"| {label} | {st:.0f} | {rss / 1024:.1f} MiB |")
    w("")

    # --- part 5
    attack = read_tsv(os.path.join(work, "attack.tsv")) if os.path.exists(os.path.join(work, "attack.tsv")) else []
    if attack:
        w("## 5. Under attack")
        w("")
        w("invitebot with its shipped limits (`bench/attack.py`): one address (127.0.0.1) holds 500 "
          "connections that send a request head a byte a second (reopened when closed) and floods "
          "`/webhook` with bad signatures on 8 keep-alive connections, while GitHub (127.0.0.2) "
          "delivers signed pings, each on a new connection, 4 at a time; the load on the load CPU. "
          "One row per run.")
        w("")
        w("| run | GitHub deliveries | refused | p50 ms | p99 ms | max ms | flood requests (status:count) | slow connections opened | server peak RSS |")
        w("|---:|---:|---:|---:|---:|---:|---|---:|---:|")
        for r in attack:
            rss = f"{int(r['peak_rss_kib']) / 1024:.1f} MiB" if r["peak_rss_kib"].isdigit() else "-"
            w(f"| {r['run']} | {r['github']} | {r['refused']} | {r['p50_ms']} | {r['p99_ms']} | "
              f"{r['max_ms']} | {r['flood']} ({r['flood_statuses']}) | {r['slow_opened']} | {rss} |")
        w("")
        w(f"Medians: GitHub p99 {median(float(r['p99_ms']) for r in attack):.2f} ms, "
          f"refused {median(int(r['refused']) for r in attack):.0f}, "
          f"peak RSS {median(int(r['peak_rss_kib']) for r in attack if r['peak_rss_kib'].isdigit()) / 1024:.1f} MiB.")
        w("")

    # --- targets
    w("## Targets")
    w("")
    w("The throughput targets are for (a), (a') and (b), at invitebot's default log level; (c) has none "
      "(its ratios are above). Join latency is a target at a set rate (c'): saturated (c), every server's "
      "mean latency is connections ÷ throughput, so its p99 is shown beside the do-nothing ceiling's. "
      "A missed target says why.")
    w("")
    w("| target | measured | met |")
    w("|---|---|---|")
    for s in [x for x in scenarios if x in ("ping", "repeat", "bad")]:
        for c in conns_list:
            for t in [t for t in tools if t != "wrk"]:
                rm = ratios(s, c, "minimal", t)
                if rm:
                    w(f"| {s} at {c} ({t}): ≥ 0.85 of the minimal receiver | {median(rm):.2f} | {'yes' if median(rm) >= 0.85 else 'no'} |")
            rp = ratios(s, c, "peer")
            rc = ratios(s, c, "ceiling")
            if rp:
                if median(rp) >= 4:
                    met = "yes"
                elif rc:
                    # The same runs' ceiling ÷ peer: what any Rust receiver could reach here.
                    ceiling_over_peer = median(rp) / median(rc)
                    met = (f"no: the do-nothing ceiling itself is {ceiling_over_peer:.1f}× the peer on "
                           f"this machine, so 4× would need {4 / ceiling_over_peer * 100:.0f}% of the ceiling")
                else:
                    met = "no"
                w(f"| {s} at {c}: ≥ 4× the peer's throughput | {median(rp):.2f}× | {met} |")
            rm = ratios(s, c, "minimal")
            if rm:
                w(f"| {s} at {c} (wrk): ≥ 0.85 of the minimal receiver | {median(rm):.2f} | {'yes' if median(rm) >= 0.85 else 'no'} |")
            if rc:
                w(f"| {s} at {c}: ≥ 50% of the ceiling | {median(rc) * 100:.0f}% | {'yes' if median(rc) >= 0.5 else 'no'} |")
    top = max(conns_list) if conns_list else None
    for s in ("ping", "repeat", "bad"):
        for t in tools:
            if top == 64 and by[(s, 64, t, "invitebot")]:
                p99 = med(s, 64, "invitebot", "p99_ms", t)
                floor = med(s, 64, "minimal", "p99_ms", t)
                w(f"| {s} at 64 ({t}): p99 < 5 ms | {fmt_ms(p99)} ms (minimal receiver {fmt_ms(floor)} ms) | {'yes' if p99 < 5 else 'no'} |")
    if top == 64 and by[("join", 64, "wrk", "invitebot")]:
        p99 = med("join", 64, "invitebot", "p99_ms")
        rps = med("join", 64, "invitebot", "rps")
        ceiling = med("join", 64, "ceiling", "p99_ms") if by[("join", 64, "wrk", "ceiling")] else None
        bound = f"; 64 ÷ {fmt_rps(rps)} req/s = {64000 / rps:.1f} ms mean" if rps else ""
        beside = f" (ceiling {fmt_ms(ceiling)} ms{bound})" if ceiling is not None else ""
        w(f"| join at 64, saturated: p99 < 5 ms | {fmt_ms(p99)} ms{beside} | {'yes' if p99 < 5 else 'no: saturated, the latency is the queue'} |")
    if top == 64 and by[("paced", 64, "wrk", "invitebot")]:
        p99 = med("paced", 64, "invitebot", "p99_ms")
        floor = med("paced", 64, "minimal", "p99_ms") if by[("paced", 64, "wrk", "minimal")] else None
        beside = f" (minimal receiver {fmt_ms(floor)} ms)" if floor is not None else ""
        rate = env.get("BENCH_JOIN_RATE", "1000")
        w(f"| join at 64, {rate} a second: p99 < 5 ms | {fmt_ms(p99)} ms{beside} | {'yes' if p99 < 5 else 'no'} |")
    for name, line in cargo_lines:
        if name == "delivery_to_smtp":
            m = re.search(r"median ([\d.]+) ms", line)
            if m:
                w(f"| issue → invite: median < 250 ms | {m.group(1)} ms | {'yes' if float(m.group(1)) < 250 else 'no'} |")
        if name == "series_update":
            m = re.search(r"series update ([\d.]+) s", line)
            rss = re.search(r"peak RSS (\d+) KiB", line)
            if m:
                w(f"| series update, {env.get('BENCH_MEMBERS', '10000')} members: < 20 s | {m.group(1)} s | {'yes' if float(m.group(1)) < 20 else 'no'} |")
            if rss:
                mib = int(rss.group(1)) / 1024
                w(f"| series update: peak RSS < 50 MB | {mib:.1f} MiB | {'yes' if int(rss.group(1)) * 1024 < 50e6 else 'no'} |")
    if attack:
        p99 = median(float(r["p99_ms"]) for r in attack)
        refused = sum(int(r["refused"]) for r in attack)
        w(f"| under attack: GitHub's p99 < 50 ms | {p99:.2f} ms | {'yes' if p99 < 50 else 'no'} |")
        w(f"| under attack: no GitHub delivery refused | {refused} refused | {'yes' if refused == 0 else 'no'} |")
    w("")
    print("\n".join(out))


if __name__ == "__main__":
    main()
