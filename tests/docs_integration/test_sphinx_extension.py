"""`extensions = ["safetyops_dsl.sphinx"]`: real sphinx-build runs (HTML, LaTeX) of a small docs project."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

pytest.importorskip("sphinx")

CONF = 'project = "AEB"\nextensions = ["safetyops_dsl.sphinx"]\nsops_model = "model"\n'
INDEX = """\
AEB safety
==========

.. toctree::

   hazards

The requirement :sops:req:`FSR1` refines :sops:goal:`SG1`; hazard :sops:hazard:`H1`;
evidence :sops:evidence:`MET_REC`; component :sops:component:`Radar`.

.. sops-trace:: FSR1

.. sops-gate::
"""
HAZARDS = """\
Hazards
=======

.. sops-fta:: H1
   :cut-set: 1

.. sops-fta:: H2
   :page: 1

.. sops-fmea:: SG1

.. sops-fmea::
   :component: Radar

.. sops-fmeda:: SG1

.. sops-hara:: H2

.. sops-gsn:: H1
"""
PAGES = {"conf.py": CONF, "index.rst": INDEX, "hazards.rst": HAZARDS}


@pytest.fixture
def sphinx(run: Callable[..., subprocess.CompletedProcess[str]]) -> Callable[..., subprocess.CompletedProcess[str]]:
    def build(folder: Path, builder: str = "html", out: str = "_build") -> subprocess.CompletedProcess[str]:
        return run(["sphinx", "-W", "-b", builder, ".", f"{out}/{builder}"], folder)

    return build


Build = Callable[..., subprocess.CompletedProcess[str]]


def test_an_unknown_id_fails_the_strict_build_with_the_docs_file_line(project: Callable[..., Path], sphinx: Build) -> None:
    folder = project({**PAGES, "hazards.rst": "Hazards\n=======\n\n.. sops-fta:: H9\n"})
    done = sphinx(folder)
    assert done.returncode != 0
    assert "hazards.rst:4: WARNING: error[SOPS250]: no hazard 'H9' in the model model" in done.stderr
    assert "hint: the model's hazards: H1, H2, H3, H4" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_a_broken_model_is_a_warning_at_the_models_file_line(project: Callable[..., Path], sphinx: Build) -> None:
    folder = project(PAGES)
    safety = folder / "model" / "safety.sops"
    good = safety.read_text(encoding="utf-8")
    safety.write_text(good.replace("exposure E4", "exposure E9", 1), "utf-8")
    done = sphinx(folder)
    assert done.returncode != 0
    assert re.search(r"model/safety\.sops:\d+: WARNING: error\[SOPS073\]: exposure must be one of", done.stderr)
    assert "Traceback" not in done.stderr + done.stdout
    # fixing the model re-reads the pages that use it (they depend on its files though it failed)
    safety.write_text(good, encoding="utf-8")
    again = sphinx(folder)
    assert again.returncode == 0, again.stderr


def test_a_project_that_only_enables_the_extension_builds_with_W(tmp_path: Path, sphinx: Build) -> None:
    (tmp_path / "conf.py").write_text('extensions = ["safetyops_dsl.sphinx"]\n', encoding="utf-8")
    (tmp_path / "index.rst").write_text("Title\n=====\n\nText.\n", encoding="utf-8")
    done = sphinx(tmp_path)
    assert done.returncode == 0, done.stderr


def test_a_block_without_sops_model_says_how_to_set_it(tmp_path: Path, sphinx: Build) -> None:
    (tmp_path / "conf.py").write_text('extensions = ["safetyops_dsl.sphinx"]\n', encoding="utf-8")
    (tmp_path / "index.rst").write_text("Title\n=====\n\n.. sops-gate::\n", encoding="utf-8")
    done = sphinx(tmp_path)
    assert done.returncode != 0
    assert "index.rst:4: WARNING: error[SOPS251]: sops_model is not set in conf.py" in done.stderr


def test_latex_references_the_pdfs_converted_from_the_svgs(project: Callable[..., Path], sphinx: Build) -> None:
    folder = project(PAGES)
    done = sphinx(folder, "latex")
    assert done.returncode == 0, done.stderr
    out = folder / "_build/latex"
    tex = (out / "aeb.tex").read_text(encoding="utf-8")
    names = re.findall(r"\\sphinxincludegraphics\[[^]]*\]\{\{(sops-[0-9a-f]{16})\}\.pdf\}", tex)
    assert len(names) == 4
    for name in names:
        assert (out / f"{name}.pdf").read_bytes().startswith(b"%PDF-")
    assert "FMEA of safety goal SG1" in tex
    if shutil.which("pdflatex") is None or shutil.which("latexmk") is None:
        return  # the PDF itself is built only where TeX is installed
    made = subprocess.run(["make", "all-pdf"], cwd=out, capture_output=True, text=True, timeout=600, check=False)
    assert made.returncode == 0, made.stdout[-2000:]
    assert (out / "aeb.pdf").is_file()


def test_html_diagrams_tables_links_then_byte_identical_and_incremental_rebuilds(project: Callable[..., Path], sphinx: Build) -> None:
    folder = project(PAGES)
    first = sphinx(folder)
    assert first.returncode == 0, first.stderr
    assert "safetyops: 4 diagram(s) drawn, 0 taken from the cache" in first.stdout
    index = (folder / "_build/html/index.html").read_text(encoding="utf-8")
    hazards = (folder / "_build/html/hazards.html").read_text(encoding="utf-8")
    assert hazards.count("<svg") == 3 and index.count("<svg") == 1
    assert "Fault tree of hazard H1, cut set 1: AEB.perception.MissedDetection" in hazards
    assert "Fault tree of hazard H2, page 1 of 1" in hazards
    assert "FMEA of safety goal SG1" in hazards and "PumpFault" in hazards
    assert "FMEDA of safety goal SG1; SPFM pass; LFM pass; PMHF pass" in hazards
    assert "Release gate" in index and "top goal" in index
    # every role became a link to an anchor that exists on its page
    links = re.findall(r'<a class="reference internal" href="([^"]*)#(sops-[^"]+)"', index)
    # FSR1 is rendered by its trace; MET_REC has no block of its own and links to the trace that shows it
    assert sorted(links) == sorted([("", "sops-req-aeb-FSR1"), ("", "sops-req-aeb-FSR1"), ("hazards.html", "sops-goal-aeb-SG1"),
                                    ("hazards.html", "sops-hazard-aeb-H1"), ("hazards.html",
                                                                            "sops-component-aeb-Radar")])
    for page, anchor in links:
        target = folder / "_build/html" / (page or "index.html")
        assert f'id="{anchor}"' in target.read_text(encoding="utf-8"), (page, anchor)
    assert re.search(r'<a class="reference internal" href="#sops-req-aeb-FSR1"[^>]*><code[^>]*>'
                     r'<span class="pre">MET_REC', index)
    # the trace's nodes link to the blocks that render them; nodes without one are not links
    assert 'xlink:href="hazards.html#sops-hazard-aeb-H1"' in index and 'xlink:href="#sops-req-aeb-FSR1"' in index
    assert 'href="sops:' not in index
    # a second, fresh build (new output and doctree folders) gives the same bytes
    second = sphinx(folder, "html", "_again")
    assert second.returncode == 0, second.stderr
    for page in ("index.html", "hazards.html"):
        assert (folder / "_build/html" / page).read_bytes() == (folder / "_again/html" / page).read_bytes()
    # nothing changed: nothing is read again
    same = sphinx(folder)
    assert "0 added, 0 changed, 0 removed" in same.stdout and "safetyops:" not in same.stdout
    # a rate of H1's tree changes: the pages are read again, only the drawings that changed are drawn
    components = folder / "model" / "components.sops"
    components.write_text(components.read_text(encoding="utf-8").replace(
        "failure MissedDetection rate 300 FIT", "failure MissedDetection rate 310 FIT"), encoding="utf-8")
    edited = sphinx(folder)
    assert edited.returncode == 0, edited.stderr
    assert "0 added, 2 changed, 0 removed" in edited.stdout
    drawn = re.search(r"safetyops: (\d+) diagram\(s\) drawn, (\d+) taken from the cache", edited.stdout)
    assert drawn is not None and int(drawn[2]) >= 1 and int(drawn[1]) >= 1, edited.stdout
