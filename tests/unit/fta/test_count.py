"""Exact P(top) by weighted model counting (fta/count.py): the encoding, the count, and the count against the BDD.

The encoding is checked without the counter: with the basic events fixed, unit propagation alone must give
every variable of the Tseitin encoding one value, without conflict, and the top the tree's value; so each
assignment of the events extends to exactly one model, which is what makes the weighted count P(top). The
count is then checked against brute force on random trees of every gate kind and against the BDD engine on
the Open-PSA corpus.
"""

from __future__ import annotations

import itertools
import math
import sys
from pathlib import Path

import pytest
from hypothesis import given
from test_engine_properties import SETTINGS, brute_probability, evaluate
from test_preprocess import messy_trees

from safetyops_dsl.fta import count
from safetyops_dsl.fta.engine import analyse
from safetyops_dsl.fta.openpsa import load_openpsa
from safetyops_dsl.fta.preprocess import preprocess
from safetyops_dsl.fta.result import AnalysisOptions
from safetyops_dsl.fta.tree import BasicEvent, FaultTree, Gate, GateKind, HouseEvent

ARALIA = Path(__file__).resolve().parents[4] / "shared" / "corpus" / "openpsa" / "input" / "Aralia"
needs_counter = pytest.mark.skipif(
    __import__("importlib").util.find_spec("pyganak") is None, reason="pyganak (the [count] extra) not installed"
)


def _propagate(cnf: count.Cnf, fixed: dict[int, bool]) -> dict[int, bool] | None:
    """Unit propagation to a fixpoint from `fixed`; None on a conflict."""
    value = dict(fixed)
    changed = True
    while changed:
        changed = False
        for clause in cnf.clauses:
            open_lits = []
            satisfied = False
            for lit in clause:
                v = value.get(abs(lit))
                if v is None:
                    open_lits.append(lit)
                elif v == (lit > 0):
                    satisfied = True
                    break
            if satisfied:
                continue
            if not open_lits:
                return None
            if len(open_lits) == 1:
                value[abs(open_lits[0])] = open_lits[0] > 0
                changed = True
    return value


def _check_encoding(tree: FaultTree) -> None:
    cnf = count.encode(tree)
    *body, top = cnf.clauses
    assert len(top) == 1
    without_top = count.Cnf(cnf.variables, body, cnf.weights)
    events = {name: var for name, (var, _) in zip(tree.basic_events, cnf.weights, strict=True)}
    names = sorted(events)
    for bits in itertools.product((False, True), repeat=len(names)):
        fixed = {events[n]: b for n, b in zip(names, bits, strict=True)}
        value = _propagate(without_top, fixed)
        assert value is not None, "the gate clauses contradict an assignment of the events"
        assert len(value) == cnf.variables, "an assignment of the events leaves a variable free"
        truth = {n for n, b in zip(names, bits, strict=True) if b}
        assert (value[abs(top[0])] == (top[0] > 0)) == evaluate(tree, truth)


@SETTINGS
@given(messy_trees())
def test_each_assignment_of_the_events_extends_to_one_model(tree: FaultTree) -> None:
    _check_encoding(tree)  # every gate kind as written by a producer
    _check_encoding(preprocess(tree))  # and as the counter gets it


def _tree(gates: dict[str, Gate], top: str, n: int = 3, houses: dict[str, HouseEvent] | None = None) -> FaultTree:
    basics = {f"e{i}": BasicEvent(f"e{i}", 0.1 * (i + 1)) for i in range(n)}
    return FaultTree("T", top, gates, basics, houses or {})


def test_degenerate_gates_encode_their_constants() -> None:
    """k-of-n beyond n is false and 0-of-n true; an empty AND true, an empty OR and XOR false."""
    cases = [
        (Gate("g", GateKind.ATLEAST, ("e0", "e1"), 3), False),
        (Gate("g", GateKind.ATLEAST, ("e0", "e1"), 0), True),
        (Gate("g", GateKind.AND, ()), True),
        (Gate("g", GateKind.OR, ()), False),
        (Gate("g", GateKind.XOR, ()), False),
        (Gate("g", GateKind.NAND, ()), False),
        (Gate("g", GateKind.NOR, ()), True),
    ]
    for gate, want in cases:
        tree = _tree({"g": gate}, "g")
        _check_encoding(tree)
        for bits in itertools.product((False, True), repeat=3):
            assert evaluate(tree, {f"e{i}" for i, b in enumerate(bits) if b}) == want


def test_house_events_are_the_constant_they_hold() -> None:
    houses = {"on": HouseEvent("on", True), "off": HouseEvent("off", False)}
    tree = _tree({"g": Gate("g", GateKind.OR, ("off", "e0")), "t": Gate("t", GateKind.AND, ("g", "on"))}, "t",
                 houses=houses)
    _check_encoding(tree)


@needs_counter
@SETTINGS
@given(messy_trees())
def test_the_count_is_the_brute_force_probability(tree: FaultTree) -> None:
    """Budget 1: every module counted; 6: some counted, some by BDD; the default: BDDs only."""
    want = brute_probability(tree)
    for budget in (1, 6, count.MODULE_BDD_NODES):
        got = count.exact_probability(tree, budget)
        assert math.isclose(got.probability, want, rel_tol=1e-12, abs_tol=1e-15), budget
        assert 0 <= got.counted <= got.modules


