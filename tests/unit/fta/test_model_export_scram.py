"""The fault trees synthesised from our own models, exported to Open-PSA MEF, are accepted by SCRAM
(`scram --validate`) and give SCRAM our numbers: the same minimal cut-set count, order distribution and exact
probability, hazard by hazard. This covers what the corpus cannot: pass-through gates, k-of-n expansions and
common-cause events as synthesis makes them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from test_scram_oracle import agrees, run_scram

from generators.openpsa import write_openpsa
from safetyops_dsl.analysis.synthesis import synthesise_all
from safetyops_dsl.api import check
from safetyops_dsl.fta.engine import analyse
from safetyops_dsl.fta.result import AnalysisOptions

ROOT = Path(__file__).resolve().parents[3]
MODELS = [ROOT / "models" / "aeb", ROOT / "models" / "insulin_pump", ROOT / "tests" / "golden" / "fta_ccf_model"]


@pytest.mark.parametrize("folder", MODELS, ids=[m.name for m in MODELS])
def test_scram_agrees_with_the_exported_model_trees(folder: Path, scram: str, tmp_path: Path) -> None:
    checked = check([folder])
    assert checked.model is not None and checked.ok, checked.diagnostics
    results = synthesise_all(checked.model)
    assert results
    for r in results:
        tree = r.tree
        out = tmp_path / f"{tree.name}.xml"
        out.write_text(write_openpsa([tree]), encoding="utf-8")
        proc = subprocess.run([scram, "--validate", str(out)], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, (tree.name, proc.stdout + proc.stderr)
        ours = analyse(tree, AnalysisOptions())
        if "NEVER" in tree.house_events:  # a constant-false top: SCRAM reports no products either
            assert ours.cut_set_count == 0
            continue
        [s] = run_scram(scram, [out], 20, False, tmp_path / f"{tree.name}.report.xml").findall(
            "./results/sum-of-products")
        assert ours.exact_probability is not None
        assert agrees(ours.exact_probability, s.get("probability", "")), (tree.name, ours.exact_probability, s.attrib)
        assert ours.cut_set_count == int(s.get("products", "0")), tree.name
        scram_orders = [int(x) for x in s.get("distribution", "").split()]
        assert [ours.cut_sets_by_order.get(i + 1, 0) for i in range(len(scram_orders))] == scram_orders, tree.name
