"""Monte Carlo uncertainty on the BDD: closed forms, reproducibility, SCRAM on the same input, bad input."""

from __future__ import annotations

import math
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from safetyops_dsl.generators.openpsa import write_openpsa

from safetyops_dsl.analysis.synthesis import synthesise_all
from safetyops_dsl.api import check
from safetyops_dsl.cli.main import cli
from safetyops_dsl.fta.tree import BasicEvent, FaultTree, Gate, GateKind, MefExpr
from safetyops_dsl.fta.uncertainty import lognormal_sigma, propagate

MODEL = """mission_time 1000 h
parameter lam = 1e-5 per h uncertainty lognormal ef 3 "shared rate"
system S {
    out o
    failure a rate lam
    failure b probability 0.02 uncertainty gamma shape 2
    failure c probability 0.1 uncertainty uniform 0.01 to 0.2
    o.omission <- a or b and c
}
hazard H "h" {
    severity S3 exposure E4 controllability C3
    system S
    when o.omission
}
safety_goal G "g" mitigates H
"""


def one_event(expr: MefExpr) -> FaultTree:
    return FaultTree("T", "top", {"top": Gate("top", GateKind.NULL, ("x",))},
                     {"x": BasicEvent("x", 1e-3, expression=expr)}, mission_time=1.0)


def test_a_lognormal_event_has_the_closed_form_quantiles() -> None:
    """Mean 1e-3, EF 3 (level 0.95): sigma 0.667909, median 8.0007e-4, p05 2.6669e-4, p95 2.4002e-3."""
    assert math.isclose(lognormal_sigma(3.0), 0.667909, rel_tol=1e-6)
    expr = MefExpr("lognormal-deviate", args=(MefExpr("float", 1e-3), MefExpr("float", 3.0), MefExpr("float", 0.95)))
    f = propagate(one_event(expr), 40_000, 11)
    assert f is not None
    se = f.std / math.sqrt(f.trials)
    assert abs(f.mean - 1e-3) < 4 * se
    assert math.isclose(f.p50, 8.0007e-4, rel_tol=0.03)
    assert math.isclose(f.p05, 2.6669e-4, rel_tol=0.04)
    assert math.isclose(f.p95, 2.4002e-3, rel_tol=0.04)
    assert math.isclose(f.error_factor, 3.0, rel_tol=0.04)
    assert sum(b.count for b in f.histogram) == f.trials


def test_the_same_seed_gives_the_same_figures_and_another_seed_other_ones(tmp_path: Path) -> None:
    (tmp_path / "m.sops").write_text(MODEL)
    c = check([tmp_path])
    assert c.model is not None
    (syn,) = synthesise_all(c.model)
    a, b, other = propagate(syn.tree, 2000, 5), propagate(syn.tree, 2000, 5), propagate(syn.tree, 2000, 6)
    assert a == b and a != other


def test_model_uncertainty_agrees_with_scram_on_the_exported_model(tmp_path: Path, scram: str) -> None:
    (tmp_path / "m.sops").write_text(MODEL)
    c = check([tmp_path])
    assert c.model is not None
    (syn,) = synthesise_all(c.model)
    agrees_with_scram(syn.tree, tmp_path, scram)


def test_the_cli_reports_the_uncertainty_key_and_asks_for_a_limit(tmp_path: Path) -> None:
    import json

    (tmp_path / "m.sops").write_text(MODEL)
    runner = CliRunner()
    r = runner.invoke(cli, ["fta", str(tmp_path), "--uncertainty", "500", "--seed", "2", "--format", "json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert set(doc["uncertainty"]["H"]) >= {"mean", "std", "p05", "p50", "p95", "error_factor", "histogram"}
    r = runner.invoke(cli, ["fta", str(tmp_path), "--uncertainty", "100001"])
    assert r.exit_code == 2 and "--uncertainty-limit 100001" in r.output
    # the cost quoted covers the proof-tested case too (a PFDavg trial costs about 30 times a P(top) trial)
    assert "about 3 ms a trial" in " ".join(r.output.split())


@pytest.mark.parametrize(("spread", "words"), [
    ("uncertainty lognormal ef 0.5", "error factor must be above 1"),
    ("uncertainty beta alpha 2", "not a rate"),
    ("uncertainty uniform 1 per h to 2 per h", "enclose the value"),
    ("uncertainty normal sd 0.1", "must be a rate (per h)"),
])
def test_impossible_distributions_are_positioned_errors(tmp_path: Path, spread: str, words: str) -> None:
    (tmp_path / "m.sops").write_text(MODEL.replace("uncertainty lognormal ef 3", spread))
    found = [d for d in check([tmp_path]).diagnostics if d.code == "SOPS166"]
    assert found and words in found[0].message and found[0].location.line == 2, found


def agrees_with_scram(tree: FaultTree, tmp_path: Path, scram: str) -> None:
    """20,000 trials of ours and of `scram --uncertainty` on the exported tree, seed 3: the same mean (within
    the Monte Carlo error), standard deviation and 5/50/95 % quantiles (5 %)."""
    ours = propagate(tree, 20_000, 3)
    assert ours is not None
    xml = tmp_path / "m.xml"
    xml.write_text(write_openpsa([tree]))
    report = tmp_path / "r.xml"
    subprocess.run([scram, str(xml), "--uncertainty", "true", "--num-trials", "20000", "--seed", "3",
                    "--mission-time", "1000", "-o", str(report)], check=True, capture_output=True, timeout=120)
    measure = ET.parse(report).getroot().find(".//measure")
    assert measure is not None
    mean = float(measure.find("mean").get("value"))  # type: ignore[union-attr]
    std = float(measure.find("standard-deviation").get("value"))  # type: ignore[union-attr]
    # two independent samples of 20,000: the means differ by less than 4 standard errors of the difference
    assert abs(ours.mean - mean) < 4 * math.hypot(ours.std, std) / math.sqrt(20_000)
    assert math.isclose(ours.std, std, rel_tol=0.05)
    quantiles = {round(float(q.get("value")), 2): float(q.get("upper-bound"))  # type: ignore[arg-type]
                 for q in measure.iter("quantile")}
    assert math.isclose(ours.p05, quantiles[0.05], rel_tol=0.05)
    assert math.isclose(ours.p50, quantiles[0.5], rel_tol=0.05)
    assert math.isclose(ours.p95, quantiles[0.95], rel_tol=0.05)
