"""FMEDA: fault classification and each metric on small models computed by hand (ISO 26262-5 Annex C)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from safetyops_dsl.analysis.fmeda import FaultClass, FmedaReport, GoalFmeda, Status, build_fmeda
from safetyops_dsl.analysis.synthesis import synthesise_all
from safetyops_dsl.api import check

FIT = 1e-9
ROOT = Path(__file__).resolve().parents[3]


def fmeda_of(tmp_path: Path, text: str) -> FmedaReport:
    (tmp_path / "m.sops").write_text(text, encoding="utf-8")
    checked = check([tmp_path])
    errors = [d for d in checked.diagnostics if d.level.value == "error"]
    assert not errors, errors
    assert checked.model is not None
    return build_fmeda(checked.model)


# Two redundant sensors feed a logic unit. Cut sets of H (by construction):
#   {l.Crash}, {l.Stuck}, {s1.Dead, s2.Dead}, {s1.Drift, s2.Drift}
# The lamp is on another hazard only (QM, no goal): not a safety-related element for G.
REDUNDANT = """
package t
mission_time 10 h

component Sensor "sensor" {
    out v
    failure Dead  rate 100 FIT "no signal"
    failure Drift rate 50 FIT safe 40 % "slow drift"
    mechanism Plaus covers Drift coverage 90 % latent coverage 80 % "plausibility check"
    v.omission <- Dead
    v.value    <- Drift
}

component Logic "voter" {
    in  a, b
    out y
    failure Crash rate 10 FIT "program crash"
    failure Stuck rate 20 FIT "output stuck"
    failure Spare rate 30 FIT "spare channel fault, no effect on y"
    mechanism Wd covers Stuck coverage 99 % "watchdog"
    y.omission <- (a.omission and b.omission) or Crash or Stuck
    y.value    <- a.value and b.value
    y.late     <- Spare
}

component Lamp "tell-tale" {
    out z
    failure Burnt rate 70 FIT "bulb burnt"
    z.omission <- Burnt
}

system S "s" {
    out y, z
    part s1 : Sensor
    part s2 : Sensor
    part l  : Logic
    part lamp : Lamp
    connect s1.v -> l.a
    connect s2.v -> l.b
    connect l.y -> y
    connect lamp.z -> z
}

