"""docs_render: the block arguments, the scanners of docs sources, and the drawings' determinism."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from safetyops_dsl import docs_render as dr
from safetyops_dsl.diagnostics import Location

ROOT = Path(__file__).resolve().parents[2]
WHERE = Location("page.md", 3)


@pytest.fixture(scope="module")
def aeb() -> dr.DocsModel:
    return dr.load(ROOT / "models" / "aeb", ROOT)


def test_arguments_bare_word_and_key_value() -> None:
    assert dr.parse_args("sops-fta", "H1 page=2 cut-set=1", WHERE) == {"hazard": "H1", "page": "2", "cut-set": "1"}
    assert dr.parse_args("sops-gate", "", WHERE) == {}
    for bad in ("H1 H2", "H1 colour=red", "=x"):
        with pytest.raises(dr.DocsError) as exc:
            dr.parse_args("sops-fta", bad, WHERE)
        assert exc.value.diagnostics[0].code == "SOPS252" and exc.value.diagnostics[0].location == WHERE


def test_markdown_scanner_finds_blocks_and_links_but_not_code_that_shows_them() -> None:
    text = """# T
[FSR1](sops:req:FSR1) and [x](https://example.org)

```sops-fta hazard=H1
cut-set=2
```

````markdown
```sops-fta H9
```
[no](sops:req:NOPE)
````

~~~python
print("[a](sops:req:A)")
~~~
"""
    uses = dr.markdown_uses(text.splitlines(), "p.md")
    assert [(u.kind, u.name, u.text, u.where.line, u.where.col) for u in uses] == [
        ("link", "req", "FSR1", 2, 1), ("block", "sops-fta", "hazard=H1 cut-set=2", 4, 0)]
    assert uses[1].end == 5  # the index of the closing fence (line 6)


def test_rst_scanner_reads_options_and_skips_literal_blocks() -> None:
    text = """Title
=====

.. sops-fmea:: SG1

.. sops-fta:: H1
   :cut-set: 1
   :page: 2

See :sops:req:`FSR1` and :sops:hazard:`H1`. Example::

    .. sops-fta:: H99
    :sops:req:`NOPE`

.. code-block:: rst

   .. sops-gate::
"""
    uses = dr.rst_uses(text.splitlines(), "p.rst")
    assert [(u.kind, u.name, u.text, u.where.line) for u in uses] == [
        ("block", "sops-fmea", "SG1", 4), ("block", "sops-fta", "H1 cut-set=1 page=2", 6),
        ("link", "req", "FSR1", 10), ("link", "hazard", "H1", 10)]


def test_every_block_of_the_example_renders(aeb: dr.DocsModel) -> None:
    for block, args, title in [
        ("sops-fta", "H1", "Fault tree of hazard H1"),
        ("sops-fta", "H1 cut-set=2", "Fault tree of hazard H1, cut set 2: AEB.ecu.CPUFault"),
        ("sops-fmea", "component=Radar", "FMEA of component Radar"),
        ("sops-fmea", "SG2", "FMEA of safety goal SG2"),
        ("sops-fmeda", "", "FMEDA: hardware metrics per safety goal"),
        ("sops-hara", "H3", "HARA of hazard H3"),
        ("sops-trace", "SG1", "Trace of safety goal SG1"),
        ("sops-gsn", "", "GSN overview"),
        ("sops-gsn", "ML_Perception", "GSN module ML_Perception"),
        ("sops-gate", "", "Release gate"),
    ]:
        got = aeb.block(block, dr.parse_args(block, args, WHERE), WHERE)
        assert got.title == title


def test_tables_hold_the_rows_of_their_subject(aeb: dr.DocsModel) -> None:
    radar = aeb.block("sops-fmea", {"component": "Radar"}, WHERE)
    assert isinstance(radar, dr.Table) and {r[0] for r in radar.rows} == {"AEB.radars.aux", "AEB.radars.main"}
    hara = aeb.block("sops-hara", {"of": "SG2"}, WHERE)
    assert isinstance(hara, dr.Table) and [r[0] for r in hara.rows] == ["H2"]
    gate = aeb.block("sops-gate", {}, WHERE)
    assert isinstance(gate, dr.Table) and gate.rows[8][:3] == ("FMEDA", "SG1", "PASS")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
def test_svg_and_pdf_are_byte_identical_and_cached(aeb: dr.DocsModel, tmp_path: Path) -> None:
    pytest.importorskip("cairosvg")
    fig = aeb.block("sops-trace", {"id": "FSR1"}, WHERE)
    assert isinstance(fig, dr.Figure)
    svg = dr.draw(fig, tmp_path)
    assert (tmp_path / f"{fig.key}.svg").read_text(encoding="utf-8") == svg == dr.draw(fig, None)
    first = dr.svg_to_pdf(svg)
    time.sleep(1.1)  # Cairo stamps the second into /CreationDate: it must not show
    assert dr.svg_to_pdf(svg) == first and first.startswith(b"%PDF-")
    assert b"/CreationDate (D:20000101000000" in first


def test_inline_svg_ids_are_unique_per_figure_and_page_links_stay() -> None:
    svg = ('<?xml version="1.0"?>\n<!-- c -->\n<svg width="1pt"><g id="a"><use href="#a"/></g>\n\n'
           '<linearGradient id="g"/><path fill="url(#g)"/><a xlink:href="#sops-req-x"/></svg>\n')
    html = dr.svg_for_html(svg, "f1")
    assert html == ('<svg style="max-width:100%;height:auto" width="1pt"><g id="f1-a"><use href="#f1-a"/></g>\n'
                    '<linearGradient id="f1-g"/><path fill="url(#f1-g)"/><a xlink:href="#sops-req-x"/></svg>')


def test_diagram_links_resolve_or_drop() -> None:
    svg = '<a xlink:href="sops:req:aeb.FSR1" xlink:title="t"/><a xlink:href="sops:hazard:aeb.H9"/><a href="sops:x:y"/>'
    got = dr.resolve_svg_links(svg, lambda role, q: f"p.html#{role}-{q}" if q != "aeb.H9" else None)
    assert got == '<a xlink:href="p.html#req-aeb.FSR1" xlink:title="t"/><a/><a href="sops:x:y"/>'


def test_the_cli_does_not_import_the_docs_tools() -> None:
    code = ("import sys\nfrom click.testing import CliRunner\nfrom safetyops_dsl.cli.main import cli\n"
            f"r = CliRunner().invoke(cli, ['docs', 'check', {str(ROOT / 'README.md')!r}, '--model', "
            f"{str(ROOT / 'models' / 'aeb')!r}])\n"
            "assert r.exit_code == 0, r.output\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sphinx', 'mkdocs', 'docutils', 'cairosvg')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
