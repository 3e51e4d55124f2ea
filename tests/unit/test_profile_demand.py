"""The IEC 61508/61511 verification table takes its achieved PFDavg from the demand analysis (the reliability
models) once the model has proof-tested elements, and the gate then judges the target instead of skipping it."""

from __future__ import annotations

import shutil
from pathlib import Path

from safetyops_dsl import api
from safetyops_dsl.analysis.gate import gate_items

ROOT = Path(__file__).resolve().parents[2]


def _sif(tmp_path: Path, proof_tested: bool) -> api.Results:
    dest = tmp_path / "sif"
    shutil.copytree(ROOT / "models" / "sif_iec61511", dest)
    if proof_tested:
        f = dest / "sif.sops"
        text = f.read_text(encoding="utf-8")
        for mode in ("failure FailLow rate 500 FIT", "failure CpuAFault rate 200 FIT", "failure CpuBFault rate 200 FIT",
                     "failure FailToClose rate 2000 FIT"):
            assert mode in text
            text = text.replace(mode, mode + " proof_test every 1 y")
        f.write_text(text, encoding="utf-8")
    return api.analyse(api.load(dest))


def test_without_proof_tests_the_achieved_value_is_not_computed(tmp_path: Path) -> None:
    r = _sif(tmp_path, proof_tested=False)
    assert r.achieved_demand == {}
    row = r.profile.sil[0]
    assert row.achieved is None
    assert [i.status for i in gate_items(r, [], 1) if i.check == "SIL target"] == ["skip"]


def test_with_proof_tests_the_table_shows_the_demand_analysis_pfdavg(tmp_path: Path) -> None:
    r = _sif(tmp_path, proof_tested=True)
    (demand,) = r.demand
    row = r.profile.sil[0]
    assert row.function == "SIF1"
    assert row.achieved == demand.pfd_avg == r.achieved_demand["SIF1"]
    target = [i for i in gate_items(r, [], 1) if i.check == "SIL target"]
    assert len(target) == 1 and target[0].status in ("pass", "fail")
    assert f"{demand.pfd_avg:.3g}" in target[0].detail
