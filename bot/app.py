"""The App: config, environment and the collaborators built from them.

Built once by the CLI (or a test) and passed down; nothing is created at import.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from sqlalchemy import Engine

from bot import store
from bot.config import CompanyConfig, Config, Env
from bot.fetcher import Fetcher, make_client
from bot.slack import Sink, WebApiSink, WebhookSink
from bot.telemetry import Telemetry


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class App:
    config: Config
    env: Env
    engine: Engine
    http: httpx.Client
    sink: Sink | None
    telemetry: Telemetry = field(default_factory=Telemetry)
    clock: Callable[[], datetime] = utcnow
    replica: str = field(default_factory=lambda: replica_id())  # holds feed leases

    @property
    def fetcher(self) -> Fetcher:
        return Fetcher(self.http, max_bytes=self.config.http.max_bytes)

    def company(self, ticker: str | None = None) -> CompanyConfig:
        return self.config.company_for(ticker)

    def close(self) -> None:
        self.http.close()
        self.engine.dispose()


def build_app(config: Config, env: Env, *, clock: Callable[[], datetime] = utcnow,
              transport: httpx.BaseTransport | None = None) -> App:
    engine = store.make_engine(env.database_url)
    store.init_db(engine)
    http = make_client(timeout=config.http.timeout, user_agent=config.http.user_agent,
                       transport=transport)
    return App(config=config, env=env, engine=engine, http=http, sink=make_sink(env),
               clock=clock)


def replica_id() -> str:
    """This process among the replicas sharing a database: host, pid and a random tag
    (a restarted container keeps its host name and often its pid)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"


def make_sink(env: Env) -> Sink | None:
    """Bot token first (it can thread corrections), then webhook, else none."""
    if env.slack_bot_token:
        return WebApiSink(env.slack_bot_token.get_secret_value(), base_url=env.slack_api_url)
    if env.slack_webhook_url:
        return WebhookSink(env.slack_webhook_url.get_secret_value())
    return None
