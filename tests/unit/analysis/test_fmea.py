"""FMEA rows: effects through the dependency graph, hazards and single points from the cut sets, coverage,
residual rates, AIAG-VDA action priority."""

from __future__ import annotations

from pathlib import Path

import pytest

from safetyops_dsl.analysis.fmea import FmeaRow, action_priority, build_fmea
from safetyops_dsl.api import check

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def aeb() -> dict[str, FmeaRow]:
    checked = check([ROOT / "models" / "aeb"])
    assert checked.model is not None
    return {r.event: r for r in build_fmea(checked.model).rows}


def test_one_row_per_instance_failure_mode(aeb: dict[str, FmeaRow]) -> None:
    # Radar is instantiated twice: two rows per radar failure mode
    assert "AEB.radars.main.NoEcho" in aeb and "AEB.radars.aux.NoEcho" in aeb
    assert len(aeb) == 19  # 16 failures and triggers with logic, 3 triggers that `reveal` a failure mode


def test_effects(aeb: dict[str, FmeaRow]) -> None:
    no_echo = aeb["AEB.radars.main.NoEcho"]
    assert no_echo.local_effects == ("tracks.omission",)
    # next level: the boundary of the radar cluster, not of the system
    assert no_echo.next_level_effects == ("AEB.radars.tracks.omission",)
    # only together with the other radar (and a camera fault): in H1, never alone
    assert no_echo.hazards == ("H1",) and no_echo.single_point_for == ()
    stuck = aeb["AEB.camera.ImagerStuck"]
    # value.stuck refines value: perception reacts to it as `value` (omission) and as `value.stuck` (late);
    # the base deviation is not listed beside its refinement
    assert stuck.local_effects == ("frames.value.stuck",)
    assert stuck.next_level_effects == ("AEB.pressure.late", "AEB.pressure.omission")
    assert stuck.hazards == ("H1", "H3") and stuck.single_point_for == ("H3",)


def test_severity_asil_coverage_residual(aeb: dict[str, FmeaRow]) -> None:
    cpu = aeb["AEB.ecu.CPUFault"]
    assert cpu.single_point_for == ("H1", "H2")
    assert cpu.worst_severity == 3 and cpu.worst_asil == "D"  # H1 is S3 E4 C3
    assert [m.name for m in cpu.mechanisms] == ["Lockstep"]
    assert cpu.mechanisms[0].latent_coverage == pytest.approx(0.9)
    assert cpu.coverage == pytest.approx(0.99)
    assert cpu.residual_rate_per_hour == pytest.approx(50e-9 * 0.01)
    ghost = aeb["AEB.perception.GhostObject"]
    assert ghost.worst_asil == "C"  # only H2 (S3 E4 C2)
    low_sun = aeb["AEB.camera.LowSun"]
    assert low_sun.kind == "trigger" and low_sun.rate_per_hour is None
    assert low_sun.residual_probability == pytest.approx(0.02)


def test_mode_in_no_hazard(tmp_path: Path) -> None:
    checked = check([ROOT / "models" / "insulin_pump"])
    assert checked.model is not None
    rows = {r.event: r for r in build_fmea(checked.model).rows}
    drift = rows["InsulinPump.drive.encoder.EncoderDrift"]
    assert drift.hazards == () and drift.worst_asil is None and drift.worst_severity is None
    # a part nested two levels down: next-level effect at the drive unit's boundary
    assert drift.next_level_effects == ("InsulinPump.drive.position.value",)


def test_aiag_columns(tmp_path: Path) -> None:
    (tmp_path / "m.sops").write_text(
        """
package a
component C "c" {
    out o
    failure F rate 10 FIT "f" aiag severity 9 occurrence 4 detection 5
    failure G rate 10 FIT "g"
    o.omission <- F or G
}
system S "s" { out o  part c : C  connect c.o -> o }
""",
        encoding="utf-8",
    )
    checked = check([tmp_path])
    assert checked.model is not None
    table = build_fmea(checked.model)
    assert table.has_aiag
    rows = {r.failure_mode: r for r in table.rows}
    assert rows["F"].action_priority == "H" and rows["F"].aiag is not None
    assert rows["G"].action_priority is None


# AIAG & VDA FMEA Handbook (2019), design FMEA action priority, as printed: severity band, occurrence band,
# then AP for detection 7-10 / 5-6 / 2-4 / 1.
AP_TABLE = """
9-10 8-10 H H H H
9-10 6-7  H H H H
9-10 4-5  H H H M
9-10 2-3  H M L L
9-10 1    L L L L
7-8  8-10 H H H H
7-8  6-7  H H H M
7-8  4-5  H M M M
7-8  2-3  M M L L
7-8  1    L L L L
4-6  8-10 H H M M
4-6  6-7  M M M L
4-6  4-5  M L L L
4-6  2-3  L L L L
4-6  1    L L L L
2-3  8-10 M M L L
2-3  6-7  L L L L
2-3  4-5  L L L L
2-3  2-3  L L L L
2-3  1    L L L L
1    1-10 L L L L
"""


def _span(text: str) -> range:
    lo, _, hi = text.partition("-")
    return range(int(lo), int(hi or lo) + 1)


def test_action_priority_every_cell() -> None:
    expected: dict[tuple[int, int, int], str] = {}
    for line in AP_TABLE.strip().splitlines():
        s_band, o_band, *aps = line.split()
        for s in _span(s_band):
            for o in _span(o_band):
                for d_band, ap in zip(("7-10", "5-6", "2-4", "1"), aps, strict=True):
                    for d in _span(d_band):
                        expected[(s, o, d)] = ap
    assert len(expected) == 1000
    for (s, o, d), ap in expected.items():
        assert action_priority(s, o, d) == ap, (s, o, d)
    with pytest.raises(ValueError):
        action_priority(0, 5, 5)
