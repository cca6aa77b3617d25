"""Alert precision and recall of the whole pipeline on a labeled corpus.

    python benchmarks/alert_replay.py DOCS LABELS [--config FILE] [--rules FILE]
                                      [--verbose] [--json OUT]

DOCS holds corpus texts (`docs/NAME.txt`: a header, `---`, the text) and LABELS their
labeled figures (`labels/NAME.json`), as in ../shared/corpus. Every text becomes an item of
a feed served over loopback HTTP (tests/loopback.py): press releases (`kind: press-release`)
on a `company-ir` feed of their company, everything else on its `news` feed, each item
dated by its header's `published:` (14:00 UTC that day). The texts are replayed through
the pipeline `marketbot run --once` runs (bot.app.build_app, bot.pipeline, bot.scheduler
.run_once, bot.delivery to a loopback Slack server), one text per poll cycle, oldest
first, with a clock set to half an hour after each text's publication, so that
`alert_max_age` and cooldowns behave as they would live. Texts that say
`published: unknown` are items without a date (as a page that gives none): they come
last, in name order, and resolve only the periods their text names.

The rules are the shipped ones (`feeds.yaml` at the repository root, or --rules FILE),
with every other setting of that file (reconcile, alert_max_age, …); the companies are
those of --config FILE (default: Dell alone).

Two replays, each into its own throwaway database:
- extracted: the texts as they are (the extractor reads them);
- labels: the same items carrying their labeled figures instead (no extraction), through
  the same rules, in the same order: the alerts a careful reader would expect.

An alert is right when every figure it rests on — the figure, the figure it was compared
with, and for a derived metric each input — matches a label of the text it came from
(bot.extract.score.matches, the corpus README's rule). Precision = right alerts / alerts
sent (held alerts are not sent and are listed apart). Recall = expected alerts found /
expected alerts, where an expected alert is found when a right alert has the same rule,
company, metric, basis, accounting family and period (and, for a guidance revision, the
same value). Every wrong and every missed alert is listed with its evidence.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pydantic import SecretStr  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

from bot.app import build_app  # noqa: E402
from bot.config import Env, parse_config  # noqa: E402
from bot.delivery import Delivery  # noqa: E402
from bot.extract import read_corpus_doc  # noqa: E402
from bot.extract.score import matches  # noqa: E402
from bot.figures import DERIVED_SOURCE, METRICS, Figure  # noqa: E402
from bot.pipeline import Batch, Pipeline, RssSource, build_pipeline  # noqa: E402
from bot.rules import format_value  # noqa: E402
from bot.scheduler import run_once  # noqa: E402
from bot.slack import headline  # noqa: E402
from bot.store.tables import AlertRow, FigureRow, ItemRow  # noqa: E402
from tests.loopback import FeedServer, Reply, SlackServer  # noqa: E402

SHIPPED = ROOT / "feeds.yaml"
PUBLISHED_AT = 14  # hour (UTC) a dated text is published
GUID = "corpus:"  # an item's guid: the text's name (a scheme, so that no URL resolves it)
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# ---------------------------------------------------------------- the corpus


@dataclass
class Doc:
    name: str
    body: str
    labels: list[dict]
    company: str
    source: str  # company-ir | news
    published: date | None
    link: str

    @property
    def feed(self) -> str:
        return f"{self.company.lower()}-{'ir' if self.source == 'company-ir' else 'news'}"

    @property
    def when(self) -> datetime | None:
        if self.published is None:
            return None
        return datetime.combine(self.published, datetime.min.time(), UTC).replace(
            hour=PUBLISHED_AT)


def load_docs(docs_dir: Path, labels_dir: Path) -> list[Doc]:
    out = []
    for path in sorted(docs_dir.glob("*.txt")):
        fields, body = read_corpus_doc(path.read_text(encoding="utf-8"))
        label_file = labels_dir / f"{path.stem}.json"
        labels = json.loads(label_file.read_text())["figures"] if label_file.exists() else []
        src = fields.get("source", "")
        link = src.split()[0] if src.startswith(("http://", "https://")) else \
            f"https://corpus.invalid/{path.stem}"
        out.append(Doc(path.stem, body, labels, fields.get("company", "DELL").upper(),
                       "company-ir" if fields.get("kind") == "press-release" else "news",
                       fields.get("published"), link))
    return out


def replay_order(docs: list[Doc]) -> list[Doc]:
    """Dated texts oldest first, then the undated ones by name."""
    dated = sorted((d for d in docs if d.published), key=lambda d: (d.published, d.name))
    return dated + sorted((d for d in docs if not d.published), key=lambda d: d.name)


def rss(docs: list[Doc]) -> bytes:
    """An RSS document with one item per text: its first line as the title (when it is
    a heading), the rest as the description, so that the item's text is the body."""
    entries = []
    for d in docs:
        body = _XML_BAD.sub(" ", d.body.strip())
        first, _, rest = body.partition("\n")
        title, text = (first, rest) if len(first) <= 200 and rest.strip() else ("", body)
        when = f"<pubDate>{format_datetime(d.when)}</pubDate>" if d.when else ""
        entries.append(f"<item><title>{escape(title)}</title>"
                       f'<guid isPermaLink="false">{GUID}{escape(d.name)}</guid>'

                       f"<link>{escape(d.link)}</link>{when}"
                       f"<description>{escape(text)}</description></item>")
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>corpus</title>{''.join(entries)}</channel></rss>").encode()


