"""Evidence can support a safety mechanism or ML monitor (`supports Component.Mechanism`): validation
accepts it, an unknown mechanism is SOPS011, and the generated AMLAS argument hangs it under the monitor."""

from __future__ import annotations

import shutil
from pathlib import Path

from safetyops_dsl.analysis.pipeline import analyse
from safetyops_dsl.api import check
from safetyops_dsl.model.links import links

ROOT = Path(__file__).resolve().parents[3]
AEB = ROOT / "models" / "aeb"


def test_a_monitor_is_supported_by_its_test() -> None:
    checked = check([AEB])
    assert checked.ok and checked.model is not None
    assert ("mechanism", "aeb.Perception.OodMonitor") in links(checked.model).supports["aeb.TST_OOD"]
    case = analyse(checked.model).case
    assert case is not None
    assert "Sn_TST_OOD" in case.children("G_ML_Perception_OodMonitor")
    assert "Sn_REV_DATA" in case.children("G_ML_Perception_data_review")  # the AMLAS data-review goal


def test_an_unknown_mechanism_is_an_unknown_name(tmp_path: Path) -> None:
    model = tmp_path / "aeb"
    shutil.copytree(AEB, model)
    f = model / "safety.sops"
    f.write_text(f.read_text(encoding="utf-8").replace("supports Perception.OodMonitor",
                                                       "supports Perception.NoSuchMonitor"), encoding="utf-8")
    checked = check([model])
    assert [d.code for d in checked.diagnostics if d.level.value == "error"] == ["SOPS011"]
