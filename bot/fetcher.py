"""HTTP (and local file) fetching, and the meaning of every response.

The httpx client is injected (tests and EDGAR share the same seam). This is the
boundary where transport errors and HTTP statuses become FetchError with a
one-line reason and whether a retry makes sense (Miniflux's reader/fetcher).

Conditional GET (RFC 9110 §13.1, ETag / Last-Modified): an unchanged feed
costs a 304 and no parsing. Bodies are read as a stream and cut at a size cap,
measured after decompression, so a gzip bomb stops at the cap too.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx

from bot.errors import FetchError

DEFAULT_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, "
    "text/html;q=0.8, */*;q=0.5"
)


@dataclass(frozen=True)
class Response:
    status: int  # 200, or 304 (not modified: body is empty)
    body: bytes
    url: str  # after redirects
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None
    redirects: tuple[str, ...] = ()

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def make_client(*, timeout: float, user_agent: str, max_redirects: int = 10,
                transport: httpx.BaseTransport | None = None) -> httpx.Client:
    return httpx.Client(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        follow_redirects=True,
        max_redirects=max_redirects,
        headers={"User-Agent": user_agent},
        transport=transport,
    )


class Fetcher:
    def __init__(self, client: httpx.Client, *, max_bytes: int):
        self.client = client
        self.max_bytes = max_bytes

    def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
            accept: str = DEFAULT_ACCEPT, headers: dict[str, str] | None = None) -> Response:
        if not url.startswith(("http://", "https://")):
            return self._read_local(url)
        send = {"Accept": accept, **(headers or {})}
        if etag:
            send["If-None-Match"] = etag
        if last_modified:
            send["If-Modified-Since"] = last_modified
        try:
            with self.client.stream("GET", url, headers=send) as r:
                return self._read(r)
        except httpx.HTTPError as exc:
            raise _translate(exc, self.client.timeout.read) from exc

    def _read(self, r: httpx.Response) -> Response:
        redirects = tuple(str(h.url) for h in r.history)
        if r.status_code == 304:
            return Response(304, b"", str(r.url), etag=r.headers.get("etag"),
                            last_modified=r.headers.get("last-modified"), redirects=redirects)
        if r.status_code >= 400:
            raise _status_error(r)
        declared = r.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchError(f"response of {int(declared):,} bytes is over the "
                             f"{self.max_bytes:,}-byte cap", retryable=False)
        chunks, size = [], 0
        for chunk in r.iter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise FetchError(f"response is over the {self.max_bytes:,}-byte cap",
                                 retryable=False)
            chunks.append(chunk)
        return Response(r.status_code, b"".join(chunks), str(r.url),
                        content_type=r.headers.get("content-type", ""),
                        etag=r.headers.get("etag"),
                        last_modified=r.headers.get("last-modified"), redirects=redirects)

    def _read_local(self, url: str) -> Response:
        path = Path(unquote(urlsplit(url).path)) if url.startswith("file://") else Path(url)
        try:
            size = path.stat().st_size
            if size > self.max_bytes:
                raise FetchError(f"file of {size:,} bytes is over the {self.max_bytes:,}-byte cap",
                                 retryable=False)
            return Response(200, path.read_bytes(), path.resolve().as_uri())
        except OSError as exc:
            raise FetchError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _status_error(r: httpx.Response) -> FetchError:
    reason = f"HTTP {r.status_code} {r.reason_phrase}".strip()
    retry_after = parse_retry_after(r.headers.get("retry-after"))
    # 408/425/429 and 5xx are transient by definition; other 4xx mean the URL or our
    # request is wrong, but a feed is still retried later (at the capped backoff).
    retryable = r.status_code in (408, 425, 429) or r.status_code >= 500
    return FetchError(reason, retryable=retryable, retry_after=retry_after)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _translate(exc: httpx.HTTPError, timeout: float | None) -> FetchError:
    if isinstance(exc, httpx.TimeoutException):
        return FetchError(f"timed out after {timeout or 0:g}s")
    if isinstance(exc, httpx.TooManyRedirects):
        return FetchError("too many redirects (loop?)", retryable=False)
    if isinstance(exc, httpx.UnsupportedProtocol):
        return FetchError(f"unsupported URL: {exc}", retryable=False)
    if isinstance(exc, httpx.ConnectError):
        text = str(exc)
        if "Name or service not known" in text or "nodename nor servname" in text \
                or "getaddrinfo" in text or "Temporary failure in name resolution" in text:
            return FetchError("DNS lookup failed")
        return FetchError(f"connection failed: {_short(text)}")
    if isinstance(exc, httpx.DecodingError):
        return FetchError(f"undecodable response body: {_short(str(exc))}", retryable=False)
    return FetchError(f"{type(exc).__name__}: {_short(str(exc))}")


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
