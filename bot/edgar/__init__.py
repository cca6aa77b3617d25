"""SEC EDGAR as a source: filings, earnings exhibits and XBRL facts.

    client    EdgarClient: SEC fair-access rules (User-Agent, one shared 10 req/s
              limiter, backoff on 403/429/5xx), base-URL rewriting
    feeds     pure parsers: Atom filing feed, submissions JSON, filing index pages,
              full submission text, index.json
    xbrl      pure: companyfacts → revenue, gross and operating margin for a filing
    source    EdgarSource, the pipeline Source for feeds of kind `edgar`
    backfill  walk a company's past filings to fill figure history

`bot.edgar.source` is imported by `bot.pipeline.default_sources` (not here), so that
the pure modules can be used without the pipeline.
"""