# ---------------------------------------------------------------- config


def build_config(docs: list[Doc], feeds_url: str, rules_file: Path,
                 companies_file: Path | None) -> str:
    """The shipped config (rules and every other setting) with the corpus feeds and the
    companies of companies_file."""
    data = yaml.safe_load(rules_file.read_text(encoding="utf-8"))
    for key in ("company", "companies", "feeds"):
        data.pop(key, None)
    if companies_file is not None:
        other = yaml.safe_load(companies_file.read_text(encoding="utf-8"))
        data["companies"] = other.get("companies") or [other.get("company") or {}]
    known = {c.get("ticker", "DELL") for c in data.get("companies", [{}])}
    for d in docs:
        if d.company not in known:
            raise SystemExit(f"alert_replay: {d.name}: company {d.company} is not configured "
                             "(give --config with its fiscal calendar)")
    pairs = sorted({(d.company, d.source, d.feed) for d in docs})
    data["feeds"] = [{"name": feed, "url": f"{feeds_url}/{feed}.xml", "source": source,
                      "company": company, "every": "1m"} for company, source, feed in pairs]
    data["slack"] = {**data.get("slack", {}), "pace": 0, "retry_base": 0.05}
    if "companies" not in data:
        data["company"] = {"ticker": "DELL"}
    return yaml.safe_dump(data, sort_keys=False)


# ---------------------------------------------------------------- replay


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class LabelSource:
    """The RSS feed's items carrying their texts' labeled figures (and nothing extracted)."""

    def __init__(self, rss_source: RssSource, docs: dict[str, Doc]):
        self.rss, self.docs = rss_source, docs

    def collect(self, feed, state, unseen) -> Batch:
        batch = self.rss.collect(feed, state, unseen)
        batch.items = [self._labeled(i) for i in batch.items]
        return batch

    def _labeled(self, item):
        doc = self.docs[item.guid.removeprefix(GUID)]
        text = item.text
        figures = []
        for lab in doc.labels:
            at = text.find(lab["evidence"])
            span = (at, at + len(lab["evidence"])) if at >= 0 else (0, 0)
            figures.append(Figure(
                metric=lab["metric"], basis=lab["basis"], value=float(lab["value"]),
                unit=lab["unit"], period=lab.get("period"), evidence=lab["evidence"],
                span=span, approx=bool(lab.get("approx")), low=lab.get("low"),
                high=lab.get("high"), accounting=lab.get("accounting"),
                comparative=bool(lab.get("comparative")), table=bool(lab.get("table"))))
        return item.with_(figures=tuple(figures), stated_only=True)


@dataclass
class Rest:
    """A figure an alert rests on."""

    role: str  # figure | compared with | … input
    row: FigureRow
    doc: str | None
    right: bool
    why: str = ""


@dataclass
class AlertView:
    id: int
    rule: str
    company: str
    metric: str
    basis: str
    family: str
    period: str | None
    value: float
    status: str
    line: str
    payload: dict
    rests: list[Rest] = field(default_factory=list)

    @property
    def right(self) -> bool:
        return all(r.right for r in self.rests) and bool(self.rests)

    @property
    def held(self) -> bool:
        return self.status == "held"


@dataclass
class Replay:
    alerts: list[AlertView]
    corrections: int
    messages: int
    polls_failed: list[str]
    items: int
    figures: int


