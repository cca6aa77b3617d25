"""The extractor's knowledge, read from bot/extract/data/*.yaml and checked when it is loaded.

    cues.yaml       cue words: guidance, estimates, changes, comparisons, hedges, GAAP, traps
    metrics.yaml    metric phrases (and the words that name no metric), balances, refinements
    companies.yaml  company packs (name, aliases, segments, fiscal year) and other names

`load(directory)` reads and validates the three files; `KNOWLEDGE` is the bundled set, read
once when the extractor is imported. A bad file stops that import with a `ConfigError`
naming the file, the line and the key (`cues.yaml:40: cues.guidance[3]: …`), as a bad
config does. The code that uses the words (which cue is read where, how a phrase binds)
stays in vocab.py, phrases.py and the stage modules; data/README.md says how to add a
phrasing, a trap or a company.

A word spec is a list of slots separated by blanks: `a|b` alternatives, a trailing `?` for
an optional slot, `_` joining words inside one alternative ("provided_by"), `{name}` a
group, and `!` for words that must not follow ("prior !forecast|guidance") or, first in a
spec, must not come before ("!per share|shares were": a price, but not "per share were").
`spec_regex` turns a spec into a regex (words separated by blanks or hyphens); phrases.py
spells the same specs out word by word for its trie (`spec_sequences`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from bot.errors import ConfigError
from bot.figures import METRICS
from bot.fiscal import WEEKDAYS, FiscalCalendar

# The bundled files, or another directory with the same three (MARKETBOT_EXTRACT_DATA).
DATA = Path(os.environ.get("MARKETBOT_EXTRACT_DATA") or Path(__file__).resolve().parent / "data")

# ----------------------------------------------------------------------------- word specs

_SPEC_CHARS = re.compile(r"^[^\s|?{}!]+$")
_GROUP_REF = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Slot:
    alternatives: tuple[tuple[str, ...], ...]  # each alternative: its words
    optional: bool = False
    negative: bool = False  # "!a|b": the words must not follow


def spec_slots(spec: str, groups: dict[str, list[str]]) -> list[Slot]:
    """The slots of a word spec, with `{name}` groups spelled out; ValueError when malformed."""
    slots: list[Slot] = []
    for raw in spec.split():
        negative = raw.startswith("!")
        optional = raw.endswith("?") and len(raw) > 1
        body = raw[1 if negative else 0 : -1 if optional else None]
        alts: list[tuple[str, ...]] = []
        for alt in body.split("|"):
            for spelled in _expand(alt, groups):
                words = tuple(w for w in spelled.split("_") if w)
                if not words or not all(_SPEC_CHARS.match(w) for w in words):
                    raise ValueError(f"bad alternative {alt!r} in {spec!r}")
                alts.append(words)
        if negative and optional:
            raise ValueError(f"a '!' slot cannot be optional: {spec!r}")
        slots.append(Slot(tuple(dict.fromkeys(alts)), optional, negative))
    if not any(not s.optional and not s.negative for s in slots):
        raise ValueError(f"no required word in {spec!r}")
    return slots


def _expand(alt: str, groups: dict[str, list[str]]) -> list[str]:
    """ "pc_{unit}" → ["pc_side", "pc_unit", …]; a group's words with blanks become "_" joins."""
    names = _GROUP_REF.findall(alt)
    if not names:
        return [alt]
    for n in names:
        if n not in groups:
            raise ValueError(f"unknown group {{{n}}} (groups: {', '.join(sorted(groups))})")
    parts = _GROUP_REF.split(alt)  # text, name, text, name, …, text
    choices = [
        [p] if i % 2 == 0 else [w.replace(" ", "_") for w in groups[p]] for i, p in enumerate(parts)
    ]
    return ["".join(c) for c in product(*choices)]


_JOIN = r"[\s\-]+"


def _alt_regex(words: tuple[str, ...]) -> str:
    return _JOIN.join(re.escape(w) for w in words)


def _escaped_spaced(words: tuple[str, ...]) -> str:
    return r"\s".join(re.escape(w) for w in words)


def _slot_regex(slot: Slot) -> str:
    alts = sorted(slot.alternatives, key=lambda a: -len(" ".join(a)))
    return "(?:" + "|".join(_alt_regex(a) for a in alts) + ")"


