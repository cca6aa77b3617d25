"""Order-independent evaluation (docs/alerts.md, "Order-independent evaluation"): the same
items, however they are split over feeds, polls, threads, batches and commit orders, give
one set of alerts, on SQLite and on PostgreSQL (MARKETBOT_TEST_DATABASE_URL).

Everything runs through the real pipeline over local feed files with a fixed clock."""

from __future__ import annotations

import json
import tempfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from bot import store
from bot.app import build_app
from bot.config import CompanyConfig, Env, parse_config
from bot.pipeline import build_pipeline
from bot.store.tables import ItemRow
from tests import database as test_db
from tests.fixtures.feeds.make import rss

ENGINES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(
    test_db.server_url() is None,
    reason=f"{test_db.ENV} not set: the PostgreSQL run is skipped"))]
NOW = datetime(2026, 6, 5, 12, tzinfo=UTC)


@contextmanager
def database(kind: str):
    """A fresh, empty database: a SQLite file, or a PostgreSQL database of its own
    (tests/database.py names it and drops it when the test ends)."""
    with tempfile.TemporaryDirectory() as tmp:
        if kind == "sqlite":
            yield f"sqlite:///{Path(tmp) / 'order.db'}"
        else:
            yield test_db.url_for(Path(tmp))


def news(guid: str, text: str, day: str, kind: str = "news") -> tuple:
    return kind, (guid, f"Dell story {guid}", text, day)


def ir(guid: str, text: str, day: str) -> tuple:
    return news(guid, text, day, kind="ir")


# Each figure stated once ("consistent" items): the alert rows must be identical.
CONSISTENT = [
    news("gm-q1fy26", "Dell's gross margin was 21.4% in the first quarter of fiscal 2026.",
         "2025-05-29"),
    news("gm-q2fy26", "Dell's gross margin was 20.9% in the second quarter of fiscal 2026.",
         "2025-08-28"),
    news("gm-q3fy26", "Dell's gross margin was 20.1% in the third quarter of fiscal 2026.",
         "2025-11-25"),
    news("gm-q4fy26", "Dell's gross margin was 18.9% in the fourth quarter of fiscal 2026.",
         "2026-02-26"),
    news("gm-q1fy27", "Dell's gross margin was 17.8% in the first quarter of fiscal 2027.",
         "2026-05-28"),
    news("bl-q4fy26", "Dell's AI server backlog was $45.5 billion in the fourth quarter of "
                      "fiscal 2026.", "2026-02-26"),
    news("bl-q1fy27", "Dell's AI server backlog was $51.3 billion in the first quarter of "
                      "fiscal 2027.", "2026-05-28"),
    news("ao-q4fy26", "Dell booked $12.1 billion in AI orders in the fourth quarter of fiscal "
                      "2026.", "2026-02-26"),
    news("ar-q4fy26", "Dell's AI server revenue was $9.8 billion in the fourth quarter of "
                      "fiscal 2026.", "2026-02-27"),
    news("ao-q1fy27", "Dell booked $24.4 billion in AI orders in the first quarter of fiscal "
                      "2027.", "2026-05-28"),
    news("ar-q1fy27", "Dell's AI server revenue was $16.1 billion in the first quarter of "
                      "fiscal 2027.", "2026-05-29"),
    news("guide-feb", "Dell expects AI server revenue of $20 billion for fiscal 2027.",
         "2026-02-26"),
    news("guide-may", "Dell now expects AI server revenue of $25 billion for fiscal 2027.",
         "2026-05-28"),
]

# The same facts with repeats and disagreements: a press release and news that round or
# misreport, published on other days. Alert keys and final values must agree.
NOISY = [*CONSISTENT,
         ir("ir-ao-q1fy27", "Dell booked $24.4 billion in AI orders in the first quarter of "
                            "fiscal 2027.", "2026-05-28"),
         news("n-ao-q1fy27", "Dell booked $24 billion in AI orders in the first quarter of "
                             "fiscal 2027.", "2026-06-02"),
         news("n-bl-q1fy27", "In the first quarter of fiscal 2027, Dell's AI server backlog "
                             "was $51.3 billion.", "2026-06-01"),
         ir("ir-gm-q1fy27", "Dell's gross margin was 18.1% in the first quarter of fiscal "
                            "2027.", "2026-05-28"),
         news("n-guide", "Dell expects AI server revenue of about $25 billion for fiscal "
                         "2027.", "2026-05-30")]

RULES = [
    {"name": "gm-qoq", "metric": "gross_margin", "change_bps": 50},
    {"name": "gm-yoy", "metric": "gross_margin", "change_bps": 100, "compare": "yoy"},
    {"name": "gm-low", "metric": "gross_margin", "below": 19},
    {"name": "backlog", "metric": "ai_backlog", "change_pct": 10},
    {"name": "b2b", "metric": "ai_book_to_bill", "above": 1.2},
    {"name": "b2b-move", "metric": "ai_book_to_bill", "change_pct": 5},
    {"name": "conversion", "metric": "ai_backlog_conversion", "below": 50},
    {"name": "guide", "metric": "ai_revenue", "basis": "guidance", "revision_pct": 5},
]