@SETTINGS
@given(messy_trees())
def test_folding_the_events_that_occur_once_keeps_the_probability(tree: FaultTree) -> None:
    folded = count.fold_single_events(tree)
    assert len(folded.basic_events) <= len(tree.basic_events)
    assert math.isclose(brute_probability(folded), brute_probability(tree), rel_tol=1e-12, abs_tol=1e-15)


def test_events_that_occur_once_fold_into_one_per_gate() -> None:
    """e0 and e1 occur once under the OR, e3 and e4 once under the NAND; e2 is shared and stays; a name the
    tree already uses is not taken for a folded event; tiny probabilities keep their digits."""
    basics = {f"e{i}": BasicEvent(f"e{i}", p) for i, p in enumerate((1e-20, 3e-20, 0.5, 0.2, 0.25))}
    gates = {"top": Gate("top", GateKind.OR, ("e0", "e1", "e2", "n")),
             "n": Gate("n", GateKind.NAND, ("e2", "e3", "e4")),
             "v": Gate("v", GateKind.ATLEAST, ("e2", "n"), 1)}
    basics["top/folded"] = BasicEvent("top/folded", 0.0)
    tree = FaultTree("T", "top", gates, basics)
    folded = count.fold_single_events(tree)
    assert folded.gates["top"].inputs == ("e2", "n", "top/folded'")
    assert folded.gates["n"].inputs == ("e2", "n/folded")
    assert folded.gates["v"] == gates["v"]
    assert folded.basic_events["top/folded'"].probability == pytest.approx(4e-20, rel=1e-15)
    assert folded.basic_events["n/folded"].probability == 0.05
    assert sorted(folded.basic_events) == ["e2", "n/folded", "top/folded", "top/folded'"]


@needs_counter
def test_a_counted_module_is_counted_folded() -> None:
    """The three events of OR(e0, e1, e2) fold into one, so the count sees 3 variables (that event, the
    constant true and the gate) and 4 clauses, where the encoding as written has 5 and 6."""
    tree = _tree({"g": Gate("g", GateKind.OR, ("e0", "e1", "e2"))}, "g")
    got = count.exact_probability(tree, 1)
    assert (got.counted, got.variables, got.clauses) == (1, 3, 4)
    assert (count.encode(tree).variables, len(count.encode(tree).clauses)) == (5, 6)
    assert got.probability == pytest.approx(1 - 0.9 * 0.8 * 0.7, rel=1e-15)


@needs_counter
def test_an_impossible_and_a_certain_top() -> None:
    never = _tree({"g": Gate("g", GateKind.AND, ("e0", "n")), "n": Gate("n", GateKind.NOT, ("e0",))}, "g")
    always = _tree({"g": Gate("g", GateKind.OR, ("e0", "n")), "n": Gate("n", GateKind.NOT, ("e0",))}, "g")
    assert count.exact_probability(never, 1).probability == 0.0
    assert count.exact_probability(always, 1).probability == 1.0


@needs_counter
@pytest.mark.skipif(not ARALIA.is_dir(), reason="../shared/corpus absent")
@pytest.mark.parametrize("name", ["baobab3", "chinese", "das9205", "das9601", "isp9606"])
def test_the_count_equals_the_bdd_on_the_corpus(name: str) -> None:
    """Coherent trees and a non-coherent one (das9601 carries NOTs), every module counted. Where the BDD fits,
    counting is the slower method by far (jbd9601: 0.1 s against 131 s), so the trees are small ones."""
    tree = load_openpsa([str(ARALIA / f"{name}.xml")])[0]
    bdd = analyse(tree, AnalysisOptions(limit_order=1, cut_set_limit=0, importance=False)).exact_probability
    got = count.exact_probability(tree, 1)  # every module counted
    assert got.counted == got.modules > 0
    assert bdd is not None and math.isclose(got.probability, bdd, rel_tol=1e-12), (got, bdd)


@needs_counter
def test_the_same_count_every_time() -> None:
    tree = _tree({"v": Gate("v", GateKind.ATLEAST, ("e0", "e1", "e2"), 2)}, "v")
    first = count.exact_probability(tree, 1)
    assert first.counted == 1
    assert all(count.exact_probability(tree, 1) == first for _ in range(3))
    assert first.probability == pytest.approx(0.1 * 0.2 + 0.1 * 0.3 + 0.2 * 0.3 - 2 * 0.1 * 0.2 * 0.3, rel=1e-14)


def test_without_the_counter_it_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyganak", None)  # what `import pyganak` meets where it is not installed
    with pytest.raises(count.CounterUnavailable):
        count.exact_probability(_tree({"g": Gate("g", GateKind.OR, ("e0", "e1"))}, "g"))


@needs_counter
@pytest.mark.skipif(not ARALIA.is_dir(), reason="../shared/corpus absent")
def test_only_the_modules_whose_bdd_does_not_fit_are_counted() -> None:
    tree = load_openpsa([str(ARALIA / "das9601.xml")])[0]
    by_bdd = count.exact_probability(tree)
    assert (by_bdd.modules, by_bdd.counted, by_bdd.variables, by_bdd.clauses) == (28, 0, 0, 0)
    some = count.exact_probability(tree, 40)
    assert 0 < some.counted < some.modules
    assert math.isclose(some.probability, by_bdd.probability, rel_tol=1e-12)
