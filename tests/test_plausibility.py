"""Plausibility and corroboration (issue 11): a doubtful figure is stored, its alert held
with the reason, never sent, until a second independent source or a more authoritative
one confirms it; then it is released and alerts once. The checks are pure (a table here);
the hold and the release run through the real pipeline, outbox and delivery to a
loopback Slack."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import yaml

from bot import store
from bot.app import build_app
from bot.config import Env, PlausibilityConfig, ReconcileConfig, parse_config
from bot.delivery import Delivery
from bot.errors import ConfigError
from bot.pipeline import build_pipeline
from bot.plausibility import Context, Source, check, confirmed
from bot.rules import Observation
from bot.scheduler import run_once
from bot.slack import WebApiSink
from tests.database import query, url_for
from tests.fixtures.feeds.make import feed_files

NOW = datetime(2026, 6, 5, 12, tzinfo=UTC)
CFG = PlausibilityConfig()


def o(metric: str, value: float, period: str = "FY2026-Q4", **kw) -> Observation:
    unit = kw.pop("unit", "%" if "margin" in metric else "USD")
    return Observation(company="DELL", metric=metric, basis=kw.pop("basis", "actual"),
                       period=period, value=value, unit=unit,
                       source_kind=kw.pop("source_kind", "company-ir"), **kw)


ORDERS = [o("ai_orders", v, p) for v, p in ((12.3e9, "FY2026-Q3"), (5.6e9, "FY2026-Q2"),
                                            (12.1e9, "FY2026-Q1"))]
CASES = [
    # name, observation, context, checks passed, doubt (a fragment; None = plausible)
    ("a full-year figure read as the quarter's", o("ai_orders", 64.1e9),
     Context(year=o("ai_orders", 64.1e9, "FY2026"), recent=tuple(ORDERS)),
     (), "is 100% of the fiscal year's $64.1B (FY2026)"),
    ("a quarter k× its previous quarters", o("ai_orders", 64.1e9), Context(recent=tuple(ORDERS)),
     (), "is 5.3× the median of the previous quarters ($12.3B, $5.6B, $12.1B)"),
    ("a quarter in line", o("ai_orders", 15.2e9),
     Context(year=o("ai_orders", 45.2e9, "FY2026"), recent=tuple(ORDERS)),
     ("year_share", "recent_quarters"), None),
    ("a quarter a tenth of the others", o("ai_orders", 1.2e9), Context(recent=tuple(ORDERS)),
     (), "is 1/10.1 the median of the previous quarters"),
    ("a margin outside its sane range", o("gross_margin", 178.0), Context(),
     (), "Gross margin 178% for FY2026-Q4 is outside the sane range of gross "
                         "margin (0% to 90%)"),
    ("a margin far from its quarters", o("isg_operating_margin", 24.0),
     Context(recent=(o("isg_operating_margin", 10.2, "FY2026-Q3"),
                     o("isg_operating_margin", 8.8, "FY2026-Q2"))),
     ("range",), "is 14.5 points from the median of the previous quarters"),
    ("the quarters against the year", o("revenue", 95.6e9, "FY2026"),
     Context(year=o("revenue", 95.6e9, "FY2026"),
             quarters=tuple(o("revenue", v * 1e9, f"FY2026-Q{i}")
                            for i, v in ((1, 23.4), (2, 29.8), (3, 27.0), (4, 33.4)))),
     (), "the quarters of FY2026 add up to $113.6B, the fiscal year states "
                         "$95.6B"),
    ("an approximate figure from news", o("isg_operating_margin", 12.0, approx=True,
                                          source_kind="news", period="FY2027-Q1"),
     Context(), ("range",), "ISG operating margin ~12% for FY2027-Q1 is an approximate figure "
                            "from a news source"),
    ("an approximate figure from the company", o("ai_revenue", 60e9, "FY2027", approx=True,
                                                 basis="guidance"), Context(), (), None),
    ("a backlog is a level, not a flow", o("ai_backlog", 43e9),
     Context(year=o("ai_backlog", 43e9, "FY2026")), (), None),
]


@pytest.mark.parametrize("name,obs,ctx,passed,doubt", CASES, ids=[c[0] for c in CASES])
def test_checks(name, obs, ctx, passed, doubt) -> None:
    verdict = check(obs, ctx, CFG)
    if doubt is None:
        assert verdict.ok and verdict.passed == passed
    else:
        assert any(doubt in reason for reason in verdict.doubts), verdict.doubts
        assert verdict.passed == passed


def test_independent_sources_are_other_feeds_or_other_outlets() -> None:
    fig = o("ai_orders", 64.1e9)
    tol = ReconcileConfig()
    same = [(fig, Source(1, "dell-news", "reuters.com")), (fig, Source(2, "dell-news",
                                                                       "reuters.com"))]
    assert len(confirmed(fig, same, tol)) == 1  # one outlet on one feed, twice
    other_outlet = [*same, (fig, Source(3, "dell-news", "bloomberg.com"))]
    assert len(confirmed(fig, other_outlet, tol)) == 2
    other_feed = [same[0], (fig, Source(4, "dell-ir", "reuters.com"))]
    assert len(confirmed(fig, other_feed, tol)) == 2
    disagreeing = [same[0], (o("ai_orders", 12.5e9), Source(5, "dell-ir", "dell.com"))]
    assert len(confirmed(fig, disagreeing, tol)) == 1


@pytest.mark.parametrize("block,message", [
    ({"plausibility": {"ranges": {"revenue": [0, 1]}}},
     "plausibility.ranges: 'revenue' is not a margin metric"),
    ({"plausibility": {"ranges": {"gross_margin": [50, 10]}}},
     "plausibility.ranges: gross_margin: the low end (50) must be below the high end (10)"),
    ({"plausibility": {"max_ratio": 1}}, "plausibility.max_ratio: Input should be greater "
                                         "than 1"),
    ({"plausibility": {"year_shar": 0.8}}, "plausibility.year_shar: unknown key"),
    ({"rules": [{"metric": "ai_orders", "above": 1, "confirm": "sometimes"}]},
     "rules[0].confirm: Input should be 'none', 'doubtful' or 'always'"),
])
def test_the_plausibility_config_is_strict(block, message) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(yaml.safe_dump({"feeds": [{"name": "n", "url": "x.xml"}],
                                     "slack": {"channel": "#c"}, **block}))
    assert message in str(err.value)


# ---------------------------------------------------------------- through the pipeline


def story(guid: str, text: str, day: str) -> tuple:
    return guid, f"Dell story {guid}", text, day


ORDERS_RULE = {"name": "ai-orders-move", "metric": "ai_orders", "change_pct": 150}
Q2 = story("o-q2", "AI orders at Dell came to $5.6 billion in the second quarter of fiscal "
                   "2026.", "2025-08-28")
Q3 = story("o-q3", "Dell booked $12.3 billion in AI orders in the third quarter of fiscal "
                   "2026.", "2025-11-25")
FULL_YEAR = story("o-fy", "Dell booked $64.1 billion in AI orders in fiscal 2026.",
                  "2026-02-26")
# The Q4 release's full-year figure, read as the quarter's (what a wrong binding stores).
MISREAD = story("o-q4", "Dell booked $64.1 billion in AI orders in the fourth quarter of "
                        "fiscal 2026.", "2026-02-26")


class Bot:
    """The pipeline and delivery, in process, with Slack on loopback."""

    def __init__(self, tmp_path, slack, rules: list[dict]):
        self.tmp, self.slack, self.rules = tmp_path, slack, rules
        self.url = url_for(tmp_path)

    def poll(self, **feeds: list[tuple]) -> list:
        entries = feed_files(self.tmp, feeds)
        config = parse_config(yaml.safe_dump({"feeds": entries, "rules": self.rules,
                                              "slack": {"channel": "#c", "pace": 0}}))
        app = build_app(config, Env(database_url=self.url), clock=lambda: NOW)
        try:
            sink = WebApiSink(self.slack.token, base_url=self.slack.api_url)
            run_once(app, build_pipeline(app), Delivery(app.engine, sink, config.slack,
                                                        clock=app.clock))
            with store.transaction(app.engine) as s:
                return sorted(store.alerts.listing(s), key=lambda r: r.id)
        finally:
            app.close()

    def query(self, sql: str) -> list[tuple]:
        return query(self.url, sql)


def test_a_full_year_figure_read_as_the_quarter_is_held_then_released(tmp_path, slack) -> None:
    bot = Bot(tmp_path, slack, [ORDERS_RULE])
    (held,) = bot.poll(ir=[Q2, Q3, FULL_YEAR, MISREAD])
    p = json.loads(held.payload)
    assert (held.status, p["value_text"], p["change_text"]) == ("held", "$64.1B", "+421.1% q/q")
    assert "is 100% of the fiscal year's $64.1B (FY2026): a full-year figure read as the " \
           "quarter's?" in p["held"]["reason"]
    assert "is 7.2× the median of the previous quarters ($12.3B, $5.6B)" in p["held"]["reason"]
    assert p["doubts"] and p["confirmed_by"] == [] and p["released"] is None
    assert "quarters_sum" not in p["checks"] and slack.messages == []  # never sent
    # The same feed again: no new source, still held.
    assert [a.status for a in bot.poll(ir=[Q2, Q3, FULL_YEAR, MISREAD])] == ["held"]
    # A second, independent source states the quarter's $64.1B: released, alerts once.
    (released,) = bot.poll(ir=[Q2, Q3, FULL_YEAR, MISREAD],
                           news=[story("n-q4", "Dell's AI orders reached $64.1 billion in the "
                                               "fourth quarter of fiscal 2026.",
                                       "2026-02-27")])
    p = json.loads(released.payload)
    assert (released.id, released.status) == (held.id, "sent")
    assert p["released"]["by"] == p["confirmed_by"] == ["ir (news.example.com)",
                                                       "news (news.example.com)"]
    assert p["held"] is None and len(slack.messages) == 1
    assert "DELL AI server orders $64.1B (FY2026-Q4)" in json.dumps(slack.messages[0])
    bot.poll(ir=[Q2, Q3, FULL_YEAR, MISREAD], news=[])
    assert len(slack.messages) == 1  # once


def test_a_long_run_average_read_as_a_quarter_is_held_until_the_company_reports(
        tmp_path, slack) -> None:
    """A news story's "~12% ISG average" taken as this quarter's ISG margin: approximate,
    from news alone, so it waits; the company's release then states the quarter (12.0%):
    that figure stands, passes, and the alert goes out once, with it."""
    rule = {"name": "isg-margin-move", "metric": "isg_operating_margin", "change_bps": 100}
    bot = Bot(tmp_path, slack, [rule])
    last = story("isg-q4", "Dell's ISG operating margin was 10.2% in the fourth quarter of "
                           "fiscal 2026.", "2026-02-26")
    average = story("isg-avg", "Dell's ISG operating margin was about 12% in the first "
                               "quarter of fiscal 2027.", "2026-06-01")
    (held,) = bot.poll(ir=[last], news=[average])
    p = json.loads(held.payload)
    assert held.status == "held" and slack.messages == []
    assert p["held"]["reason"] == ("ISG operating margin ~12% for FY2027-Q1 is an approximate "
                                   "figure from a news source")
    release = story("isg-q1", "Dell's ISG operating margin was 12.0% in the first quarter "
                              "of fiscal 2027.", "2026-06-02")
    (sent,) = bot.poll(ir=[last, release], news=[average])
    p = json.loads(sent.payload)
    assert (sent.id, sent.status, p["value_text"], p["source_kind"]) == (held.id, "sent",
                                                                         "12%", "company-ir")
    assert p["released"]["by"] == ["ir (news.example.com)", "news (news.example.com)"]
    assert p["doubts"] == []
    assert "approx_source" not in p["checks"] and "recent_quarters" not in p["checks"]
    assert len(slack.messages) == 1


@pytest.mark.parametrize("policy,statuses", [
    ("doubtful", ["held"]), ("none", ["sent"]), ("always", ["held"])])
def test_a_rule_says_how_much_confirmation_it_wants(tmp_path, slack, policy, statuses) -> None:
    bot = Bot(tmp_path, slack, [{**ORDERS_RULE, "confirm": policy}])
    alerts = bot.poll(ir=[Q2, Q3, FULL_YEAR, MISREAD])
    assert [a.status for a in alerts] == statuses
    if policy == "none":  # sent, with its doubts said
        assert json.loads(alerts[0].payload)["doubts"]


def test_confirm_always_waits_for_a_second_source_of_a_plausible_figure(tmp_path,
                                                                        slack) -> None:
    bot = Bot(tmp_path, slack, [{"name": "orders-high", "metric": "ai_orders", "above": 10e9,
                                 "confirm": "always"}])
    (held,) = bot.poll(news=[Q3])
    assert json.loads(held.payload)["held"]["reason"] == \
        "the rule asks for two independent sources"
    release = story("ir-q3", "AI orders were $12.3 billion in the third quarter of fiscal "
                             "2026, Dell said.", "2025-11-25")
    (sent,) = bot.poll(news=[Q3], ir=[release])
    assert (sent.id, sent.status) == (held.id, "sent")
