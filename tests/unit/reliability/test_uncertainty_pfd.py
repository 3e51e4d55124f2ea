"""Monte Carlo of the PFDavg (fta/uncertainty.py): a closed form on a proof-tested 1oo1 over a lognormal rate,
a brute-force time integration of every trial of a staggered 1oo2, the per-trial quadrature against the point
figure of fta/demand.py, and the CLI's JSON key."""

from __future__ import annotations

import dataclasses
import json
import math
import random
from pathlib import Path
from statistics import NormalDist

from click.testing import CliRunner

from safetyops_dsl.api import analyse, check
from safetyops_dsl.cli.main import cli
from safetyops_dsl.fta.demand import demand_figures
from safetyops_dsl.fta.timing import Timing
from safetyops_dsl.fta.tree import BasicEvent, FaultTree, Gate, GateKind, MefExpr
from safetyops_dsl.fta.uncertainty import lognormal_sigma, propagate, quantile

ROOT = Path(__file__).resolve().parents[3]


def _f(x: float) -> MefExpr:
    return MefExpr("float", x)


def _lognormal(mean: float, ef: float) -> MefExpr:
    return MefExpr("lognormal-deviate", args=(_f(mean), _f(ef), _f(0.95)))


def _tested(name: str, lam: float, tau: float, first: float, mission: float) -> BasicEvent:
    expr = MefExpr("periodic-test", args=(MefExpr("parameter", name="lam"), _f(tau), _f(first), _f(mission)))
    timing = Timing("periodic-test", rate=lam, interval=tau, first=first)
    return BasicEvent(name, 0.0, timing=timing, expression=expr)


def test_1oo1_pfd_avg_distribution_is_the_closed_form_over_a_lognormal_rate() -> None:
    """PFDavg(lambda) = 1 - (1 - e^(-x)) / x with x = lambda tau over whole test cycles, increasing in lambda: its
    quantiles are the function at the lognormal's quantiles, and its mean is the series
    E[x]/2 - E[x^2]/6 + E[x^3]/24 with E[lambda^k] = m^k exp(k (k - 1) sigma^2 / 2)."""
    mean, ef, tau = 2e-5, 3.0, 8760.0
    tree = FaultTree("T", "top", {"top": Gate("top", GateKind.NULL, ("x",))},
                     {"x": _tested("x", mean, tau, tau, 5 * tau)}, mission_time=5 * tau,
                     parameters={"lam": (_lognormal(mean, ef), "hours-1")})
    f = propagate(tree, 20_000, 3)
    assert f is not None and f.pfd_avg is not None
    p = f.pfd_avg
    s = lognormal_sigma(ef)
    moment = [mean ** k * tau ** k * math.exp(k * (k - 1) * s * s / 2) for k in range(4)]
    exact_mean = moment[1] / 2 - moment[2] / 6 + moment[3] / 24
    assert abs(p.mean - exact_mean) < 4 * p.std / math.sqrt(p.trials)
    mu = math.log(mean) - s * s / 2

    def pfd(lam: float) -> float:
        x = lam * tau
        return 1 - (1 - math.exp(-x)) / x

    for q, got in ((0.05, p.p05), (0.5, p.p50), (0.95, p.p95)):
        assert math.isclose(got, pfd(math.exp(mu + s * NormalDist().inv_cdf(q))), rel_tol=0.04)
    assert math.isclose(p.error_factor, math.sqrt(p.p95 / p.p05))
    assert sum(b.count for b in p.histogram) == p.trials
    # the simplified lambda T1 / 2 would give mean x T1 / 2 = 0.0876; the exact form saturates below it
    assert p.mean < mean * tau / 2