def replay(docs: list[Doc], *, rules_file: Path, companies_file: Path | None, labels: bool,
           workdir: Path) -> Replay:
    by_name = {d.name: d for d in docs}
    order = replay_order(docs)
    with FeedServer() as feeds, SlackServer() as slack:
        config = parse_config(build_config(docs, feeds.url, rules_file, companies_file),
                              "alert-replay.yaml")
        db = workdir / ("labels.db" if labels else "extracted.db")
        env = Env(database_url=f"sqlite:///{db}", slack_bot_token=SecretStr(slack.token),
                  slack_api_url=slack.api_url)
        start = min((d.when for d in order if d.when), default=datetime(2020, 1, 1, tzinfo=UTC))
        clock = Clock(start)
        app = build_app(config, env, clock=clock)
        try:
            if labels:
                pipeline = Pipeline(app, {"rss": LabelSource(RssSource(app), by_name)})
            else:
                pipeline = build_pipeline(app)
            delivery = Delivery(app.engine, app.sink, config.slack, clock=clock,
                                telemetry=app.telemetry, sleep=lambda _s: None)
            served: dict[str, list[Doc]] = defaultdict(list)
            for f in config.feeds:
                feeds.route(f"/{f.name}.xml", Reply(200, rss([]), _RSS, etag="v0"))
            failed, items, figures = [], 0, 0
            last = start
            for doc in order:
                served[doc.feed].append(doc)
                feeds.route(f"/{doc.feed}.xml", Reply(200, rss(served[doc.feed]), _RSS,
                                                      etag=f"v{len(served[doc.feed])}"))
                last = (doc.when + timedelta(minutes=30)) if doc.when else \
                    last + timedelta(hours=1)
                clock.now = last
                report = run_once(app, pipeline, delivery)
                failed += [f"{p.feed}: {p.error}" for p in report.failed]
                items += sum(p.new_items for p in report.polls)
                figures += sum(p.figures for p in report.polls)
            with Session(app.engine) as s:
                views = [view(s, a, by_name) for a in s.exec(
                    select(AlertRow).where(AlertRow.kind == "rule").order_by(AlertRow.id))]
                corrections = len(list(s.exec(select(AlertRow.id).where(
                    AlertRow.kind == "correction"))))
        finally:
            app.close()
        return Replay(views, corrections, len(slack.messages), failed, items, figures)


_RSS = {"Content-Type": "application/rss+xml"}


# ---------------------------------------------------------------- judging


def view(s: Session, alert: AlertRow, docs: dict[str, Doc]) -> AlertView:
    payload = json.loads(alert.payload)
    v = AlertView(alert.id, alert.rule_id or "", alert.company or "", alert.metric or "",
                  alert.basis or "", alert.accounting_family or "gaap", alert.period,
                  alert.value if alert.value is not None else float("nan"), alert.status,
                  headline(payload) if "metric_label" in payload else alert.dedupe_key,
                  payload)
    fig = s.get(FigureRow, alert.figure_id) if alert.figure_id else None
    if fig is not None:
        v.rests += _expand(s, "figure", fig, docs)
    prev = (payload.get("previous") or {}).get("figure_id")
    if prev:
        row = s.get(FigureRow, prev)
        if row is not None:
            v.rests += _expand(s, "compared with", row, docs)
    return v


def _expand(s: Session, role: str, row: FigureRow, docs: dict[str, Doc]) -> list[Rest]:
    if row.source_kind == DERIVED_SOURCE:
        out = []
        for i in json.loads(row.inputs or "[]"):
            found = s.get(FigureRow, i["id"]) if i.get("id") else None
            if found is None:
                out.append(Rest(f"{role} input", row, None, False,
                                f"input {i.get('metric')} {i.get('period')} not stored"))
            else:
                out += _expand(s, f"{role} input", found, docs)
        return out
    item = s.get(ItemRow, row.item_id) if row.item_id else None
    doc = docs.get(item.guid.removeprefix(GUID)) if item and item.guid else None
    if doc is None:
        return [Rest(role, row, None, False, "not from a corpus text")]
    if row.company != doc.company:
        return [Rest(role, row, doc.name, False,
                     f"a {row.company} figure in a {doc.company} text (labels cover "
                     f"{doc.company} only)")]
    pred = {"metric": row.metric, "basis": row.basis, "unit": row.unit, "value": row.value,
            "period": row.period}
    if any(matches(pred, lab) for lab in doc.labels):
        return [Rest(role, row, doc.name, True)]
    same = [lab for lab in doc.labels if lab["metric"] == row.metric]
    why = "not labeled"
    if same:
        why += "; labeled " + ", ".join(
            f"{lab['basis']} {lab.get('period') or 'no period'} "
            f"{format_value(float(lab['value']), lab['unit'])}" for lab in same[:4])
    else:
        why += f"; no {row.metric} label in this text"
    return [Rest(role, row, doc.name, False, why)]


def key(a: AlertView) -> tuple:
    return (a.rule, a.company, a.metric, a.basis, a.family, a.period)


