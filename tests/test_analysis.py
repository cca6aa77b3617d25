"""Derive, evaluate, reconcile — in process, through the real pipeline over local feed
files: the decisions that turn stored figures into (or away from) alerts."""

from __future__ import annotations

import json

import pytest
import yaml

from bot import store
from bot.app import build_app
from bot.config import Env, parse_config
from bot.delivery import Delivery
from bot.pipeline import build_pipeline
from bot.scheduler import run_once
from bot.store.tables import AlertRow
from tests.database import url_for
from tests.fixtures.feeds.make import feed_files, rss


def sentence(guid, text, day="2026-06-02"):
    return (guid, f"Dell story {guid}", text, day)


GM_Q1 = sentence("gm-q1", "Dell's gross margin was 17.8% in the first quarter of fiscal 2027.")
GM_Q4 = sentence("gm-q4", "Dell's gross margin was 18.9% in the fourth quarter of fiscal 2026.",
                 "2026-03-01")
ORDERS_NEWS = sentence("o-news", "Dell booked $24 billion in AI orders in the first quarter "
                                 "of fiscal 2027.")
REVENUE_NEWS = sentence("r-news", "Dell's AI server revenue was $16.1 billion in the first "
                                  "quarter of fiscal 2027.")
ORDERS_IR = sentence("o-ir", "Dell booked $24.4 billion in AI orders in the first quarter of "
                             "fiscal 2027.")


class Bot:
    def __init__(self, tmp_path, rules, clock=None):
        self.tmp, self.rules = tmp_path, rules
        self.db = url_for(tmp_path)
        self.extra: dict = {}  # more top-level config keys
        self.clock = clock  # the app's clock (default: the real one)

    def poll(self, **feeds: list[tuple]) -> list[AlertRow]:
        """Poll feeds {name: items} (name prefix 'ir' = company-ir, else news) once."""
        entries = feed_files(self.tmp, feeds)
        config = parse_config(yaml.safe_dump({"feeds": entries, "rules": self.rules,
                                              "slack": {"channel": "#c"}, **self.extra}))
        app = build_app(config, Env(database_url=self.db), **(
            {"clock": self.clock} if self.clock else {}))
        try:
            run_once(app, build_pipeline(app), Delivery(app.engine, None, config.slack,
                                                        clock=app.clock, out=_Null()))
            with store.transaction(app.engine) as s:
                return sorted(store.alerts.listing(s), key=lambda r: r.id)
        finally:
            app.close()


class _Null:
    def write(self, _):
        pass


def payloads(alerts):
    return [json.loads(a.payload) for a in alerts]


def test_a_late_comparison_basis_alerts_on_the_latest_quarter(tmp_path) -> None:
    bot = Bot(tmp_path, [{"name": "gm", "metric": "gross_margin", "change_bps": 50}])
    assert bot.poll(news=[GM_Q1]) == []
    (alert,) = bot.poll(news=[GM_Q1, GM_Q4])
    p = json.loads(alert.payload)
    assert (p["period"], p["value"], p["change_text"]) == ("FY2027-Q1", 17.8, "−110 bps q/q")
    assert p["moves"] == {"qoq": "−110 bps"}
    assert p["source"]["link"].endswith("/gm-q1")  # the figure's own article


def at(day: str):
    """A fixed clock: noon UTC of that day."""
    from datetime import UTC, datetime
    when = datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)
    return lambda: when


Q2 = sentence("gm-q2", "Dell's gross margin was 18.0% in the second quarter of fiscal 2027.",
              "2026-08-28")


