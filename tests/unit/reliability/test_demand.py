"""PFDavg and PFH on the BDD (fta/demand.py) against closed forms and an independent integration of the
enumerated top-event probability; the IEC 61508-6 cross-check (analysis/demand.py) on the SIF example."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from safetyops_dsl.analysis.pipeline import analyse
from safetyops_dsl.api import check
from safetyops_dsl.fta.demand import demand_figures, gauss_legendre
from safetyops_dsl.fta.timing import Timing
from safetyops_dsl.fta.tree import BasicEvent, FaultTree, Gate, GateKind

ROOT = Path(__file__).resolve().parents[3]


def tree(gate: Gate, events: dict[str, Timing], mission: float, more: tuple[Gate, ...] = ()) -> FaultTree:
    basic = {n: BasicEvent(n, t.q(mission), timing=t) for n, t in events.items()}
    gates = {g.name: g for g in (gate, *more)}
    return FaultTree("T", gate.name, gates, basic, mission_time=mission)


def test_gauss_legendre_integrates_polynomials_exactly() -> None:
    nodes, weights = gauss_legendre(8)
    for degree in range(16):
        exact = 0.0 if degree % 2 else 2.0 / (degree + 1)
        assert math.isclose(sum(w * x**degree for x, w in zip(nodes, weights, strict=True)), exact, abs_tol=1e-14)


@settings(max_examples=25, deadline=None)
@given(lam=st.floats(1e-8, 1e-3), tau=st.floats(10.0, 20_000.0), cycles=st.integers(1, 5))
def test_1oo1_pfd_avg_is_the_closed_form(lam: float, tau: float, cycles: int) -> None:
    """Tested every tau, repaired at once, over whole cycles: PFDavg = 1 - (1 - exp(-lam tau)) / (lam tau)."""
    t = tree(Gate("top", GateKind.NULL, ("x",)), {"x": Timing("periodic-test", rate=lam, interval=tau, first=tau)},
             tau * cycles)
    fig = demand_figures(t)
    x = lam * tau
    # 1 + expm1(-x)/x cancels to ~1e-8 relative at x ~ 1e-7: below 1e-2 the alternating series
    # x/2 - x^2/6 + x^3/24 - ... (terms x^k/(k+1)!) is exact to double precision
    exact = sum((-1) ** (k + 1) * x**k / math.factorial(k + 1) for k in range(1, 9)) if x < 1e-2 \
        else 1.0 + math.expm1(-x) / x
    assert math.isclose(fig.pfd_avg, exact, rel_tol=1e-9)
    assert fig.pfd_error_bound <= 1e-9 * exact
    if x < 1e-3:
        assert math.isclose(fig.pfd_avg, x / 2, rel_tol=x)  # the textbook lambda T / 2


def test_untested_pfh_is_the_unreliability_over_the_mission() -> None:
    """Nothing repairs the function: the average frequency of the top event is exactly Q(T) / T."""
    events = {n: Timing("exponential", rate=r) for n, r in (("a", 2e-4), ("b", 5e-5), ("c", 1e-4))}
    t = tree(Gate("top", GateKind.OR, ("a", "g")), events, 5000.0, (Gate("g", GateKind.AND, ("b", "c")),))
    fig = demand_figures(t)
    assert math.isclose(fig.pfh * 5000.0, fig.pfd_at_end, rel_tol=1e-10)


def test_glm_average_is_the_closed_form() -> None:
    lam, mu, horizon = 1e-3, 1e-1, 1000.0
    t = tree(Gate("top", GateKind.NULL, ("x",)), {"x": Timing("GLM", rate=lam, repair_rate=mu)}, horizon)
    r = lam + mu
    exact = lam / r * (1.0 - (1.0 - math.exp(-r * horizon)) / (r * horizon))
    assert math.isclose(demand_figures(t).pfd_avg, exact, rel_tol=1e-9)


def _q_independent(lam: float, tau: float, first: float, coverage: float, duration: float, t: float) -> float:
    """A proof-tested failure written out again (instant repair): the revealed share restarts at each test, the
    rest grows from 0, and a test in progress makes the function unavailable."""
    if t >= first and (t - first) % tau < duration:
        return 1.0
    since = t if t < first else (t - first) % tau
    return 1.0 - math.exp(-coverage * lam * since) * math.exp(-(1.0 - coverage) * lam * t)


def test_2oo3_plus_1oo1_against_an_enumerated_fine_grid_integration() -> None:
    year = 8760.0
    spec = {"s1": (3e-5, year, year, 0.9, 0.0), "s2": (3e-5, year, year / 2, 0.9, 0.0),
            "s3": (3e-5, year, year, 0.9, 0.0), "v": (1e-5, year / 2, year / 2, 1.0, 12.0)}
    events = {n: Timing("periodic-test", rate=lam, interval=tau, first=th, coverage=c, test_duration=d)
              for n, (lam, tau, th, c, d) in spec.items()}
    mission = 2 * year
    t = tree(Gate("top", GateKind.OR, ("vote", "v")), events, mission,
             (Gate("vote", GateKind.ATLEAST, ("s1", "s2", "s3"), 2),))
    fig = demand_figures(t)

    def top(t_: float) -> float:  # every state of the four events, the structure function written out
        q = {n: _q_independent(*spec[n], t_) for n in spec}
        total = 0.0
        for bits in itertools.product((0, 1), repeat=4):
            state = dict(zip(("s1", "s2", "s3", "v"), bits, strict=True))
            if state["v"] or state["s1"] + state["s2"] + state["s3"] >= 2:
                total += math.prod(q[n] if state[n] else 1.0 - q[n] for n in state)
        return total

    # midpoint rule on a 1 h grid (every test and test end falls on the grid): error far below 1e-5 relative
    steps = int(mission)
    grid = sum(top(i + 0.5) for i in range(steps)) / steps
    assert math.isclose(fig.pfd_avg, grid, rel_tol=2e-6)


def test_the_sif_example_demand_section_and_cross_check() -> None:
    checked = check([ROOT / "models" / "sif_reliability"])
    assert checked.model is not None and checked.ok
    (row,) = analyse(checked.model).demand
    assert row.hazard == "Overpressure" and row.mission_time_hours == 87600.0
    assert row.pfd_avg_error_bound < 1e-9 * row.pfd_avg
    groups = {g.group: g for g in row.groups}
    assert {g: x.architecture for g, x in groups.items()} == {
        "LogicSolver.NoTrip": "1oo1", "ShutdownValve.FailToClose": "1oo2", "Transmitter.FrozenOutput": "2oo3"}
    plc = groups["LogicSolver.NoTrip"]
    # IEC 61508-6 1oo1: lambda_DU (T1 / 2 + MRT), by hand
    assert math.isclose(plc.pfd_formula or 0.0, 5e-8 * (8760 / 2 + 8), rel_tol=1e-12)
    xv = groups["ShutdownValve.FailToClose"]
    lam, beta, tce, tge = 2.4e-6, 0.1, 8760 / 2 + 8, 8760 / 3 + 8
    assert math.isclose(xv.pfd_formula or 0.0, 2 * ((1 - beta) * lam) ** 2 * tce * tge + beta * lam * tce,
                        rel_tol=1e-12)
    for g in row.groups:  # the formulas approximate the exact averages within a few per cent here
        assert g.pfd_formula is not None and abs(g.pfd_formula / g.pfd_exact - 1.0) < 0.03
    # a series of groups: the whole function is close to (and not above) the sum of its groups
    assert row.pfd_simplified is not None
    assert row.pfd_avg <= sum(g.pfd_exact for g in row.groups) * (1 + 1e-12)
    assert abs(row.pfd_avg / row.pfd_simplified - 1.0) < 0.02


def test_hipps_pfd_avg_agrees_with_scram_on_a_fine_time_step(corpus: Path, scram: str, tmp_path: Path) -> None:
    """SCRAM integrates Q(t) by the trapezoid rule on its time step: at 1 h it over-counts every test's drop
    (0.0123726); at 0.1 h it meets the piecewise exact average to its 6 printed digits."""
    import subprocess
    import xml.etree.ElementTree as ET

    from safetyops_dsl.fta.openpsa import load_openpsa

    source = corpus / "input" / "HIPPS" / "HIPPS.xml"
    (t,) = load_openpsa([str(source)], 8760.0)
    fig = demand_figures(t)
    report = tmp_path / "sil.xml"
    subprocess.run([scram, str(source), "--sil", "true", "--time-step", "0.1", "--mission-time", "8760",
                    "-o", str(report)], check=True, capture_output=True, timeout=120)
    sil = ET.parse(report).getroot().find(".//safety-integrity-levels")
    assert sil is not None
    assert math.isclose(fig.pfd_avg, float(sil.get("PFD-avg", "nan")), rel_tol=1e-5)
    assert math.isclose(fig.pfd_at_end, 1.62091e-3, rel_tol=1e-5)  # SCRAM's own HIPPS test value
