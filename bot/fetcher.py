"""HTTP (and local file) fetching, and the meaning of every response.

The httpx client is injected (tests and EDGAR share the same seam). This is the
boundary where transport errors and HTTP statuses become FetchError with a
one-line reason and whether a retry makes sense (Miniflux's reader/fetcher).

Conditional GET (RFC 9110 §13.1, ETag / Last-Modified): an unchanged feed
costs a 304 and no parsing. Bodies are read as a stream and cut at a size cap,
measured after decompression, so a gzip bomb stops at the cap too.

Article fetching asks for a little more, all off by default: a per-request
timeout that is also a deadline for the whole body, redirects handed back one
hop at a time (so the caller can rate-limit each host and see loops), bodies
cut at the cap instead of refused (`truncate`), and a Content-Type check made
before the body is read (`types`), so a 10 MB PDF costs one response header.
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
    location: str | None = None  # absolute redirect target (follow_redirects=False)
    truncated: bool = False  # body cut at the size cap (truncate=True)

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def is_redirect(self) -> bool:
        return self.location is not None


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
            accept: str = DEFAULT_ACCEPT, headers: dict[str, str] | None = None,
            timeout: float | None = None, follow_redirects: bool | None = None,
            truncate: bool = False, types: tuple[str, ...] = (),
            type_name: str = "") -> Response:
        """GET `url`. `types`: the media types accepted (others raise "not
        {type_name} (…)" before the body is read; a missing Content-Type passes)."""
        if not url.startswith(("http://", "https://")):
            return self._read_local(url)
        send = {"Accept": accept, **(headers or {})}
        if etag:
            send["If-None-Match"] = etag
        if last_modified:
            send["If-Modified-Since"] = last_modified
        limit = timeout if timeout is not None else self.client.timeout.read
        extra: dict = {} if timeout is None else {"timeout": httpx.Timeout(timeout)}
        if follow_redirects is not None:
            extra["follow_redirects"] = follow_redirects
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            with self.client.stream("GET", url, headers=send, **extra) as r:
                return self._read(r, deadline=deadline, limit=limit, truncate=truncate,
                                  types=types, type_name=type_name)
        except httpx.HTTPError as exc:
            raise _translate(exc, limit) from exc

    def _read(self, r: httpx.Response, *, deadline: float | None = None,
              limit: float | None = None, truncate: bool = False,
              types: tuple[str, ...] = (), type_name: str = "") -> Response:
        redirects = tuple(str(h.url) for h in r.history)
        if r.status_code == 304:
            return Response(304, b"", str(r.url), etag=r.headers.get("etag"),
                            last_modified=r.headers.get("last-modified"), redirects=redirects)
        if r.is_redirect:  # only seen with follow_redirects=False
            return Response(r.status_code, b"", str(r.url), redirects=redirects,
                            location=str(r.url.join(r.headers["location"])))
        if r.status_code >= 400:
            raise _status_error(r)
        ctype = r.headers.get("content-type", "")
        media = ctype.split(";")[0].strip().lower()
        if types and media and media not in types:
            raise FetchError(f"not {type_name or ' or '.join(types)} ({media})",
                             retryable=False)
        declared = r.headers.get("content-length")
        if not truncate and declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchError(f"response of {int(declared):,} bytes is over the "
                             f"{self.max_bytes:,}-byte cap", retryable=False)
        chunks, size, cut = [], 0, False
        for chunk in r.iter_bytes():
            if deadline is not None and time.monotonic() > deadline:
                raise FetchError(f"timed out after {limit or 0:g}s")
            if size + len(chunk) > self.max_bytes:
                if not truncate:
                    raise FetchError(f"response is over the {self.max_bytes:,}-byte cap",
                                     retryable=False)
                chunks.append(chunk[: self.max_bytes - size])
                cut = True
                break
            size += len(chunk)
            chunks.append(chunk)
        return Response(r.status_code, b"".join(chunks), str(r.url), content_type=ctype,
                        etag=r.headers.get("etag"),
                        last_modified=r.headers.get("last-modified"), redirects=redirects,
                        truncated=cut)

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
    return FetchError(reason, retryable=retryable, retry_after=retry_after,
                      status=r.status_code)


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
