"""sops build as a library: layout, byte-identical output, manifest, cache, atomic swap, --check, gate."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from safetyops_dsl import build as b

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "models"


def tree_bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the AEB model and one build of it: work/model, work/out."""
    if shutil.which("dot") is None:
        pytest.skip("Graphviz dot is not installed")
    base = tmp_path_factory.mktemp("build")
    shutil.copytree(MODELS / "aeb", base / "model")
    b.build(b.BuildOptions(paths=(str(base / "model"),)), base / "out")
    return base


def test_layout(work: Path) -> None:
    files = tree_bytes(work / "out")
    for name in ("index.html", "hazards.html", "fmea.html", "fmeda.html", "hara.html", "trace.html", "gsn.html",
                 "manifest.json", "assets/site.css", "assets/site.js", "exports/gate.json", "exports/check.json"):
        assert name in files, name
    for hazard in ("H1", "H2", "H3"):
        for ext in ("html", "svg", "json", "md", "xml"):
            assert f"fta/{hazard}.{ext}" in files
    for kind in ("fmea", "fmeda", "hara"):
        for ext in ("md", "csv", "html", "xlsx", "json"):
            assert f"exports/{kind}.{ext}" in files
    for ext in ("md", "csv", "html", "json", "dot"):
        assert f"exports/trace.{ext}" in files
    # AEB's trace graph has more than GLOBAL_GRAPH_MAX_NODES nodes: a page per hazard, goal and requirement
    # instead of one drawing of everything
    assert "exports/trace.svg" not in files
    for page in ("hazard-aeb.H1", "safety_goal-aeb.SG1", "requirement-aeb.FSR1"):
        assert f"trace/{page}.html" in files and f"trace/{page}.svg" in files
    for module in ("AEB", "H1", "ML_Perception"):  # gsn2x reads one file per module
        assert f"gsn/{module}.gsn.yaml" in files
    assert not [n for n in files if n.startswith(".") or "/." in n]


def test_manifest_lists_every_file_with_its_hash(work: Path) -> None:
    out = work / "out"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    files = tree_bytes(out)
    del files["manifest.json"]
    assert list(manifest["files"]) == sorted(files)
    for name, digest in manifest["files"].items():
        assert hashlib.sha256(files[name]).hexdigest() == digest
    assert manifest["schema"] == b.SCHEMA
    text = (out / "manifest.json").read_text(encoding="utf-8")
    assert "time" not in json.dumps(manifest["inputs"]["options"])
    assert str(work) not in text  # paths are relative to the output folder


