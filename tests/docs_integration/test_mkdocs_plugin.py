"""The `safetyops` MkDocs plugin: real `mkdocs build --strict` runs of a small docs project."""

from __future__ import annotations

import importlib.util
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

pytest.importorskip("mkdocs")

Build = Callable[..., subprocess.CompletedProcess[str]]
CONFIG = """\
site_name: AEB safety
plugins:
  - safetyops:
      model: model
nav:
  - index.md
  - hazards.md
"""
INDEX = """\
# AEB safety

The requirement [FSR1](sops:req:FSR1) refines [SG1](sops:goal:SG1); hazard [H1](sops:hazard:H1),
evidence [MET_REC](sops:evidence:MET_REC).

```sops-trace FSR1
```

```sops-gate
```
"""
HAZARDS = """\
# Hazards

```sops-fta hazard=H1 cut-set=1
```

~~~sops-fmeda
goal=SG1
~~~

```sops-hara SG2
```

````markdown
The syntax, shown and not run:

```sops-fta hazard=H99
```
````
"""
PAGES = {"mkdocs.yml": CONFIG, "docs/index.md": INDEX, "docs/hazards.md": HAZARDS}


@pytest.fixture
def mkdocs(run: Callable[..., subprocess.CompletedProcess[str]]) -> Build:
    def build(folder: Path, *extra: str) -> subprocess.CompletedProcess[str]:
        return run(["mkdocs", "build", "--strict", *extra], folder)

    return build


def _href_targets(page: Path) -> list[tuple[str, str]]:
    return re.findall(r'<a href="([^"#]*)#(sops-[^"]+)"', page.read_text(encoding="utf-8"))


def test_strict_build_renders_the_blocks_and_resolves_the_links(project: Callable[..., Path], mkdocs: Build) -> None:
    folder = project(PAGES)
    done = mkdocs(folder)
    assert done.returncode == 0, done.stderr
    index = (folder / "site/index.html").read_text(encoding="utf-8")
    hazards = (folder / "site/hazards/index.html").read_text(encoding="utf-8")
    assert index.count("<svg") == 1 and hazards.count("<svg") == 1
    assert "Fault tree of hazard H1, cut set 1: AEB.perception.MissedDetection" in hazards
    assert "FMEDA of safety goal SG1" in hazards and "HARA of safety goal SG2" in hazards
    assert "sops-fta hazard=H99" in hazards  # shown as code, not rendered (the strict build passed)
    assert 'href="sops:' not in index
    targets = _href_targets(folder / "site/index.html")
    assert sorted(targets) == [("", "sops-req-aeb-FSR1"), ("", "sops-req-aeb-FSR1"), ("hazards/", "sops-goal-aeb-SG1"),
                               ("hazards/", "sops-hazard-aeb-H1")]
    for page, anchor in targets:
        assert f'id="{anchor}"' in (folder / "site" / page / "index.html").read_text(encoding="utf-8")
    assert re.search(r'href="#sops-req-aeb-FSR1" title="[^"]*">MET_REC', index)  # on FSR1's trace
    assert 'xlink:href="hazards/#sops-hazard-aeb-H1"' in index  # a node of the trace, to H1's fault tree

    # a second build gives the same pages, and draws nothing again (the diagrams come from the cache).
    # MkDocs' own theme stamps the build time into the home page (unless SOURCE_DATE_EPOCH is set): not ours
    def page(path: Path) -> bytes:
        return re.sub(rb"Build Date UTC : [^\n]*", b"", path.read_bytes())

    first = {p: page(folder / "site" / p) for p in ("index.html", "hazards/index.html")}
    cache = folder / ".cache/safetyops/svg"
    drawn = {p.name: p.stat().st_mtime_ns for p in cache.iterdir()}
    assert len(drawn) == 2
    assert mkdocs(folder, "-d", "again").returncode == 0
    assert {p: page(folder / "again" / p) for p in first} == first
    assert {p.name: p.stat().st_mtime_ns for p in cache.iterdir()} == drawn


def test_a_bad_id_or_a_dangling_link_fails_the_strict_build_with_the_pages_file_line(
        project: Callable[..., Path], mkdocs: Build) -> None:
    page = "# H\n\nSee [H2](sops:hazard:H2).\n\n```sops-fta hazard=H9\n```\n"
    folder = project({**PAGES, "docs/hazards.md": page})
    done = mkdocs(folder, "-q")  # -q drops warnings in MkDocs: the plugin reports errors as errors
    assert done.returncode == 1
    assert "docs/hazards.md:5:1: error[SOPS250]: no hazard 'H9' in the model model" in done.stderr
    assert "Traceback" not in done.stderr
    done = mkdocs(folder)
    assert done.returncode == 1
    assert "docs/hazards.md:3:5: warning[SOPS253]: hazard 'H2' is rendered by no block" in done.stderr


@pytest.mark.skipif(importlib.util.find_spec("material") is None, reason="mkdocs-material is not installed")
def test_material_theme(project: Callable[..., Path], mkdocs: Build) -> None:
    folder = project({**PAGES, "mkdocs.yml": CONFIG.replace("site_name: AEB safety",
                                                            "site_name: AEB safety\ntheme:\n  name: material")})
    done = mkdocs(folder)
    assert done.returncode == 0, done.stderr
    hazards = (folder / "site/hazards/index.html").read_text(encoding="utf-8")
    assert "md-content" in hazards and hazards.count("<svg") >= 1
    assert "Fault tree of hazard H1" in hazards
