"""Fault-tree synthesis from failure logic: structure, naming, sharing, loops, probabilities."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pytest

from safetyops_dsl.analysis.synthesis import synthesise_all
from safetyops_dsl.api import check
from safetyops_dsl.fta.tree import FaultTree, GateKind

ROOT = Path(__file__).resolve().parents[2]


def trees(tmp_path: Path, text: str) -> dict[str, FaultTree]:
    (tmp_path / "m.sops").write_text(text, encoding="utf-8")
    checked = check([tmp_path])
    errors = [d for d in checked.diagnostics if d.level.value == "error"]
    assert not errors, errors
    assert checked.model is not None
    return {r.tree.name: r.tree for r in synthesise_all(checked.model)}


def evaluate(tree: FaultTree, true_events: set[str]) -> bool:
    def val(name: str) -> bool:
        if name in tree.basic_events:
            return name in true_events
        if name in tree.house_events:
            return tree.house_events[name].state
        g = tree.gates[name]
        xs = [val(i) for i in g.inputs]
        return {
            GateKind.AND: all(xs),
            GateKind.OR: any(xs),
            GateKind.NULL: xs[0] if xs else False,
            GateKind.ATLEAST: sum(xs) >= (g.k or 0),
        }[g.kind]

    return val(tree.top)


def brute_probability(tree: FaultTree) -> float:
    names = sorted(tree.basic_events)
    total = 0.0
    for bits in itertools.product((False, True), repeat=len(names)):
        p = 1.0
        for n, b in zip(names, bits, strict=False):
            q = tree.basic_events[n].probability
            p *= q if b else 1.0 - q
        if evaluate(tree, {n for n, b in zip(names, bits, strict=False) if b}):
            total += p
    return total


REDUNDANT = """
package plant
mission_time 10 h
component Sensor "Wheel speed sensor" {
    in  power
    out speed
    failure Dead rate 1000 FIT
    speed.omission <- Dead or power.omission
}
component Supply "Supply" {
    out power
    failure Fuse rate 500 FIT
    power.omission <- Fuse
}
component Voter "2-of-3 voter" {
    in a, b, c
    out speed
    failure Stuck rate 10 FIT
    mechanism Bist covers Stuck coverage 90 %
    speed.omission <- 2 of (a.omission, b.omission, c.omission) or Stuck
}
system Brake "Brake" {
    out speed
    part supply : Supply
    part s1 : Sensor
    part s2 : Sensor
    part s3 : Sensor
    part voter : Voter
    connect supply.power -> s1.power
    connect supply.power -> s2.power
    connect supply.power -> s3.power
    connect s1.speed -> voter.a
    connect s2.speed -> voter.b
    connect s3.speed -> voter.c
    connect voter.speed -> speed
}
hazard H1 "Loss of wheel speed" {
    severity S2 exposure E3 controllability C2
    when speed.omission
}
safety_goal G1 "Keep wheel speed" mitigates H1
requirement R1 "Vote 2 of 3" refines G1 allocated_to voter asil A
"""


def test_instances_give_distinct_events_and_shared_subtree(tmp_path: Path) -> None:
    t = trees(tmp_path, REDUNDANT)["H1"]
    assert sorted(t.basic_events) == [
        "Brake.s1.Dead", "Brake.s2.Dead", "Brake.s3.Dead", "Brake.supply.Fuse", "Brake.voter.Stuck",
    ]
    # the supply's omission is one gate with three parents (a DAG, not an exploded tree)
    parents = [g.name for g in t.gates.values() if "Brake.supply.power.omission" in g.inputs]
    assert len(parents) == 3
    assert t.gates["Brake.voter.speed.omission"].kind is GateKind.OR
    atleast = [g for g in t.gates.values() if g.kind is GateKind.ATLEAST]
    assert len(atleast) == 1 and atleast[0].k == 2


def test_probabilities_from_rates_coverage_and_mission_time(tmp_path: Path) -> None:
    t = trees(tmp_path, REDUNDANT)["H1"]
    assert t.mission_time == 10
    assert t.basic_events["Brake.s1.Dead"].probability == pytest.approx(-math.expm1(-1000e-9 * 10))
    # covered by a 90 % mechanism: the residual 10 % of 10 FIT remains
    assert t.basic_events["Brake.voter.Stuck"].probability == pytest.approx(-math.expm1(-1e-9 * 10))
    assert t.basic_events["Brake.voter.Stuck"].rate_per_hour == pytest.approx(1e-9)


def test_logic_matches_hand_derivation(tmp_path: Path) -> None:
    t = trees(tmp_path, REDUNDANT)["H1"]
    # H1 = Fuse or Stuck or 2-of-3(Dead_i)
    names = sorted(t.basic_events)
    for bits in itertools.product((False, True), repeat=len(names)):
        on = {n for n, b in zip(names, bits, strict=False) if b}
        deads = sum(1 for i in (1, 2, 3) if f"Brake.s{i}.Dead" in on)
        expected = "Brake.supply.Fuse" in on or "Brake.voter.Stuck" in on or deads >= 2
        assert evaluate(t, on) is expected, on


def test_feedback_loop_is_cut_with_a_note(tmp_path: Path) -> None:
    text = """