class Run:
    """One database; `round(feeds)` polls every feed once, all feeds at once (threads)."""

    def __init__(self, url: str, tmp: Path, batch_items: int = 200, max_age: str = "120d"):
        self.url, self.tmp, self.batch_items, self.max_age = url, tmp, batch_items, max_age
        self.apps = []

    def round(self, feeds: dict[str, list[tuple]]) -> None:
        entries = []
        for name, items in sorted(feeds.items()):
            path = self.tmp / f"{name}.xml"
            path.write_bytes(rss(*items))
            entries.append({"name": name, "url": str(path),
                            "source": "company-ir" if name.startswith("ir") else "news"})
        config = parse_config(yaml.safe_dump({
            "feeds": entries, "rules": RULES, "slack": {"channel": "#c"},
            "alert_max_age": self.max_age, "http": {"workers": 8}}))
        app = build_app(config, Env(database_url=self.url), clock=lambda: NOW)
        try:
            pipeline = build_pipeline(app)
            pipeline.batch_items = self.batch_items
            with ThreadPoolExecutor(max_workers=max(1, len(entries))) as pool:
                results = list(pool.map(pipeline.poll, config.feeds))
            assert all(r.ok for r in results), [r.error for r in results]
        finally:
            app.close()

    def alerts(self) -> list[tuple]:
        """Every outbox row, with ids replaced by what they stand for (item guids, the
        parent's key), sorted."""
        engine = store.make_engine(self.url)
        try:
            with store.transaction(engine) as s:
                rows = store.alerts.listing(s)
                guids = {i.id: i.guid for i in s.exec(select(ItemRow))}
        finally:
            engine.dispose()
        by_id = {a.id: a for a in rows}
        out = []
        for a in rows:
            key = a.dedupe_key if a.parent_id is None else \
                f"correction of {by_id[a.parent_id].dedupe_key}"
            group = a.group_key.replace(f"item:{a.item_id}:", f"item:{guids.get(a.item_id)}:")
            payload = json.loads(a.payload)
            payload.get("source", {}).pop("feed", None)  # which feed carried it: arrival
            (payload.get("previous") or {}).pop("figure_id", None)  # a database id
            out.append((key, a.kind, a.status, _round(a.value), guids.get(a.item_id), group,
                        json.dumps(payload, sort_keys=True)))
        return sorted(out)

    def final(self) -> dict[str, float | None]:
        """Each rule alert that still fires, with the value its thread ends on."""
        rows = {r[0]: r for r in self.alerts() if r[1] == "rule"}
        out = {k: r[3] for k, r in rows.items()}
        for r in self.alerts():
            if r[1] == "correction":
                parent = r[0].removeprefix("correction of ")
                p = json.loads(r[6])
                out[parent] = None if "no longer fires" in (p["verdict"] or "") else r[3]
        return {k: v for k, v in out.items() if v is not None}


def _round(v: float | None) -> float | None:
    return None if v is None else float(f"{v:.6g}")


def arrange(items: list[tuple], order, feed_of, round_of, feeds: int, rounds: int
            ) -> list[dict[str, list[tuple]]]:
    """The feed files of each round: an item appears in its feed from its round on."""
    out = []
    for r in range(rounds):
        files: dict[str, list[tuple]] = {}
        for i in order:
            kind, item = items[i]
            name = f"{kind}{feed_of[i] % feeds}"
            files.setdefault(name, [])
            if round_of[i] <= r:
                files[name].append(item)
        out.append(files)
    return out


def reference(kind: str, items: list[tuple]) -> Run:
    tmp = Path(tempfile.mkdtemp())
    with database(kind) as url:
        run = Run(url, tmp)
        feeds: dict[str, list[tuple]] = {}
        for k, item in items:
            feeds.setdefault(k, []).append(item)
        run.round(feeds)
        run.snapshot = (run.alerts(), run.final())
    return run


_REFERENCE: dict[tuple[str, int], Run] = {}


def expected(kind: str, items: list[tuple]) -> Run:
    key = (kind, id(items))
    if key not in _REFERENCE:
        _REFERENCE[key] = reference(kind, items)
    return _REFERENCE[key]


arrangements = st.fixed_dictionaries({
    "seed": st.randoms(use_true_random=False),
    "feeds": st.integers(1, 3), "rounds": st.integers(1, 3), "batch": st.integers(1, 4),
})


def run_arrangement(kind: str, items: list[tuple], a: dict) -> Run:
    rnd = a["seed"]
    order = list(range(len(items)))
    rnd.shuffle(order)
    feed_of = [rnd.randrange(3) for _ in items]
    round_of = [rnd.randrange(a["rounds"]) for _ in items]
    tmp = Path(tempfile.mkdtemp())
    with database(kind) as url:
        run = Run(url, tmp, batch_items=a["batch"])
        for files in arrange(items, order, feed_of, round_of, a["feeds"], a["rounds"]):
            run.round(files)
        run.snapshot = (run.alerts(), run.final())
    return run