hazard H "no or wrong output" {
    severity S3 exposure E4 controllability C3
    when y.omission or y.value
}
hazard H2 "lamp dark" {
    severity S1 exposure E1 controllability C1
    when z.omission
}
safety_goal G "output right" mitigates H { safe_state "off" ftti 100 ms }
"""


def _row(goal: GoalFmeda, event: str) -> object:
    return next(r for r in goal.rows if r.event == event)


def test_classification_by_hand(tmp_path: Path) -> None:
    (g,) = fmeda_of(tmp_path, REDUNDANT).goals
    rows = {r.event: r for r in g.rows}
    # The lamp is not safety-related for G: it is not listed and not in the sums.
    assert "S.lamp.Burnt" not in rows
    assert sorted(rows) == ["S.l.Crash", "S.l.Spare", "S.l.Stuck", "S.s1.Dead", "S.s1.Drift", "S.s2.Dead",
                            "S.s2.Drift"]
    # Crash: alone a cut set, no mechanism -> single-point, lambda_SPF = 10 FIT
    assert rows["S.l.Crash"].fault_class is FaultClass.SINGLE_POINT
    assert rows["S.l.Crash"].lambda_spf == pytest.approx(10 * FIT)
    # Stuck: alone a cut set, watchdog 99 % -> residual 20 x 0.01 = 0.2 FIT; detected 20 x 0.99 = 19.8 FIT
    assert rows["S.l.Stuck"].fault_class is FaultClass.RESIDUAL
    assert rows["S.l.Stuck"].lambda_rf == pytest.approx(0.2 * FIT)
    assert rows["S.l.Stuck"].lambda_mpf_detected == pytest.approx(19.8 * FIT)
    # Spare: in no cut set of H, but its element (l) is safety-related -> safe, 30 FIT
    assert rows["S.l.Spare"].fault_class is FaultClass.SAFE
    assert rows["S.l.Spare"].lambda_safe == pytest.approx(30 * FIT)
    # Dead: only in {s1.Dead, s2.Dead}, no mechanism -> multiple-point, all latent: 100 FIT
    assert rows["S.s1.Dead"].fault_class is FaultClass.MULTIPLE_POINT
    assert rows["S.s1.Dead"].lambda_mpf_latent == pytest.approx(100 * FIT)
    assert rows["S.s1.Dead"].partners == (("S.s2.Dead",),)
    # Drift: 50 FIT, 40 % safe -> safe 20, lambda' = 30; latent coverage 80 % -> latent 6, detected 24
    drift = rows["S.s1.Drift"]
    assert drift.fault_class is FaultClass.MULTIPLE_POINT
    assert drift.lambda_safe == pytest.approx(20 * FIT)
    assert drift.lambda_mpf_latent == pytest.approx(6 * FIT)
    assert drift.lambda_mpf_detected == pytest.approx(24 * FIT)
    # every row splits its whole rate over the classes
    for r in g.rows:
        parts = r.lambda_safe + r.lambda_spf + r.lambda_rf + r.lambda_mpf_detected + r.lambda_mpf_latent
        assert parts == pytest.approx(r.rate_per_hour)


def test_metrics_by_hand(tmp_path: Path) -> None:
    (g,) = fmeda_of(tmp_path, REDUNDANT).goals
    # sum(lambda) = Crash 10 + Stuck 20 + Spare 30 + Dead 2 x 100 + Drift 2 x 50 = 360 FIT
    assert g.total == pytest.approx(360 * FIT)
    # SPFM = 1 - (SPF 10 + RF 0.2) / 360 = 1 - 10.2/360 = 0.971666...
    assert g.metric("SPFM").value == pytest.approx(1 - 10.2 / 360)
    # LFM = 1 - latent (2 x 100 + 2 x 6 = 212) / (360 - 10 - 0.2 = 349.8) = 0.393939...
    assert g.metric("LFM").value == pytest.approx(1 - 212 / 349.8)
    # PMHF = SPF + RF = 10.2 FIT, plus the dual-point cut sets over T = 10 h, with fault-tree probabilities:
    #   {Dead, Dead}:   p = 1 - exp(-100e-9 x 10) each          -> p^2 / 10
    #   {Drift, Drift}: residual rate 50e-9 x 0.6 x 0.1 = 3e-9   -> (1 - exp(-3e-9 x 10))^2 / 10
    p_dead = -math.expm1(-100e-9 * 10)
    p_drift = -math.expm1(-3e-9 * 10)
    dual = p_dead**2 / 10 + p_drift**2 / 10
    assert g.pmhf_dual == pytest.approx(dual)
    assert g.metric("PMHF").value == pytest.approx(10.2 * FIT + dual)
    # ASIL D targets: SPFM >= 99 %, LFM >= 90 %, PMHF < 10 FIT -> all three missed
    assert g.asil == "D"
    assert [m.status for m in g.metrics] == [Status.FAIL, Status.FAIL, Status.FAIL]
    assert not g.passed


# A camera feeds an ML detector. Cut sets of H: {det.Miss}, {det.Fog, cam.Dead}.
# Hardware cut sets: {cam.Dead} (the trigger Fog is taken as present); {det.Miss} has no hardware event.
ML = """
package m
mission_time 1 h

component Cam "camera" {
    out img
    failure Dead rate 100 FIT "no image"
    img.omission <- Dead
}

ml_component Det "detector" {
    in  img
    out obj
    model "det" version "1"
    dataset verification "v" sha256 "c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3"
    metric recall >= 0.9
    failure Miss rate 500 FIT "missed object"
    trigger Fog probability 0.1 "fog"
    obj.omission <- Miss or (Fog and img.omission)
}

system V "v" {
    out obj
    part cam : Cam
    part det : Det
    connect cam.img -> det.img
    connect det.obj -> obj
}

