"""`marketbot run --once` and `marketbot backfill` as subprocesses, with an `edgar` feed
pointed at loopback stand-ins for www.sec.gov and data.sec.gov."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.database import url_for
from tests.edgar_server import (
    EARNINGS_8K,
    EX991_PATH,
    PRESENTATION_PATH,
    UA,
    EdgarServer,
)

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).parent.parent

CONFIG = """\
company: {ticker: DELL, name: Dell Technologies, cik: 1571996}
feeds:
  - {name: sec-dell, kind: edgar, forms: [8-K, 10-Q, 10-K], every: 10m}
slack: {channel: "#dell-alerts"}
"""


def marketbot(tmp_path: Path, www: EdgarServer, data: EdgarServer, *args: str,
              ua: str | None = UA) -> subprocess.CompletedProcess:
    config = tmp_path / "feeds.yaml"
    config.write_text(CONFIG)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "SEC_", "EDGAR_", "MARKETBOT_", "DATABASE_"))}
    env.update(DATABASE_URL=url_for(tmp_path), EDGAR_WWW_URL=www.url,
               EDGAR_DATA_URL=data.url)
    if ua:
        env["SEC_USER_AGENT"] = ua
    argv = [sys.executable, "-m", "bot", *args]
    if args[0] in ("run", "backfill"):
        argv += ["--config", str(config)]
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
                          check=False)


def history(tmp_path, www, data) -> list[dict]:
    out = marketbot(tmp_path, www, data, "history", "--format", "json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def pick(records, metric, source, period="FY2026-Q2") -> set:
    return {r["value"] for r in records if r["metric"] == metric and r["source"] == source
            and r["period"] == period and r["basis"] == "actual" and not r["comparative"]
            and r["accounting"] in (None, "gaap")}


def test_run_once_stores_the_release_and_xbrl_figures_then_nothing_new(tmp_path,
                                                                       edgar_servers) -> None:
    www, data = edgar_servers
    first = marketbot(tmp_path, www, data, "run", "--once")
    assert first.returncode == 0, first.stderr
    assert "polled 1 feed(s) (0 failed), 7 new item(s)" in first.stderr

    records = history(tmp_path, www, data)
    # The release states $29.8 billion in its summary and 29,776 (millions) in its table.
    assert pick(records, "revenue", "sec-filing") == {29_800_000_000, 29_776_000_000}
    assert 18.3 in pick(records, "gross_margin", "sec-filing")
    assert 8.8 in pick(records, "isg_operating_margin", "sec-filing")
    assert pick(records, "revenue", "xbrl") == {29_776_000_000}
    assert pick(records, "gross_margin", "xbrl") == {18.3}
    assert pick(records, "operating_margin", "xbrl") == {6.0}
    release = [r for r in records if r["source"] == "sec-filing"]
    assert {r["link"] for r in release} == {"https://www.sec.gov" + EX991_PATH}
    assert www.hits(PRESENTATION_PATH) == []  # Item 7.01 exhibit: never read

    second = marketbot(tmp_path, www, data, "run", "--once")
    assert second.returncode == 0, second.stderr
    assert "0 new item(s), 0 figure(s)" in second.stderr
    assert len(history(tmp_path, www, data)) == len(records)
    assert len(www.hits(EX991_PATH)) == 1


def test_run_without_user_agent_says_why_and_sends_nothing(tmp_path, edgar_servers) -> None:
    www, data = edgar_servers
    out = marketbot(tmp_path, www, data, "run", "--once", ua=None)
    assert "SEC requires a User-Agent naming you and a contact e-mail (SEC fair-access " \
           "policy): set edgar.user_agent in feeds.yaml or SEC_USER_AGENT" in out.stderr
    assert out.stderr.count("EDGAR feed(s) sec-dell will not poll") == 1  # said at start-up
    assert "feed sec-dell not polled: SEC requires a User-Agent" in out.stderr
    assert out.returncode == 0  # not polled is not failing
    assert www.requests == [] and data.requests == []


def test_backfill_command(tmp_path, edgar_servers) -> None:
    www, data = edgar_servers
    out = marketbot(tmp_path, www, data, "backfill", "--since", "2025-01-01")
    assert out.returncode == 0, out.stderr
    assert "backfill: 5 filing(s), 5 new item(s)" in out.stderr
    assert EARNINGS_8K in "".join(r.path for r in www.requests)
    assert 8.8 in pick(history(tmp_path, www, data), "isg_operating_margin", "sec-filing")

    again = marketbot(tmp_path, www, data, "backfill")
    assert again.returncode == 0, again.stderr
    assert "backfill: 8 filing(s), 3 new item(s)" in again.stderr  # only the older ones

    refused = marketbot(tmp_path, www, data, "backfill", ua=None)
    assert refused.returncode == 1
    assert refused.stderr.strip().endswith(
        'SEC_USER_AGENT, e.g. "Jane Trader jane@example.com"')
    unknown = marketbot(tmp_path, www, data, "backfill", "--feed", "nope")
    assert unknown.returncode == 2 and "no EDGAR feed named 'nope'" in unknown.stderr
