"""Items: deduplicated by key (Item.dedupe_key: a URL guid everywhere, any other guid
within its feed, else link, else content hash) and by content hash across keys (the same
story re-published under a new guid, or carried by a second feed). A story dropped as a
duplicate of a stored one is logged once and remembered as an alias of it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from bot.items import Item
from bot.store.db import dialect_insert, insert_ignore
from bot.store.tables import ItemAliasRow, ItemRow, utcnow


@dataclass
class Sorted:
    new: list[Item] = field(default_factory=list)
    # (dropped item, the stored item it repeats): the same content under another key
    duplicates: list[tuple[Item, ItemRow]] = field(default_factory=list)


def unseen(s: Session, items: Iterable[Item]) -> list[Item]:
    """The items not stored yet (also dropping repeats within `items`)."""
    return sort_out(s, items).new


def sort_out(s: Session, items: Iterable[Item]) -> Sorted:
    """New items, and the duplicates of stored stories that are met for the first time
    (under a key that is neither stored nor a known alias)."""
    items = list(items)
    out = Sorted()
    if not items:
        return out
    known_keys: set[str] = set()
    for chunk in _chunks(sorted({i.dedupe_key for i in items})):
        known_keys |= set(s.exec(select(ItemRow.dedupe_key)
                                 .where(col(ItemRow.dedupe_key).in_(chunk))))
        known_keys |= set(s.exec(select(ItemAliasRow.dedupe_key)
                                 .where(col(ItemAliasRow.dedupe_key).in_(chunk))))
    fresh = [i for i in items if i.dedupe_key not in known_keys]
    by_hash: dict[str, ItemRow] = {}
    for chunk in _chunks(sorted({i.content_hash for i in fresh})):
        for row in s.exec(select(ItemRow).where(col(ItemRow.content_hash).in_(chunk))
                          .order_by(col(ItemRow.id))):
            by_hash.setdefault(row.content_hash, row)
    seen: set[str] = set()
    for item in fresh:
        key, h = item.dedupe_key, item.content_hash
        if key in seen or h in seen:
            continue  # repeated within this batch
        seen |= {key, h}
        if h in by_hash:
            out.duplicates.append((item, by_hash[h]))
        else:
            out.new.append(item)
    return out


def remember_alias(s: Session, item: Item, stored: ItemRow) -> None:
    """Record that `item`'s key names the stored story, so it is not met again."""
    insert_ignore(s, ItemAliasRow, dict(dedupe_key=item.dedupe_key, item_id=stored.id,
                                        feed=item.feed, created_at=utcnow()))


def insert_many(s: Session, items: Sequence[tuple[Item, str]]) -> dict[str, int]:
    """Store items (with the text their figures were read from) in one statement; the ids
    of those stored, by dedupe key (an item another writer stored first is left out)."""
    if not items:
        return {}
    now = utcnow()
    # An item whose article was fetched keeps its feed text's hash (in meta): the
    # cross-guid dedupe in sort_out() compares feed texts.
    rows = [dict(dedupe_key=item.dedupe_key, content_hash=item.meta.get("content_hash")
                 or item.content_hash, feed=item.feed, company=item.company,
                 source_kind=item.source_kind, guid=item.guid, link=item.link,
                 title=item.title[:1000], text=text, published_at=item.published,
                 fetched_at=now, article_url=item.article_url, article_error=item.article_error)
            for item, text in items]
    table = ItemRow.__table__
    stmt = (dialect_insert(s, table).on_conflict_do_nothing()
            .returning(table.c.id, table.c.dedupe_key))
    return {key: item_id for item_id, key in s.execute(stmt, rows)}


def get(s: Session, item_id: int) -> ItemRow | None:
    return s.get(ItemRow, item_id)


def _chunks(values: list[str], size: int = 500):
    for i in range(0, len(values), size):
        yield values[i:i + size]