def test_a_late_basis_alerts_every_quarter_that_compares_with_it(tmp_path) -> None:
    """Q4 FY26 arrives after Q1 and Q2: it is the basis of Q1's q/q, which fires now, as it
    would have had Q4 come first (Q1's news is still within alert_max_age)."""
    bot = Bot(tmp_path, [{"name": "gm", "metric": "gross_margin", "change_bps": 50}],
              clock=at("2026-06-05"))
    bot.extra = {"alert_max_age": "14d"}
    assert bot.poll(news=[GM_Q1]) == []
    (alert,) = bot.poll(news=[GM_Q1, GM_Q4])  # Q4 published 2026-03-01: the basis only
    assert (alert.period, json.loads(alert.payload)["change_text"]) == ("FY2027-Q1",
                                                                         "−110 bps q/q")


def test_an_old_quarter_is_not_re_alerted_when_history_fills_in(tmp_path) -> None:
    bot = Bot(tmp_path, [{"name": "gm", "metric": "gross_margin", "change_bps": 50}],
              clock=at("2026-09-01"))
    bot.extra = {"alert_max_age": "14d"}
    bot.poll(news=[GM_Q1, Q2])  # Q1 → Q2: +20 bps, no alert
    # Q4 FY26 arrives late: it is the basis of Q1, but Q1 (2 June) and Q4 (1 March) were
    # news longer than alert_max_age ago: history, not an alert.
    assert bot.poll(news=[GM_Q1, Q2, GM_Q4]) == []


def test_cooldown_holds_a_rule_back(tmp_path) -> None:
    rules = [{"name": "gm-low", "metric": "gross_margin", "below": 20, "cooldown": "1d"}]
    bot = Bot(tmp_path, rules)
    (first,) = bot.poll(news=[GM_Q4])
    assert bot.poll(news=[GM_Q4, GM_Q1]) == [first]  # Q1 also below 20%, within a day


def test_a_derived_value_corrected_by_an_input_posts_a_correction(tmp_path) -> None:
    bot = Bot(tmp_path, [{"name": "b2b", "metric": "ai_book_to_bill", "above": 1.4}])
    (alert,) = bot.poll(news=[ORDERS_NEWS, REVENUE_NEWS])
    assert round(alert.value, 3) == round(24 / 16.1, 3)
    alerts = bot.poll(news=[ORDERS_NEWS, REVENUE_NEWS], ir=[ORDERS_IR])
    assert len(alerts) == 2
    correction = alerts[1]
    assert (correction.kind, correction.parent_id) == ("correction", alert.id)
    p = json.loads(correction.payload)
    assert p["value_text"] == "1.52x" and p["was_text"] == "1.49x"
    assert p["verdict"] == "the rule still fires: above 1.40x"
    assert "AI server orders $24.4B (FY2027-Q1, company-ir)" in p["inputs"]


def test_a_less_authoritative_source_never_corrects(tmp_path) -> None:
    rules = [{"name": "orders", "metric": "ai_orders", "above": 20e9}]
    bot = Bot(tmp_path, rules)
    (alert,) = bot.poll(ir=[ORDERS_IR])
    assert bot.poll(ir=[ORDERS_IR], news=[ORDERS_NEWS]) == [alert]


def test_the_same_authority_disagreeing_is_not_a_new_alert(tmp_path) -> None:
    """Two news stories of the same day disagree ($24B, $24.4B): one value stands whatever
    the order (the more precise statement), so the alert ends on it: a correction when
    the other came first, the alert itself otherwise. Never a second alert."""
    rules = [{"name": "orders", "metric": "ai_orders", "above": 20e9}]
    first = Bot(tmp_path / "a", rules)
    (tmp_path / "a").mkdir()
    (alert,) = first.poll(news=[ORDERS_NEWS])
    alert, correction = first.poll(news=[ORDERS_NEWS], news2=[ORDERS_IR])
    assert (correction.kind, correction.parent_id, correction.value) == ("correction",
                                                                         alert.id, 24.4e9)
    (tmp_path / "b").mkdir()
    other = Bot(tmp_path / "b", rules)
    (only,) = other.poll(news2=[ORDERS_IR])
    assert other.poll(news2=[ORDERS_IR], news=[ORDERS_NEWS]) == [only]
    assert only.value == 24.4e9


