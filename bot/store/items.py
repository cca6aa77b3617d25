"""Items: deduplicated by guid, else link, else content hash (Item.dedupe_key),
and by content hash across keys (the same story re-published under a new guid)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from bot.items import Item
from bot.store.db import insert_ignore
from bot.store.tables import ItemRow, utcnow


def unseen(s: Session, items: Iterable[Item]) -> list[Item]:
    """The items not stored yet (also dropping repeats within `items`)."""
    items = list(items)
    if not items:
        return []
    keys = {i.dedupe_key for i in items}
    hashes = {i.content_hash for i in items}
    known_keys, known_hashes = set(), set()
    for chunk in _chunks(sorted(keys)):
        known_keys |= set(s.exec(select(ItemRow.dedupe_key)
                                 .where(col(ItemRow.dedupe_key).in_(chunk))))
    for chunk in _chunks(sorted(hashes)):
        known_hashes |= set(s.exec(select(ItemRow.content_hash)
                                   .where(col(ItemRow.content_hash).in_(chunk))))
    out, seen = [], set()
    for item in items:
        key, h = item.dedupe_key, item.content_hash
        if key in known_keys or h in known_hashes or key in seen or h in seen:
            continue
        seen |= {key, h}
        out.append(item)
    return out


def insert(s: Session, item: Item, text: str) -> int | None:
    """Store an item; None when another writer stored it first."""
    # An item whose article was fetched keeps its feed text's hash (in meta): the
    # cross-guid dedupe in unseen() compares feed texts.
    content_hash = item.meta.get("content_hash") or item.content_hash
    return insert_ignore(s, ItemRow, dict(
        dedupe_key=item.dedupe_key, content_hash=content_hash, feed=item.feed,
        company=item.company, source_kind=item.source_kind, guid=item.guid, link=item.link,
        title=item.title[:1000], text=text, published_at=item.published, fetched_at=utcnow(),
        article_url=item.article_url, article_error=item.article_error,
    ))


def get(s: Session, item_id: int) -> ItemRow | None:
    return s.get(ItemRow, item_id)


def _chunks(values: list[str], size: int = 500):
    for i in range(0, len(values), size):
        yield values[i:i + size]

