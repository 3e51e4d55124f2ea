"""Exact P(top) of one Open-PSA tree by CUDD with dynamic variable reordering (sifting), as a reference for
the trees whose BDD does not fit our kernel (which has static orders only): das9701, nus9601.

CUDD comes from the `dd` package (a dev dependency, `tests/unit/fta/fta_reference.import_cudd`). The tree
is preprocessed as the engine does, split into modules (exact for probability on any tree: a module is
independent of the rest), and each module's BDD is built in CUDD with automatic reordering on, children
first, child modules standing in as events of their probability. P(top) is one pass over the nodes
(memoised per edge, iterative).

    .venv/bin/python benchmarks/fta_cudd_sifting.py FILE.xml [--fold] [--progress]   # prints one JSON line

`--fold` first folds each module's events that occur once under the same AND/OR gate into one event
(`count.fold_single_events`, exact for P(top)): fewer variables for sifting to move (nus9601's top module:
1,417 events to 626). `--progress` prints the gate count of the module being built to stderr now and then.

A measurement tool, not part of the package.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from safetyops_dsl.fta.count import fold_single_events  # noqa: E402
from safetyops_dsl.fta.modules import (  # noqa: E402
    find_modules,
    first_order,
    module_tree,  # noqa: E402
)
from safetyops_dsl.fta.openpsa import load_openpsa  # noqa: E402
from safetyops_dsl.fta.preprocess import preprocess  # noqa: E402
from safetyops_dsl.fta.tree import (  # noqa: E402
    FaultTree,
    GateKind,
    post_order,  # noqa: E402
)
from tests.unit.fta.fta_reference import import_cudd  # noqa: E402


def probability(bdd: Any, u: Any, probs: dict[str, float]) -> float:
    """P(u), one pass memoised per regular (uncomplemented) node: a complemented edge's probability is one
    minus its regular node's. (`low`/`high` of a complemented node are not the complemented cofactors in dd,
    so reading them through the edge gave wrong results on non-coherent trees: 0.8264 for a 4-event tree
    whose brute-force P is 0.1864.)"""

    def regular(x: Any) -> Any:
        return ~x if x.negated else x

    memo: dict[int, float] = {int(regular(bdd.true)): 1.0 if not bdd.true.negated else 0.0}

    def value(x: Any) -> float:
        r = memo[int(regular(x))]
        return 1.0 - r if x.negated else r

    stack = [regular(u)]
    while stack:
        x = stack[-1]
        if int(x) in memo:
            stack.pop()
            continue
        lo, hi = x.low, x.high
        need = [regular(c) for c in (lo, hi) if int(regular(c)) not in memo]
        if need:
            stack.extend(need)
            continue
        q = probs[x.var]
        memo[int(x)] = q * value(hi) + (1.0 - q) * value(lo)
        stack.pop()
    return value(u)


def module_probability(sub: FaultTree, cudd: Any, progress: bool = False) -> tuple[float, int]:
    bdd = cudd.BDD()
    bdd.configure(reordering=True)
    for v in first_order(sub, {sub.top}):
        bdd.declare(v)
    value: dict[str, Any] = {}
    # a gate's BDD is dropped once its last parent is built: live roots are what sifting must keep, and
    # keeping every gate's function alive made reordering (which moves every live node) far slower
    uses: dict[str, int] = {}
    for gate in sub.gates.values():
        for c in gate.inputs:
            uses[c] = uses.get(c, 0) + 1
    started = time.perf_counter()
    for done, g in enumerate(post_order(sub)):
        if progress and done % 25 == 0 and len(sub.gates) > 100:
            print(f"gate {done} of {len(sub.gates)}, {len(bdd)} nodes, {time.perf_counter() - started:.0f} s",
                  file=sys.stderr, flush=True)
        gate = sub.gates[g]
        args = [value[c] if c in value else bdd.var(c) if c in sub.basic_events
                else (bdd.true if sub.house_events[c].state else bdd.false) for c in gate.inputs]
        k = gate.kind
        if k in (GateKind.AND, GateKind.NAND):
            r = bdd.true
            for a in args:
                r = r & a
            r = ~r if k is GateKind.NAND else r
        elif k in (GateKind.OR, GateKind.NOR):
            r = bdd.false
            for a in args:
                r = r | a
            r = ~r if k is GateKind.NOR else r
        elif k is GateKind.XOR:
            r = bdd.false
            for a in args:
                r = bdd.apply("xor", r, a)
        elif k is GateKind.NOT:
            r = ~args[0]
        elif k is GateKind.NULL:
            r = args[0]
        else:
            assert gate.k is not None
            at = [bdd.true] + [bdd.false] * gate.k
            for a in args:
                for j in range(gate.k, 0, -1):
                    at[j] = at[j] | (a & at[j - 1])
            r = at[gate.k]
        value[g] = r
        for c in gate.inputs:
            uses[c] -= 1
            if uses[c] == 0 and c in value:
                del value[c]
    top = value[sub.top]
    return probability(bdd, top, {n: e.probability for n, e in sub.basic_events.items()}), len(top)


def main() -> None:
    cudd = import_cudd()
    fold, progress = "--fold" in sys.argv[2:], "--progress" in sys.argv[2:]
    tree = load_openpsa([sys.argv[1]], None)[0]
    t0 = time.perf_counter()
    p = preprocess(tree)
    modules = find_modules(p)
    known: dict[str, float] = {}
    largest = 0
    for m in [n for n in post_order(p) if n in modules]:
        sub = module_tree(p, m, modules, known)
        known[m], size = module_probability(fold_single_events(sub) if fold else sub, cudd, progress)
        largest = max(largest, size)
    print(json.dumps({"p": known[p.top], "fold": fold, "modules": len(modules), "largest_bdd": largest,
                      "seconds": time.perf_counter() - t0,
                      "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))


if __name__ == "__main__":
    main()
