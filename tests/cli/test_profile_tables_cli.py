"""The calibrated risk graph and the FDAL/IDAL assignment through the command line: `sops hara --format json`,
`sops gate`, `sops diff` (a changed risk-graph class shows with the SIL it moves) and `sops check` on a graph
with a gap."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from safetyops_dsl.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
SIF = ROOT / "models" / "sif_iec61511"
WBS = ROOT / "models" / "wheel_brake_arp4761a"


def test_hara_json_carries_the_assignment_and_the_walk() -> None:
    doc = json.loads(CliRunner().invoke(cli, ["hara", str(WBS), "--format", "json"]).output)
    assert doc["schema"] == "sops-hara/1.1.0"
    rows = {(r["ffs"], r["member"]): r for r in doc["profile"]["dal"]}
    assert rows[("FFS_BRAKING_ITEMS", "alternate")]["level"] == "C"
    assert rows[("FFS_BRAKING_ITEMS", "alternate")]["option"] == "option1"
    assert rows[("FFS_BRAKING_ITEMS", "alternate")]["independence"] == ["functional", "item"]
    sif = json.loads(CliRunner().invoke(cli, ["hara", str(SIF), "--format", "json"]).output)
    (row,) = sif["profile"]["sil"]
    assert row["risk_graph"] == ["HZ_OP: C3 F1 P2 \u2192 X4 \u2192 W2 (demand 0.2 per y): SIL 2"]


def test_gate_lists_each_member() -> None:
    result = CliRunner().invoke(cli, ["gate", str(WBS), "--format", "json"])
    doc = json.loads(result.output)
    items = [c for c in doc["checks"] if c["check"] == "FDAL/IDAL assignment"]
    assert sorted(c["subject"] for c in items) == ["WBS1", "WBS2", "alternate", "brakes", "bscu"]
    assert all(c["status"] == "pass" for c in items)


def test_diff_shows_a_risk_graph_class_and_the_sil_it_moves(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    shutil.copytree(SIF, old)
    shutil.copytree(SIF, new)
    text = (new / "sif.sops").read_text(encoding="utf-8")
    # very many deaths, often in the zone, no escape: X6; at W2 the example table gives SIL 4, above the LOPA's 3
    (new / "sif.sops").write_text(text.replace("risk_graph C3, F1, P2", "risk_graph C4, F2, P2"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["diff", str(old), str(new), "--format", "json"])
    doc = json.loads(result.output)
    text_out = json.dumps(doc)
    assert "C3, F1, P2 demand 0.2 per y" in text_out and "C4, F2, P2 demand 0.2 per y" in text_out
    md = CliRunner().invoke(cli, ["diff", str(old), str(new)]).output
    assert "risk_graph `C3, F1, P2 demand 0.2 per y` \u2192 `C4, F2, P2 demand 0.2 per y`" in md
    assert "required_sil `3` \u2192 `4`" in md


def test_check_reports_a_gap_in_the_graph(tmp_path: Path) -> None:
    shutil.copytree(SIF, tmp_path / "sif")
    graph = tmp_path / "sif" / "risk_graph.sops"
    lines = [line for line in graph.read_text(encoding="utf-8").splitlines() if "C4 F2 P2" not in line]
    graph.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "sif")])
    assert result.exit_code == 1
    assert "error[SOPS149]: risk graph: no row for C4 F2 P2" in result.output
