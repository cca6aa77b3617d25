"""Check that the extractor gives exactly the figures a reference commit of it gives.

    python benchmarks/extract_equivalence.py [--ref COMMIT] [--quick] [--jobs N] [--show K]

The reference is `bot/extract` at COMMIT (default: the last commit before the speed
redesign), read with `git show` into a temporary package (`extract_ref`) next to the
working tree's `bot.extract`; both share `bot.figures` and `bot.fiscal`. Every input is
run through both `extract()`s and the full `Figure` lists are compared (metric, basis,
value, unit, period, approx, low, high, accounting, comparative, table, evidence, span,
confidence). HTML inputs are also compared through `html_text` and `extract(html=True)`.

Inputs (all deterministic): every text the tests read (corpus and news fixtures, the
prose cases of tests/fixtures/extract/sentences.json, the string constants of
tests/test_extract*.py, the HTML fixtures through `html_text`), under several
publication dates and fiscal calendars; sliding windows of 0.4, 1.5 and 5 KB over them
(cut at any character and at spaces); the benchmark's 5 KB pieces; and seeded
perturbations (case, line breaks, glued sentences, shuffled words and sentences,
currency and scale spellings, characters whose lowercase is longer, pipes).

The reference's outputs are cached (keyed by commit and inputs) in the temp directory,
so a rerun only times the working tree. Exit status 1 on any difference.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import pickle
import random
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.extract import read_corpus_doc  # noqa: E402
from bot.fiscal import DELL, FiscalCalendar  # noqa: E402

BASE_REF = "c497fe7"  # main before the one-pass redesign of the extractor
FIX = ROOT / "tests" / "fixtures"
CALENDARS = {
    "dell": DELL,
    "apple": FiscalCalendar(9, "last_weekday", 5),
    "msft": FiscalCalendar(6, "month_end"),
}
DATES = [None, date(2023, 8, 31), date(2025, 8, 28), date(2026, 3, 1), date(2026, 6, 6)]

# (name, text, published, calendar key, html)
Case = tuple[str, str, "date | None", str, bool]


# --- the reference package ---------------------------------------------------------------------

def build_reference(ref: str, into: Path) -> Path:
    """`bot/extract` at `ref` as the package `extract_ref` under `into`."""
    pkg = into / "extract_ref"
    pkg.mkdir(parents=True, exist_ok=True)
    names = subprocess.run(["git", "ls-tree", "--name-only", f"{ref}:bot/extract"], cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.split()
    for name in names:
        if not name.endswith(".py"):
            continue
        src = subprocess.run(["git", "show", f"{ref}:bot/extract/{name}"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout
        (pkg / name).write_text(src.replace("bot.extract", "extract_ref"))
    return into


# --- inputs --------------------------------------------------------------------------------------

def _corpus(dirpath: Path) -> list[tuple[str, str, date | None]]:
    out = []
    for p in sorted((dirpath / "docs").glob("*.txt")):
        fields, body = read_corpus_doc(p.read_text(encoding="utf-8"))
        out.append((f"{dirpath.name}/{p.stem}", body, fields.get("published")))
    return out


def _test_strings() -> list[str]:
    out = []
    for p in sorted((ROOT / "tests").glob("test_extract*.py")):
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) >= 12:
                out.append(node.value)
    return out


def _html_files() -> list[Path]:
    return sorted(
        list((FIX / "edgar").glob("*.htm")) + list((FIX / "extract").glob("*.html"))
        + list((FIX / "articles").glob("*.html")) + list((FIX / "feeds").glob("*.xml"))
        + list((FIX / "edgar").glob("*.txt"))
    )


def base_texts() -> list[tuple[str, str, date | None]]:
    """(name, text, published) of every text the tests read."""
    from bot.extract import html_text

    out = _corpus(FIX / "corpus") + _corpus(FIX / "extract" / "news")
    shared = ROOT.parent / "shared" / "corpus"
    if shared.is_dir():
        out += _corpus(shared)
    cases = json.loads((FIX / "extract" / "sentences.json").read_text())["cases"]
    for c in cases:
        pub = date.fromisoformat(c["published"]) if c.get("published") else None
        out.append((f"case/{c['id']}", c["text"], pub))
    for i, s in enumerate(_test_strings()):
        out.append((f"teststr/{i}", s, date(2025, 8, 28)))
    for p in _html_files():
        out.append((f"html_text/{p.name}", html_text(p.read_text(encoding="utf-8", errors="replace")), None))
    return out


def _windows(text: str, size: int, rng: random.Random) -> list[str]:
    if len(text) <= size:
        return []
    out = []
    step = max(1, size // 3)
    for a in range(0, len(text) - size // 2, step):
        a2 = a + rng.randrange(0, 7)  # cut at any character ...
        out.append(text[a2 : a2 + size])
        sp = text.rfind(" ", 0, a + 1) + 1  # ... and at a space
        out.append(text[sp : sp + size])
    return out


_SPELLINGS = [("$", "US$"), ("$", "USD "), (" billion", "B"), (" billion", "bn"), (" billion", " Billion"),
              (" million", "M"), ("%", " percent"), ("%", " pct"), ("fiscal", "FY"), ("Q2", "second quarter"),
              ("second quarter", "Q2"), (" year over year", " YoY"), ("Revenue", "Net revenue"), (". ", ".\n"),
              ("FY26", "FY2026"), ("FY2026", "fiscal 2026"), ("approximately", "~"), (", up", " rising"),
              ("ISG", "Infrastructure Solutions Group"), ("Infrastructure Solutions Group", "ISG"),
              (" | ", "  "), ("\n", " | "), ("(", ""), (",", ""), ("Dell", "Nvidia"), ("was", "is expected at")]


def perturb(text: str, rng: random.Random) -> list[tuple[str, str]]:
    """Seeded variants of one text, each with the name of what was done."""
    out = [("upper", text.upper()), ("lower", text.lower()), ("nolines", text.replace("\n", " ")),
           ("glued", text.replace(". ", ".").replace("\n", "")), ("blanklines", text.replace("\n", "\n\n")),
           ("dotless-i", text.replace("i", "İ", 3)), ("nbsp", text.replace(" ", "\u00a0", 20))]
    words = text.split(" ")
    rng.shuffle(words)
    out.append(("shuffled", " ".join(words)))
    sents = text.split(". ")
    rng.shuffle(sents)
    out.append(("sentences", ". ".join(sents)))
    for _ in range(4):
        a, b = rng.choice(_SPELLINGS)
        out.append((f"spell:{a!r}->{b!r}", text.replace(a, b)))
    digits = list(text)
    for i in rng.sample(range(len(digits)), min(len(digits), 12)):
        if digits[i].isdigit():
            digits[i] = str(rng.randrange(10))
    out.append(("digits", "".join(digits)))
    cut = list(text)
    for i in sorted(rng.sample(range(len(cut)), min(len(cut), 6)), reverse=True):
        del cut[i]
    out.append(("dropped-chars", "".join(cut)))
    return out


def cases(quick: bool) -> list[Case]:
    rng = random.Random(20260606)
    out: list[Case] = []
    bases = base_texts()
    for name, text, pub in bases:
        for d in dict.fromkeys([pub, *DATES]):
            out.append((f"{name}@{d}", text, d, "dell", False))
        out.append((f"{name}@{pub}/apple", text, pub, "apple", False))
        out.append((f"{name}@{pub}/msft", text, pub, "msft", False))
    for p in _html_files():
        raw = p.read_text(encoding="utf-8", errors="replace")
        for d in (None, date(2025, 8, 28)):
            out.append((f"html/{p.name}@{d}", raw, d, "dell", True))
    long_texts = [(n, t, p) for n, t, p in bases if len(t) > 400]
    sizes = (400, 1500, 5000)
    for name, text, pub in long_texts:
        for size in sizes:
            for i, w in enumerate(_windows(text, size, rng)):
                d = pub if i % 3 else rng.choice(DATES)
                out.append((f"{name}[{size}#{i}]@{d}", w, d, "dell", False))
                if not quick and i % 2 == 0:
                    for kind, v in perturb(w, rng):
                        out.append((f"{name}[{size}#{i}]~{kind}", v, pub, "dell", False))
    # The benchmark's pieces (both corpus dirs), and texts glued from several sources.
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from extraction import five_kb_docs

    for corpus in (FIX / "corpus", FIX / "extract" / "news"):
        for i, (t, p) in enumerate(dict.fromkeys(five_kb_docs(corpus, 400))):
            out.append((f"bench/{corpus.name}/{i}", t, p, "dell", False))
    for i in range(60 if quick else 400):
        parts = [rng.choice(bases)[1] for _ in range(rng.randrange(2, 5))]
        pieces = [s[(a := rng.randrange(len(s))) : a + rng.randrange(50, 2500)] for s in parts if s]
        out.append((f"mix/{i}", rng.choice(["\n", "\n\n", " ", ". "]).join(pieces), rng.choice(DATES), "dell", False))
    big = "\n\n".join(t for _, t, _ in bases)
    out.append(("all-texts", big, date(2025, 8, 28), "dell", False))
    out.append(("all-texts-x4", big * 4, None, "dell", False))
    return out


# --- running -------------------------------------------------------------------------------------

def run_cases(module: str, batch: list[Case]) -> list:
    """Figures (or an exception's name) per case, from `module.extract`."""
    mod = __import__(module, fromlist=["extract", "html_text"])
    out = []
    for _, text, pub, cal, html in batch:
        try:
            figs = mod.extract(text, published=pub, calendar=CALENDARS[cal], html=html)
            derived = mod.html_text(text) if html else None
        except Exception as exc:  # noqa: BLE001 — a raise is an output too
            figs, derived = f"raised {type(exc).__name__}", None
        out.append((figs, derived))
    return out


def _init(path: str) -> None:
    sys.path.insert(0, path)


def run_all(module: str, all_cases: list[Case], jobs: int, ref_path: str) -> tuple[list, float]:
    t0 = time.perf_counter()
    if jobs <= 1:
        _init(ref_path)
        return run_cases(module, all_cases), time.perf_counter() - t0
    n = max(1, len(all_cases) // (jobs * 8))
    batches = [all_cases[i : i + n] for i in range(0, len(all_cases), n)]
    with ProcessPoolExecutor(jobs, initializer=_init, initargs=(ref_path,)) as ex:
        results = [r for part in ex.map(run_cases, [module] * len(batches), batches) for r in part]
    return results, time.perf_counter() - t0


def _digest(all_cases: list[Case]) -> str:
    h = hashlib.sha256()
    for name, text, pub, cal, html in all_cases:
        h.update(f"{name}\0{pub}\0{cal}\0{html}\0".encode())
        h.update(text.encode("utf-8", "surrogatepass"))
    return h.hexdigest()[:16]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ref", default=BASE_REF, help="commit of the reference extractor")
    ap.add_argument("--quick", action="store_true", help="skip the perturbations (about a fifth of the inputs)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--show", type=int, default=5, help="differences to print in full")
    args = ap.parse_args(argv)
    commit = subprocess.run(["git", "rev-parse", args.ref], cwd=ROOT, check=True, capture_output=True,
                            text=True).stdout.strip()
    tmp = Path(tempfile.gettempdir()) / f"extract_ref_{commit[:12]}"
    build_reference(commit, tmp)
    all_cases = cases(args.quick)
    size = sum(len(c[1]) for c in all_cases)
    print(f"{len(all_cases)} inputs, {size / 1e6:.1f} M characters; reference {commit[:12]}")
    cache = tmp / f"outputs-{_digest(all_cases)}.pickle"
    if cache.exists():
        ref = pickle.loads(cache.read_bytes())
        print("reference: cached")
    else:
        ref, dt = run_all("extract_ref", all_cases, args.jobs, str(tmp))
        cache.write_bytes(pickle.dumps(ref))
        print(f"reference: {dt:.1f} s")
    new, dt = run_all("bot.extract", all_cases, args.jobs, str(tmp))
    print(f"working tree: {dt:.1f} s")
    diffs = [(c, r, n) for c, r, n in zip(all_cases, ref, new) if r != n]
    nfig = sum(len(r[0]) for r in ref if isinstance(r[0], list))
    for (name, text, pub, cal, html), r, n in diffs[: args.show]:
        print(f"\nDIFF {name} (published {pub}, calendar {cal}, html {html}, {len(text)} chars)")
        if r[1] != n[1]:
            print("  html_text differs")
        rf, nf = r[0], n[0]
        if isinstance(rf, str) or isinstance(nf, str):
            print(f"  reference: {rf if isinstance(rf, str) else len(rf)}  new: {nf if isinstance(nf, str) else len(nf)}")
            continue
        for f in rf:
            if f not in nf:
                print(f"  - {f}")
        for f in nf:
            if f not in rf:
                print(f"  + {f}")
        if all(f in nf for f in rf) and all(f in rf for f in nf):
            print("  (same figures, another order)")
    print(f"\n{len(all_cases)} inputs, {nfig} reference figures: {len(diffs)} differences")
    return 1 if diffs else 0


if __name__ == "__main__":
    raise SystemExit(main())
