"""feeds.yaml: strict, validated configuration, and the environment settings.

`load_config(path)` is the only loader; `marketbot config check` and start-up
both use it. Every problem is reported as `file:line: key.path: reason` and
raises ConfigError (exit code 2). Unknown keys are errors (Alertmanager's rule:
a typo must not silently disable a threshold).

Secrets (Slack token, webhook URL) never live in the file: they come from the
environment (`Env`) as SecretStr, which prints as `**********`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote, urlsplit
from typing import Annotated, Any, Literal

from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.errors import ConfigError
from bot.figures import METRICS
from bot.fiscal import WEEKDAYS, FiscalCalendar

# ---------------------------------------------------------------- durations

_DURATION = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)\s*d)?\s*(?:(\d+(?:\.\d+)?)\s*h)?\s*"
                       r"(?:(\d+(?:\.\d+)?)\s*m)?\s*(?:(\d+(?:\.\d+)?)\s*s)?\s*$")


def parse_duration(value: Any) -> float:
    """'90s', '5m', '1h30m', '1d' or a number of seconds → seconds (> 0)."""
    if isinstance(value, bool):
        raise ValueError("must be a duration like 30s, 5m, 1h")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION.match(value)) and any(m.groups()):
        d, h, mi, s = (float(g) if g else 0.0 for g in m.groups())
        seconds = d * 86400 + h * 3600 + mi * 60 + s
    else:
        raise ValueError(f"must be a positive duration like 30s, 5m, 1h (got {value!r})")
    if seconds <= 0:
        raise ValueError(f"must be a positive duration like 30s, 5m, 1h (got {value!r})")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]


def format_duration(seconds: float) -> str:
    seconds = round(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


# ---------------------------------------------------------------- models


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FiscalYearConfig(Strict):
    """When the company's fiscal year ends. Dell: the Friday nearest 31 January."""

    end_month: int = Field(1, ge=1, le=12)
    rule: Literal["nearest_weekday", "last_weekday", "month_end"] = "nearest_weekday"
    weekday: Literal[WEEKDAYS] = "friday"  # type: ignore[valid-type]

    def calendar(self) -> FiscalCalendar:
        return FiscalCalendar(self.end_month, self.rule, WEEKDAYS.index(self.weekday))


class CompanyConfig(Strict):
    ticker: str = Field("DELL", pattern=r"^[A-Z][A-Z0-9.\-]{0,9}$")
    name: str = "Dell Technologies"
    cik: int = Field(1571996, gt=0)
    fiscal_year: FiscalYearConfig = FiscalYearConfig()
    # Where the company's days begin and end: a text published at 11 pm in New York on a
    # quarter's last day was published on that day, not on the next (as UTC would say).
    timezone: str = "America/New_York"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r} (an IANA name like America/Chicago)") \
                from None
        return v

    def local_date(self, when: datetime) -> date:
        return when.astimezone(ZoneInfo(self.timezone)).date()

    @property
    def calendar(self) -> FiscalCalendar:
        return self.fiscal_year.calendar()


SourceKind = Literal["xbrl", "sec-filing", "company-ir", "news"]
FEED_NAME = r"^[a-z0-9][a-z0-9_.\-]{0,63}$"


class FeedConfig(Strict):
    name: str
    kind: Literal["rss", "edgar"] = "rss"
    url: str | None = None
    every: Duration = 300.0
    source: SourceKind | None = None  # authority of this feed's items; default by kind
    company: str | None = None  # ticker; default: the first company
    fetch_article: bool = False
    forms: tuple[str, ...] = ("8-K", "10-Q", "10-K")
    enabled: bool = True

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not re.match(FEED_NAME, v):
            raise ValueError(f"{v!r}: use lowercase letters, digits, '-', '_' or '.' "
                             "(it names the feed in logs and the database)")
        return v

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if not v.strip():
            raise ValueError("must not be empty")
        if "://" in v and not v.startswith(("http://", "https://", "file://")):
            raise ValueError("must be an http(s):// URL, a file:// URL or a local path "
                             f"(got {v!r})")
        return v

    @model_validator(mode="after")
    def _by_kind(self) -> FeedConfig:
        if self.kind == "rss" and not self.url:
            raise ValueError("an rss feed needs a url")
        return self

    @property
    def source_kind(self) -> str:
        return self.source or ("sec-filing" if self.kind == "edgar" else "news")


