"""The IEC 61508/61511 verification table takes its achieved PFDavg from the demand analysis (the reliability
models) once the model has proof-tested elements, and the gate then judges the target instead of skipping it.

The shipped `models/sif_iec61511` has proof tests on every element; its PFDavg is checked here against an
independent numerical integration: each proof-tested failure as a three-state Markov chain (working, failed
unrevealed, under repair; a test moves a failed one to repair) integrated by RK4 on a half-hour grid, the
function's structure written out by hand, the time average by the midpoint rule on a 1 h grid."""

from __future__ import annotations

import math
import re
import shutil
from pathlib import Path

from safetyops_dsl import api
from safetyops_dsl.analysis.gate import gate_items

ROOT = Path(__file__).resolve().parents[2]
YEAR = 8760.0


def _sif(tmp_path: Path, proof_tested: bool) -> api.Results:
    dest = tmp_path / "sif"
    shutil.copytree(ROOT / "models" / "sif_iec61511", dest)
    if not proof_tested:
        f = dest / "sif.sops"
        text = f.read_text(encoding="utf-8")
        text, n = re.subn(r" proof_test every \d+ y coverage \d+ % mttr \d+ h", "", text)
        assert n == 3
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
    assert 1e-4 <= demand.pfd_avg < 5e-4  # SIL 3 band, and below the LOPA's required 5e-4
    target = [i for i in gate_items(r, [], 1) if i.check == "SIL target"]
    assert [t.status for t in target] == ["pass"]
    assert f"{demand.pfd_avg:.3g}" in target[0].detail


def _tested_member(lam: float, coverage: float, mttr: float, interval: float, mission: float) -> list[float]:
    """q(t) at t = 0, 0.5, 1, ... h of one member: the tested share c lambda as a Markov chain (working,
    failed unrevealed, under repair at rate 1 / MTTR) integrated by RK4, a test at every interval moving the
    failed probability to repair; the untested share (1 - c) lambda never revealed."""
    lam_t, mu, h = coverage * lam, 1.0 / mttr, 0.5

    def rates(ok: float, fail: float, rep: float) -> tuple[float, float, float]:
        return -lam_t * ok + mu * rep, lam_t * ok, -mu * rep

    ok, fail, rep = 1.0, 0.0, 0.0
    out = [0.0]
    per_test = round(interval / h)
    for k in range(1, round(mission / h) + 1):
        k1 = rates(ok, fail, rep)
        k2 = rates(*(x + h / 2 * d for x, d in zip((ok, fail, rep), k1, strict=True)))
        k3 = rates(*(x + h / 2 * d for x, d in zip((ok, fail, rep), k2, strict=True)))
        k4 = rates(*(x + h * d for x, d in zip((ok, fail, rep), k3, strict=True)))
        ok, fail, rep = (x + h / 6 * (a + 2 * b + 2 * c + d)
                         for x, a, b, c, d in zip((ok, fail, rep), k1, k2, k3, k4, strict=True))
        if k % per_test == 0:  # the proof test: a failure it finds goes to repair
            fail, rep = 0.0, rep + fail
        hidden = -math.expm1(-(1.0 - coverage) * lam * k * h)
        out.append(1.0 - (1.0 - (fail + rep)) * (1.0 - hidden))
    return out


def test_sif_pfd_avg_against_an_independent_markov_integration(tmp_path: Path) -> None:
    r = _sif(tmp_path, proof_tested=True)
    (demand,) = r.demand
    mission = 10 * YEAR
    # lambda_DU = rate x (1 - safe) x (1 - diagnostic coverage), as in the model
    pt = _tested_member(500e-9 * 0.6 * 0.1, 0.95, 8.0, YEAR, mission)
    cpu = _tested_member(400e-9 * 0.5 * 0.01, 0.99, 8.0, 2 * YEAR, mission)
    xv = _tested_member(2000e-9 * 0.7 * 0.4, 0.95, 24.0, YEAR, mission)

    def top(i: int) -> float:
        # beta-factor split of each member's probability: independent (1 - beta) q, common cause beta q
        p1, pc = 0.95 * pt[i], 0.05 * pt[i]
        votes = 3 * p1 * p1 * (1 - p1) + p1 ** 3  # 2oo3 of the independent parts
        sensors = 1 - (1 - pc) * (1 - votes)
        c1, cc = 0.98 * cpu[i], 0.02 * cpu[i]
        cpus = 1 - (1 - cc) * (1 - c1 * c1)
        # each valve closes on either channel's command: no command = sensors failed or both channels failed
        command = 1 - (1 - sensors) * (1 - cpus)
        v1, vc = 0.9 * xv[i], 0.1 * xv[i]
        valves = 1 - (1 - vc) * (1 - v1 * v1)
        return 1 - (1 - command) * (1 - valves)

    # midpoint rule on a 1 h grid: the values at 0.5, 1.5, ... h (odd half-hour indices)
    grid = math.fsum(top(2 * k + 1) for k in range(int(mission))) / mission
    assert math.isclose(demand.pfd_avg, grid, rel_tol=1e-5)
    assert math.isclose(demand.pfd_at_mission_end, top(2 * int(mission)), rel_tol=1e-6)
    # the IEC 61508-6 formulas beside it: a series of three groups, within 1 % of the exact figure here
    assert demand.pfd_simplified is not None and abs(demand.pfd_simplified / demand.pfd_avg - 1) < 0.01
    assert {g.group: g.architecture for g in demand.groups} == {
        "CpuChannel.NoTrip": "1oo2", "PressureTransmitter.FailLow": "2oo3", "ShutdownValve.FailToClose": "1oo2"}