def test_a_more_authoritative_agreeing_value_is_quiet(tmp_path) -> None:
    rules = [{"name": "orders", "metric": "ai_orders", "above": 20e9}]
    bot = Bot(tmp_path, rules)
    same = sentence("o-same", "Dell booked $24.0 billion in AI orders in the first quarter of "
                              "fiscal 2027.")
    (alert,) = bot.poll(news=[ORDERS_NEWS])
    assert bot.poll(news=[ORDERS_NEWS], ir=[same]) == [alert]


@pytest.mark.parametrize("rule,expected", [
    ({"metric": "ai_backlog_coverage", "above": 3}, "AI backlog coverage 3.2 quarters"),
    ({"metric": "ai_guidance_coverage", "above": 1}, "AI guidance coverage 1.17x"),
])
def test_coverage_metrics_alert_with_their_inputs(tmp_path, rule, expected) -> None:
    backlog = sentence("bl", "Dell's AI server backlog was $51.3 billion in the first quarter "
                             "of fiscal 2027.")
    guidance = sentence("gd", "Dell expects AI server revenue of $60 billion for fiscal 2027.")
    bot = Bot(tmp_path, [rule])
    (alert,) = bot.poll(ir=[REVENUE_NEWS, backlog, guidance])
    p = json.loads(alert.payload)
    assert f"{p['metric_label']} {p['value_text']}" == expected
    assert any(i.startswith("AI server backlog $51.3B") for i in p["inputs"])


def test_a_later_less_authoritative_value_does_not_alert(tmp_path) -> None:
    bot = Bot(tmp_path, [{"name": "gm-low", "metric": "gross_margin", "below": 18}])
    ir = sentence("gm-ir", "Dell's gross margin was 18.3% in the first quarter of fiscal 2027.",
                  "2026-05-28")
    news = sentence("gm-news", "Dell's gross margin was 17.3% in the first quarter of fiscal "
                               "2027.", "2026-06-02")
    assert bot.poll(ir=[ir]) == []
    assert bot.poll(ir=[ir], news=[news]) == []  # the press release's 18.3% stands


def test_a_recap_of_superseded_guidance_is_not_a_cut(tmp_path) -> None:
    bot = Bot(tmp_path, [{"name": "ai-guide", "metric": "ai_revenue", "basis": "guidance",
                          "revision_pct": 5}])
    march = sentence("g1", "Dell expects AI server revenue of $20 billion for fiscal 2027.",
                     "2026-03-01")
    may = sentence("g2", "Dell now expects AI server revenue of $25 billion for fiscal 2027.",
                   "2026-05-29")
    recap = sentence("g3", "Back in March, Dell expected AI server revenue of $20 billion for "
                           "fiscal 2027.", "2026-05-30")
    assert bot.poll(news=[march]) == []
    (raised,) = bot.poll(news=[march, may])
    assert json.loads(raised.payload)["crossed"] == ["guidance raised ≥ 5%"]
    assert bot.poll(news=[march, may, recap]) == [raised]


def test_a_recomputed_ratio_from_an_earlier_press_release_corrects_the_alert(tmp_path) -> None:
    bot = Bot(tmp_path, [{"name": "b2b", "metric": "ai_book_to_bill", "above": 1.4}])
    (alert,) = bot.poll(news=[ORDERS_NEWS, REVENUE_NEWS])  # 24 / 16.1 = 1.49x (June 2)
    revenue_ir = sentence("r-ir", "Dell's AI server revenue was $20 billion in the first "
                                  "quarter of fiscal 2027.", "2026-05-28")
    alerts = bot.poll(news=[ORDERS_NEWS, REVENUE_NEWS], ir=[revenue_ir])
    (correction,) = alerts[1:]
    assert correction.parent_id == alert.id
    p = json.loads(correction.payload)
    assert (p["value_text"], p["verdict"]) == (
        "1.20x", "with the corrected value the rule no longer fires")