class RuleConfig(Strict):
    """A threshold on a metric. See docs/configuration.md, "rules"."""

    name: str | None = None
    metric: str
    basis: Literal["actual", "guidance"] = "actual"
    accounting: Literal["gaap", "non_gaap"] | None = None
    company: str | None = None
    above: float | None = None
    below: float | None = None
    change_bps: float | None = Field(None, gt=0)
    change_pct: float | None = Field(None, gt=0)
    compare: Literal["qoq", "yoy"] = "qoq"
    direction: Literal["up", "down", "either"] = "either"
    revision_pct: float | None = Field(None, gt=0)
    min_confidence: float = Field(0.0, ge=0, le=1)
    channel: str | None = None
    severity: Literal["info", "warning", "critical"] = "warning"
    mention: Literal["here", "channel"] | None = None
    cooldown: Duration | None = None
    # A doubtful figure (bot/plausibility.py) waits for a confirming source: `doubtful`
    # (default); `always`: every alert waits for two independent sources; `none`: never.
    confirm: Literal["none", "doubtful", "always"] = "doubtful"

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, v: str) -> str:
        if v not in METRICS:
            raise ValueError(f"unknown metric {v!r}; known: {', '.join(sorted(METRICS))}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> RuleConfig:
        kinds = [k for k in ("above", "below", "change_bps", "change_pct", "revision_pct")
                 if getattr(self, k) is not None]
        if not kinds:
            raise ValueError("a rule needs a threshold: above, below, change_bps, change_pct "
                             "or revision_pct")
        if self.above is not None and self.below is not None and self.above <= self.below:
            # Each level fires on its own: "above 20, below 15" alarms outside a band, but
            # "above 15, below 20" holds for every value.
            raise ValueError(f"contradictory: above {self.above} and below {self.below} "
                             "would fire on every value (above must be higher than below)")
        if self.change_bps is not None and METRICS[self.metric].unit != "%":
            raise ValueError(f"change_bps applies to percentage metrics; {self.metric} is in "
                             f"{METRICS[self.metric].unit} (use change_pct)")
        if self.revision_pct is not None and self.basis != "guidance":
            raise ValueError("revision_pct applies to guidance: set basis: guidance")
        return self

    @property
    def rule_id(self) -> str:
        """Stable identity: the name if given, else the definition."""
        if self.name:
            return self.name
        parts = [self.metric, self.basis]
        for k in ("accounting", "company", "above", "below", "change_bps", "change_pct",
                  "revision_pct"):
            if (v := getattr(self, k)) is not None:
                parts.append(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}")
        if self.change_bps is not None or self.change_pct is not None:
            parts += [self.compare, self.direction]
        return ":".join(parts)


class SlackConfig(Strict):
    channel: str = Field(min_length=1)
    # Feed-down/recovered notices go here when set (an operators' channel), so that the
    # traders' channel carries only market alerts.
    ops_channel: str | None = Field(None, min_length=1)
    feed_failure_notice_after: int = Field(5, ge=1)
    pace: Duration | Literal[0] = 1.0  # seconds between posts to one channel (Slack: 1 msg/s)
    max_attempts: int = Field(6, ge=1)
    retry_base: Duration = 2.0  # first backoff for 5xx / network errors, doubled each time
    max_retry_after: Duration = 300.0
    # How long a sender holds the alerts it is posting; renewed before every attempt. A
    # sender that dies releases them when the lease runs out.
    lease: Duration = 120.0

    @property
    def notice_channel(self) -> str:
        return self.ops_channel or self.channel


class ReconcileConfig(Strict):
    """When a more authoritative source disagrees with an alert's value by more than
    this, a correction is posted in the alert's thread."""

    tolerance_pct: float = Field(0.5, ge=0)  # dollars and ratios: relative difference
    tolerance_points: float = Field(0.05, ge=0)  # percentages: points (bps metrics: ×100)


MARGIN_RANGES = {"gross_margin": (0.0, 90.0), "operating_margin": (-60.0, 60.0),
                 "isg_operating_margin": (-50.0, 50.0), "csg_operating_margin": (-50.0, 50.0)}


class PlausibilityConfig(Strict):
    """When a figure is doubtful and its alert waits for a confirming source
    (bot/plausibility.py; docs/alerts.md "Plausibility")."""

    year_share: float = Field(0.8, gt=0, le=1)  # a quarter at this share of its year or more
    max_ratio: float = Field(4.0, gt=1)  # dollars: k× off the previous quarters' median
    max_points: float = Field(8.0, gt=0)  # margins: points off the previous quarters' median
    recent_quarters: int = Field(4, ge=2, le=12)  # how many previous quarters make the median
    quarters_sum_tolerance_pct: float = Field(5.0, ge=0)  # Q1–Q4 against the fiscal year
    approx_news: bool = True  # an approximate figure from a news source is doubtful
    default_margin_range: tuple[float, float] = (-100.0, 100.0)
    ranges: dict[str, tuple[float, float]] = Field(default_factory=lambda: dict(MARGIN_RANGES))

    @field_validator("ranges")
    @classmethod
    def _margins(cls, v: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        for metric, (low, high) in v.items():
            if metric not in METRICS or not METRICS[metric].margin:
                margins = sorted(m for m in METRICS if METRICS[m].margin)
                raise ValueError(f"{metric!r} is not a margin metric; margins: "
                                 f"{', '.join(margins)}")
            if low >= high:
                raise ValueError(f"{metric}: the low end ({low:g}) must be below the high end "
                                 f"({high:g})")
        return {**MARGIN_RANGES, **v}


class EdgarConfig(Strict):
    user_agent: str | None = None  # "Operator Name contact@example.com" (SEC fair access)
    www_url: str = "https://www.sec.gov"
    data_url: str = "https://data.sec.gov"
    max_rps: float = Field(10.0, gt=0, le=10)


class HttpConfig(Strict):
    timeout: Duration = 20.0
    max_bytes: int = Field(10 * 1024 * 1024, gt=0)
    user_agent: str = "marketbot/0.1 (+https://github.com/marketbot/marketbot; feed poller)"
    workers: int = Field(8, ge=1, le=256)


class ArticlesConfig(Strict):
    """Fetching the article behind each new item of a feed with fetch_article: true.
    See docs/configuration.md, "Reading the whole article"."""

    timeout: Duration = 15.0  # per request, and a deadline for the whole page
    max_bytes: int = Field(5 * 1024 * 1024, gt=0)  # a page is cut here and read from what came
    max_redirects: int = Field(10, ge=0, le=30)
    workers: int = Field(4, ge=1, le=64)  # articles fetched at once within one poll
    per_host: int = Field(2, ge=1, le=32)  # requests in flight to one host
    host_interval: Duration | Literal[0] = 1.0  # between two request starts to one host
    retry_failed: Duration = 3600.0  # a failed article is not fetched again before this…
    retry_failed_max: Duration = 86400.0  # …doubling per failure up to this
    allow_private_hosts: bool = False  # links to loopback/private addresses (intranets, tests)

    @model_validator(mode="after")
    def _retry_order(self) -> ArticlesConfig:
        if self.retry_failed_max < self.retry_failed:
            raise ValueError(f"retry_failed_max ({format_duration(self.retry_failed_max)}) is "
                             f"shorter than retry_failed ({format_duration(self.retry_failed)})")
        return self


class Config(Strict):
    company: CompanyConfig | None = None
    companies: tuple[CompanyConfig, ...] = ()
    feeds: tuple[FeedConfig, ...]
    rules: tuple[RuleConfig, ...] = ()
    slack: SlackConfig
    edgar: EdgarConfig = EdgarConfig()
    http: HttpConfig = HttpConfig()
    reconcile: ReconcileConfig = ReconcileConfig()
    plausibility: PlausibilityConfig = PlausibilityConfig()
    articles: ArticlesConfig = ArticlesConfig()
    # Items published longer ago than this are stored (they are history) but never alert:
    # the first poll of a feed that carries months of past results must not flood Slack.
    alert_max_age: Duration | None = None

    @property
    def all_companies(self) -> tuple[CompanyConfig, ...]:
        if self.companies:
            return self.companies
        return (self.company or CompanyConfig(),)

    def company_for(self, ticker: str | None) -> CompanyConfig:
        companies = self.all_companies
        if ticker is None:
            return companies[0]
        for c in companies:
            if c.ticker == ticker:
                return c
        raise KeyError(ticker)


# ---------------------------------------------------------------- loading


def load_config(path: str | os.PathLike) -> Config:
    """Read, parse and validate a config file; raise ConfigError naming file, line, key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror or exc}"]) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{path}: not UTF-8 text ({exc.reason})"]) from exc
    return parse_config(text, str(path))


def parse_config(text: str, filename: str = "feeds.yaml") -> Config:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        msg = f"{filename}:{line}: YAML syntax: {exc.problem or exc}"
        if exc.context and exc.context_mark and exc.context_mark.line + 1 != line:
            msg += f" ({exc.context} started on line {exc.context_mark.line + 1})"
        raise ConfigError([msg]) from exc
    except yaml.YAMLError as exc:
        raise ConfigError([f"{filename}: YAML syntax: {exc}"]) from exc
    if not isinstance(data, Mapping):
        raise ConfigError([f"{filename}:1: the file must be a mapping with feeds, rules, slack"])
    lines = _line_map(node)
    if duplicates := _duplicate_keys(node):
        raise ConfigError([f"{filename}:{line}: {_key_path(loc)}: duplicate key (the earlier "
                           f"one on line {first} would be silently dropped)"
                           for loc, line, first in duplicates])
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError([_problem(filename, lines, err) for err in exc.errors()]) from None
    problems = [f"{filename}:{_line_for(lines, loc)}: {_key_path(loc) or '(top level)'}: {msg}"
                for loc, msg in cross_check(config)]
    if problems:
        raise ConfigError(problems)
    return config


def cross_check(config: Config) -> list[tuple[tuple, str]]:
    """Checks that span several entries: (key path, reason) for each problem."""
    out: list[tuple[tuple, str]] = []
    if not config.feeds:
        out.append((("feeds",), "list at least one feed"))
    if config.company and config.companies:
        out.append((("companies",), "give either company or companies, not both"))
    seen: set[str] = set()
    for i, f in enumerate(config.feeds):
        if f.name in seen:
            out.append((("feeds", i, "name"), f"duplicate feed name {f.name!r}"))
        seen.add(f.name)
    tickers = {c.ticker for c in config.all_companies}
    for i, f in enumerate(config.feeds):
        if f.company and f.company not in tickers:
            out.append((("feeds", i, "company"), f"unknown company {f.company!r}; "
                        f"companies: {', '.join(sorted(tickers))}"))
    rule_ids: set[str] = set()
    for i, r in enumerate(config.rules):
        if r.company and r.company not in tickers:
            out.append((("rules", i, "company"), f"unknown company {r.company!r}"))
        if r.rule_id in rule_ids:
            out.append((("rules", i), f"duplicate rule {r.rule_id!r} (give each a distinct name)"))
        rule_ids.add(r.rule_id)
    return out


def _problem(filename: str, lines: dict[tuple, int], err: Mapping) -> str:
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    # Union members show up in the location ('float', 'literal[0]'): drop them.
    loc = tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p in
                                                              ("float", "int", "str"))))
    key = _key_path(loc) or "(top level)"
    line = _line_for(lines, loc)
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    elif err["type"] == "missing":
        msg = "required key is missing"
    msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return f"{filename}:{line}: {key}: {msg}"


def _key_path(loc: tuple) -> str:
    out = ""
    for p in loc:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _line_for(lines: dict[tuple, int], loc: tuple) -> int:
    while loc and loc not in lines:
        loc = loc[:-1]
    return lines.get(loc, 1)


def _duplicate_keys(node: yaml.Node | None, path: tuple = ()) -> list[tuple[tuple, int, int]]:
    """(key path, line, line of the first occurrence) for each key given twice."""
    out: list[tuple[tuple, int, int]] = []
    if isinstance(node, yaml.MappingNode):
        seen: dict = {}
        for key, value in node.value:
            sub = (*path, key.value)
            if key.value in seen:
                out.append((sub, key.start_mark.line + 1, seen[key.value]))
            seen.setdefault(key.value, key.start_mark.line + 1)
            out += _duplicate_keys(value, sub)
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            out += _duplicate_keys(value, (*path, i))
    return out


def _line_map(node: yaml.Node | None, path: tuple = (), out: dict | None = None) -> dict:
    """Map each key path (('feeds', 0, 'every')) to its 1-based line in the file."""
    out = {} if out is None else out
    if node is None:
        return out
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            sub = (*path, key.value)
            out[sub] = key.start_mark.line + 1
            _line_map(value, sub, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            _line_map(value, (*path, i), out)
    return out


# ---------------------------------------------------------------- environment


class Env(BaseModel):
    """Settings from the environment. Secrets are SecretStr: they print masked."""

    model_config = ConfigDict(frozen=True)

    slack_bot_token: SecretStr | None = None
    slack_webhook_url: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    database_url: str = "sqlite:///marketbot.db"
    sec_user_agent: str | None = None
    edgar_www_url: str | None = None
    edgar_data_url: str | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Env:
        environ = os.environ if environ is None else environ
        values = {name: environ.get(name.upper()) or None for name in cls.model_fields}
        return cls(**{k: v for k, v in values.items() if v is not None})

    def secrets(self) -> list[str]:
        """What must never be printed: the Slack credentials and the database password."""
        out = [s.get_secret_value() for s in (self.slack_bot_token, self.slack_webhook_url)
               if s is not None and s.get_secret_value()]
        try:
            password = urlsplit(self.database_url).password
        except ValueError:  # not a URL at all: nothing to hide in it
            password = None
        if password:
            out += [password, quote(password, safe="")]
        return out