def spec_regex(spec: str, groups: dict[str, list[str]] | None = None) -> str:
    """A regex for a word spec: its words separated by blanks or hyphens (no outer boundaries)."""
    slots = spec_slots(spec, groups or {})
    first = next(i for i, s in enumerate(slots) if not s.optional and not s.negative)
    out = ""
    for i, s in enumerate(slots):
        body = _slot_regex(s)
        if s.negative and i == 0:
            # Not preceded by: one fixed-width lookbehind per alternative ("!per share|shares").
            out += "".join(rf"(?<!(?<!\w){_escaped_spaced(a)}\s)" for a in s.alternatives)
        elif s.negative:
            out += rf"(?!{_JOIN}{body}(?!\w))"
        elif i < first:
            out += rf"(?:{body}{_JOIN})?"
        elif i == first:
            out += body
        elif s.optional:
            out += rf"(?:{_JOIN}{body})?"
        else:
            out += _JOIN + body
    return out


def specs_regex(specs: list[str], groups: dict[str, list[str]] | None = None) -> str:
    return "(?:" + "|".join(spec_regex(s, groups) for s in specs) + ")"


def spec_sequences(spec: str, groups: dict[str, list[str]]) -> list[tuple[str, ...]]:
    """Every word sequence a spec spells (phrases.py's trie), lowercased."""
    options = []
    for s in spec_slots(spec, groups):
        if s.negative:
            continue
        alts = [tuple(w.lower() for w in a) for a in s.alternatives]
        options.append([*alts, ()] if s.optional else alts)
    return [tuple(w for part in combo for w in part) for combo in product(*options)]


# ----------------------------------------------------------------------------- the files


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Spec = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Words = list[Spec]

CUES = (
    "guidance",
    "estimate",
    "estimate_after",
    "change_before",
    "level_before",
    "change_after",
    "compare_before",
    "year_ago",
    "quarter_ago",
    "trailing",
    "relative_after",
    "not_figure_after",
    "not_figure_before",
    "not_figure_before_hedge",
    "hedge_before",
    "hedge_after",
    "non_gaap",
    "gaap",
    "market",
    "market_stop",
)


class CuesFile(_Strict):
    groups: dict[str, Words] = {}
    cues: dict[Literal[CUES], Words]  # type: ignore[valid-type]


MetricName = Literal[tuple(m for m, v in METRICS.items() if not v.derived)]  # type: ignore[valid-type]


class PhraseEntry(_Strict):
    words: Spec
    metric: MetricName | None  # type: ignore[valid-type]
    unit: Literal["USD", "%", "USD/share"] | None = None
    generic: bool = False
    weak: bool = False
    needs_ai: bool = False
    post_only: bool = False
    pre_only: bool = False
    segment_only: bool = False
    negative: bool = False  # the amount is the metric's negative ("cash used in operations")
    accounting: Literal["gaap", "non_gaap"] | None = None
    margin_of: MetricName | None = None  # type: ignore[valid-type]


class MetricsFile(_Strict):
    groups: dict[str, Words] = {}
    balances: list[MetricName] = []  # type: ignore[valid-type]
    refines: dict[MetricName, MetricName] = {}  # type: ignore[valid-type]
    phrases: list[PhraseEntry] = Field(min_length=1)


class FiscalYear(_Strict):
    end_month: int = Field(ge=1, le=12)
    rule: Literal["nearest_weekday", "last_weekday", "month_end"]
    weekday: Literal[WEEKDAYS] = "friday"  # type: ignore[valid-type]

    def calendar(self) -> FiscalCalendar:
        return FiscalCalendar(self.end_month, self.rule, WEEKDAYS.index(self.weekday))


class Segment(_Strict):
    names: list[
        Spec
    ] = []  # official names and abbreviations ("Infrastructure Solutions Group", "ISG")
    plain: list[Spec] = []  # plain words before a unit word ("infrastructure" unit, "PC" business)
    parent: str | None = None
    metrics: dict[MetricName, MetricName] = {}  # type: ignore[valid-type]


class CompanyPack(_Strict):
    ticker: str = Field(pattern=r"^[A-Z][A-Z0-9.\-]{0,9}$")
    name: Spec
    aliases: list[Spec] = []
    fiscal_year: FiscalYear | None = None
    segments: dict[str, Segment] = {}


class CompaniesFile(_Strict):
    segment_units: Words = []
    self: Words = []
    companies: list[CompanyPack] = Field(min_length=1)
    others: Words = []