def test_a_quarter_on_quarter_rule_ignores_fiscal_years(tmp_path) -> None:
    bot = Bot(tmp_path, [{"name": "qoq", "metric": "gross_margin", "change_bps": 50},
                         {"name": "yoy", "metric": "gross_margin", "change_bps": 50,
                          "compare": "yoy"}])
    fy26 = sentence("fy26", "Dell's gross margin was 20.1% for fiscal 2026.", "2026-03-01")
    fy27 = sentence("fy27", "Dell's gross margin was 18.0% for fiscal 2027.", "2027-03-01")
    (alert,) = bot.poll(news=[fy26, fy27])
    assert (alert.rule_id, alert.period) == ("yoy", "FY2027")
    assert json.loads(alert.payload)["change_text"] == "−210 bps y/y"


def test_a_source_that_crashes_is_recorded_and_the_other_feeds_go_on(tmp_path) -> None:
    """A bug in one source (here: XBRL facts of a shape nobody expected) is a failed poll
    of that feed, with its reason, not a crash of the run."""
    from bot.pipeline import Batch, Pipeline, RssSource

    class Broken:
        def collect(self, feed, state, unseen) -> Batch:
            raise TypeError("'int' object is not iterable")

    good = tmp_path / "good.xml"
    good.write_bytes(rss(GM_Q1))
    config = parse_config(yaml.safe_dump({
        "feeds": [{"name": "broken", "kind": "edgar"}, {"name": "good", "url": str(good)}],
        "slack": {"channel": "#c"}}))
    # A User-Agent, or the EDGAR feed would not be polled at all (SEC fair access).
    app = build_app(config, Env(database_url=url_for(tmp_path),
                                sec_user_agent="Test Runner test@example.com"))
    try:
        pipeline = Pipeline(app, {"rss": RssSource(app), "edgar": Broken()})
        report = run_once(app, pipeline, Delivery(app.engine, None, config.slack,
                                                  clock=app.clock, out=_Null()))
        results = {p.feed: p for p in report.polls}
        assert results["good"].ok and results["good"].new_items == 1
        assert results["broken"].error == "internal error: TypeError: 'int' object is not " \
                                          "iterable"
        with store.transaction(app.engine) as s:
            state = store.feeds.get_state(s, "broken")
        assert state.consecutive_failures == 1 and state.last_error.startswith("internal error")
    finally:
        app.close()


def test_old_items_are_history_not_alerts(tmp_path) -> None:
    rules = [{"name": "gm-low", "metric": "gross_margin", "below": 20}]
    bot = Bot(tmp_path, rules)
    bot.extra = {"alert_max_age": "14d"}
    old = sentence("old", "Dell's gross margin was 18.9% in the fourth quarter of fiscal 2026.",
                   "2020-03-01")
    assert bot.poll(news=[old]) == []  # stored, not alerted
    engine = store.make_engine(bot.db)
    try:
        with store.transaction(engine) as s:
            values = [r.value for r, _ in store.figures.history(s, metric="gross_margin")]
    finally:
        engine.dispose()
    assert values == [18.9]


def test_publication_day_is_the_companys_local_day(tmp_path) -> None:
    """Published 11 pm New York time on 1 May 2026, the last day of Dell's FY2027-Q1 (UTC
    already says 2 May): 'this quarter' has not ended, so Q1 means the previous Q1."""
    from bot.items import Item
    from bot.pipeline import Pipeline

    config = parse_config(yaml.safe_dump({"feeds": [{"name": "n", "url": "x.xml"}],
                                          "slack": {"channel": "#c"}}))
    app = build_app(config, Env(database_url=url_for(tmp_path)))
    try:
        from datetime import UTC, datetime
        item = Item(feed="n", title="Dell", summary="Dell's gross margin was 17.8% in Q1.",
                    published=datetime(2026, 5, 2, 3, 0, tzinfo=UTC))
        _, figures = Pipeline(app, {})._analyse(item)
        assert [f.period for f in figures] == ["FY2026-Q1"]
    finally:
        app.close()
