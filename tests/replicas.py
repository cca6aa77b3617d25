"""Replicas of `marketbot run` on one PostgreSQL database, over loopback feeds, EDGAR and
Slack: the scenarios of tests/test_replicas.py, also run many times over by
benchmarks/replica_runs.py (which prints their counts).

Each scenario starts real processes (`python -m bot run`), publishes items that alert
(one gross-margin figure of Acme Corp per item, each for its own quarter: one alert per
item), and measures at the loopback servers what a deployment would be judged by:
every expected alert posted, none twice, the Slack pace per channel and the EDGAR
request rate across all replicas.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

import yaml

from tests.database import query
from tests.edgar_server import UA, EdgarServer, serve_dell_data, serve_dell_www
from tests.fixtures.feeds.make import rss
from tests.loopback import FeedServer, Reply, SlackServer

ROOT = Path(__file__).resolve().parent.parent
RSS = {"Content-Type": "application/rss+xml"}
FEEDS = 6  # Acme news feeds
EDGAR_FEEDS = 3  # Dell EDGAR feeds, three form types each: they keep the budget busy
MAX_RPS = 4.0  # edgar.max_rps in the scenarios (SEC allows 10; 4 makes the limit bind)
PACE = 1.0  # slack.pace
ORDINALS = ("first", "second", "third", "fourth")
PERIOD_RE = re.compile(r"FY\d{4}-Q\d")

# A replica waits for a file before it starts, so that several start at one instant
# (their imports done): "started together".
_WAIT_THEN_RUN = (
    "import pathlib, sys, time; from bot.cli import main; "
    "pathlib.Path(sys.argv[1]).touch(); go = pathlib.Path(sys.argv[2]); "
    "exec('while not go.exists(): time.sleep(0.005)'); "
    "sys.argv = ['marketbot', 'run', '--config', sys.argv[3]]; main()")


def item(n: int) -> tuple[str, str, str, str]:
    """The n-th Acme item: a gross margin for its own quarter (fiscal 2001 onwards)."""
    year, quarter = 2001 + n // 4, n % 4
    month = (5, 8, 11, 2)[quarter]
    day = f"{year + (quarter == 3)}-{month:02d}-01"
    text = (f"Acme Corp said its gross margin was {20 + (n % 10) / 10:.1f}% in the "
            f"{ORDINALS[quarter]} quarter of fiscal {year}.")
    return (f"acme-{n}", f"Acme results {n}", text, day)


def period(n: int) -> str:
    return f"FY{2001 + n // 4}-Q{n % 4 + 1}"


@dataclass
class Outcome:
    """What one scenario run measured."""

    def within_limits(self) -> bool:
        """The Slack pace and the EDGAR budget, measured by arrival at the loopback
        servers. The database hands out slots exactly one interval apart; a replica that
        the machine stalls after its slot posts late and can land beside the next post,
        so each edge of a window may gain one: five seconds hold 5 × the rate + 2, one
        second 2 ×. Replicas with a budget each would reach 3 × the rate."""
        return (self.slack_max_per_5s <= 5 / PACE + 2 and self.slack_max_per_s <= 2 / PACE + 1
                and self.edgar_max_per_5s <= 5 * MAX_RPS + 2
                and self.edgar_max_per_s <= 2 * MAX_RPS)

    expected: int = 0  # alerts that should reach Slack
    posted: int = 0  # messages Slack accepted
    distinct: int = 0  # expected alerts among them
    duplicates: int = 0  # messages beyond the first for one alert
    missing: list[str] = field(default_factory=list)
    kills: int = 0
    crashed: list[str] = field(default_factory=list)  # replicas that died by themselves
    items_stored: int = 0
    alerts_pending: int = 0
    slack_min_gap: float = float("inf")  # seconds between two posts to one channel
    slack_max_per_s: int = 0  # most posts to one channel in any one second
    slack_max_per_5s: int = 0  # … and in any five seconds (the sustained rate)
    edgar_requests: int = 0
    edgar_max_per_s: int = 0  # most EDGAR requests (www + data) in any one second
    edgar_max_per_5s: int = 0  # … and in any five seconds (the sustained rate)
    feed_polls_per_due: float = 0.0  # feed GETs per feed per interval (1.0 = one replica)
    replicas_polling: int = 0  # replicas that polled at least one feed
    feeds_shown: dict[str, str] = field(default_factory=dict)  # `marketbot feeds`: replica
    seconds: float = 0.0

    def line(self) -> str:
        return (f"expected {self.expected}, sent {self.distinct} (+{self.duplicates} repeats, "
                f"{len(self.missing)} missing), kills {self.kills}, crashes "
                f"{len(self.crashed)}, items {self.items_stored}, pending "
                f"{self.alerts_pending}, slack min gap {self.slack_min_gap:.2f}s max "
                f"{self.slack_max_per_s}/s {self.slack_max_per_5s}/5s, edgar "
                f"{self.edgar_requests} req max "
                f"{self.edgar_max_per_s}/s {self.edgar_max_per_5s}/5s (limit {MAX_RPS:g}/s), "
                f"polls/feed/interval "
                f"{self.feed_polls_per_due:.2f}, replicas polling {self.replicas_polling}, "
                f"{self.seconds:.0f}s")


class Replicas:
    """`marketbot run` processes on one database: started together (released at one
    instant after their imports) or one by one, killed, stopped with SIGTERM."""

    def __init__(self, tmp: Path, config: Path, env: dict[str, str]):
        self.tmp, self.config, self.env = tmp, config, env
        self.procs: list[subprocess.Popen] = []
        self.logs: list[Path] = []

    def start(self, n: int, *, together: bool = True) -> None:
        go = self.tmp / f"go-{len(self.procs)}"
        ready = []
        for _ in range(n):
            i = len(self.procs)
            log = self.tmp / f"replica-{i}.log"
            ready.append(self.tmp / f"ready-{i}")
            argv = ([sys.executable, "-c", _WAIT_THEN_RUN, str(ready[-1]), str(go),
                     str(self.config)] if together else
                    [sys.executable, "-m", "bot", "run", "--config", str(self.config)])
            with log.open("w") as out:
                self.procs.append(subprocess.Popen(argv, cwd=self.tmp, env=self.env,
                                                   stdout=out, stderr=subprocess.STDOUT))
            self.logs.append(log)
        if together:
            deadline = time.monotonic() + 120
            while not all(r.exists() for r in ready) and time.monotonic() < deadline:
                time.sleep(0.02)
            go.touch()

    def alive(self) -> list[int]:
        return [i for i, p in enumerate(self.procs) if p.poll() is None]

    def feeds(self) -> dict[str, str]:
        """`marketbot feeds`: each feed's replica column."""
        out = subprocess.run([sys.executable, "-m", "bot", "feeds", "--config",
                              str(self.config)], cwd=self.tmp, env=self.env, text=True,
                             capture_output=True, timeout=120).stdout.splitlines()
        return {line.split()[0]: line.split()[-1] for line in out[2:] if line.strip()}

    def kill(self, i: int) -> None:
        self.procs[i].send_signal(signal.SIGKILL)
        self.procs[i].wait(timeout=30)

    def died(self, *, killed: set[int] = frozenset()) -> list[str]:
        """The logs of replicas that exited by themselves (not killed)."""
        return [f"replica {i}: {self.logs[i].read_text()[-2000:]}"
                for i, p in enumerate(self.procs) if p.poll() is not None and i not in killed]

    def stop(self) -> list[str]:
        """SIGTERM every live replica; the logs of those that did not exit 0."""
        live = self.alive()
        for i in live:
            self.procs[i].send_signal(signal.SIGTERM)
        bad = []
        for i in live:
            try:
                code: int | str = self.procs[i].wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.procs[i].kill()
                code = "timeout"
            if code != 0:
                bad.append(f"replica {i} exited {code}: {self.logs[i].read_text()[-2000:]}")
        return bad

    def __enter__(self) -> Replicas:
        return self

    def __exit__(self, *exc) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=30)


