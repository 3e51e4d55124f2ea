"""`sops fta x.xml` imports only what a small Open-PSA tree needs (issue 18: start-up in at most 60 ms).

benchmarks/fta_startup.py measures the time; this test keeps what it depends on from growing back unseen:
the package modules on the path, the heavy modules kept off it (`dataclasses` with `inspect` among them: 42 M
instructions), and the classes made at import: by `dataclasses.dataclass` none (each cost about 4 M
instructions, its methods compiled from source), by `lazy_dataclasses.dataclass` the tree, result and
diagnostic types.
A change that needs one more module or dataclass on this path updates the lists here, deliberately.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

XML = """<?xml version="1.0"?>
<opsa-mef>
  <define-fault-tree name="FT">
    <define-gate name="Top"><or><gate name="G"/><basic-event name="a"/></or></define-gate>
    <define-gate name="G"><atleast min="2"><basic-event name="b"/><basic-event name="c"/><basic-event name="d"/></atleast></define-gate>
  </define-fault-tree>
  <model-data>
    <define-basic-event name="a"><float value="0.1"/></define-basic-event>
    <define-basic-event name="b"><float value="0.2"/></define-basic-event>
    <define-basic-event name="c"><float value="0.3"/></define-basic-event>
    <define-basic-event name="d"><float value="0.4"/></define-basic-event>
  </model-data>
</opsa-mef>
"""

# What the interpreter had before sops started is not ours (site, and an editable install's finder, import
# pathlib, re and urllib); the probe reports only what `main` added.
PROBE = """
import json, sys
before = set(sys.modules)
from safetyops_dsl.cli.main import _main
try:
    _main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
added = sorted(set(sys.modules) - before)
ours = [m for m in added if m.startswith("safetyops_dsl")]
types = [(f"{m}.{name}", vars(v)) for m in ours for name, v in vars(sys.modules[m]).items()
         if isinstance(v, type) and v.__module__ == m]
# read from the class dicts: dataclasses.is_dataclass would build the lazy classes' fields (and import it)
classes = sorted(name for name, d in types if isinstance(d.get("__dataclass_fields__"), dict))
lazy = sorted(name for name, d in types if "__lazy_dataclass__" in d)
print(json.dumps({"code": code, "added": added, "classes": classes, "lazy": lazy}))
"""

PACKAGE_MODULES = {
    "safetyops_dsl", "safetyops_dsl.atomic", "safetyops_dsl.cli", "safetyops_dsl.cli.fta_fast",
    "safetyops_dsl.cli.fta_run", "safetyops_dsl.cli.main", "safetyops_dsl.cli.output", "safetyops_dsl.diagnostics", "safetyops_dsl.gc_pause",
    "safetyops_dsl.fta", "safetyops_dsl.fta._bddk", "safetyops_dsl.fta._xmlk", "safetyops_dsl.fta._zddk", "safetyops_dsl.fta.bdd",
    "safetyops_dsl.fta.cutsets", "safetyops_dsl.fta.engine", "safetyops_dsl.fta.mef_expr", "safetyops_dsl.fta.modules",
    "safetyops_dsl.fta.openpsa", "safetyops_dsl.fta.preprocess", "safetyops_dsl.fta.result", "safetyops_dsl.fta.timing",
    "safetyops_dsl.fta.tree", "safetyops_dsl.fta.xmlread", "safetyops_dsl.fta.zdd", "safetyops_dsl.generators",
    "safetyops_dsl.generators.fta_report", "safetyops_dsl.generators.markdown", "safetyops_dsl.lazy_dataclasses",
    "safetyops_dsl.schemas",
}  # fmt: skip
# click and the model front end (textX, jinja2, networkx) cost most of the start-up before issue 18; typing
# costs 12 M instructions and no module on the path needs it at run time (annotations are strings).
KEPT_OFF = {
    "click", "typing", "textx", "jinja2", "networkx", "numpy", "logging", "subprocess", "argparse", "tempfile",
    "random", "hashlib", "decimal", "statistics", "dataclasses", "inspect",
}  # fmt: skip
# Classes made by lazy_dataclasses.dataclass on the path: the public tree and result types, and the
# diagnostics (a small tree needs no more; private records there are plain classes). None by dataclasses.
LAZY_DATACLASSES = {
    "safetyops_dsl.diagnostics.CodeInfo", "safetyops_dsl.diagnostics.Diagnostic", "safetyops_dsl.diagnostics.Location",
    "safetyops_dsl.fta.bdd.FlatBdd", "safetyops_dsl.fta.bdd.ModuleBdd", "safetyops_dsl.fta.bdd.TreeBdds",
    "safetyops_dsl.fta.preprocess._Graph", "safetyops_dsl.fta.result.AnalysisOptions",
    "safetyops_dsl.fta.result.FtaResult", "safetyops_dsl.fta.result.ImportanceRow", "safetyops_dsl.fta.timing.Timing",
    "safetyops_dsl.fta.tree.BasicEvent", "safetyops_dsl.fta.tree.FaultTree", "safetyops_dsl.fta.tree.Gate",
    "safetyops_dsl.fta.tree.HouseEvent", "safetyops_dsl.fta.tree.MefExpr", "safetyops_dsl.fta.tree.Origin",
}  # fmt: skip


def _probe(tmp_path: Path, *args: str, command: tuple[str, ...] = ()) -> dict[str, object]:
    xml = tmp_path / "small.xml"
    xml.write_text(XML, encoding="utf-8")
    cmd = [sys.executable, "-c", PROBE, *(command or ("fta", str(xml))), *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    report: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_a_small_open_psa_tree_imports_only_the_engine_and_its_report(tmp_path: Path, fmt: str) -> None:
    report = _probe(tmp_path, "--format", fmt, "-o", str(tmp_path / f"out.{fmt}"))
    assert report["code"] == 0
    added = set(report["added"])  # type: ignore[call-overload]
    assert {m for m in added if m.startswith("safetyops_dsl")} == PACKAGE_MODULES
    assert {m.split(".")[0] for m in added} & KEPT_OFF == set()
    assert report["classes"] == []
    assert set(report["lazy"]) == LAZY_DATACLASSES  # type: ignore[call-overload]


def test_the_probe_sees_what_a_command_line_needing_click_imports(tmp_path: Path) -> None:
    """The same probe on `--help` (parsed by click): the lists above are not vacuous."""
    report = _probe(tmp_path, "--help")
    assert report["code"] == 0 and "click" in {m.split(".")[0] for m in report["added"]}  # type: ignore[attr-defined]


def test_the_probe_sees_a_class_made_by_dataclasses(tmp_path: Path) -> None:
    """A command line that loads the model front end: its classes are made by `dataclasses.dataclass`, and
    the probe tells them from the lazy ones."""
    (tmp_path / "m.sops").write_text("package p\n", encoding="utf-8")
    report = _probe(tmp_path, command=("check", str(tmp_path / "m.sops")))
    assert "dataclasses" in report["added"]  # type: ignore[operator]
    assert "safetyops_dsl.diagnostics.Diagnostic" in report["lazy"]  # type: ignore[operator]
    assert any(c.startswith("safetyops_dsl.model.") for c in report["classes"])  # type: ignore[attr-defined]
