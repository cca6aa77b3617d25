"""Real HTTP servers on 127.0.0.1 standing in for feeds, EDGAR and Slack.

The bot's real clients (httpx, slack-sdk) talk to these over the wire; tests
script the answers and read what arrived.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Reply:
    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (timeouts)
    etag: str | None = None  # answer 304 to If-None-Match with this value
    chunked: bool = False  # stream the body in chunks, with no Content-Length
    drip: float = 0.0  # seconds between body bytes (a server that never quite stops)
    reason: str | None = None  # the status line's reason phrase (default: the standard one)


@dataclass
class Request:
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes
    at: float


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass  # a client that hangs up (timeouts under test) is expected, not news


class Loopback:
    """Base: a threaded HTTP server on an ephemeral port with a request log."""

    def __init__(self):
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self.closing = threading.Event()  # set on exit: dripping replies stop
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def _handle(self):
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                split = urlsplit(self.path)
                req = Request(self.command, split.path, parse_qs(split.query),
                              {k.lower(): v for k, v in self.headers.items()}, body,
                              time.monotonic())
                with outer._lock:
                    outer.requests.append(req)
                reply = outer.answer(req)
                if reply.delay:
                    time.sleep(reply.delay)
                payload = reply.body.encode() if isinstance(reply.body, str) else reply.body
                status = reply.status
                headers = dict(reply.headers)
                if reply.etag:
                    headers["ETag"] = reply.etag
                    if req.headers.get("if-none-match") == reply.etag:
                        status, payload = 304, b""
                try:
                    self.send_response(status, reply.reason)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    if reply.chunked:
                        self.send_header("Transfer-Encoding", "chunked")
                    elif "content-length" not in {k.lower() for k in headers}:
                        self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if self.command == "HEAD":
                        return
                    if reply.drip:
                        for i in range(len(payload)):
                            self.wfile.write(payload[i:i + 1])
                            self.wfile.flush()
                            if outer.closing.wait(reply.drip):
                                return
                        return
                    if not reply.chunked:
                        self.wfile.write(payload)
                        return
                    for i in range(0, len(payload), 4096):
                        part = payload[i:i + 4096]
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                    self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_HEAD = _handle

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answer(self, req: Request) -> Reply:  # overridden
        return Reply(404, b"not found")

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def hits(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path]


class FeedServer(Loopback):
    """Serves scripted replies per path; a list of replies is played in order,
    its last reply repeating."""

    def __init__(self):
        super().__init__()
        self.routes: dict[str, deque[Reply]] = {}

    def route(self, path: str, *replies: Reply) -> str:
        self.routes[path] = deque(replies)
        return self.url + path

    def answer(self, req: Request) -> Reply:
        queue = self.routes.get(req.path)
        if not queue:
            return Reply(404, b"not found", {"Content-Type": "text/plain"})
        return queue.popleft() if len(queue) > 1 else queue[0]


class SlackServer(Loopback):
    """Speaks Slack's Web API wire format for chat.postMessage (JSON body, Bearer
    token) and an incoming webhook at /services/…. Script failures with
    `fail_next(...)`; everything accepted lands in `messages`."""

    def __init__(self, token: str = "xoxb-test-token"):
        super().__init__()
        self.token = token
        self.script: deque[Reply] = deque()
        self.messages: list[dict] = []
        self.delays: deque[float] = deque()  # accept the next posts, but answer late
        self._ts = 1700000000.000100

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    @property
    def webhook_url(self) -> str:
        return self.url + "/services/T000/B000/secretwebhookpart"

    def fail_next(self, *replies: Reply) -> None:
        self.script.extend(replies)

    @staticmethod
    def error(code: str, status: int = 200) -> Reply:
        return Reply(status, json.dumps({"ok": False, "error": code}),
                     {"Content-Type": "application/json"})

    @staticmethod
    def rate_limited(retry_after: int = 1) -> Reply:
        return Reply(429, json.dumps({"ok": False, "error": "ratelimited"}),
                     {"Content-Type": "application/json", "Retry-After": str(retry_after)})

    def answer(self, req: Request) -> Reply:
        if req.path.startswith("/services/"):
            return self._webhook(req)
        if req.path != "/api/chat.postMessage":
            return self.error("unknown_method", 404)
        if req.headers.get("authorization") != f"Bearer {self.token}":
            return self.error("invalid_auth")
        if self.script:
            return self.script.popleft()
        body = _body(req)
        if not body.get("channel"):
            return self.error("channel_not_found")
        if not (body.get("text") or body.get("blocks")):
            return self.error("no_text")
        with self._lock:
            self._ts += 1
            ts = f"{self._ts:.6f}"
            self.messages.append({**body, "ts": ts})
        return Reply(200, json.dumps({"ok": True, "channel": "C0123ALERTS", "ts": ts,
                                      "message": {"text": body.get("text")}}),
                     {"Content-Type": "application/json"},
                     delay=self.delays.popleft() if self.delays else 0.0)

    def _webhook(self, req: Request) -> Reply:
        if self.script:
            reply = self.script.popleft()
            code = json.loads(reply.body).get("error", "error") if reply.body else "error"
            return Reply(reply.status if reply.status != 200 else 403, code, reply.headers)
        with self._lock:
            self.messages.append(_body(req))
        return Reply(200, "ok", {"Content-Type": "text/plain"})


def _body(req: Request) -> dict:
    ctype = req.headers.get("content-type", "")
    if "json" in ctype:
        return json.loads(req.body or b"{}")
    return {k: v[0] for k, v in parse_qs(req.body.decode()).items()}