def replica_env(database_url: str, slack: SlackServer) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith(("SLACK_", "SEC_", "EDGAR_", "MARKETBOT_", "DATABASE_"))}
    return {**keep, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT),
            "SLACK_API_URL": slack.api_url, "SLACK_BOT_TOKEN": slack.token}


class Deployment:
    """Loopback feeds, EDGAR and Slack, a config, and replicas started on demand."""

    def __init__(self, tmp: Path, database_url: str, *, every: float = 2.0):
        self.tmp, self.database_url, self.every = tmp, database_url, every
        self.feeds, self.slack = FeedServer(), SlackServer()
        self.www, self.data = EdgarServer(), EdgarServer()
        self.published: dict[int, list[int]] = {k: [] for k in range(FEEDS)}
        self.started = 0.0

    def __enter__(self) -> Deployment:
        for server in (self.feeds, self.slack, self.www, self.data):
            server.__enter__()
        serve_dell_www(self.www)
        serve_dell_data(self.data)
        for k in range(FEEDS):
            self._serve(k)
        config = self.tmp / "feeds.yaml"
        config.write_text(yaml.safe_dump(self._config(), sort_keys=False))
        self.replicas = Replicas(self.tmp, config, replica_env(self.database_url, self.slack))
        self.started = time.monotonic()
        return self

    def __exit__(self, *exc) -> None:
        self.replicas.__exit__(*exc)
        for server in (self.feeds, self.slack, self.www, self.data):
            server.__exit__(None, None, None)

    def _config(self) -> dict:
        every = f"{self.every:g}s"
        acme = [{"name": f"acme-{k}", "url": f"{self.feeds.url}/acme-{k}.xml", "every": every,
                 "company": "ACME", "source": "company-ir"} for k in range(FEEDS)]
        sec = [{"name": f"sec-{k}", "kind": "edgar", "every": every, "company": "DELL"}
               for k in range(EDGAR_FEEDS)]
        return {
            "companies": [
                {"ticker": "ACME", "name": "Acme Corp", "cik": 1,
                 "fiscal_year": {"end_month": 12, "rule": "month_end"}},
                {"ticker": "DELL", "name": "Dell Technologies", "cik": 1571996}],
            "feeds": acme + sec,
            "rules": [{"name": "acme-gm", "metric": "gross_margin", "below": 99,
                       "company": "ACME"}],
            "slack": {"channel": "#acme", "pace": f"{PACE:g}s", "lease": "10s",
                      "feed_failure_notice_after": 1000},
            "edgar": {"user_agent": UA, "max_rps": MAX_RPS, "www_url": self.www.url,
                      "data_url": self.data.url},
            "http": {"timeout": "5s", "workers": 4},
        }

    # -- items
    def publish(self, n: int, feed: int | None = None) -> None:
        k = n % FEEDS if feed is None else feed
        self.published[k].append(n)
        self._serve(k)

    def _serve(self, k: int) -> None:
        self.feeds.route(f"/acme-{k}.xml", Reply(200, rss(*(item(n) for n in
                                                             self.published[k])), RSS))

    def expected(self) -> set[str]:
        return {period(n) for ns in self.published.values() for n in ns}

    # -- measures
    def posted_periods(self) -> list[str]:
        """The period each posted alert is about: the first in its text (the headline;
        the message may go on to name the period it compares with)."""
        return [m[0] for m in (PERIOD_RE.findall(_text(msg)) for msg in self.slack.messages)
                if m]

    def wait_for_alerts(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.expected() <= set(self.posted_periods()):
                return
            time.sleep(0.2)

    def outcome(self, *, kills: int = 0, crashed: list[str] | None = None) -> Outcome:
        counts = Counter(self.posted_periods())
        expected = self.expected()
        o = Outcome(expected=len(expected), posted=len(self.slack.messages),
                    distinct=len(expected & set(counts)), kills=kills,
                    duplicates=sum(c - 1 for p, c in counts.items() if p in expected),
                    missing=sorted(expected - set(counts)), crashed=crashed or [])
        o.items_stored = query(self.database_url, "select count(*) from item "
                                                  "where company = 'ACME'")[0][0]
        o.alerts_pending = query(self.database_url, "select count(*) from alert "
                                                    "where status <> 'sent'")[0][0]
        posts = sorted(r.at for r in self.slack.requests if r.path == "/api/chat.postMessage")
        o.slack_min_gap = min((b - a for a, b in pairwise(posts)),
                              default=float("inf"))
        o.slack_max_per_s = _max_in_window(posts, 1.0)
        o.slack_max_per_5s = _max_in_window(posts, 5.0)
        edgar = sorted(r.at for r in self.www.requests + self.data.requests)
        o.edgar_requests, o.edgar_max_per_s = len(edgar), _max_in_window(edgar, 1.0)
        o.edgar_max_per_5s = _max_in_window(edgar, 5.0)
        o.seconds = time.monotonic() - self.started
        gets = [r for r in self.feeds.requests if r.path.startswith("/acme-")]
        if gets:
            span = max(r.at for r in gets) - min(r.at for r in gets)
            o.feed_polls_per_due = len(gets) / FEEDS / max(1.0, span / self.every)
        o.replicas_polling = query(self.database_url, "select count(distinct lease_holder) "
                                                      "from feed_state")[0][0]
        return o


def _text(message: dict) -> str:
    return message.get("text", "") + json.dumps(message.get("blocks", []))


def _max_in_window(times: list[float], width: float) -> int:
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= width:
            start += 1
        best = max(best, end - start + 1)
    return best


# ---------------------------------------------------------------- scenarios


def started_together(tmp: Path, database_url: str, replicas: int = 3) -> Outcome:
    """Replicas started at one instant on an empty database, over feeds that already
    carry two alerting items each."""
    with Deployment(tmp, database_url) as d:
        for n in range(2 * FEEDS):
            d.publish(n)
        d.replicas.start(replicas)
        d.wait_for_alerts(timeout=120)
        time.sleep(2 * d.every)  # a repeat would come now, if one were coming
        shown = d.replicas.feeds()
        crashed = d.replicas.died() + d.replicas.stop()
        o = d.outcome(crashed=crashed)
        o.feeds_shown = shown
        return o


def stream_with_kills(tmp: Path, database_url: str, *, replicas: int = 3, bursts: int = 4,
                      kills: int = 3, seed: int | None = None) -> Outcome:
    """Replicas over a stream of new items (bursts of one per feed), one replica
    SIGKILLed at random times and started again."""
    rnd = random.Random(seed)
    with Deployment(tmp, database_url) as d:
        d.replicas.start(replicas)
        stream = 6.0 * bursts  # seconds over which the bursts are published
        kill_at = sorted(rnd.uniform(2.0, stream) for _ in range(kills))
        t0, n, burst = time.monotonic(), 0, 0
        while burst < bursts or kill_at:
            now = time.monotonic() - t0
            if burst < bursts and now >= burst * stream / bursts:
                for k in range(FEEDS):
                    d.publish(n, feed=k)
                    n += 1
                burst += 1
            if kill_at and now >= kill_at[0]:
                kill_at.pop(0)
                d.replicas.kill(rnd.choice(d.replicas.alive()))
                d.replicas.start(1, together=False)  # a supervisor restarts it
            time.sleep(0.05)
        d.wait_for_alerts(timeout=180)
        time.sleep(2 * d.every)
        killed = {i for i, p in enumerate(d.replicas.procs)
                  if p.returncode == -signal.SIGKILL}
        crashed = d.replicas.died(killed=killed) + d.replicas.stop()
        return d.outcome(kills=kills, crashed=crashed)
