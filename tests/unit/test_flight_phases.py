"""ARP4761A at-risk time: a failure condition of some flight phases is exposed for the phases' durations (the
package's `flight_phase` operating profile), its average probability per flight hour is P(over the flight) /
flight time (AMC 25.1309 11e), `exposure N x mission` stays N flights; closed forms, and the errors."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from safetyops_dsl.api import analyse, check

MODEL = """package f
standard arp4761a
mission_time 2 h
flight_phase Taxi 20 min
flight_phase Cruise 94 min
flight_phase Landing 6 min "touchdown to taxi speed"
component Unit "u" {
    out o, p, q
    failure A rate 1e-5 per h "a"
    failure B rate 3e-4 per h exposure 1 x mission "latent until the pre-flight check"
    failure C rate 2e-6 per h exposure 10 x mission "checked every ten flights"
    o.omission <- A
    p.omission <- A and B
    q.omission <- A and C
}
system S "s" {
    out o, p, q
    part u : Unit
    connect u.o -> o
    connect u.p -> p
    connect u.q -> q
}
hazard FC_ALL "whole flight" {
    function "f"
    severity Major
    when o.omission
}
hazard FC_LAND "landing and taxi" {
    function "f"
    phase Landing, Taxi
    severity Major
    when o.omission
}
hazard FC_LATENT "landing, with a latent failure" {
    function "f"
    phase Landing
    severity Hazardous
    when p.omission
}
hazard FC_CHECKED "landing, with a failure checked every ten flights" {
    function "f"
    phase Landing
    severity Hazardous
    when q.omission
}
safety_goal G1 "g" mitigates FC_ALL, FC_LAND, FC_LATENT, FC_CHECKED
"""


def _fha(tmp_path: Path, text: str = MODEL):  # type: ignore[no-untyped-def]
    (tmp_path / "m.sops").write_text(text)
    c = check([tmp_path])
    assert c.model is not None and not [d for d in c.diagnostics if d.level.value == "error"], c.diagnostics
    r = analyse(c.model)
    assert r.profile is not None
    return {row.condition: row for row in r.profile.fha}


def _p(lam: float, t: float) -> float:
    return -math.expm1(-lam * t)


def test_at_risk_exposure_and_probability_per_flight_hour_are_the_closed_forms(tmp_path: Path) -> None:
    rows = _fha(tmp_path)
    flight, landing, taxi = 2.0, 0.1, 20 / 60
    # no phase: exposed for the whole flight, as before
    assert rows["FC_ALL"].at_risk_h is None
    assert math.isclose(rows["FC_ALL"].achieved_per_fh or 0, _p(1e-5, flight) / flight, rel_tol=1e-12)
    # landing and taxi: exposed for 6 + 20 min, divided by the 2 h flight
    assert math.isclose(rows["FC_LAND"].at_risk_h or 0, landing + taxi, rel_tol=1e-12)
    assert math.isclose(rows["FC_LAND"].achieved_per_fh or 0, _p(1e-5, landing + taxi) / flight, rel_tol=1e-12)
    # a latent failure with `exposure 1 x mission` is exposed for the flight, the other for the landing
    assert math.isclose(rows["FC_LATENT"].achieved_per_fh or 0,
                        _p(1e-5, landing) * _p(3e-4, flight) / flight, rel_tol=1e-12)
    # `10 x mission` is ten flights, not ten landings
    assert math.isclose(rows["FC_CHECKED"].achieved_per_fh or 0,
                        _p(1e-5, landing) * _p(2e-6, 10 * flight) / flight, rel_tol=1e-12)


def test_the_fha_table_shows_the_at_risk_time(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from safetyops_dsl.cli.main import cli

    (tmp_path / "m.sops").write_text(MODEL)
    out = CliRunner().invoke(cli, ["hara", str(tmp_path)]).output
    assert "| At-risk time (h) |" in out
    line = [x for x in out.splitlines() if x.startswith("| `FC_LAND`")][-1]  # the FHA sheet comes last
    assert "| Landing, Taxi |" in line and "| 0.433333 |" in line


@pytest.mark.parametrize(("old", "new", "code", "words"), [
    ("phase Landing, Taxi", "phase Landing, Taxing", "SOPS170", "flight phase 'Taxing' has no `flight_phase`"),
    ("flight_phase Cruise 94 min", "flight_phase Cruise 194 min", "", ""),
    ("flight_phase Taxi 20 min", "flight_phase Taxi 200 min", "SOPS171", "last 3.43333 h, longer than the 2 h"),
    ("standard arp4761a", "standard iec61508", "SOPS142", "a flight_phase is not used"),
])
def test_bad_operating_profiles_are_positioned_errors(tmp_path: Path, old: str, new: str, code: str,
                                                      words: str) -> None:
    (tmp_path / "m.sops").write_text(MODEL.replace(old, new, 1))
    diags = [d for d in check([tmp_path]).diagnostics if d.code in ("SOPS170", "SOPS171", "SOPS142")]
    if not code:  # a phase no condition names may be longer than the others: the profile is not summed
        assert diags == []
        return
    found = [d for d in diags if d.code == code]
    assert found and words in found[0].message, diags
    assert found[0].location.line > 0


def test_the_diff_shows_a_changed_flight_phase_and_the_moved_result(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from safetyops_dsl.cli.main import cli

    old, new = tmp_path / "a" / "f", tmp_path / "b" / "f"
    old.mkdir(parents=True)
    new.mkdir(parents=True)
    (old / "m.sops").write_text(MODEL)
    (new / "m.sops").write_text(MODEL.replace("flight_phase Landing 6 min", "flight_phase Landing 9 min"))
    out = CliRunner().invoke(cli, ["diff", str(old), str(new)]).output
    assert "flight phase `f.Landing` changed" in out and "`0.1 h` → `0.15 h`" in out, out
    assert CliRunner().invoke(cli, ["fmt", "--check", str(old)]).exit_code == 0
