"""Loopback stand-ins for www.sec.gov and data.sec.gov, loaded with Dell fixtures.

EdgarServer is a FeedServer that also tells company-feed requests apart by form type
(`/cgi-bin/browse-edgar?…&type=10-Q` routes as "/cgi-bin/browse-edgar?type=10-Q") and,
like EDGAR, answers 403 to a client whose User-Agent names no contact e-mail.
"""

from __future__ import annotations

from pathlib import Path

from tests.loopback import FeedServer, Reply, Request

FIXTURES = Path(__file__).parent / "fixtures" / "edgar"
CIK = 1571996
EARNINGS_8K = "0001571996-25-000096"  # Items 2.02 + 9.01: the Q2 FY2026 release
PRESENTATION_8K = "0001571996-25-000088"  # Items 7.01 + 9.01: EX-99.1 is a presentation
Q2_FY26_10Q = "0001571996-25-000104"
BROWSE = "/cgi-bin/browse-edgar"


def archive(accession: str, name: str) -> str:
    return f"/Archives/edgar/data/{CIK}/{accession.replace('-', '')}/{name}"


def index_path(accession: str) -> str:
    return archive(accession, f"{accession}-index.htm")


EX991_PATH = archive(EARNINGS_8K, "dell-q2fy26xex991.htm")
PRESENTATION_PATH = archive(PRESENTATION_8K, "dell-20250715xex991.htm")
FULL_TXT_PATH = archive(EARNINGS_8K, f"{EARNINGS_8K}.txt")
FACTS_PATH = f"/api/xbrl/companyfacts/CIK{CIK:010d}.json"
SUBMISSIONS_PATH = f"/submissions/CIK{CIK:010d}.json"
SUBMISSIONS_PAGE_PATH = f"/submissions/CIK{CIK:010d}-submissions-001.json"

ATOM = {"Content-Type": "application/atom+xml"}
HTML = {"Content-Type": "text/html"}
JSON = {"Content-Type": "application/json"}
TEXT = {"Content-Type": "text/plain"}


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


class EdgarServer(FeedServer):
    def __init__(self, require_user_agent: bool = True):
        super().__init__()
        self.require_user_agent = require_user_agent

    def answer(self, req: Request) -> Reply:
        if self.require_user_agent and "@" not in req.headers.get("user-agent", ""):
            return Reply(403, "Your Request Originates from an Undeclared Automated Tool", HTML)
        key = route_key(req)
        queue = self.routes.get(key)
        if not queue:
            return Reply(404, b"not found", TEXT)
        return queue.popleft() if len(queue) > 1 else queue[0]

    def browse_hits(self, form: str | None = None) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == BROWSE
                    and (form is None or r.query.get("type", [""])[0] == form)]


def route_key(req: Request) -> str:
    if req.path == BROWSE:
        return f"{BROWSE}?type={req.query.get('type', [''])[0]}"
    return req.path


def serve_dell_www(www: EdgarServer) -> None:
    """Dell's filing feeds, the two 8-K index pages, their EX-99.1 exhibits, and the
    earnings 8-K's full submission text."""
    for form in ("8-K", "10-Q", "10-K"):
        www.route(f"{BROWSE}?type={form}", Reply(200, fixture(f"atom-dell-{form}.xml"), ATOM))
    for accession in (EARNINGS_8K, PRESENTATION_8K):
        www.route(index_path(accession), Reply(200, fixture(f"index-{accession}.htm"), HTML))
    www.route(EX991_PATH, Reply(200, fixture("ex99-1-dell-q2fy26.htm"), HTML))
    www.route(PRESENTATION_PATH, Reply(200, fixture("ex99-1-dell-presentation.htm"), HTML))
    www.route(FULL_TXT_PATH, Reply(200, fixture(f"full-submission-{EARNINGS_8K}.txt"), TEXT))


def serve_dell_data(data: EdgarServer) -> None:
    data.route(FACTS_PATH, Reply(200, fixture(f"companyfacts-CIK{CIK:010d}.json"), JSON))
    data.route(SUBMISSIONS_PATH, Reply(200, fixture(f"submissions-CIK{CIK:010d}.json"), JSON))
    data.route(SUBMISSIONS_PAGE_PATH,
               Reply(200, fixture(f"submissions-CIK{CIK:010d}-submissions-001.json"), JSON))


# ---------------------------------------------------------------- an App over the stand-ins

UA = "Jane Trader jane@example.com"

CONFIG = """
company: {{ticker: DELL, name: Dell Technologies, cik: 1571996}}
feeds:
  - {{name: sec-dell, kind: edgar, every: 10m}}
{extra_feeds}
slack: {{channel: "#dell-alerts"}}
{extra}
"""


def edgar_app(tmp_path, www: EdgarServer, data: EdgarServer, *, ua: str | None = UA,
              extra_feeds: str = "", extra: str = "", clock=None):
    """A real App (the test's database, a real httpx client) pointed at the stand-ins."""
    from bot.app import build_app, utcnow
    from bot.config import Env, parse_config

    config = parse_config(CONFIG.format(extra_feeds=extra_feeds, extra=extra))
    from tests.database import url_for

    env = Env(database_url=url_for(tmp_path), sec_user_agent=ua,
              edgar_www_url=www.url, edgar_data_url=data.url)
    return build_app(config, env, clock=clock or utcnow)
