"""`sops diff` misses no moved result: a fixed sample of random single-point edits of the example models
(rates, coverages, flags, operators, classifications, targets, mission times, deleted lines), each checked
against what `sops fta|fmea|fmeda|hara|trace|gate|gsn|inject` print before and after (benchmarks/diff_mutations.py
runs larger samples with the same code)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import diff_mutations as dm  # noqa: E402

SAMPLE = dm.sample(24, seed=2026)


@pytest.fixture(scope="module")
def bases() -> dict[Path, dict[str, str]]:
    out = {}
    for m in dm.MODELS:
        base = dm.outputs(m)
        assert base is not None
        out[m] = base
    return out


def test_the_sample_covers_every_kind_of_edit() -> None:
    kinds = {e.what for _, e in SAMPLE}
    assert {"number", "swap", "delete line"} <= kinds, kinds
    assert {m.name for m, _ in SAMPLE} == {"aeb", "insulin_pump"}


@pytest.mark.parametrize("model,edit", SAMPLE, ids=[f"{m.name}:{e.file}:{e.line + 1}:{e.what}" for m, e in SAMPLE])
def test_every_moved_result_is_in_the_diff(model: Path, edit: dm.Edit, bases: dict[Path, dict[str, str]],
                                           tmp_path: Path) -> None:
    assert dm.check_edit(model, edit, bases[model], tmp_path) == []


def test_marking_a_failure_mode_systematic_moves_the_fmeda(tmp_path: Path, bases: dict[Path, dict[str, str]]) -> None:
    """The issue's first finding: `systematic` was invisible to sops diff while SPFM fell from 90 % to 50 %."""
    pump = ROOT / "models" / "insulin_pump"
    [edit] = [e for e in dm.candidate_edits(pump) if e.what == "flag" and "RamBitFlip" in e.old]
    assert dm.check_edit(pump, edit, bases[pump], tmp_path) == []
    code, text = dm._run(["diff", str(pump), str(tmp_path / "new" / "insulin_pump"), "--format", "json"])
    doc = json.loads(text)
    [change] = [c for c in doc["changes"] if c["key"] == "RamBitFlip"]
    assert {"field": "systematic", "old": "no", "new": "yes"} in change["fields"]
    spfm = {r["key"]: {f["field"]: (f["old"], f["new"]) for f in r["fields"]} for r in doc["deltas"]["fmeda"]["goals"]}
    assert spfm["PSG1"]["SPFM"] == ("0.9", "0.5")