def test_rebuild_is_byte_identical_and_independent_of_the_working_directory(work: Path, tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    out2 = work / "out2"
    monkeypatch.chdir(tmp_path)
    b.build(b.BuildOptions(paths=(os.path.relpath(work / "model", tmp_path),)), out2, force=True)
    one, two = tree_bytes(work / "out"), tree_bytes(out2)
    # the manifest records paths relative to the output folder: same place -> same bytes
    assert sorted(one) == sorted(two)
    assert {k for k in one if one[k] != two[k]} <= {"manifest.json"}
    shutil.rmtree(out2)


def test_warm_build_is_up_to_date_without_analysing(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    b.build(b.BuildOptions(paths=(str(work / "model"),)), work / "out")  # a hit, unless sops' code changed

    def no_analysis(*args: object, **kwargs: object) -> None:
        raise AssertionError("an up-to-date build ran the analyses")

    with monkeypatch.context() as m:
        m.setattr(b, "analyse", no_analysis)
        report = b.build(b.BuildOptions(paths=(str(work / "model"),)), work / "out")
    assert report.up_to_date
    forced = b.build(b.BuildOptions(paths=(str(work / "model"),)), work / "out", force=True)
    assert not forced.up_to_date


def test_changed_inputs_or_files_invalidate_the_cache(work: Path) -> None:
    opts = b.BuildOptions(paths=(str(work / "model"),))
    b.build(opts, work / "out")
    assert b.up_to_date(opts, work / "out")
    assert not b.up_to_date(b.BuildOptions(paths=(str(work / "model"),), use_git=False), work / "out")
    page = work / "out" / "index.html"
    saved = page.read_bytes()
    page.write_bytes(saved + b"\n")
    assert not b.up_to_date(opts, work / "out")
    page.write_bytes(saved)
    (work / "out" / "stray.txt").write_text("x", encoding="utf-8")
    assert not b.up_to_date(opts, work / "out")
    (work / "out" / "stray.txt").unlink()
    model_file = work / "model" / "system.sops"
    text = model_file.read_text(encoding="utf-8")
    model_file.write_text(text + "\n// touched\n", encoding="utf-8")
    try:
        assert not b.up_to_date(opts, work / "out")
    finally:
        model_file.write_text(text, encoding="utf-8")
    assert b.up_to_date(opts, work / "out")


def test_check_build_reports_differences(work: Path) -> None:
    out = work / "out"
    assert b.check_build(out).ok  # options from the manifest
    page = out / "hazards.html"
    saved = page.read_bytes()
    md = out / "fta" / "H2.md"
    md_saved = md.read_bytes()
    try:
        page.write_bytes(saved.replace(b"Hazard log", b"Hazard list"))
        md.unlink()
        (out / "extra.txt").write_text("x", encoding="utf-8")
        report = b.check_build(out)
        assert report.differ == ("hazards.html",)
        assert report.missing == ("fta/H2.md",)
        assert report.extra == ("extra.txt",)
    finally:
        page.write_bytes(saved)
        md.write_bytes(md_saved)
        (out / "extra.txt").unlink()
    assert b.check_build(out).ok


def test_interrupted_build_leaves_the_previous_folder(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = tree_bytes(work / "out")

    def fail(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(b, "_write_tree", lambda folder, files: (Path(folder, "index.html").write_text("half"),
                                                                   fail()))
    with pytest.raises(KeyboardInterrupt):
        b.build(b.BuildOptions(paths=(str(work / "model"),)), work / "out", force=True)
    assert tree_bytes(work / "out") == before
    assert not [p for p in work.iterdir() if p.name.startswith(".out.")]  # the temporary folder is gone


def test_refuses_to_replace_a_foreign_folder(work: Path, tmp_path: Path) -> None:
    foreign = tmp_path / "src"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("precious", encoding="utf-8")
    with pytest.raises(FileExistsError):
        b.build(b.BuildOptions(paths=(str(work / "model"),)), foreign)
    assert (foreign / "keep.txt").read_text(encoding="utf-8") == "precious"


def test_model_errors_write_nothing(tmp_path: Path) -> None:
    (tmp_path / "bad.sops").write_text("component {\n", encoding="utf-8")
    with pytest.raises(b.BuildError) as info:
        b.build(b.BuildOptions(paths=(str(tmp_path / "bad.sops"),)), tmp_path / "out")
    assert info.value.diagnostics
    assert not (tmp_path / "out").exists()


def test_model_text_is_escaped_and_linked(work: Path, tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(work / "model", model)
    safety = model / "safety.sops"
    text = safety.read_text(encoding="utf-8")
    assert '"No braking in front of a crossing pedestrian"' in text
    safety.write_text(text.replace('"No braking in front of a crossing pedestrian"',
                                   '"No braking <script>alert(1)</script> & co"'), encoding="utf-8")
    files = b.render_artifacts(b.analyse(b.BuildOptions(paths=(str(model),)), with_gsn=False), tmp_path / "out")
    for name, data in files.items():
        if name.endswith(".html") and not name.startswith("exports/"):
            html = data.decode("utf-8")
            assert "<script>alert" not in html, name
    hazards = files["hazards.html"].decode("utf-8")
    assert "No braking &lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in hazards
    # source links stay inside the site: the model file is rendered there, escaped, one anchor per line
    assert 'href="src/safety.sops.html#L4">safety.sops:4</a>' in hazards
    source = files["src/safety.sops.html"].decode("utf-8")
    assert '<tr id="L4">' in source
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in source


def test_gate_items_on_the_examples() -> None:
    aeb = b.gate_items(b.analyse(b.BuildOptions(paths=(str(MODELS / "aeb"),)), with_gsn=False))
    assert [i.status for i in aeb if i.check in ("model check", "FMEDA", "goal target", "coverage policy")] == \
        [b.PASS] * len([i for i in aeb if i.check in ("model check", "FMEDA", "goal target", "coverage policy")])
    assert [i for i in aeb if i.check == "GSN"][0].status == b.SKIP  # not built here
    pump = b.gate_items(b.analyse(b.BuildOptions(paths=(str(MODELS / "insulin_pump"),)), with_gsn=False))
    assert {i.subject for i in pump if i.check == "FMEDA" and i.status == b.FAIL} == {"PSG1", "PSG2"}
    assert not b.gate_passed(pump)
    assert json.loads(b.gate_json(pump))["passed"] is False


def test_a_large_tree_is_drawn_in_pages(tmp_path: Path) -> None:
    """Above PAGED_TREE_NODES tree nodes the diagram is cut into pages (one Graphviz drawing of thousands of
    nodes is unreadable and takes minutes); the hazard page shows them all."""
    n = 200  # 3 nodes a stage: past the threshold
    parts = "\n".join(f"    part s{i} : Stage" for i in range(n))
    wires = "\n".join(f"    connect s{i - 1}.o -> s{i}.a" for i in range(1, n))
    model = tmp_path / "chain"
    model.mkdir()
    (model / "m.sops").write_text(
        'component Stage "s" {\n    in a\n    out o\n    failure Dead rate 10 FIT\n    o.omission <- a.omission or Dead\n}\n'
        f'system S "chain" {{\n    in x\n    out o\n{parts}\n    connect x -> s0.a\n{wires}\n    connect s{n - 1}.o -> o\n}}\n'
        'hazard H "h" { severity S3 exposure E4 controllability C3 when o.omission }\n'
        'safety_goal SG "g" mitigates H { safe_state "off" ftti 1 s }\n', encoding="utf-8")
    b.build(b.BuildOptions(paths=(str(model),)), tmp_path / "out")
    pages = sorted((tmp_path / "out" / "fta" / "H").glob("*.svg"))
    assert len(pages) >= 3, pages
    html = (tmp_path / "out" / "fta" / "H.html").read_text(encoding="utf-8")
    assert f"drawn in {len(pages) + 1} pages" in html
    for page in pages:
        assert f'id="page-{page.stem}"' in html
        # a page holds at most PAGE_NODES tree nodes: event boxes plus transfer triangles
        svg = page.read_text(encoding="utf-8")
        assert 0 < svg.count('id="ev-') + svg.count('id="xfer-') <= b.PAGE_NODES


def _count_drawn(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The diagrams handed to `dot` (by output path) from now on."""
    from safetyops_dsl.generators import graphviz

    drawn: list[str] = []
    real = graphviz.draw_batch

    def spy(jobs: list[graphviz.Job], timeout: float = graphviz.TIMEOUT_S) -> list[graphviz.Drawn]:
        drawn.extend(j.key for j in jobs)
        return real(jobs, timeout)

    monkeypatch.setattr(graphviz, "draw_batch", spy)
    return drawn


def test_a_rate_change_redraws_only_the_diagrams_it_changes(work: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    model = tmp_path / "model"
    shutil.copytree(work / "model", model)
    out = tmp_path / "out"
    b.build(b.BuildOptions(paths=(str(model),)), out)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["diagrams"], "the manifest records the diagrams a rebuild may reuse"
    comps = model / "components.sops"
    comps.write_text(comps.read_text(encoding="utf-8").replace("rate 80 FIT", "rate 81 FIT"), encoding="utf-8")
    drawn = _count_drawn(monkeypatch)
    b.build(b.BuildOptions(paths=(str(model),)), out)
    svgs = sorted(p for p in tree_bytes(out) if p.endswith(".svg"))
    # the radar's rate shows in the trees of the hazards its NoEcho events reach (and GSN's figures); the
    # trace pages, and the trees it does not reach, stay as they were
    assert drawn and len(drawn) < len(svgs) / 2, drawn
    assert not [p for p in drawn if p.startswith("trace/")]
    # reused drawings give exactly the bytes of a build from scratch
    fresh = tmp_path / "fresh"
    b.build(b.BuildOptions(paths=(str(model),)), fresh, force=True)
    one, two = tree_bytes(out), tree_bytes(fresh)
    assert sorted(one) == sorted(two)
    assert {k for k in one if one[k] != two[k]} <= {"manifest.json"}


def test_a_diagram_that_cannot_be_drawn_is_a_note_on_its_page(work: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from safetyops_dsl.generators import graphviz

    real = graphviz.run_dot

    def failing(source: str, timeout: float = graphviz.TIMEOUT_S) -> str:
        if '"ft_' in source.split("{", 1)[0] and "H2" in source.split("{", 1)[0]:
            raise graphviz.GraphvizError("dot failed: trouble in init_rank")
        return real(source, timeout)

    monkeypatch.setattr(graphviz, "run_dot", failing)
    report = b.build(b.BuildOptions(paths=(str(work / "model"),)), tmp_path / "out")
    assert not report.up_to_date
    page = (tmp_path / "out" / "fta" / "H2.html").read_text(encoding="utf-8")
    assert "this diagram could not be drawn" in page and "trouble in init_rank" in page
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert "fta/H2.svg" not in [e["file"] for e in manifest["diagrams"].values()]  # the next build retries
    assert "fta/H1.svg" in [e["file"] for e in manifest["diagrams"].values()]


# Three screens of 1,920 px at 100 % zoom (SVG pt are 4/3 px): wider is a diagram nobody reads unzoomed.
MAX_SVG_WIDTH_PT = 3 * 1920 * 0.75


def svg_width_pt(svg: bytes) -> float:
    import xml.etree.ElementTree as ET

    width = ET.fromstring(svg).get("width", "")
    assert width.endswith("pt"), width
    return float(width[:-2])


@pytest.mark.parametrize("name", ["aeb", "insulin_pump"])
def test_no_diagram_of_the_example_builds_is_wider_than_three_screens(name: str, work: Path, tmp_path: Path) -> None:
    out = work / "out" if name == "aeb" else tmp_path / "out"
    if name != "aeb":
        b.build(b.BuildOptions(paths=(str(MODELS / name),)), out)
    svgs = {p: data for p, data in tree_bytes(out).items() if p.endswith(".svg")}
    assert len(svgs) > 10
    too_wide = {p: svg_width_pt(d) for p, d in svgs.items() if svg_width_pt(d) > MAX_SVG_WIDTH_PT}
    assert not too_wide, too_wide


def test_every_node_of_every_diagram_is_a_link(work: Path) -> None:
    import xml.etree.ElementTree as ET

    ns = "{http://www.w3.org/2000/svg}"
    for path, data in tree_bytes(work / "out").items():
        if not path.endswith(".svg"):
            continue
        for group in ET.fromstring(data).iter(f"{ns}g"):
            classes = group.get("class", "").split()
            if "node" not in classes or "gsn-legend" in classes or "ft-junction" in classes:
                continue
            if group.find(f"{ns}title") is not None and (group.find(f"{ns}title").text or "").endswith(("__row1", "__row2")):
                continue
            links = [a for a in group.iter(f"{ns}a") if a.get("{http://www.w3.org/1999/xlink}href")]
            assert links, (path, group.get("id"), group.findtext(f"{ns}title"))