package loop
component Ctrl "Controller" {
    in  feedback
    out cmd
    failure SwFault rate 100 FIT
    cmd.omission <- SwFault or feedback.omission
}
component Plant "Plant" {
    in  cmd
    out state
    failure Jam rate 50 FIT
    state.omission <- cmd.omission or Jam
}
system Loop "Closed loop" {
    out state
    part ctrl  : Ctrl
    part plant : Plant
    connect ctrl.cmd     -> plant.cmd
    connect plant.state  -> ctrl.feedback
    connect plant.state  -> state
}
hazard H "Loss of control" {
    severity S1 exposure E1 controllability C1
    when state.omission
}
"""
    t = trees(tmp_path, text)["H"]
    assert sorted(t.basic_events) == ["Loop.ctrl.SwFault", "Loop.plant.Jam"]
    assert any("feedback loop cut" in n for n in t.notes)
    assert evaluate(t, {"Loop.ctrl.SwFault"}) and evaluate(t, {"Loop.plant.Jam"})
    assert not evaluate(t, set())


def test_deviation_refinement_triggers_base(tmp_path: Path) -> None:
    text = """
package r
deviation value.stuck refines value
component S "Sensor" {
    out v
    failure Frozen rate 10 FIT
    v.value.stuck <- Frozen
}
component C "Consumer" {
    in v
    out y
    y.commission <- v.value
}
system Sys "Sys" {
    out y
    part s : S
    part c : C
    connect s.v -> c.v
    connect c.y -> y
}
hazard H "Wrong action" {
    severity S1 exposure E1 controllability C1
    when y.commission
}
"""
    t = trees(tmp_path, text)["H"]
    assert list(t.basic_events) == ["Sys.s.Frozen"]
    assert evaluate(t, {"Sys.s.Frozen"})


def test_undeveloped_boundary_input(tmp_path: Path) -> None:
    text = """
package b
component C "C" {
    in x
    out y
    failure F rate 1 FIT
    y.omission <- x.omission or F
}
system Sys "Sys" {
    in  feed
    out y
    part c : C
    connect feed -> c.x
    connect c.y -> y
}
hazard H "h" {
    severity S1 exposure E1 controllability C1
    when y.omission
}
"""
    t = trees(tmp_path, text)["H"]
    ev = t.basic_events["Sys.feed.omission"]
    assert ev.undeveloped and ev.probability == 0.0
    assert any("outside the model" in n for n in t.notes)


def test_hazard_that_cannot_occur(tmp_path: Path) -> None:
    text = """
