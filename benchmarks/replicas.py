"""Replica scaling: 1, 2 and 3 replicas of `marketbot run` over the same loopback feeds
on PostgreSQL. For each count: a fresh database, the replicas started together, and the
time until every feed has been polled once (the cold cycle), the feeds each replica took,
and the alerts queued and sent.

    MARKETBOT_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \
        python benchmarks/replicas.py [--feeds 2000] [--latency 0.1] [--replicas 1 2 3]

Every feed serves two items after `--latency` seconds (a remote server's answer time);
one feed in ten carries an Acme gross margin for its own quarter, which alerts
(`below: 99`), the others a story without figures. Slack is a loopback server with no
pace (delivery is not what is measured). Numbers are quoted in docs/scaling.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import yaml
from sqlalchemy.exc import ProgrammingError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import database
from tests.database import query
from tests.fixtures.feeds.make import rss
from tests.loopback import FeedServer, Reply, SlackServer
from tests.replicas import RSS, Replicas, item, replica_env


def serve(feeds: FeedServer, n: int, latency: float) -> int:
    alerting = 0
    for k in range(n):
        items = [(f"plain-{k}", f"Acme story {k}", "Acme Corp opened a new office.",
                  "2026-05-01")]
        if k % 10 == 0:
            items.append(item(alerting))
            alerting += 1
        feeds.route(f"/f{k}.xml", Reply(200, rss(*items), RSS, delay=latency))
    return alerting


def config(feeds: FeedServer, n: int) -> dict:
    return {
        "companies": [{"ticker": "ACME", "name": "Acme Corp", "cik": 1,
                       "fiscal_year": {"end_month": 12, "rule": "month_end"}}],
        "feeds": [{"name": f"f{k}", "url": f"{feeds.url}/f{k}.xml", "every": "10m",
                   "company": "ACME"} for k in range(n)],
        "rules": [{"name": "acme-gm", "metric": "gross_margin", "below": 99}],
        "slack": {"channel": "#acme", "pace": 0},
    }


def run(count: int, n: int, latency: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp, FeedServer() as feeds, SlackServer() as slack:
        tmp_path = Path(tmp)
        url = database.url_for(tmp_path)
        try:
            alerting = serve(feeds, n, latency)
            cfg = tmp_path / "feeds.yaml"
            cfg.write_text(yaml.safe_dump(config(feeds, n), sort_keys=False))
            with Replicas(tmp_path, cfg, replica_env(url, slack)) as replicas:
                t0 = time.monotonic()
                replicas.start(count)
                polled, deadline = 0, t0 + 1800
                while polled < n and time.monotonic() < deadline:
                    time.sleep(1.0)
                    polled = _count(url, "select count(*) from feed_state "
                                         "where last_success_at is not null")
                cycle = time.monotonic() - t0
                while len(slack.messages) < alerting and time.monotonic() < t0 + cycle + 120:
                    time.sleep(0.5)
                share = query(url, "select lease_holder, count(*) from feed_state "
                                   "group by lease_holder order by 2 desc")
                alerts = _count(url, "select count(*) from alert where kind = 'rule'")
                bad = replicas.died() + replicas.stop()
            return {"replicas": count, "feeds": n, "polled": polled, "cycle": cycle,
                    "per_replica": [c for _, c in share], "alerts": alerts,
                    "expected": alerting, "sent": len(slack.messages), "crashed": len(bad)}
        finally:
            database.drop_created()


def _count(url: str, sql: str) -> int:
    try:
        return query(url, sql)[0][0]
    except ProgrammingError:  # the replicas have not made the schema yet
        return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feeds", type=int, default=2000)
    ap.add_argument("--latency", type=float, default=0.1)
    ap.add_argument("--replicas", type=int, nargs="+", default=[1, 2, 3])
    args = ap.parse_args()
    if database.server_url() is None:
        print(f"set {database.ENV} to a PostgreSQL server (replicas share one database)")
        return 2
    database.drop_stale()
    print(f"{args.feeds} loopback feeds ({args.latency * 1000:.0f} ms per answer), "
          f"http.workers 8 per replica, PostgreSQL; cold cycle = until every feed polled once")
    print("replicas  cycle s  feeds/s  feeds per replica      alerts queued/sent/expected  "
          "crashed")
    for r in args.replicas:
        o = run(r, args.feeds, args.latency)
        print(f"{o['replicas']:>8}  {o['cycle']:7.1f}  {o['polled'] / o['cycle']:7.1f}  "
              f"{o['per_replica']!s:<21}  {o['alerts']:>6}/{o['sent']}/{o['expected']:<18} "
              f"{o['crashed']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