def same_alert(a: AlertView, e: AlertView, revision_rules: set[str]) -> bool:
    if key(a) != key(e):
        return False
    if a.rule not in revision_rules:
        return True
    unit = METRICS[a.metric].unit
    return matches({"metric": a.metric, "basis": a.basis, "unit": unit, "value": a.value,
                    "period": a.period},
                   {"metric": e.metric, "basis": e.basis, "unit": unit, "value": e.value,
                    "period": e.period})


# ---------------------------------------------------------------- report


@dataclass
class Score:
    sent: list[AlertView]
    held: list[AlertView]
    expected: list[AlertView]
    expected_held: list[AlertView]
    wrong: list[AlertView]
    missed: list[tuple[AlertView, list[AlertView]]]  # expected, actual ones with its key

    @property
    def precision(self) -> float:
        return (len(self.sent) - len(self.wrong)) / len(self.sent) if self.sent else 1.0

    @property
    def recall(self) -> float:
        found = len(self.expected) - len(self.missed)
        return found / len(self.expected) if self.expected else 1.0


def score(extracted: Replay, labels: Replay, revision_rules: set[str]) -> Score:
    sent = [a for a in extracted.alerts if not a.held]
    expected = [a for a in labels.alerts if not a.held]
    right = [a for a in sent if a.right]
    missed = []
    for e in expected:
        if not any(same_alert(a, e, revision_rules) for a in right):
            missed.append((e, [a for a in extracted.alerts if key(a) == key(e)]))
    return Score(sent, [a for a in extracted.alerts if a.held], expected,
                 [a for a in labels.alerts if a.held], [a for a in sent if not a.right], missed)


def _fig(r: Rest) -> str:
    f = r.row
    value = ("~" if f.approx else "") + format_value(f.value, f.unit)
    flags = "".join(f" {k}" for k, on in (("guidance", f.basis == "guidance"),
                                           ("non-GAAP", f.accounting == "non_gaap"),
                                           ("comparative", f.comparative)) if on)
    evidence = " ".join((f.evidence or "").split())
    if len(evidence) > 160:
        evidence = evidence[:159] + "…"
    mark = "ok " if r.right else "BAD"
    where = f" [{r.doc}, {f.source_kind}]" if r.doc else f" [{f.source_kind}]"
    why = f" -- {r.why}" if r.why else ""
    return f"    {mark} {r.role}: {f.metric} {f.period or 'no period'} {value}{flags}{where}" \
           f"{why}\n        \"{evidence}\""


def _alert(a: AlertView, tag: str) -> str:
    lines = [f"  {tag} #{a.id} {a.rule}: {a.line}"]
    reason = a.payload.get("held_reason") or a.payload.get("hold_reason") or \
        a.payload.get("reason")
    if a.held and reason:
        lines.append(f"    held: {reason}")
    lines += [_fig(r) for r in a.rests]
    return "\n".join(lines)