package n
component C "C" {
    out y
    failure F rate 1 FIT
    y.omission <- F
}
system Sys "Sys" {
    out y
    part c : C
    connect c.y -> y
}
hazard H "h" {
    severity S1 exposure E1 controllability C1
    when y.commission
}
"""
    t = trees(tmp_path, text)["H"]
    assert t.house_events["NEVER"].state is False
    assert brute_probability(t) == 0.0


@pytest.mark.parametrize("model", ["aeb", "insulin_pump"])
def test_examples_synthesise_with_origins(model: str) -> None:
    checked = check([ROOT / "models" / model])
    assert checked.ok, checked.diagnostics
    assert checked.model is not None
    results = synthesise_all(checked.model)
    assert len(results) >= 3
    for r in results:
        t = r.tree
        for name in t.reachable():
            node = t.gates.get(name) or t.basic_events.get(name)
            if node is not None and node.origin is not None:
                assert not node.origin.file.startswith("/")
                assert node.origin.line > 0
        for e in t.basic_events.values():
            assert e.origin is not None, e.name


def test_synthesis_is_deterministic() -> None:
    a = synthesise_all(check([ROOT / "models" / "aeb"]).model)  # type: ignore[arg-type]
    b = synthesise_all(check([ROOT / "models" / "aeb"]).model)  # type: ignore[arg-type]
    assert [r.tree for r in a] == [r.tree for r in b]


def test_k_of_n_counts_a_repeated_cause_twice(tmp_path: Path) -> None:
    text = """
package v
component Sensor "S" {
    out v
    failure Dead rate 100 FIT
    v.omission <- Dead
}
component Voter "2oo3" {
    in a, b, c
    out v
    v.omission <- 2 of (a.omission, b.omission, c.omission)
}
system Sys "Sys" {
    out v
    part s1 : Sensor
    part s2 : Sensor
    part voter : Voter
    connect s1.v -> voter.a
    connect s1.v -> voter.b
    connect s2.v -> voter.c
    connect voter.v -> v
}
hazard H "Loss" {
    severity S1 exposure E1 controllability C1
    when v.omission
}
"""
    t = trees(tmp_path, text)["H"]
    # s1 feeds two of the three votes: it defeats the 2-of-3 alone
    assert evaluate(t, {"Sys.s1.Dead"})
    assert not evaluate(t, {"Sys.s2.Dead"})
    assert evaluate(t, {"Sys.s2.Dead", "Sys.s1.Dead"})


def test_propagate_respects_refinement(tmp_path: Path) -> None:
    text = """
package p
deviation value.stuck refines value
component S "S" {
    out v
    failure Frozen rate 10 FIT
    v.value.stuck <- Frozen
}
component Relay "Relay" {
    in  i
    out o
    propagate i -> o { value.stuck }
}
system Sys "Sys" {
    out o
    part s : S
    part r : Relay
    connect s.v -> r.i
    connect r.o -> o
}
hazard H "Wrong value" {
    severity S1 exposure E1 controllability C1
    when o.value
}
"""
    t = trees(tmp_path, text)["H"]
    assert list(t.basic_events) == ["Sys.s.Frozen"]
    assert evaluate(t, {"Sys.s.Frozen"})


def test_a_long_signal_chain_does_not_exhaust_the_recursion_limit(tmp_path: Path) -> None:
    """400 stages in series: the walk back recurses ~8 frames per stage, past Python's default limit of 1000
    (this was an internal error)."""
    n = 400
    parts = "\n".join(f"    part s{i} : Stage" for i in range(n))
    wires = "\n".join(f"    connect s{i - 1}.o -> s{i}.a" for i in range(1, n))
    text = (
        'component Stage "s" {\n    in a\n    out o\n    failure Dead rate 10 FIT\n    o.omission <- a.omission or Dead\n}\n'
        f'system S "chain" {{\n    in x\n    out o\n{parts}\n    connect x -> s0.a\n{wires}\n    connect s{n - 1}.o -> o\n}}\n'
        'hazard H "h" { severity S3 exposure E4 controllability C3 when o.omission }\n'
        'safety_goal SG "g" mitigates H { safe_state "off" ftti 1 s }\n'
    )
    tree = trees(tmp_path, text)["H"]
    assert len(tree.basic_events) == n + 1  # every stage's Dead and the undeveloped system input