hazard H "object missed" {
    severity S2 exposure E4 controllability C2
    when obj.omission
}
safety_goal G "see objects" mitigates H { safe_state "warn" ftti 1 s }
"""


def test_ml_and_triggers_are_not_counted(tmp_path: Path) -> None:
    (g,) = fmeda_of(tmp_path, ML).goals
    assert g.asil == "B"  # S2 + E4 + C2 = 8
    (row,) = g.rows
    # cam.Dead with the trigger Fog is a single hardware fault: single-point, 100 FIT
    assert row.event == "V.cam.Dead"
    assert row.fault_class is FaultClass.SINGLE_POINT
    excluded = {n.event: n for n in g.not_counted}
    assert set(excluded) == {"V.det.Miss", "V.det.Fog"}
    assert excluded["V.det.Miss"].single_point and "systematic" in excluded["V.det.Miss"].reason
    assert "triggering condition" in excluded["V.det.Fog"].reason
    # sum(lambda) = 100 FIT (the ML mode's 500 FIT is not hardware): SPFM = 1 - 100/100 = 0
    assert g.metric("SPFM").value == pytest.approx(0.0)
    # LFM: denominator 100 - 100 = 0 -> undefined, reported n/a
    assert g.metric("LFM").value is None
    assert g.metric("LFM").status is Status.NA
    # PMHF = 100 FIT = 1e-7 per h, target "< 100 FIT" for ASIL B: equal is a miss
    assert g.metric("PMHF").value == pytest.approx(100 * FIT)
    assert g.metric("PMHF").status is Status.FAIL



def test_systematic_failures_are_not_counted(tmp_path: Path) -> None:
    text = REDUNDANT.replace('failure Crash rate 10 FIT "program crash"',
                             'failure Crash rate 10 FIT systematic "program crash"')
    (g,) = fmeda_of(tmp_path, text).goals
    # Crash leaves the rows and the sums; its cut set {l.Crash} has no hardware event left and is set aside
    assert "S.l.Crash" not in {r.event for r in g.rows}
    (crash,) = g.not_counted
    assert crash.event == "S.l.Crash" and crash.kind == "failure" and crash.quantity == "10 FIT"
    assert crash.reason == "systematic fault (e.g. software): not a random hardware failure"
    assert crash.single_point and crash.hazards == ("H",)
    # sum(lambda) = 360 - 10 = 350 FIT; SPF 10 FIT gone: SPFM = 1 - 0.2/350, PMHF = 0.2 FIT + dual-point term
    assert g.total == pytest.approx(350 * FIT)
    assert g.spf == pytest.approx(0.0) and g.rf == pytest.approx(0.2 * FIT)
    assert g.metric("SPFM").value == pytest.approx(1 - 0.2 / 350)
    assert g.metric("LFM").value == pytest.approx(1 - 212 / 349.8)
    p_dead = -math.expm1(-100e-9 * 10)
    p_drift = -math.expm1(-3e-9 * 10)
    assert g.metric("PMHF").value == pytest.approx(0.2 * FIT + p_dead**2 / 10 + p_drift**2 / 10)
    # the fault tree keeps the systematic fault as a basic event with its rate
    (tmp_path / "m.sops").write_text(text, encoding="utf-8")
    checked = check([tmp_path])
    assert checked.model is not None
    (tree,) = [r.tree for r in synthesise_all(checked.model) if r.hazard.name == "H"]
    assert tree.basic_events["S.l.Crash"].probability == pytest.approx(-math.expm1(-10e-9 * 10))


def test_only_failures_can_be_systematic(tmp_path: Path) -> None:
    (tmp_path / "m.sops").write_text(ML.replace('trigger Fog probability 0.1 "fog"',
                                                'trigger Fog probability 0.1 systematic "fog"'), encoding="utf-8")
    errors = [d for d in check([tmp_path]).diagnostics if d.level.value == "error"]
    assert [(d.code, d.message) for d in errors] == [("SOPS009", "trigger 'Fog' cannot be systematic")]


def test_asil_a_has_no_targets(tmp_path: Path) -> None:
    text = ML.replace("severity S2 exposure E4 controllability C2", "severity S1 exposure E4 controllability C2")
    (g,) = fmeda_of(tmp_path, text).goals
    assert g.asil == "A"  # 1 + 4 + 2 = 7
    assert all(m.status is Status.NA and m.target is None for m in g.metrics)
    assert g.passed


def test_example_models_figures() -> None:
    """The figures quoted in docs/fmea-fmeda-hara.md."""
    checked = check([ROOT / "models" / "aeb"])
    assert checked.model is not None
    goals = {g.goal: g for g in build_fmeda(checked.model).goals}
    sg1 = goals["SG1"]
    # SG1 (H1): every single point is covered at 99 %, so no SPF; RF = 1 % of supply 25 + 40, actuator 12 + 8,
    # fusion 10, CPU 50, CAN 20 = 0.01 x 165 = 1.65 FIT
    assert sg1.spf == pytest.approx(0.0) and sg1.rf == pytest.approx(1.65 * FIT)
    assert sg1.total == pytest.approx(505 * FIT)
    assert sg1.metric("SPFM").value == pytest.approx(1 - 1.65 / 505)
    assert sg1.passed
    assert goals["SG2"].passed and goals["SG3"].passed
