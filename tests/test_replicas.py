"""Replicas on one PostgreSQL database share the work and the limits, lose no alert and
repeat none (beyond the documented one repeat per crash between Slack's answer and the
commit). Real `marketbot run` processes over loopback feeds, EDGAR and Slack: the
scenarios are in tests/replicas.py; benchmarks/replica_runs.py runs each many times."""

from __future__ import annotations

import pytest

from tests import database, replicas

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(database.engine_name() != "postgresql",
                       reason="replicas share a PostgreSQL database: set "
                              "MARKETBOT_TEST_DATABASE_URL (.ci/run does)"),
    pytest.mark.timeout(420),
]


def check_limits(o: replicas.Outcome) -> None:
    # Slack: one post per second per channel, EDGAR: edgar.max_rps for the whole
    # deployment (SEC counts per client), within a late arrival (Outcome.within_limits).
    assert o.within_limits(), o.line()


def test_three_replicas_started_together_on_an_empty_database(tmp_path, database_url) -> None:
    o = replicas.started_together(tmp_path, database_url)
    assert o.crashed == [], o.crashed
    assert (o.distinct, o.duplicates, o.missing) == (o.expected, 0, []), o.line()
    assert o.items_stored == o.expected and o.alerts_pending == 0, o.line()
    check_limits(o)
    assert o.feed_polls_per_due < 1.5, o.line()  # each feed polled by one replica at a time
    assert o.replicas_polling == 3, o.line()  # and the feeds divided between the three
    # `marketbot feeds` names the replica holding each feed: host:pid:tag, three of them.
    assert len(o.feeds_shown) == replicas.FEEDS + replicas.EDGAR_FEEDS, o.feeds_shown
    assert len(set(o.feeds_shown.values())) == 3, o.feeds_shown
    assert all(v.count(":") == 2 for v in o.feeds_shown.values()), o.feeds_shown


def test_three_replicas_over_a_stream_with_one_killed_at_random_times(tmp_path,
                                                                       database_url) -> None:
    o = replicas.stream_with_kills(tmp_path, database_url)
    assert o.crashed == [], o.crashed
    assert o.missing == [] and o.distinct == o.expected, o.line()
    assert o.duplicates <= o.kills, o.line()  # at most one repeat per kill
    assert o.items_stored == o.expected and o.alerts_pending == 0, o.line()
    check_limits(o)