def test_staggered_1oo2_every_trial_against_a_brute_force_integration() -> None:
    """Two channels with one uncertain rate, tested every 100 h, the second 50 h out of phase: the trials'
    rates are drawn again from the same seed and each PFDavg integrated by the midpoint rule on a 0.05 h grid."""
    mean, ef, tau, mission, trials, seed = 1e-3, 2.0, 100.0, 400.0, 150, 5
    events = {"a": _tested("a", mean, tau, tau, mission), "b": _tested("b", mean, tau, tau / 2, mission)}
    tree = FaultTree("T", "top", {"top": Gate("top", GateKind.AND, ("a", "b"))}, events, mission_time=mission,
                     parameters={"lam": (_lognormal(mean, ef), "hours-1")})
    f = propagate(tree, trials, seed)
    assert f is not None and f.pfd_avg is not None

    rng = random.Random(seed)
    s = lognormal_sigma(ef)
    h = 0.05
    steps = round(mission / h)
    brute = []
    for _ in range(trials):
        lam = rng.lognormvariate(math.log(mean) - s * s / 2, s)

        def q(first: float, t: float, lam: float = lam) -> float:
            since = t if t < first else (t - first) % tau
            return -math.expm1(-lam * since)

        brute.append(math.fsum(q(tau, (k + 0.5) * h) * q(tau / 2, (k + 0.5) * h) for k in range(steps)) / steps)
    ordered = sorted(brute)
    m = math.fsum(brute) / trials
    sd = math.sqrt(math.fsum((x - m) ** 2 for x in brute) / (trials - 1))
    p = f.pfd_avg
    assert math.isclose(p.mean, m, rel_tol=1e-5) and math.isclose(p.std, sd, rel_tol=1e-4)
    for q_, got in ((0.05, p.p05), (0.5, p.p50), (0.95, p.p95)):
        assert math.isclose(got, quantile(ordered, q_), rel_tol=1e-5)


def test_the_per_trial_quadrature_matches_the_point_pfd_avg() -> None:
    """With every distribution collapsed to its point value (a normal deviate with sd 0), each trial's PFDavg is
    the demand analysis's figure: the lighter quadrature costs less than 1e-5 of it on the HIPPS example."""
    checked = check([ROOT / "models" / "sif_reliability"])
    assert checked.model is not None
    results = analyse(checked.model)
    ((tree, _),) = results.trees
    point = {n: (MefExpr("normal-deviate", args=(body.args[0], _f(0.0))), u)
             for n, (body, u) in tree.parameters.items() if body.tag == "lognormal-deviate"}
    assert len(point) == 2
    collapsed = dataclasses.replace(tree, parameters={**tree.parameters, **point})
    f = propagate(collapsed, 3, 1)
    assert f is not None and f.pfd_avg is not None and f.pfd_avg.std < 1e-15
    assert math.isclose(f.pfd_avg.mean, demand_figures(tree).pfd_avg, rel_tol=1e-5)


def test_the_cli_reports_pfd_avg_under_uncertainty_only_for_a_demand_mode_tree(tmp_path: Path) -> None:
    run = CliRunner().invoke(cli, ["fta", str(ROOT / "models" / "sif_reliability"), "--no-importance",
                                   "--uncertainty", "50", "--seed", "2", "--format", "json"])
    assert run.exit_code == 0, run.output
    u = json.loads(run.output)["uncertainty"]["Overpressure"]
    assert set(u["pfd_avg"]) == {"trials", "seed", "mean", "std", "p05", "p50", "p95", "error_factor", "histogram"}
    assert u["pfd_avg"]["trials"] == 50 and u["pfd_avg"]["mean"] < u["mean"]
    text = CliRunner().invoke(cli, ["fta", str(ROOT / "models" / "sif_reliability"), "--no-importance",
                                    "--uncertainty", "50", "--seed", "2"]).output
    assert "Uncertainty: PFDavg over the same trials" in text
    (tmp_path / "m.sops").write_text("""mission_time 1000 h
parameter lam = 1e-5 per h uncertainty lognormal ef 3
system S {
    out o
    failure a rate lam
    o.omission <- a
}
hazard H "h" {
    severity S3 exposure E4 controllability C3
    system S
    when o.omission
}
safety_goal G "g" mitigates H
""")
    run = CliRunner().invoke(cli, ["fta", str(tmp_path), "--uncertainty", "20", "--format", "json"])
    assert run.exit_code == 0, run.output
    assert "pfd_avg" not in json.loads(run.output)["uncertainty"]["H"]
