"""The report site without a browser: where model files land, the highlighter, the element registry, the
search index and the single-file report (tests/browser/ drives Chromium over the same output)."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from safetyops_dsl.generators import site

from safetyops_dsl import build as b

ROOT = Path(__file__).resolve().parents[3]


def test_model_files_land_inside_the_site() -> None:
    assert site.source_page("safety.sops") == "src/safety.sops.html"
    assert site.source_page("lib/deviations.sops") == "src/lib/deviations.sops.html"
    assert site.source_page("../shared/types.sops") == "src/_up/shared/types.sops.html"
    assert site.source_page("./a b/.x.sops") == "src/a_b/x.sops.html"


def test_highlight_escapes_and_marks_tokens() -> None:
    line = 'hazard H1 "<b>x</b> & y" { severity S3 } // why <not>'
    out = site.highlight(line)
    assert '<span class="k">hazard</span>' in out and '<span class="k">severity</span>' in out
    assert '<span class="s">&quot;&lt;b&gt;x&lt;/b&gt; &amp; y&quot;</span>' in out
    assert '<span class="c">// why &lt;not&gt;</span>' in out
    assert "H1" in out and "<b>" not in out
    assert 'href="' not in site.highlight('note "see href="x" id="L1""')  # text never looks like a tag
    assert re.sub(r"<[^>]+>", "", out).replace("&lt;", "<").replace("&gt;", ">").replace(
        "&amp;", "&").replace("&quot;", '"') == line  # nothing lost, nothing added
    assert "hazard" in site.keywords() and "H1" not in site.keywords()


def test_anchors_are_stable_and_valid() -> None:
    assert site.anchor("fm", "AEB.ecu.CPUFault") == "fm-AEB.ecu.CPUFault"
    assert site.anchor("gate", "coverage policy-x y") == "gate-coverage_policy-x_y"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    if shutil.which("dot") is None:
        pytest.skip("Graphviz dot is not installed")
    base = tmp_path_factory.mktemp("site")
    shutil.copytree(ROOT / "models" / "aeb", base / "model")
    opts = b.BuildOptions(paths=(str(base / "model"),), single_file=True)
    return b.render_artifacts(b.analyse(opts), base / "out")


class _Doc(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for k, v in attrs:
            if k == "id" and v is not None:
                self.ids.append(v)
            if k in ("href", "src", "xlink:href") and v is not None:
                self.links.append(v)


def test_every_model_file_is_rendered_with_line_anchors(files: dict[str, bytes]) -> None:
    for rel in ("safety.sops", "components.sops", "system.sops", "lib/deviations.sops"):
        page = files[site.source_page(rel)].decode("utf-8")
        lines = (ROOT / "models" / "aeb" / rel).read_text(encoding="utf-8").splitlines()
        assert page.count('<tr id="L') == len(lines)
        assert f'<tr id="L{len(lines)}">' in page


def test_search_index_names_every_element_and_its_row(files: dict[str, bytes]) -> None:
    text = files[site.SEARCH_INDEX].decode("utf-8")
    entries = json.loads(text.removeprefix("window.sopsSearchIndex = ").rstrip(";\n"))
    where = {(e["kind"], e["id"]): e for e in entries}
    assert where[("requirement", "FSR1")]["href"] == "trace.html#req-FSR1"
    assert where[("requirement", "FSR1")]["title"].startswith("Perception detects crossing pedestrians")
    assert where[("hazard", "H1")]["href"] == "hazards.html#hz-H1"
    assert where[("fault tree", "H1")]["href"] == "fta/H1.html"
    assert where[("safety goal", "SG1")]["href"] == "hazards.html#sg-SG1"
    assert where[("evidence (metric)", "MET_REC")]["href"] == "trace.html#ev-MET_REC"
    assert where[("failure mode", "AEB.ecu.CPUFault")]["href"] == "fmea.html#fm-AEB.ecu.CPUFault"
    assert where[("ml component", "Perception")]["href"].startswith("src/components.sops.html#L")
    assert where[("GSN goal", "G0")]["href"] == "gsn.html#case-G0"
    assert len(entries) == len({(e["id"], e["href"]) for e in entries})


def test_a_page_given_for_an_element_takes_its_links(files: dict[str, bytes]) -> None:
    a = b.analyse(b.BuildOptions(paths=(str(ROOT / "models" / "aeb"),)), with_gsn=False)
    plain = b.render_artifacts(a, ROOT / "out")
    data_pages = {"FSR1": "trace/FSR1.html"}
    import dataclasses

    from safetyops_dsl.generators import tables

    data = site.SiteData(
        model=a.model, out_dir=ROOT / "out", version="t", title="aeb", checked_files=4, check_diagnostics=[],
        diagnostics=[], trees=[], goal_checks=[], fmea=tables.fmea_document(a.fmea),
        fmeda=tables.fmeda_document(a.fmeda), fmeda_report=a.fmeda, hara=tables.hara_document(a.hara),
        hara_table=a.hara, trace=a.trace, coverage=a.coverage, gate=[], gate_passed=True,
        sources=dict(a.checked.sources), element_pages=data_pages)
    pages = site.render_site(data)
    assert 'href="trace/FSR1.html"' in pages["trace.html"]  # the evidence rows name FSR1
    assert '"href":"trace/FSR1.html","id":"FSR1"' in pages[site.SEARCH_INDEX]
    assert 'href="trace/FSR1.html"' not in plain["trace.html"].decode("utf-8")
    assert dataclasses.replace(data, element_pages={}).element_pages == {}


def test_single_file_has_unique_ids_and_only_inner_links(files: dict[str, bytes]) -> None:
    text = files[site.SINGLE_FILE].decode("utf-8")
    doc = _Doc()
    doc.feed(text)
    dupes = [i for i, n in Counter(doc.ids).items() if n > 1]
    assert not dupes, dupes[:5]
    assert doc.links and all(link.startswith("#") for link in doc.links)
    assert not set(link[1:] for link in doc.links) - set(doc.ids)
    assert "<link " not in text and "<script src" not in text  # CSS and script inline
    assert '"href":"#p-trace--req-FSR1"' in text


def test_single_file_only_when_asked(tmp_path: Path) -> None:
    if shutil.which("dot") is None:
        pytest.skip("Graphviz dot is not installed")
    a = b.analyse(b.BuildOptions(paths=(str(ROOT / "models" / "aeb"),)), with_gsn=False)
    assert site.SINGLE_FILE not in b.render_artifacts(a, tmp_path)
    record = b.options_record(b.BuildOptions(paths=(str(ROOT / "models" / "aeb"),)), tmp_path)
    assert "single_file" not in record  # manifests of ordinary builds unchanged


def test_a_hundred_hazards_stay_readable(tmp_path: Path) -> None:
    """14 hazards: the header of every page holds one 'Fault trees (14)' menu, H2 before H10; the gate's
    many 'skip' rows fold under a summary while every row keeps its anchor; the 28 GSN modules get a page
    each (gsn.html keeps the overview, whose module boxes link to those pages); every link lands."""
    if shutil.which("dot") is None:
        pytest.skip("Graphviz dot is not installed")
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import scale
    finally:
        sys.path.pop(0)
    scale.generate(tmp_path / "m", 28, 2)
    opts = b.BuildOptions(paths=(str(tmp_path / "m"),), single_file=True)
    out = b.render_artifacts(b.analyse(opts), tmp_path / "out")
    page = out["fta/H3.html"].decode()
    header = page.split("<main>")[0]
    assert '<details class="trees"><summary>Fault trees (14): <b>H3</b></summary>' in header
    names = re.findall(r'href="\.\./fta/(H\d+)\.html"', header)
    assert names == [f"H{i}" for i in range(14)]  # H2 before H10
    assert 'class="here" aria-current="page">H3<' in header
    index = out["index.html"].decode()
    assert "Fault trees:" not in index.split("<main>")[0]  # the inline list is for a few trees only
    table = index.split('id="trees"')[1].split("</table>")[0]
    assert re.findall(r'href="fta/(H\d+)\.html"', table) == [f"H{i}" for i in range(14)]
    skipped = index.split('<details class="skipped">')[1].split("</details>")[0]
    assert "14 checks skipped" in skipped and skipped.count("<tr id=") == 14
    gate = index.split('<section class="gate')[1].split("</section>")[0]
    assert gate.count("<tr id=") == len(set(re.findall(r'<tr id="([^"]+)"', gate)))
    assert "skip" not in gate.split('<details class="skipped">')[0].split("<tbody>")[1]
    gsn = out["gsn.html"].decode()
    assert gsn.count("<svg") == 1 and 'id="d-overview"' in gsn
    modules = re.findall(r'<tr id="module-[^"]+"><td class="mono"><a href="gsn/([^"]+)\.html"', gsn)
    assert modules == [f"{k}{i}" for k in "HS" for i in range(14)]
    assert 'href="../gsn/H3.html"' in out["gsn/overview.svg"].decode()
    module = out["gsn/H3.html"].decode()
    assert module.count("<svg") == 1 and 'href="../trace/' in module and "G_H3" in module
    for path, data in out.items():  # every local link of every page lands on a file and an anchor
        if not path.endswith(".html") or path == site.SINGLE_FILE:
            continue
        doc = _Doc()
        doc.feed(data.decode())
        for link in doc.links:
            if re.match(r"[a-z]+:", link):
                continue
            target, _, frag = link.partition("#")
            resolved = os.path.normpath(os.path.join(os.path.dirname(path), target)) if target else path
            assert resolved in out or resolved == "manifest.json", (path, link)  # the manifest is written last
            if frag and resolved.endswith(".html"):
                assert f'id="{frag}"' in out[resolved].decode(), (path, link)
    single = _Doc()
    single.feed(out[site.SINGLE_FILE].decode())
    assert not set(link[1:] for link in single.links) - set(single.ids)
