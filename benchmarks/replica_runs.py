"""Run each replica concurrency scenario of tests/test_replicas.py many times over and
print what each run measured, then the totals: the counts quoted in docs/scaling.md.

    MARKETBOT_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \
        python benchmarks/replica_runs.py [--runs 20] [--scenario together|kills]

Each run gets a fresh database on that server (dropped afterwards). A run passes when it
meets the test's assertions: every expected alert sent, none repeated (beyond one per
kill), nothing left pending, every item stored, no replica crashed, and the Slack pace
and EDGAR budget within their limits at the loopback servers.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import database, replicas

SCENARIOS = {"together": replicas.started_together, "kills": replicas.stream_with_kills}


def passed(name: str, o: replicas.Outcome) -> bool:
    repeats_ok = o.duplicates == 0 if name == "together" else o.duplicates <= o.kills
    return (not o.crashed and not o.missing and repeats_ok and o.alerts_pending == 0
            and o.items_stored == o.expected and o.within_limits())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--scenario", choices=sorted(SCENARIOS), action="append")
    args = ap.parse_args()
    if database.server_url() is None:
        print(f"set {database.ENV} to a PostgreSQL server (replicas share one database)")
        return 2
    database.drop_stale()
    totals = {}
    for name in args.scenario or ["together", "kills"]:
        runs = []
        for i in range(args.runs):
            with tempfile.TemporaryDirectory() as tmp:
                t = time.monotonic()
                try:
                    o = SCENARIOS[name](Path(tmp), database.url_for(Path(tmp)))
                finally:
                    database.drop_created()
            ok = passed(name, o)
            runs.append((ok, o))
            print(f"{name} {i + 1:2d}/{args.runs}: {'pass' if ok else 'FAIL'}: {o.line()} "
                  f"[{time.monotonic() - t:.0f}s]", flush=True)
            for c in o.crashed:
                print("   crashed:", c[-300:].replace("\n", " | "))
        totals[name] = runs
    print()
    for name, runs in totals.items():
        os_ = [o for _, o in runs]
        print(f"{name}: {sum(ok for ok, _ in runs)}/{len(runs)} runs passed; alerts expected "
              f"{sum(o.expected for o in os_)}, sent {sum(o.distinct for o in os_)}, missing "
              f"{sum(len(o.missing) for o in os_)}, repeats {sum(o.duplicates for o in os_)} "
              f"(kills {sum(o.kills for o in os_)}), crashes "
              f"{sum(len(o.crashed) for o in os_)}; worst slack "
              f"{max(o.slack_max_per_s for o in os_)}/s (min gap "
              f"{min(o.slack_min_gap for o in os_):.2f}s), worst edgar "
              f"{max(o.edgar_max_per_s for o in os_)}/s, "
              f"{max(o.edgar_max_per_5s for o in os_)}/5s (limit {replicas.MAX_RPS:g}/s)")
    return 0 if all(ok for runs in totals.values() for ok, _ in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
