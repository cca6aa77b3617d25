"""Feed state: conditional-GET validators, success/failure history, next poll."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from bot.store.tables import FeedState


def get_state(s: Session, name: str) -> FeedState:
    return s.get(FeedState, name) or FeedState(name=name)


def all_states(s: Session) -> dict[str, FeedState]:
    return {st.name: st for st in s.exec(select(FeedState))}


def record_success(s: Session, name: str, *, url: str | None, now: datetime,
                   next_poll_at: datetime, etag: str | None = None,
                   last_modified: str | None = None, new_items: int = 0,
                   not_modified: bool = False) -> FeedState:
    st = get_state(s, name)
    st.url = url
    if not not_modified:
        st.etag, st.last_modified = etag, last_modified
    st.last_polled_at = st.last_success_at = now
    st.consecutive_failures = 0
    st.failing_since = None
    st.next_poll_at = next_poll_at
    st.items_total += new_items
    s.add(st)
    return st


def record_failure(s: Session, name: str, *, url: str | None, now: datetime, reason: str,
                   next_poll_at: datetime) -> FeedState:
    st = get_state(s, name)
    st.url = url
    st.last_polled_at = st.last_error_at = now
    st.last_error = reason
    st.consecutive_failures += 1
    st.total_failures += 1
    st.failing_since = st.failing_since or now
    st.next_poll_at = next_poll_at
    s.add(st)
    return st