def report(sc: Score, extracted: Replay, labels: Replay, docs: list[Doc], elapsed: float,
           verbose: bool) -> str:
    out = []
    dated = sum(1 for d in docs if d.published)
    kinds = Counter(d.source for d in docs)
    out.append(f"alert replay: {len(docs)} texts ({kinds['company-ir']} company-ir, "
               f"{kinds['news']} news; {dated} dated, {len(docs) - dated} undated), "
               f"companies {', '.join(sorted({d.company for d in docs}))}; "
               f"{elapsed:.0f} s")
    out.append(f"extracted: {extracted.items} items, {extracted.figures} figures, "
               f"{len(sc.sent)} alerts sent ({len(sc.held)} held, {extracted.corrections} "
               f"corrections), {extracted.messages} Slack messages")
    out.append(f"labels:    {labels.items} items, {labels.figures} figures, "
               f"{len(sc.expected)} alerts expected ({len(sc.expected_held)} held, "
               f"{labels.corrections} corrections)")
    for name, r in (("extracted", extracted), ("labels", labels)):
        if r.polls_failed:
            out.append(f"WARNING: {name} replay: {len(r.polls_failed)} failed poll(s): "
                       + "; ".join(r.polls_failed[:3]))
    label_wrong = [a for a in labels.alerts if not a.right]
    if label_wrong:
        out.append(f"WARNING: {len(label_wrong)} label-replay alert(s) rest on figures the "
                   "judge cannot match (a bug in this benchmark or the labels)")
    right = len(sc.sent) - len(sc.wrong)
    found = len(sc.expected) - len(sc.missed)
    out.append(f"\nprecision {sc.precision:.3f} ({right}/{len(sc.sent)} alerts rest on "
               f"labeled figures)   recall {sc.recall:.3f} ({found}/{len(sc.expected)} "
               "expected alerts sent)")
    rules = sorted({a.rule for a in sc.sent + sc.expected + sc.held})
    out.append(f"\n{'rule':<30} {'sent':>5} {'right':>5} {'held':>5} {'expect':>6} "
               f"{'found':>5}")
    for rule in rules:
        s = [a for a in sc.sent if a.rule == rule]
        e = [a for a in sc.expected if a.rule == rule]
        m = [x for x, _ in sc.missed if x.rule == rule]
        out.append(f"{rule:<30} {len(s):>5} {sum(a.right for a in s):>5} "
                   f"{sum(a.rule == rule for a in sc.held):>5} {len(e):>6} "
                   f"{len(e) - len(m):>5}")
    out.append(f"\nWRONG alerts ({len(sc.wrong)}): a figure they rest on is not labeled")
    out += [_alert(a, "WRONG") for a in sc.wrong]
    out.append(f"\nMISSED alerts ({len(sc.missed)}): the labeled figures fire them; the "
               "extracted run did not, or not from right figures")
    for e, actual in sc.missed:
        out.append(_alert(e, "MISSED"))
        for a in actual:
            state = "held" if a.held else ("sent, wrong" if not a.right else "sent")
            out.append(f"    extracted run: #{a.id} {state}: {a.line}")
    if sc.held:
        out.append(f"\nHELD alerts ({len(sc.held)}): not sent, waiting for confirmation")
        out += [_alert(a, "right" if a.right else "wrong") for a in sc.held]
    if verbose:
        out.append(f"\nRIGHT alerts ({len(sc.sent) - len(sc.wrong)})")
        out += [_alert(a, "RIGHT") for a in sc.sent if a.right]
    return "\n".join(out)


def as_json(sc: Score) -> dict:
    def one(a: AlertView) -> dict:
        return {"id": a.id, "rule": a.rule, "company": a.company, "metric": a.metric,
                "basis": a.basis, "period": a.period, "value": a.value, "status": a.status,
                "right": a.right, "line": a.line,
                "rests": [{"role": r.role, "metric": r.row.metric, "period": r.row.period,
                           "value": r.row.value, "doc": r.doc, "right": r.right,
                           "why": r.why, "evidence": r.row.evidence} for r in a.rests]}
    return {"precision": sc.precision, "recall": sc.recall, "sent": len(sc.sent),
            "wrong": [one(a) for a in sc.wrong], "expected": len(sc.expected),
            "missed": [one(e) for e, _ in sc.missed], "held": [one(a) for a in sc.held]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("docs", type=Path, help="directory of corpus texts (NAME.txt)")
    ap.add_argument("labels", type=Path, help="directory of their labels (NAME.json)")
    ap.add_argument("--config", type=Path, help="config whose companies to use "
                    "(e.g. ../shared/corpus/companies.yaml); default: Dell only")
    ap.add_argument("--rules", type=Path, default=SHIPPED,
                    help="config whose rules and settings to replay (default: feeds.yaml)")
    ap.add_argument("--verbose", "-v", action="store_true", help="list the right alerts too")
    ap.add_argument("--json", type=Path, metavar="OUT", help="also write the result as JSON")
    ap.add_argument("--keep", type=Path, metavar="DIR",
                    help="keep the two replay databases in DIR (extracted.db, labels.db)")
    args = ap.parse_args(argv)
    if not args.docs.is_dir() or not args.labels.is_dir():
        print(f"alert_replay: {args.docs} or {args.labels} is not a directory", file=sys.stderr)
        return 2
    docs = load_docs(args.docs, args.labels)
    if not docs:
        print(f"alert_replay: no texts in {args.docs}", file=sys.stderr)
        return 2
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for name in ("extracted.db", "labels.db"):
            for suffix in ("", "-wal", "-shm"):
                (work / (name + suffix)).unlink(missing_ok=True)
        common = {"rules_file": args.rules, "companies_file": args.config, "workdir": work}
        extracted = replay(docs, labels=False, **common)
        labels = replay(docs, labels=True, **common)
    config = parse_config(args.rules.read_text(encoding="utf-8"), str(args.rules))
    revision_rules = {r.rule_id for r in config.rules if r.revision_pct is not None}
    sc = score(extracted, labels, revision_rules)
    print(report(sc, extracted, labels, docs, time.monotonic() - t0, args.verbose))
    if args.json:
        args.json.write_text(json.dumps(as_json(sc), indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