@dataclass(frozen=True)
class Knowledge:
    cues: CuesFile
    metrics: MetricsFile
    companies: CompaniesFile

    def cue_regex(self, name: str) -> str:
        """The alternation of a cue's specs (no boundaries: vocab.py adds where it is read)."""
        return specs_regex(self.cues.cues[name], self.cues.groups)

    def cue_starts(self, name: str) -> set[str]:
        """The first words, lowercased, that a match of the cue can begin with."""
        out: set[str] = set()
        for spec in self.cues.cues[name]:
            for slot in spec_slots(spec, self.cues.groups):
                if slot.negative:
                    continue
                out |= {a[0].lower() for a in slot.alternatives}
                if not slot.optional:
                    break
        return out

    def cue_words(self, name: str) -> set[str]:
        """Every word of a cue's specs, lowercased."""
        return {
            w.lower()
            for spec in self.cues.cues[name]
            for slot in spec_slots(spec, self.cues.groups)
            for a in slot.alternatives
            for w in a
        }

    def pack(self, ticker: str) -> CompanyPack | None:
        return next((c for c in self.companies.companies if c.ticker == ticker), None)

    def segment_groups(self) -> dict[str, list[str]]:
        return segment_groups(self.companies)


def segment_groups(companies: CompaniesFile) -> dict[str, list[str]]:
    """{isg}, {csg}, {sn}: every way the segments' names are written, as phrase alternatives."""
    out: dict[str, list[str]] = {}
    units = companies.segment_units
    for pack in companies.companies:
        for key, seg in pack.segments.items():
            alts = out.setdefault(key, [])
            longs = [n for n in seg.names if not n.isupper()]
            shorts = [n for n in seg.names if n.isupper()]
            alts += [f"{lg} {sh}" for lg in longs for sh in shorts] + list(seg.names)
            alts += [f"{p} {u}" for p in seg.plain for u in units]
    return out


# ----------------------------------------------------------------------------- loading

# In this order: the metric phrases use the segment names of the company packs.
_FILES = {"cues.yaml": CuesFile, "companies.yaml": CompaniesFile, "metrics.yaml": MetricsFile}


def load(directory: Path = DATA) -> Knowledge:
    """Read and check the three data files; ConfigError naming file, line and key on a problem."""
    from bot.config import _key_path, _line_for, _line_map  # the config's YAML line reader

    parsed: dict[str, Any] = {}
    problems: list[str] = []
    for name, model in _FILES.items():
        path = directory / name
        try:
            text = path.read_text(encoding="utf-8")
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            data = yaml.safe_load(text)
        except OSError as exc:
            problems.append(f"{path}: cannot read: {exc.strerror or exc}")
            continue
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            problems.append(
                f"{path}:{mark.line + 1 if mark else 0}: YAML syntax: {exc.problem or exc}"
            )
            continue
        lines = _line_map(node)
        try:
            parsed[name] = model.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors():
                loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
                msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
                problems.append(
                    f"{path}:{_line_for(lines, loc)}: {_key_path(loc) or '(top level)'}: {msg}"
                )
            continue
        problems += [
            f"{path}:{_line_for(lines, loc)}: {_key_path(loc)}: {msg}"
            for loc, msg in _check(parsed[name], parsed.get("companies.yaml"))
        ]
    if problems:
        raise ConfigError(problems)
    return Knowledge(parsed["cues.yaml"], parsed["metrics.yaml"], parsed["companies.yaml"])


def _check(model: BaseModel, companies: CompaniesFile | None) -> list[tuple[tuple, str]]:
    """Every word spec parses, every group it names exists, every cue is there."""
    out: list[tuple[tuple, str]] = []
    if isinstance(model, CuesFile):
        for cue in CUES:
            if cue not in model.cues:
                out.append((("cues",), f"missing cue {cue!r}"))
        for cue, specs in model.cues.items():
            for i, spec in enumerate(specs):
                try:
                    re.compile(spec_regex(spec, model.groups))
                except (ValueError, re.error) as exc:
                    out.append((("cues", cue, i), str(exc)))
    elif isinstance(model, CompaniesFile):
        seen: set[str] = set()
        for i, c in enumerate(model.companies):
            if c.ticker in seen:
                out.append((("companies", i, "ticker"), f"duplicate company {c.ticker!r}"))
            seen.add(c.ticker)
            for key, seg in c.segments.items():
                if seg.parent is not None and seg.parent not in c.segments:
                    out.append(
                        (
                            ("companies", i, "segments", key, "parent"),
                            f"unknown segment {seg.parent!r}",
                        )
                    )
    elif isinstance(model, MetricsFile):
        groups = dict(model.groups)
        if companies is not None:
            groups.update(segment_groups(companies))
        for i, p in enumerate(model.phrases):
            try:
                spec_sequences(p.words, groups)
            except ValueError as exc:
                out.append((("phrases", i, "words"), str(exc)))
            if p.metric is not None and p.unit is None:
                out.append((("phrases", i, "unit"), f"a phrase of {p.metric} needs its unit"))
    return out


KNOWLEDGE = load()