def test_the_reference_alerts_are_the_ones_a_trader_expects() -> None:
    """What the property tests compare with: all items in one poll of one feed."""
    alerts, final = expected("sqlite", CONSISTENT).snapshot
    assert {k for k in final} == {
        "rule:gm-qoq:DELL:gross_margin:actual:gaap:FY2026-Q4",  # 20.1 → 18.9: −120 bps
        "rule:gm-qoq:DELL:gross_margin:actual:gaap:FY2027-Q1",  # 18.9 → 17.8: −110 bps
        "rule:gm-yoy:DELL:gross_margin:actual:gaap:FY2027-Q1",  # 21.4 → 17.8: −360 bps
        "rule:gm-low:DELL:gross_margin:actual:gaap:FY2026-Q4",
        "rule:gm-low:DELL:gross_margin:actual:gaap:FY2027-Q1",
        "rule:backlog:DELL:ai_backlog:actual:gaap:FY2027-Q1",  # +12.7% q/q
        "rule:b2b:DELL:ai_book_to_bill:actual:gaap:FY2026-Q4",  # 12.1 / 9.8 = 1.23x
        "rule:b2b:DELL:ai_book_to_bill:actual:gaap:FY2027-Q1",  # 24.4 / 16.1 = 1.52x
        "rule:b2b-move:DELL:ai_book_to_bill:actual:gaap:FY2027-Q1",  # +22.7% q/q
        "rule:conversion:DELL:ai_backlog_conversion:actual:gaap:FY2027-Q1",  # 16.1/45.5
        "rule:guide:DELL:ai_revenue:guidance:gaap:FY2027:2.5e+10",  # raised 20 → 25
    }
    # Q2 and Q3 FY26 moved too, but their news is older than alert_max_age (120 days).
    assert all(a[1] == "rule" for a in alerts)  # nothing corrected: every figure once


@pytest.mark.parametrize("kind", ENGINES)
@pytest.mark.parametrize("items", [CONSISTENT, NOISY], ids=["consistent", "noisy"])
def test_any_split_and_order_gives_one_alert_set(kind, items) -> None:
    ref_alerts, ref_final = expected(kind, items).snapshot

    @settings(max_examples=12 if kind == "sqlite" else 8, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(arrangements)
    def check(a) -> None:
        alerts, final = run_arrangement(kind, items, a).snapshot
        assert final == ref_final
        if items is CONSISTENT:
            assert alerts == ref_alerts  # the raw rows, payloads included

    check()


@pytest.mark.parametrize("kind", ENGINES)
def test_sqlite_and_postgresql_agree(kind) -> None:
    if kind == "sqlite":
        pytest.skip("compares PostgreSQL with SQLite")
    assert expected(kind, CONSISTENT).snapshot == expected("sqlite", CONSISTENT).snapshot
    assert expected(kind, NOISY).snapshot[1] == expected("sqlite", NOISY).snapshot[1]


@pytest.mark.parametrize("kind", ENGINES)
def test_the_earlier_quarter_stored_after_the_new_figure_still_alerts(kind, tmp_path) -> None:
    """The newcomer's case (issue 11): this quarter's AI backlog first, last quarter's from
    an older story in a later poll (older than alert_max_age itself): the +12.7% q/q change
    alerts, as it does when the items come the other way round."""
    (_, q4), (_, q1) = CONSISTENT[5], CONSISTENT[6]
    with database(kind) as url:
        run = Run(url, tmp_path, max_age="14d")
        run.round({"news": [q1]})
        assert run.alerts() == []
        run.round({"news": [q1], "other": [q4]})
        (alert,) = run.alerts()
        p = json.loads(alert[6])
        assert (p["metric"], p["period"], p["change_text"]) == ("ai_backlog", "FY2027-Q1",
                                                                "+12.7% q/q")


def quarters(n: int) -> list[tuple[int, int]]:
    return [(2020 + i // 4, i % 4 + 1) for i in range(n)]


@pytest.mark.parametrize("kind", ENGINES)
def test_two_feeds_polled_at_once_give_every_derived_alert(kind, tmp_path) -> None:
    """Issue 13: AI orders in one feed, AI server revenue in another, 32 quarters, polled at
    the same time in small batches: every book-to-bill is derived and alerts once."""
    cal = CompanyConfig().calendar
    words = {1: "first", 2: "second", 3: "third", 4: "fourth"}
    orders, revenue = [], []
    for y, q in quarters(32):
        day = (cal.quarter_end(y, q) + timedelta(days=28)).isoformat()
        orders.append((f"o-{y}-{q}", "orders", f"Dell booked ${2 + q / 10:.1f} billion in AI "
                       f"orders in the {words[q]} quarter of fiscal {y}.", day))
        revenue.append((f"r-{y}-{q}", "revenue", f"Dell's AI server revenue was "
                        f"${1 + q / 10:.1f} billion in the {words[q]} quarter of fiscal {y}.",
                        day))
    with database(kind) as url:
        run = Run(url, tmp_path, batch_items=1, max_age="100000d")
        run.round({"news-orders": orders, "news-revenue": revenue})
        b2b = [a for a in run.alerts() if a[0].startswith("rule:b2b:")]
        assert len(b2b) == 32
