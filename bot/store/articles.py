"""The article cache: pages fetched for news items, and every URL that led to one.

An article is stored once per canonical URL, with its main text or the reason it
could not be read (and when it may be tried again); `article_url` maps each
normalised link, redirect hop, final and canonical URL to it. Writes are
upserts, so two writers (two feeds, two replicas) never fail on each other.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from bot.store.tables import ArticleRow, ArticleUrlRow


def find(s: Session, urls: Iterable[str]) -> ArticleRow | None:
    """The article any of these (normalised) URLs is known to lead to."""
    urls = sorted(set(urls))
    if not urls:
        return None
    q = (select(ArticleRow).join(ArticleUrlRow, col(ArticleUrlRow.article_id) == ArticleRow.id)
         .where(col(ArticleUrlRow.url).in_(urls)).order_by(col(ArticleRow.fetched_at).desc()))
    return s.exec(q.limit(1)).first()


def get(s: Session, canonical_url: str) -> ArticleRow | None:
    return s.exec(select(ArticleRow).where(ArticleRow.canonical_url == canonical_url)).first()


def save(s: Session, row: ArticleRow, urls: Iterable[str]) -> ArticleRow:
    """Insert or replace the article with row.canonical_url, and point `urls`
    (normalised) and the canonical URL at it."""
    values = row.model_dump(exclude={"id"})
    stmt = _insert(s, ArticleRow).values(**values)
    stmt = stmt.on_conflict_do_update(index_elements=["canonical_url"], set_=values)
    article_id = s.execute(stmt.returning(ArticleRow.__table__.c.id)).scalar_one()
    link(s, article_id, set(urls) | {row.canonical_url})
    s.expire_all()  # the upserts bypassed the session's identity map
    saved = s.get(ArticleRow, article_id)
    assert saved is not None
    return saved


def link(s: Session, article_id: int, urls: Iterable[str]) -> None:
    """Point each (normalised) URL at the article; a URL that led elsewhere before
    (a failure keyed by the link, then a success) now leads here."""
    for url in sorted(set(urls)):
        stmt = _insert(s, ArticleUrlRow).values(url=url, article_id=article_id)
        s.execute(stmt.on_conflict_do_update(index_elements=["url"],
                                             set_={"article_id": article_id}))


def urls_of(s: Session, article_id: int) -> list[str]:
    return sorted(s.exec(select(ArticleUrlRow.url).where(ArticleUrlRow.article_id == article_id)))


def _insert(s: Session, model):
    if s.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model.__table__)
