"""The EDGAR client: User-Agent rule, base URLs, the shared limiter, backoff."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from bot.config import Env, parse_config
from bot.edgar.client import (
    USER_AGENT_HELP,
    EdgarClient,
    EdgarSettings,
    RateLimiter,
    edgar_settings,
    shared_limiter,
    user_agent_problem,
)
from bot.errors import FetchError, SourceError
from bot.fetcher import Fetcher, make_client
from tests.edgar_server import EdgarServer
from tests.loopback import Reply

UA = "Jane Trader jane@example.com"


@pytest.fixture
def server() -> Iterator[EdgarServer]:
    with EdgarServer() as s:
        yield s
        _close_http_clients()  # before the server stops: no half-open keep-alive sockets


@pytest.fixture(autouse=True)
def _closing() -> Iterator[None]:
    yield
    _close_http_clients()


def _close_http_clients() -> None:
    while _OPEN:
        _OPEN.pop().close()


_OPEN: list = []


def _http(user_agent: str = "marketbot/0.1 (generic feed poller)"):
    http = make_client(timeout=5, user_agent=user_agent)
    _OPEN.append(http)
    return http


def client_for(server: EdgarServer, *, limiter: RateLimiter | None = None,
               sleeps: list | None = None, ua: str = UA) -> EdgarClient:
    settings = EdgarSettings(ua, server.url, server.url + "/data", 10.0)
    return EdgarClient(Fetcher(_http(), max_bytes=1 << 20), settings,
                       limiter=limiter or RateLimiter(1000),
                       sleep=(sleeps.append if sleeps is not None else lambda s: None))


# ---------------------------------------------------------------- User-Agent


@pytest.mark.parametrize("ua, ok", [
    ("Jane Trader jane@example.com", True),
    ("Acme Capital LLC ops@acme.co.uk", True),
    ("Jane Trader <jane@example.com>", True),
    ("marketbot/0.1 (+https://github.com/marketbot/marketbot)", False),  # no e-mail
    ("jane@example.com", False),  # no name
    ("Jane Trader jane@example", False),  # no domain
    ("", False),
    (None, False),
])
def test_user_agent_must_name_operator_and_email(ua, ok) -> None:
    problem = user_agent_problem(ua)
    assert (problem is None) is ok
    if not ok:
        assert "SEC requires a User-Agent naming you and a contact e-mail" in problem
        assert "edgar.user_agent" in problem and "SEC_USER_AGENT" in problem


CONFIG = """
feeds: [{name: sec-dell, kind: edgar}]
slack: {channel: "#x"}
edgar: {user_agent: "File Operator file@example.com", www_url: "https://mirror.example/"}
"""


def test_environment_overrides_the_config_file() -> None:
    config = parse_config(CONFIG)
    s = edgar_settings(config, Env())
    assert (s.user_agent, s.www_url, s.data_url, s.problem) == (
        "File Operator file@example.com", "https://mirror.example", "https://data.sec.gov", None)
    s = edgar_settings(config, Env(sec_user_agent=UA, edgar_www_url="http://127.0.0.1:9/",
                                   edgar_data_url="http://127.0.0.1:8"))
    assert (s.user_agent, s.www_url, s.data_url) == (UA, "http://127.0.0.1:9",
                                                     "http://127.0.0.1:8")


def test_missing_user_agent_refuses_before_any_request(server: EdgarServer) -> None:
    config = parse_config(CONFIG.replace('user_agent: "File Operator file@example.com", ', ""))
    settings = edgar_settings(config, Env(edgar_www_url=server.url))
    assert settings.problem == USER_AGENT_HELP
    with pytest.raises(SourceError, match="SEC requires a User-Agent") as err:
        EdgarClient(Fetcher(_http(), max_bytes=1000), settings)
    assert err.value.retryable is False
    assert server.requests == []


def test_requests_declare_the_operator(server: EdgarServer) -> None:
    server.route("/x", Reply(200, "ok"))
    client = client_for(server)
    client.get(client.www("/x"))
    assert server.hits("/x")[0].headers["user-agent"] == UA


# ---------------------------------------------------------------- base URLs


@pytest.mark.parametrize("given, expected", [
    ("https://www.sec.gov/Archives/edgar/data/1571996/000157199625000096/a.htm",
     "{www}/Archives/edgar/data/1571996/000157199625000096/a.htm"),
    ("https://sec.gov/cgi-bin/browse-edgar?action=getcompany&CIK=0001571996",
     "{www}/cgi-bin/browse-edgar?action=getcompany&CIK=0001571996"),
    ("https://data.sec.gov/api/xbrl/companyfacts/CIK0001571996.json",
     "{data}/api/xbrl/companyfacts/CIK0001571996.json"),
    ("/Archives/edgar/data/1571996/x-index.htm", "{www}/Archives/edgar/data/1571996/x-index.htm"),
    ("HTTPS://WWW.SEC.GOV/Archives/a.htm", "{www}/Archives/a.htm"),
])
def test_every_sec_url_goes_to_the_configured_base(server, given, expected) -> None:
    client = client_for(server)
    assert client.rewrite(given) == expected.format(www=server.url, data=server.url + "/data")


@pytest.mark.parametrize("url", [
    "https://evil.example/Archives/a.htm",
    "https://www.sec.gov@169.254.169.254/latest/meta-data/",
    "https://www.sec.gov.evil.com/Archives/a.htm",
    "ftp://www.sec.gov/Archives/a.htm",
    "{base}0/Archives/a.htm",  # the loopback base's port with a digit more
    "http://user:pw@{host}/Archives/a.htm",
])
def test_non_sec_urls_are_refused(server: EdgarServer, url: str) -> None:
    url = url.format(base=server.url, host=server.url.removeprefix("http://"))
    with pytest.raises(FetchError, match="not an SEC URL") as err:
        client_for(server).get(url)
    assert err.value.retryable is False
    assert server.requests == []


# ---------------------------------------------------------------- rate limit


def test_limiter_spaces_requests_without_sleeping_in_the_test() -> None:
    now = [0.0]

    def sleep(seconds: float) -> None:  # a fake clock: sleeping advances it
        now[0] += seconds

    limiter = RateLimiter(10, clock=lambda: now[0], sleep=sleep)
    starts = []
    for _ in range(35):
        limiter.acquire()
        starts.append(now[0])
    assert max(_per_second(starts)) == 10
    assert starts[-1] == pytest.approx(34 * 1.05 / 10)


def test_limiter_never_exceeds_10_per_second_at_the_server(server: EdgarServer) -> None:
    """Two EDGAR clients (two feeds) in four threads each, one shared limiter: count
    the requests that reached the server in every 1-second window."""
    server.route("/x", Reply(200, "ok"))
    limiter = RateLimiter(10)
    clients = [client_for(server, limiter=limiter) for _ in range(2)]

    def work(client: EdgarClient) -> None:
        for _ in range(4):
            client.get(client.www("/x"))

    threads = [threading.Thread(target=work, args=(c,)) for c in clients for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    arrivals = [r.at for r in server.hits("/x")]
    assert len(arrivals) == 32
    assert max(_per_second(arrivals)) <= 10


def test_the_process_shares_one_limiter() -> None:
    assert shared_limiter(10.0) is shared_limiter(10.0)


def _per_second(times: list[float]) -> list[int]:
    """Requests in each 1-second window that starts at a request."""
    times = sorted(times)
    return [sum(1 for u in times if t <= u < t + 1.0) for t in times]


# ---------------------------------------------------------------- backoff


def test_429_is_retried_after_the_retry_after_delay(server: EdgarServer) -> None:
    server.route("/x", Reply(429, "slow down", {"Retry-After": "7"}), Reply(200, "ok"))
    sleeps: list[float] = []
    resp = client_for(server, sleeps=sleeps).get(server.url + "/x")
    assert resp.body == b"ok"
    assert len(server.hits("/x")) == 2
    assert sleeps == [7.0]


def test_5xx_is_retried_with_exponential_backoff(server: EdgarServer) -> None:
    server.route("/x", Reply(503), Reply(502), Reply(200, "ok"))
    sleeps: list[float] = []
    assert client_for(server, sleeps=sleeps).get(server.url + "/x").body == b"ok"
    assert sleeps == [1.0, 2.0]


def test_403_backs_off_then_explains_sec_refusal(server: EdgarServer) -> None:
    server.route("/x", Reply(403, "Undeclared Automated Tool"))
    sleeps: list[float] = []
    with pytest.raises(FetchError) as err:
        client_for(server, sleeps=sleeps).get(server.url + "/x")
    assert len(server.hits("/x")) == 4 and sleeps == [1.0, 2.0, 4.0]
    assert "HTTP 403" in err.value.reason
    assert "SEC refuses undeclared or too-fast clients" in err.value.reason
    assert err.value.retryable is True


def test_404_is_not_retried(server: EdgarServer) -> None:
    sleeps: list[float] = []
    with pytest.raises(FetchError, match="HTTP 404") as err:
        client_for(server, sleeps=sleeps).get(server.url + "/missing")
    assert err.value.retryable is False and sleeps == []
    assert len(server.hits("/missing")) == 1


def test_a_long_retry_after_is_left_to_the_feed_backoff(server: EdgarServer) -> None:
    server.route("/x", Reply(429, "", {"Retry-After": "3600"}))
    sleeps: list[float] = []
    with pytest.raises(FetchError) as err:
        client_for(server, sleeps=sleeps).get(server.url + "/x")
    assert sleeps == [] and err.value.retry_after == 3600.0 and err.value.retryable
