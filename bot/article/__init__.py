"""Reading the whole story: the article behind a news item's link.

    urls      normalised URL (the cache key), canonical choice, public-host check
    reading   HTML → main text, title, date, canonical URL (trafilatura; pure)
    limits    per-host concurrency cap and interval; one fetch per URL at a time
    stage     ArticleReader: the pipeline's enrich stage (fetch, cache, apply)

Only feeds with `fetch_article: true` are enriched, and only their new items.
"""

from bot.article.reading import Reading, read_page
from bot.article.stage import Article, ArticleReader, apply, retry_delay
from bot.article.urls import choose_canonical, normalise

__all__ = ["Article", "ArticleReader", "Reading", "apply", "choose_canonical", "normalise",
           "read_page", "retry_delay"]
