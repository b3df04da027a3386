#!/usr/bin/env python3
"""Turns oha's JSON summary (`oha --output-format json`, on stdin) into the RESULT line that
bench/webhook.lua prints for wrk, so that scripts/bench records both tools the same way:

    RESULT requests=N seconds=S rps=R p50_ms=A p90_ms=B p99_ms=C max_ms=D non2xx=E errors=F

Requests still in flight when the duration ends ("aborted due to deadline") are not errors.
"""
import json
import sys


def main():
    d = json.load(sys.stdin)
    summary, pct = d["summary"], d["latencyPercentiles"]
    codes = {int(k): v for k, v in d.get("statusCodeDistribution", {}).items()}
    errors = sum(v for k, v in d.get("errorDistribution", {}).items() if "deadline" not in k)
    requests = sum(codes.values())
    seconds = summary["total"]
    ms = lambda x: (x or 0.0) * 1000.0
    print(
        f"RESULT requests={requests} seconds={seconds:.3f} rps={requests / seconds:.1f} "
        f"p50_ms={ms(pct.get('p50')):.3f} p90_ms={ms(pct.get('p90')):.3f} "
        f"p99_ms={ms(pct.get('p99')):.3f} max_ms={ms(summary.get('slowest')):.3f} "
        f"non2xx={sum(v for k, v in codes.items() if not 200 <= k < 300)} errors={errors}"
    )


if __name__ == "__main__":
    main()
