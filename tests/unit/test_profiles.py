"""Standard profiles (model/profiles, analysis/profile_report.py): every table cell against the standard's table
as printed in the public sources cited in docs/profiles/, written out here independently of the code, and the
profile tables of the example models against hand computations."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from safetyops_dsl.analysis.pipeline import analyse
from safetyops_dsl.analysis.profile_report import element_sff
from safetyops_dsl.api import check
from safetyops_dsl.model.profiles import arp4761a, iec61508

ROOT = Path(__file__).resolve().parents[2]

# IEC 61508-1:2010 Table 2 (low demand, PFDavg) and Table 3 (high demand / continuous, PFH), [low, high)
PFD = {4: (1e-5, 1e-4), 3: (1e-4, 1e-3), 2: (1e-3, 1e-2), 1: (1e-2, 1e-1)}
PFH = {4: (1e-9, 1e-8), 3: (1e-8, 1e-7), 2: (1e-7, 1e-6), 1: (1e-6, 1e-5)}

# IEC 61508-2:2010 Tables 2 and 3 (Route 1H). Rows SFF < 60 %, 60-90 %, 90-99 %, >= 99 %; columns HFT 0, 1, 2.
TYPE_A = {0.30: (1, 2, 3), 0.75: (2, 3, 4), 0.95: (3, 4, 4), 0.995: (3, 4, 4)}
TYPE_B = {0.30: (0, 1, 2), 0.75: (1, 2, 3), 0.95: (2, 3, 4), 0.995: (3, 4, 4)}

# IEC 61511-1:2016 Table 6: SIL -> (minimum HFT low demand, high / continuous demand)
MIN_HFT = {1: (0, 0), 2: (0, 1), 3: (1, 1), 4: (2, 2)}

# AC 25.1309-1B / AMC 25.1309: class -> (objective per flight hour, top-level FDAL)
ARP = {"Catastrophic": (1e-9, "A"), "Hazardous": (1e-7, "B"), "Major": (1e-5, "C"), "Minor": (None, "D"),
       "NoSafetyEffect": (None, "E")}


@pytest.mark.parametrize("sil", [1, 2, 3, 4])
def test_sil_bands(sil: int) -> None:
    assert iec61508.band(sil, "low") == PFD[sil]
    assert iec61508.band(sil, "high") == PFH[sil] == iec61508.band(sil, "continuous")


@pytest.mark.parametrize("mode,table", [("low", PFD), ("high", PFH)])
def test_bands_are_half_open(mode: str, table: dict[int, tuple[float, float]]) -> None:
    for sil, (low, high) in table.items():
        assert iec61508.sil_of_value(low, mode) == sil  # the lower decade belongs to the band
        assert iec61508.sil_of_value(high * 0.999, mode) == sil
    assert iec61508.sil_of_value(table[1][1], mode) == iec61508.NO_SIL
    assert iec61508.sil_of_value(table[4][0] * 0.5, mode) == iec61508.BEYOND_SIL4


@given(st.floats(min_value=1e-12, max_value=1.0))
def test_sil_of_value_lands_in_its_band(value: float) -> None:
    sil = iec61508.sil_of_value(value, "low")
    if sil == iec61508.NO_SIL:
        assert value >= 0.1
    elif sil == iec61508.BEYOND_SIL4:
        assert value < 1e-5
    else:
        low, high = PFD[sil]
        assert low <= value < high


@pytest.mark.parametrize("etype,table", [("A", TYPE_A), ("B", TYPE_B)])
def test_route_1h_every_cell(etype: str, table: dict[float, tuple[int, int, int]]) -> None:
    for sff, by_hft in table.items():
        for hft, sil in enumerate(by_hft):
            assert iec61508.route_1h(etype, hft, sff) == sil, (etype, sff, hft)
    assert iec61508.route_1h(etype, 3, 0.30) == table[0.30][2]  # HFT above 2 claims what HFT 2 claims


def test_route_1h_sff_boundaries() -> None:
    # the SFF rows are [0, 60 %), [60 %, 90 %), [90 %, 99 %), [99 %, 100 %]
    assert [iec61508.route_1h("B", 0, x) for x in (0.5999, 0.60, 0.8999, 0.90, 0.9899, 0.99)] == [0, 1, 1, 2, 2, 3]


@pytest.mark.parametrize("sil", [1, 2, 3, 4])
def test_iec61511_minimum_hft(sil: int) -> None:
    low, high = MIN_HFT[sil]
    assert iec61508.min_hft_61511(sil, "low") == low
    assert iec61508.min_hft_61511(sil, "high") == high == iec61508.min_hft_61511(sil, "continuous")


def test_lopa_worked_example() -> None:
    # 1library "total risk LOPA": summed intermediate likelihood 1.717e-3 /yr, tolerable 3e-5 /yr -> 1.75e-2, SIL 1
    pfd = iec61508.lopa_required_pfd(1.717e-3, (), 3e-5)
    assert pfd == pytest.approx(1.747e-2, rel=1e-3)
    assert iec61508.sil_of_value(pfd, "low") == 1
    # the IPLs multiply the demand; units cancel (per year on both sides, or per hour on both)
    assert iec61508.lopa_required_pfd(0.2 / 8760, (0.1,), 1e-5 / 8760) == pytest.approx(5e-4)


@pytest.mark.parametrize("cls", list(ARP))
def test_arp4761a_objectives_and_fdal(cls: str) -> None:
    assert (arp4761a.OBJECTIVE_PER_FH[cls], arp4761a.FDAL[cls]) == ARP[cls]
    assert arp4761a.most_severe(["Minor", cls, "Major"]) == min(("Minor", cls, "Major"), key=list(ARP).index)


# -- the example models -------------------------------------------------------------------------------------


def _results(rel: str, overrides: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    checked = check([ROOT / rel], overrides=overrides)  # type: ignore[arg-type]
    assert checked.model is not None and not [d for d in checked.diagnostics if d.level.value == "error"]
    return analyse(checked.model)


def test_sif_verification_row() -> None:
    r = _results("models/sif_iec61511")
    assert r.profile is not None
    (row,) = r.profile.sil
    # LOPA: 1e-5 /y / (0.2 /y x 0.1) = 5e-4 -> SIL 3 (band [1e-4, 1e-3))
    assert row.required_value == pytest.approx(5e-4) and row.required_sil == 3
    # the calibrated risk graph (models/sif_iec61511/risk_graph.sops) cross-checks it: C3 F1 P2 -> X4, demand
    # 0.2 per y in the W2 band [0.03, 0.3) per y -> SIL 2; the stricter LOPA governs
    assert row.sil_source == "LOPA HZ_OP; risk graph HZ_OP"
    assert row.risk_graph == ("HZ_OP: C3 F1 P2 \u2192 X4 \u2192 W2 (demand 0.2 per y): SIL 2",)
    assert row.target_band == "PFDavg in [1e-04, 1e-03)"
    # SFF by hand: transmitter 500 FIT, 40 % safe, DC 90 % of the dangerous rest: 1 - 0.6 x 0.1 = 94 %;
    # valve 2000 FIT, 30 % safe, DC 60 %: 1 - 0.7 x 0.4 = 72 %; CPU channel 50 % safe, DC 99 %: 99.5 %
    sff = {e.component: e.sff for e in r.profile.elements}
    assert sff == pytest.approx({"PressureTransmitter": 0.94, "ShutdownValve": 0.72, "CpuChannel": 0.995})
    # 2oo3 transmitters, 1oo2 valves, 1oo2 CPUs: every element tolerates one fault (HFT 1), the common causes
    # (order-1 cut sets) notwithstanding
    assert {e.element: e.hft for e in r.profile.elements} == {
        f"Separator.{p}": 1 for p in ("pt1", "pt2", "pt3", "cpu1", "cpu2", "xv1", "xv2")}
    assert row.architectural_sil == 3  # IEC 61511-1 Table 6: HFT 1 meets SIL 3, not SIL 4 (HFT 2)
    # the proof tests give the achieved PFDavg (tests/unit/test_profile_demand.py checks the figure)
    assert row.achieved is not None and row.achieved_text == f"{row.achieved:.3g}" and row.verdict == "pass"


def test_sif_under_iec61508_uses_route_1h() -> None:
    path = ROOT / "models" / "sif_iec61511" / "sif.sops"
    text = path.read_text(encoding="utf-8").replace("standard iec61511", "standard iec61508")
    r = _results("models/sif_iec61511", {str(path): text})
    assert r.profile is not None
    limits = {e.component: e.route_1h_sil for e in r.profile.elements}
    # type B HFT 1 SFF 94 % -> SIL 3; type B HFT 1 99.5 % -> SIL 4; type A HFT 1 72 % -> SIL 3
    assert limits == {"PressureTransmitter": 3, "CpuChannel": 4, "ShutdownValve": 3}
    assert r.profile.sil[0].architectural_sil == 3


def test_element_sff_leaves_out_probabilities_and_systematic_faults() -> None:
    r = _results("models/insulin_pump_iso14971")
    advisor = r.model.components["pump.BolusAdvisor"]
    # 500 FIT OverEstimate with a 95 % monitor; the trigger (a probability) is not a hardware failure
    assert element_sff(advisor) == pytest.approx(0.95)


FHA = """package f
standard arp4761a
mission_time 2 h
component Unit "u" {
    out o, p
    failure A rate 1e-5 per h "a"
    failure B rate 3e-5 per h "b"
    failure C rate 1e-11 per h "c"
    o.omission <- (A and B) or C
    p.omission <- A and B
}
system S "s" {
    out o, p
    part u : Unit
    connect u.o -> o
    connect u.p -> p
}
hazard FC1 "Loss" {
    phase Landing
    severity Catastrophic
    when o.omission
}
hazard FC2 "Loss, dual only" {
    severity Catastrophic
    when p.omission
}
safety_goal G mitigates FC1, FC2
"""


def test_fha_objective_and_single_failures(tmp_path: Path) -> None:
    (tmp_path / "f.sops").write_text(FHA, encoding="utf-8")
    r = _results(str(tmp_path))
    assert r.profile is not None
    rows = {f.condition: f for f in r.profile.fha}
    t = 2.0
    pa, pb, pc = (1 - math.exp(-lam * t) for lam in (1e-5, 3e-5, 1e-11))
    assert rows["FC2"].achieved_per_fh == pytest.approx(pa * pb / t, rel=1e-9)
    assert rows["FC2"].single_failures == () and rows["FC2"].verdict == "pass"
    # C alone leads to FC1: the single-failure rule fails although the probability meets 1e-9
    fc1 = rows["FC1"]
    assert fc1.achieved_per_fh == pytest.approx((pa * pb + pc - pa * pb * pc) / t, rel=1e-9)
    assert fc1.achieved_per_fh < 1e-9
    assert fc1.single_failures == ("S.u.C",) and fc1.verdict == "fail"
    assert (fc1.classification, fc1.objective_per_fh, fc1.fdal, fc1.phases) == ("Catastrophic", 1e-9, "A",
                                                                                ("Landing",))


def test_iso14971_zones_come_from_the_model_matrix() -> None:
    r = _results("models/insulin_pump_iso14971")
    matrix = r.model.risk_matrix_by_package["pump"]
    expected = {  # as the model writes it, row by row
        "Frequent": "RUUUU", "Probable": "ARUUU", "Occasional": "ARRUU", "Remote": "AARRU", "Improbable": "AAARR"}
    for prob, zones in expected.items():
        for sev, zone in zip(matrix.severities, zones, strict=True):
            assert matrix.zone(sev, prob) == zone, (sev, prob)
    assert r.profile is not None
    rows = {k.hazard: k for k in r.profile.risk}
    assert (rows["HZ1"].initial_zone, rows["HZ1"].residual_zone, rows["HZ1"].verdict) == ("U", "R", "justify")
    assert rows["HZ3"].residual_severity == "Minor" and rows["HZ3"].residual_probability == "Occasional"
    assert rows["HZ1"].controls == ("PSG1", "PR1", "PR2", "PR3")


def test_iso26262_models_have_no_profile_section() -> None:
    r = _results("models/aeb")
    assert r.profile is None and r.hara.profile is None
