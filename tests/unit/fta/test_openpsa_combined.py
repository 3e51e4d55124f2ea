"""The combined Open-PSA export of trees that use one name for different things: each tree keeps its own
definition (a gate in one tree may be a basic event in another), the rest is shared, and SCRAM reads every
tree as it reads that tree's export alone. The model-level cases (mission times, feedback loops) are in
test_model_export_scram.py."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from test_scram_oracle import agrees, run_scram

from generators.openpsa import write_openpsa
from safetyops_dsl.fta.engine import analyse
from safetyops_dsl.fta.openpsa import load_openpsa
from safetyops_dsl.fta.result import AnalysisOptions
from safetyops_dsl.fta.tree import BasicEvent, FaultTree, Gate, GateKind


def tree(name: str, gates: list[Gate], events: dict[str, float]) -> FaultTree:
    return FaultTree(name, name, {g.name: g for g in gates},
                     {n: BasicEvent(n, p) for n, p in events.items()})


# "x" is a basic event in T1 and T3 (with other probabilities) and a gate in T2; "shared" is the same
# AND gate over the same events in T1 and T2 and is written once; "[a b]" needs a rewritten name in every copy.
T1 = tree("T1", [Gate("T1", GateKind.OR, ("x", "shared")), Gate("shared", GateKind.AND, ("a", "b"))],
          {"x": 0.1, "a": 0.2, "b": 0.3})
T2 = tree("T2", [Gate("T2", GateKind.AND, ("x", "shared", "[a b]")), Gate("shared", GateKind.AND, ("a", "b")),
                 Gate("x", GateKind.OR, ("a", "c"))], {"a": 0.2, "b": 0.3, "c": 0.4, "[a b]": 0.5})
T3 = tree("T3", [Gate("T3", GateKind.ATLEAST, ("x", "a", "[a b]"), k=2)], {"x": 0.7, "a": 0.2, "[a b]": 0.05})
TREES = [T1, T2, T3]


def test_each_tree_keeps_its_own_definitions(tmp_path: Path) -> None:
    text = write_openpsa(TREES)
    assert text == write_openpsa([T3, T1, T2])
    defined = re.findall(r'<define-(?:gate|basic-event) name="([^"]+)"', text)
    assert len(defined) == len(set(defined))
    assert defined.count("shared") == 1 and defined.count("a") == 1 and defined.count("b") == 1
    assert {"x_T1", "x_T2", "x_T3", "CCF_a_b_T2", "CCF_a_b_T3"} <= set(defined) and "x" not in defined
    out = tmp_path / "all.xml"
    out.write_text(text, encoding="utf-8")
    read = {t.name: t for t in load_openpsa([str(out)])}
    assert sorted(read) == ["T1", "T2", "T3"]
    for t in TREES:
        ours, back = analyse(t, AnalysisOptions()), analyse(read[t.name], AnalysisOptions())
        assert (back.exact_probability, back.cut_set_count, back.cut_sets_by_order) == (
            ours.exact_probability, ours.cut_set_count, ours.cut_sets_by_order), t.name


def test_scram_reads_each_tree_as_its_own_export(scram: str, tmp_path: Path) -> None:
    out = tmp_path / "all.xml"
    out.write_text(write_openpsa(TREES), encoding="utf-8")
    proc = subprocess.run([scram, "--validate", str(out)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    found = {s.get("name"): s for s in run_scram(scram, [out], 20, False, tmp_path / "r.xml").findall(
        "./results/sum-of-products")}
    assert sorted(found) == ["T1", "T2", "T3"]
    for t in TREES:
        ours = analyse(t, AnalysisOptions())
        s = found[t.name]
        assert ours.exact_probability is not None and agrees(ours.exact_probability, s.get("probability", ""))
        assert ours.cut_set_count == int(s.get("products", "0")), t.name
