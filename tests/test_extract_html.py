"""HTML input: an EX-99.1-shaped exhibit read with its tables (bot.extract.html, tables)."""

import json
from datetime import date
from pathlib import Path

import pytest

from bot.extract import extract, extract_html, html_text, strip_html
from bot.extract.score import matches, restates

FIX = Path(__file__).parent / "fixtures" / "extract"
HTML = (FIX / "dell-ex99-1-q2fy26.html").read_text()
EXPECTED = json.loads((FIX / "dell-ex99-1-q2fy26.expected.json").read_text())


@pytest.fixture(scope="module")
def result():
    return extract_html(HTML, published=date.fromisoformat(EXPECTED["published"]))


def test_every_expected_figure_is_found(result):
    _, figs = result
    preds = [f.to_dict() for f in figs]
    missing = [e for e in EXPECTED["figures"] if not any(matches(p, e) for p in preds)]
    assert missing == []


def test_nothing_else_is_reported(result):
    _, figs = result
    wrong = [
        f.to_dict() for f in figs
        if not any(matches(f.to_dict(), e) or restates(f.to_dict(), e) for e in EXPECTED["figures"])
    ]
    assert wrong == []


def test_table_figures_carry_table_comparative_and_accounting(result):
    _, figs = result
    by_key = {(f.metric, f.period, f.accounting, round(f.value, 2)): f for f in figs}
    gm = by_key[("gross_margin", "FY2025-Q2", None, 21.4)]
    assert gm.table and gm.comparative and gm.evidence.startswith("Gross margin")
    ngm = by_key[("gross_margin", "FY2026-Q2", "non_gaap", 18.7)]
    assert ngm.table and not ngm.comparative and ngm.evidence.startswith("% of net revenue")
    isg = by_key[("isg_operating_margin", "FY2026-Q2", None, 8.8)]
    assert isg.evidence.startswith("% of ISG net revenue")


def test_spans_index_the_derived_text(result):
    text, figs = result
    assert text == html_text(HTML)  # deterministic: callers may derive it again
    assert figs
    for f in figs:
        assert text[f.span[0] : f.span[1]] == f.evidence


def test_extract_with_html_flag_equals_extract_html(result):
    assert extract(HTML, published=date(2025, 8, 28), html=True) == result[1]


def test_dollar_gross_margin_and_segment_shares_are_not_figures(result):
    _, figs = result
    assert not [f for f in figs if f.metric == "gross_margin" and f.value > 100]
    assert not [f for f in figs if f.unit == "%" and f.value in (65.0, 61.0, 35.0, 39.0)]


def test_table_rows_render_with_signs_merged():
    text = html_text(
        "<table><tr><td>Gross margin</td><td></td><td>18.3</td><td>%</td><td>$</td><td>(1,043</td><td>)</td></tr></table>"
    )
    assert text == "Gross margin | 18.3 % | $ (1,043)"


@pytest.mark.parametrize(
    "snippet,expected",
    [
        ("<p>Dell revenue <b>rose</b> to&nbsp;$29.8 billion.</p>", "Dell revenue rose to $29.8 billion."),
        ("plain text, no tags", "plain text, no tags"),
        ("", ""),
        ("<script>x=1</script><div>AI backlog</div>", "AI backlog"),
    ],
)
def test_strip_html(snippet, expected):
    assert strip_html(snippet) == expected


def test_feed_summary_snippet_yields_its_figure():
    snippet = "<p>Dell Technologies reported <b>Q2 FY26</b> revenue of <span>$29.8&nbsp;billion</span>.</p>"
    (f,) = extract(snippet, html=True)
    assert (f.metric, f.value, f.period) == ("revenue", 29.8e9, "FY2026-Q2")


def test_bullets_laid_out_as_tables_read_as_bullets():
    # EDGAR exhibits often set a bullet list as a two-column table: "•" | text.
    html = (
        "<html><body><p>Dell Technologies reported results for the second quarter of fiscal "
        "2026.</p><p><b>Client Solutions Group (CSG)</b></p><table><tr><td>&#8226;</td>"
        "<td>Revenue: $12.5 billion, 1% higher than a year ago</td></tr></table>"
        "</body></html>"
    )
    text, figs = extract_html(html, published=date(2025, 8, 28))
    assert "• Revenue: $12.5 billion" in text
    assert [(f.metric, f.value, f.period) for f in figs] == [("csg_revenue", 12.5e9, "FY2026-Q2")]


@pytest.mark.parametrize(
    "declaration",
    [
        "<?xml version='1.0' encoding='ASCII'?>\n",  # as real EDGAR exhibits open
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
        "\ufeff  <?xml version='1.0' encoding='utf-8'?>\r\n",
        "<?XML version='1.0'?>",
    ],
)
def test_xml_declaration_with_an_encoding_is_read(result, declaration):
    # lxml refuses a decoded str that declares an encoding; the exhibit must still be read.
    text, figs = extract_html(declaration + HTML, published=date.fromisoformat(EXPECTED["published"]))
    assert (text, figs) == result
    assert figs


def test_xml_declaration_of_a_fragment_is_dropped():
    snippet = "<?xml version='1.0' encoding='ASCII'?><p>Dell Q2 FY26 revenue was $29.8 billion.</p>"
    assert strip_html(snippet) == "Dell Q2 FY26 revenue was $29.8 billion."
