"""A poll's writes (issue 14, holes 4 and 5): bounded batch commits that a crash cuts at
most one batch from, reads that never take the write lock, and dedupe keys that are per
feed unless the guid is a URL or the content is the same. In process, through the real
pipeline over local feed files."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from sqlalchemy import text as sql

from bot import analysis, store
from bot.app import build_app
from bot.config import CompanyConfig, Env, parse_config
from bot.pipeline import build_pipeline
from tests import database
from tests.fixtures.feeds.make import rss

NOW = datetime(2026, 6, 5, 12, tzinfo=UTC)
RULES = [{"name": "backlog", "metric": "ai_backlog", "above": 1e9}]


def backlog_items(n: int, prefix: str = "b") -> list[tuple]:
    """n stories, each a different company-wide AI backlog figure for its own quarter."""
    words = {1: "first", 2: "second", 3: "third", 4: "fourth"}
    cal = CompanyConfig().calendar
    out = []
    for i in range(n):
        year, q = 2010 + i // 4, i % 4 + 1
        day = (cal.quarter_end(year, q) + timedelta(days=28)).isoformat()
        out.append((f"{prefix}{i}", f"Backlog story {i}", f"Dell's AI server backlog was "
                    f"${2 + i / 10:.1f} billion in the {words[q]} quarter of fiscal {year}.",
                    day))
    return out


class Harness:
    def __init__(self, tmp_path, batch_items: int = 200):
        self.tmp, self.url, self.batch_items = tmp_path, database.url_for(tmp_path), batch_items

    def app(self, feeds: dict[str, list[tuple]]):
        entries = []
        for name, items in feeds.items():
            path = self.tmp / f"{name}.xml"
            path.write_bytes(rss(*items))
            entries.append({"name": name, "url": str(path)})
        config = parse_config(yaml.safe_dump({"feeds": entries, "rules": RULES,
                                              "slack": {"channel": "#c"}}))
        return build_app(config, Env(database_url=self.url), clock=lambda: NOW)

    def poll(self, **feeds: list[tuple]) -> list:
        app = self.app(feeds)
        try:
            pipeline = build_pipeline(app)
            pipeline.batch_items = self.batch_items
            return [pipeline.poll(f) for f in app.config.feeds]
        finally:
            app.close()

    def count(self, table: str) -> int:
        return database.query(self.url, f"SELECT count(*) FROM {table}")[0][0]


def test_a_poll_commits_in_bounded_batches(tmp_path, monkeypatch) -> None:
    """Hole 4: one poll of many items held the write lock through its whole analysis. Each
    write transaction now stores at most `batch_items` items with their figures and the
    alerts they cause, and commits before the next batch is extracted."""
    h = Harness(tmp_path, batch_items=7)
    engine = store.make_engine(h.url)
    seen: list[tuple[int, int]] = []  # (items in the batch's transaction, items committed)
    real = analysis.evaluate

    def spy(s, *args, **kw):
        inside = s.execute(sql("SELECT count(*) FROM item")).scalar_one()
        with store.read(engine) as other:  # another connection: what is committed
            committed = other.execute(sql("SELECT count(*) FROM item")).scalar_one()
        seen.append((inside, committed))
        return real(s, *args, **kw)

    monkeypatch.setattr(analysis, "evaluate", spy)
    try:
        (result,) = h.poll(big=backlog_items(40))
    finally:
        engine.dispose()
    assert result.ok and result.new_items == 40 and result.alerts == 40
    assert seen == [(7, 0), (14, 7), (21, 14), (28, 21), (35, 28), (40, 35)]
    assert h.count("alert") == 40


def test_a_crash_loses_at_most_one_batch_and_the_next_poll_completes_it(tmp_path,
                                                                        monkeypatch) -> None:
    """A poll that dies in its third batch keeps the first two (items, figures, alerts);
    the next poll stores the rest, and the alerts are those of one uninterrupted poll."""
    items = backlog_items(25)
    h = Harness(tmp_path, batch_items=5)
    real, calls = analysis.evaluate, [0]

    def dies_in_the_third_batch(*args, **kw):
        calls[0] += 1
        if calls[0] == 3:
            raise OSError("disk I/O error (injected)")
        return real(*args, **kw)

    monkeypatch.setattr(analysis, "evaluate", dies_in_the_third_batch)
    (first,) = h.poll(big=items)
    assert not first.ok and "disk I/O error (injected)" in first.error
    assert (h.count("item"), h.count("alert")) == (10, 10)
    monkeypatch.setattr(analysis, "evaluate", real)
    (second,) = h.poll(big=items)
    assert second.ok and second.new_items == 15
    whole = Harness(tmp_path / "whole")
    (tmp_path / "whole").mkdir()
    whole.poll(big=items)
    keys = "SELECT dedupe_key, value FROM alert ORDER BY dedupe_key"
    assert database.query(h.url, keys) == database.query(whole.url, keys)
    assert len(database.query(h.url, keys)) == 25


@pytest.mark.sqlite_only
def test_reads_never_wait_for_the_write_lock(tmp_path) -> None:
    """Hole 4: every transaction began with BEGIN IMMEDIATE, so reading what is new or a
    feed's state waited for (and then failed on) another process's write lock. A read now
    takes a snapshot without the lock."""
    h = Harness(tmp_path)
    h.poll(news=backlog_items(3))
    path = database.query(h.url, "PRAGMA database_list")[0][2]
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("DELETE FROM feed_state")
    engine = store.make_engine(h.url)
    done: dict = {}

    def read() -> None:
        from bot.items import Item
        with store.read(engine) as s:
            done["state"] = store.feeds.get_state(s, "news").items_total
            done["new"] = store.items.unseen(s, [Item(feed="news", title="t", guid="b0"),
                                                 Item(feed="news", title="u", guid="z")])

    try:
        reader = threading.Thread(target=read)
        reader.start()
        reader.join(timeout=10)  # the write lock is held for the whole test
        assert not reader.is_alive(), "a read waited for the write lock"
        assert done["state"] == 3  # the committed state: the writer's delete is not seen
        assert [i.guid for i in done["new"]] == ["z"]
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        engine.dispose()


def test_two_feeds_reusing_a_guid_keep_both_stories(tmp_path) -> None:
    """Hole 5: two unrelated feeds both numbering their items from "1": the second story
    and its alert were dropped without a log line. A guid that is no URL names a story
    within its feed only."""
    h = Harness(tmp_path)
    a = [("1", "Dell story", "Dell's AI server backlog was $51.3 billion in the first "
                             "quarter of fiscal 2027.", "2026-06-02")]
    b = [("1", "HPE story", "Dell's AI server backlog was $18.4 billion in the third "
                            "quarter of fiscal 2026.", "2026-06-02")]
    results = h.poll(alpha=a, beta=b)
    assert [r.new_items for r in results] == [1, 1]
    assert h.count("alert") == 2
    assert [r.new_items for r in h.poll(alpha=a, beta=b)] == [0, 0]  # each feed's "1" known


def test_a_url_guid_or_the_same_content_is_one_story_everywhere(tmp_path, caplog) -> None:
    """The same article URL as guid in two feeds, or the same text under two guids: one
    story, one alert; the dropped copy is logged once, not at every poll."""
    h = Harness(tmp_path)
    text = "Dell's AI server backlog was $51.3 billion in the first quarter of fiscal 2027."
    url = [("https://news.example.com/dell-backlog", "Dell backlog", text, "2026-06-02")]
    assert [r.new_items for r in h.poll(alpha=url, beta=url)] == [1, 0]
    wire = [("wire-77", "Dell backlog", text, "2026-06-02")]
    with caplog.at_level(logging.INFO, logger="marketbot.pipeline"):
        assert [r.new_items for r in h.poll(gamma=wire)] == [0]
    (line,) = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert line.startswith("items: gamma: 'Dell backlog' (guid:gamma:wire-77) dropped: same "
                           "content as item 1 of feed alpha")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="marketbot.pipeline"):
        assert [r.new_items for r in h.poll(gamma=wire)] == [0]
    assert not [r for r in caplog.records if "dropped" in r.getMessage()]
    assert h.count("alert") == 1 and h.count("item") == 1


def test_old_databases_keep_knowing_their_items(tmp_path) -> None:
    """Migration 0002 rewrites the keys stored before per-feed guids: a feed's next poll
    still knows its items (nothing stored or alerted twice)."""
    h = Harness(tmp_path)
    items = backlog_items(3)
    h.poll(news=items)
    engine = store.make_engine(h.url)
    try:
        with engine.begin() as con:  # as revision 0001 stored them
            con.execute(sql("UPDATE item SET dedupe_key = 'guid:' || guid"))
            con.execute(sql("DROP TABLE item_alias"))
            for undo in ("DROP TABLE replica", "DROP TABLE pace",  # and what 0003 added
                         "ALTER TABLE feed_state DROP COLUMN lease_holder",
                         "ALTER TABLE feed_state DROP COLUMN lease_until"):
                con.execute(sql(undo))
            con.execute(sql("UPDATE alembic_version SET version_num = '0001'"))
        store.init_db(engine)
    finally:
        engine.dispose()
    keys = [k for (k,) in database.query(h.url, "SELECT dedupe_key FROM item ORDER BY id")]
    assert keys == ["guid:news:b0", "guid:news:b1", "guid:news:b2"]
    assert [r.new_items for r in h.poll(news=items)] == [0]
    assert json.loads(json.dumps(h.count("alert"))) == 3
