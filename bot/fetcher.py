"""HTTP (and local file) fetching, and the meaning of every response.

Every request of the process (feeds, EDGAR, articles) goes through one `Http`:
an httpx.AsyncClient on an event loop of its own thread. Threads call
`Fetcher.get` (it waits for the request on that loop); the poll loop awaits
`Fetcher.aget` directly and runs hundreds of conditional GETs at once. This is
the boundary where transport errors and HTTP statuses become FetchError with a
one-line reason and whether a retry makes sense (Miniflux's reader/fetcher).

Limits, each against a hostile or broken server:
- A deadline for the whole request (connect, headers and body): a server that
  sends one byte every few seconds never trips a per-read timeout, it trips this.
- A size cap measured after decompression, enforced on every content-coding layer
  as it is inflated (zlib's max_length): "Content-Encoding: gzip, gzip" of a few
  KB cannot make a gigabyte before the cap is checked. httpx's own decoders
  inflate each chunk whole, so the body is read raw and decoded here.
- `Http.interrupt()` (the runner stopping) cancels every request in flight at
  once; the callers see `Interrupted`, which is not a failure of the feed.

Conditional GET (RFC 9110 §13.1, ETag / Last-Modified): an unchanged feed costs
a 304 and no parsing.

Article fetching asks for a little more, all off by default: its own timeout,
redirects handed back one hop at a time (so the caller can rate-limit each host
and see loops), bodies cut at the cap instead of refused (`truncate`), and a
Content-Type check made before the body is read (`types`), so a 10 MB PDF costs
one response header.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import email.utils
import threading
import time
import zlib
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import httpx

from bot.errors import FetchError, Interrupted
from bot.text import printable

DEFAULT_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, "
    "text/html;q=0.8, */*;q=0.5"
)
# Only the codings decoded here (with their output limit) are asked for.
ACCEPT_ENCODING = "gzip, deflate"
MAX_CODINGS = 3  # content-coding layers undone at most ("gzip, gzip" is legal, 4 is abuse)
_PIECE = 64 * 1024  # most bytes one inflate step may produce

T = TypeVar("T")


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


class Http:
    """One httpx.AsyncClient on an event loop in its own (daemon) thread.

    `run(coro)` runs a coroutine there and waits for it (from any other thread);
    `interrupt()` cancels everything in flight and refuses new requests until
    `resume()`; `close()` ends the client and the thread."""

    def __init__(self, *, timeout: float, user_agent: str, max_redirects: int = 10,
                 transport: httpx.AsyncBaseTransport | None = None,
                 max_connections: int | None = None):
        self.timeout = timeout
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=True, max_redirects=max_redirects,
            headers={"User-Agent": user_agent, "Accept-Encoding": ACCEPT_ENCODING},
            # Concurrency is bounded by the callers (the poll loop's limits); the pool keeps
            # enough idle connections for a warm cycle to reuse them.
            limits=httpx.Limits(max_connections=max_connections,
                                max_keepalive_connections=256, keepalive_expiry=60.0),
            transport=transport)
        self.stopping = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="http", daemon=True)
        self._thread.start()
        self._closed = False

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run `coro` on the HTTP loop and return its result (raises what it raises;
        `Interrupted` when the runner stops meanwhile)."""
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("Http.run() called on its own loop: await the coroutine")
        if self.stopping.is_set() or self._closed:
            coro.close()
            raise Interrupted("stopping")
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result()
        except (concurrent.futures.CancelledError, asyncio.CancelledError):
            raise Interrupted("stopping") from None

    def interrupt(self) -> None:
        """Cancel every request in flight and refuse new ones (the runner is stopping)."""
        self.stopping.set()
        if not self._closed:
            self._loop.call_soon_threadsafe(_cancel_all, self._loop)

    def resume(self) -> None:
        self.stopping.clear()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._loop.call_soon_threadsafe(_cancel_all, self._loop)
        with contextlib.suppress(concurrent.futures.TimeoutError,
                                 concurrent.futures.CancelledError, RuntimeError):
            asyncio.run_coroutine_threadsafe(self.client.aclose(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            self._loop.close()


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    for task in asyncio.all_tasks(loop):
        task.cancel()


def make_client(*, timeout: float, user_agent: str, max_redirects: int = 10,
                transport: httpx.AsyncBaseTransport | None = None) -> Http:
    return Http(timeout=timeout, user_agent=user_agent, max_redirects=max_redirects,
                transport=transport)


class Fetcher:
    def __init__(self, client: Http, *, max_bytes: int):
        self.client = client
        self.max_bytes = max_bytes

    def get(self, url: str, **kw: Any) -> Response:
        """GET `url` from a thread (see `aget` for the options)."""
        if not url.startswith(("http://", "https://")):
            return self._read_local(url)
        return self.client.run(self.aget(url, **kw))

    async def aget(self, url: str, *, etag: str | None = None,
                   last_modified: str | None = None, accept: str = DEFAULT_ACCEPT,
                   headers: dict[str, str] | None = None, timeout: float | None = None,
                   follow_redirects: bool | None = None, truncate: bool = False,
                   types: tuple[str, ...] = (), type_name: str = "") -> Response:
        """GET `url` within `timeout` (default: the client's) for the whole request.
        `types`: the media types accepted (others raise "not {type_name} (…)" before
        the body is read; a missing Content-Type passes)."""
        if not url.startswith(("http://", "https://")):
            return self._read_local(url)
        send = {"Accept": accept, **(headers or {})}
        if etag:
            send["If-None-Match"] = etag
        if last_modified:
            send["If-Modified-Since"] = last_modified
        limit = timeout if timeout is not None else self.client.timeout
        extra: dict = {}
        if timeout is not None:
            extra["timeout"] = httpx.Timeout(timeout, connect=min(timeout, 10.0))
        if follow_redirects is not None:
            extra["follow_redirects"] = follow_redirects
        try:
            async with asyncio.timeout(limit):
                async with self.client.client.stream("GET", url, headers=send, **extra) as r:
                    return await self._read(r, truncate=truncate, types=types,
                                            type_name=type_name)
        except TimeoutError:
            raise FetchError(f"timed out after {limit:g}s") from None
        except httpx.HTTPError as exc:
            raise _translate(exc, limit) from exc
        except (httpx.InvalidURL, ValueError) as exc:  # a bad URL or header value
            raise FetchError(f"invalid request: {_short(str(exc))}", retryable=False) from None

    async def _read(self, r: httpx.Response, *, truncate: bool = False,
                    types: tuple[str, ...] = (), type_name: str = "") -> Response:
        redirects = tuple(str(h.url) for h in r.history)
        if r.status_code == 304:
            return Response(304, b"", str(r.url), etag=r.headers.get("etag"),
                            last_modified=r.headers.get("last-modified"), redirects=redirects)
        if r.is_redirect:  # only seen with follow_redirects=False
            try:
                location = str(r.url.join(r.headers["location"]))
            except (KeyError, httpx.InvalidURL) as exc:
                raise FetchError(f"HTTP {r.status_code} with a bad Location",
                                 retryable=False) from exc
            return Response(r.status_code, b"", str(r.url), redirects=redirects,
                            location=location)
        if r.status_code >= 400:
            raise _status_error(r)
        ctype = printable(r.headers.get("content-type", ""), one_line=True)
        media = ctype.split(";")[0].strip().lower()
        if types and media and media not in types:
            raise FetchError(f"not {type_name or ' or '.join(types)} ({media})",
                             retryable=False)
        declared = r.headers.get("content-length")
        if not truncate and declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchError(f"response of {int(declared):,} bytes is over the "
                             f"{self.max_bytes:,}-byte cap", retryable=False)
        body = Body(r.headers.get("content-encoding", ""), self.max_bytes, truncate=truncate)
        async for chunk in r.aiter_raw():
            if body.add(chunk):
                break
        return Response(r.status_code, body.finish(), str(r.url), content_type=ctype,
                        etag=r.headers.get("etag"),
                        last_modified=r.headers.get("last-modified"), redirects=redirects,
                        truncated=body.cut)

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


# ---------------------------------------------------------------- bodies


class _Over(Exception):
    """A layer's output passed the cap."""


class _Layer:
    """One content coding undone with zlib, at most `_PIECE` bytes per step and
    `limit` bytes in all: the output limit holds while inflating, not after."""

    def __init__(self, coding: str, limit: int):
        self.coding, self.limit, self.total = coding, limit, 0
        self.raw_deflate = False  # "deflate" sent without its zlib header (common)
        self._z = self._new()

    def _new(self):
        if self.coding in ("gzip", "x-gzip"):
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        return zlib.decompressobj(-zlib.MAX_WBITS if self.raw_deflate else zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data:
            try:
                out = self._z.decompress(data, _PIECE)
            except zlib.error:
                if self.coding == "deflate" and not self.raw_deflate and self.total == 0:
                    self.raw_deflate = True
                    self._z = self._new()
                    out = self._z.decompress(data, _PIECE)
                else:
                    raise
            data = self._z.unconsumed_tail
            if self._z.eof and self._z.unused_data:
                rest = self._z.unused_data
                # Another gzip member follows (RFC 1952 §2.2); anything else is trailing junk.
                data = rest if rest[:2] == b"\x1f\x8b" else b""
                self._z = self._new()
            yield from self._count(out)

    def flush(self) -> Iterator[bytes]:
        yield from self._count(self._z.flush(_PIECE))

    def _count(self, out: bytes) -> Iterator[bytes]:
        if out:
            self.total += len(out)
            if self.total > self.limit:
                raise _Over
            yield out


class Body:
    """A response body arriving raw: its content codings undone layer by layer, each
    layer bounded, and the result cut or refused at `limit` bytes."""

    def __init__(self, content_encoding: str, limit: int, *, truncate: bool = False):
        codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        unknown = [c for c in codings if c not in ("gzip", "x-gzip", "deflate")]
        if unknown:
            name = printable(unknown[0], one_line=True)[:40]
            raise FetchError(f"unsupported Content-Encoding {name!r}", retryable=False)
        if len(codings) > MAX_CODINGS:
            raise FetchError(f"{len(codings)} content codings (at most {MAX_CODINGS} are read)",
                             retryable=False)
        # Codings are listed in the order they were applied: undo the last one first. A
        # layer may run one step past the cap, so that the body is cut exactly at it.
        self.layers = [_Layer(c, limit + _PIECE) for c in reversed(codings)]
        self.limit, self.truncate = limit, truncate
        self.size, self.cut = 0, False
        self._parts: list[bytes] = []

    def add(self, raw: bytes) -> bool:
        """Take a raw chunk; True when the body is complete (cut at the cap)."""
        try:
            for piece in self._through(0, raw):
                if self._keep(piece):
                    return True
        except _Over:
            return self._over()
        except zlib.error as exc:
            raise FetchError(f"undecodable response body: {exc}", retryable=False) from None
        return False

    def finish(self) -> bytes:
        if not self.cut:
            try:
                for i in range(len(self.layers)):
                    for flushed in self.layers[i].flush():
                        for piece in self._through(i + 1, flushed):
                            if self._keep(piece):
                                break
            except _Over:
                self._over()
            except zlib.error as exc:
                raise FetchError(f"undecodable response body: {exc}", retryable=False) from None
        return b"".join(self._parts)

    def _through(self, start: int, data: bytes) -> Iterator[bytes]:
        if start == len(self.layers):
            yield data
            return
        for piece in self.layers[start].feed(data):
            yield from self._through(start + 1, piece)

    def _keep(self, piece: bytes) -> bool:
        if self.size + len(piece) > self.limit:
            if not self.truncate:
                raise self._refusal()
            self._parts.append(piece[: self.limit - self.size])
            self.size, self.cut = self.limit, True
            return True
        self.size += len(piece)
        self._parts.append(piece)
        return False

    def _over(self) -> bool:
        if not self.truncate:
            raise self._refusal()
        self.cut = True
        return True

    def _refusal(self) -> FetchError:
        return FetchError(f"response is over the {self.limit:,}-byte cap", retryable=False)


# ---------------------------------------------------------------- errors


def _status_error(r: httpx.Response) -> FetchError:
    # The reason phrase is the server's text: no escape sequence of it reaches a terminal.
    phrase = printable(r.reason_phrase, one_line=True)[:80]
    reason = f"HTTP {r.status_code} {phrase}".strip()
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
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    try:
        return max(0.0, when.timestamp() - (time.time() if now is None else now))
    except (OverflowError, ValueError, OSError):
        return None


def _translate(exc: httpx.HTTPError, timeout: float | None) -> FetchError:
    if isinstance(exc, httpx.TimeoutException):
        return FetchError(f"timed out after {timeout or 0:g}s")
    if isinstance(exc, httpx.TooManyRedirects):
        return FetchError("too many redirects (loop?)", retryable=False)
    if isinstance(exc, httpx.UnsupportedProtocol):
        return FetchError(f"unsupported URL: {_short(str(exc))}", retryable=False)
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
    text = printable(text, one_line=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"
