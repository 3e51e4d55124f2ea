"""Fault-tree analysis: exact probability (BDD), minimal cut sets (ZDD), approximations and importance.

Pipeline for one tree (steps marked C run in the kernels `_bddk.c` / `_zddk.c`):
  1. the BDD of each module under a static variable order, as flat arrays             (bdd.py, C)
  2. P(top) and P(not top) per node in one bottom-up pass                              (C)
  3. Birnbaum importance of every event in one top-down pass; the other factors follow (C)
  4. minimal cut sets as a ZDD by Rauzy's minsol, with SCRAM's order limit and cut-off  (zdd.py, C)
  5. counts by order, rare-event sum and MCUB from the ZDD without listing the sets     (C, cutsets.py)
  6. the `cut_set_limit` most probable sets by best-first search                        (cutsets.py)
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Sequence

from safetyops_dsl.diagnostics import LIMIT_EXCEEDED, DiagnosticError, Location, make
from safetyops_dsl.fta import _bddk, _zddk, cutsets
from safetyops_dsl.fta.bdd import BddTooLarge, FlatBdd, TreeBdds, build, edge_probability, ensure_recursion
from safetyops_dsl.fta.modules import is_coherent
from safetyops_dsl.fta.preprocess import WrittenGates, preprocess
from safetyops_dsl.fta.result import AnalysisOptions, Approximation, FtaResult, ImportanceRow
from safetyops_dsl.fta.tree import FaultTree
from safetyops_dsl.fta.zdd import Zdd, minimal_solutions, substitute
from safetyops_dsl.gc_pause import GcPaused


class BddRefused(DiagnosticError):
    """The BDD did not fit `max_bdd_nodes` under any order tried: nothing exact can be reported for the tree,
    but a caller that also simulates it (`sops fta --simulate`) reports the estimate alone."""


def analyse(tree: FaultTree, options: AnalysisOptions) -> FtaResult:
    # The ZDD algorithms recurse as deep as the variables (ensure_recursion raises the limit); the limit is
    # put back afterwards, so that other code in the process (the model parser's nesting check) still meets
    # the limit it expects.
    previous = sys.getrecursionlimit()
    try:
        with GcPaused():
            return _analyse(tree, options)
    finally:
        sys.setrecursionlimit(previous)


def _analyse(tree: FaultTree, options: AnalysisOptions) -> FtaResult:
    model_tree = tree
    tree = preprocess(tree)  # same function of the same basic events, on a smaller and flatter graph
    # The preprocessed tree's gates are written out only if something reads them (preprocess.WrittenGates):
    # the build and the coherence test read its flat arrays.
    gates = tree.gates
    coherent = gates.coherent() if isinstance(gates, WrittenGates) else is_coherent(tree)
    try:
        bdds = build(tree, split=coherent, max_nodes=options.max_bdd_nodes)
    except BddTooLarge as exc:
        raise _limit(
            model_tree,
            f"the BDD of tree '{tree.name}' needs more than {exc.limit} nodes under each of the {exc.orders} "
            "variable orders tried (--max-bdd-nodes)",
            hint="allow more nodes with --max-bdd-nodes (about 50 bytes each), or split the tree",
            refused=True,
        ) from None
    ensure_recursion(len(bdds.variables))
    probs = bdds.probability
    # The kernels read an array('d') in place; a list would be copied on every call, once per module.
    packed = array("d", probs)
    tables: dict[str, tuple[Sequence[float], Sequence[float]]] = {}
    for m in bdds.modules:  # bottom-up, so placeholders hold their module's probability when used
        f = m.flat
        pos, neg = _bddk.node_probabilities(f.level, f.high, f.low, packed)
        tables[m.name] = (pos, neg)
        if m.name != tree.top:
            i = bdds.index[m.name]
            probs[i] = packed[i] = edge_probability(m.flat.root, pos, neg)
    top_flat = bdds.modules[-1].flat
    exact = edge_probability(top_flat.root, *tables[tree.top])
    warnings: list[str] = []

    importance: tuple[ImportanceRow, ...] = ()
    if options.importance:
        importance = _importance(tree, bdds, tables, exact, packed)

    z = Zdd(len(bdds.variables))
    families: dict[str, int] = {}
    for m in bdds.modules:  # bottom-up: a module's family is complete before its parent grafts it
        fam = minimal_solutions(z, m.flat, options.limit_order)
        grafts = {bdds.index[c]: families[c] for c in m.children}
        families[m.name] = substitute(z, fam, grafts, options.limit_order)
    root = families[tree.top]
    if options.cut_off > 0.0:
        root = z.prune(root, probs, options.cut_off)
    by_order = _zddk.count_by_order(z.var, z.hi, z.lo, root)
    count = sum(by_order.values())

    rare = min(cutsets.rare_event(z, root, probs), 1.0)
    if rare >= 1.0 and count:
        warnings.append("the rare-event approximation exceeds 1 and is capped at 1")
    upper: float | None
    try:
        upper = cutsets.mcub(z, root, probs, options.max_cut_sets)
    except OverflowError as exc:
        if options.approximation is Approximation.MCUB:
            raise _limit(tree, f"cannot compute the MCUB approximation: {exc}") from None
        upper = None  # only reported alongside, so leave it out rather than fail the analysis
        warnings.append(f"MCUB not computed: {exc}")

    names = bdds.variables
    limit = options.cut_set_limit
    if limit is None or count <= limit:
        if count > options.max_cut_sets:
            raise _limit(
                tree,
                f"tree '{tree.name}' has {count} minimal cut sets, more than --max-cut-sets "
                f"{options.max_cut_sets} allows listing",
            )
        listed = cutsets.all_cut_sets(z, root, names, probs)
    elif limit == 0:
        listed = []
    else:
        listed = cutsets.top_cut_sets(z, root, count, names, probs, limit)

    if options.approximation is Approximation.RARE_EVENT:
        chosen = rare
    elif options.approximation is Approximation.MCUB and upper is not None:
        chosen = upper
    else:
        chosen = exact
    if (options.limit_order is not None or options.cut_off > 0.0) and options.approximation is not Approximation.EXACT:
        warnings.append("approximations use only the cut sets kept by the order limit and cut-off")
    return FtaResult(
        tree=tree.name,
        top=tree.top,
        probability=chosen,
        exact_probability=exact,
        rare_event_probability=rare,
        mcub_probability=upper,
        cut_set_count=count,
        cut_sets_by_order=dict(sorted(by_order.items())),
        cut_sets=tuple(listed),
        cut_sets_truncated=len(listed) < count,
        importance=importance,
        options=options,
        warnings=tuple(warnings),
    )


def _importance(
    tree: FaultTree,
    bdds: TreeBdds,
    tables: dict[str, tuple[Sequence[float], Sequence[float]]],
    top: float,
    packed: array[float],
) -> tuple[ImportanceRow, ...]:
    """Importance factors from the BDDs, as SCRAM defines them (SCRAM also works on the BDD by default).

    P(top | e=1) and P(top | e=0) come from one pass over each module's BDD (bdd.conditional_probabilities);
    through a module M, P(parent | e=b) = x P(parent | M=1) + (1 - x) P(parent | M=0), x = P(M | e=b).
    Factors that divide by P(top) are 0 when P(top) = 0; RRW is inf when P(top | e=0) = 0 (SCRAM prints 0).
    """
    cond: dict[str, dict[int, tuple[float, float]]] = {}
    home: dict[str, str] = {}
    for m in bdds.modules:
        cond[m.name] = _conditional(m.flat, tables[m.name], packed)
        for e in m.events:
            home[e] = m.name
    # P(top | M=1), P(top | M=0) for every module, top-down (modules are listed bottom-up), so that each
    # event needs one step and not one per module above it (a chain of 100,000 modules was quadratic).
    given: dict[str, tuple[float, float]] = {tree.top: (1.0, 0.0)}
    for m in reversed(bdds.modules):
        if m.name not in given:
            continue  # the module vanished from its parent's BDD (a constant absorbed it)
        t1, t0 = given[m.name]
        for c in m.children:
            entry = cond[m.name].get(bdds.index[c])
            if entry is not None:
                x1, x0 = entry
                given[c] = (x1 * t1 + (1.0 - x1) * t0, x0 * t1 + (1.0 - x0) * t0)
    rows = []
    index, basic, top_module, row = bdds.index, tree.basic_events, tree.top, ImportanceRow
    for name in sorted(home):
        module = home[name]
        entry = cond[module].get(index[name])
        if entry is None or module not in given:
            continue  # the event vanished from the BDD (e.g. absorbed by a house event)
        p1, p0 = entry
        if module != top_module:
            t1, t0 = given[module]
            p1, p0 = p1 * t1 + (1.0 - p1) * t0, p0 * t1 + (1.0 - p0) * t0
        p = basic[name].probability
        mif = p1 - p0
        if top > 0.0:
            # FV = (P - P(e=0)) / P equals CIF exactly for independent events: P - P(e=0) = p * MIF.
            cif = mif * p / top
            dif = p * p1 / top
            raw = p1 / top
        else:
            cif = dif = raw = 0.0
        rrw = top / p0 if p0 > 0.0 else (float("inf") if top > 0.0 else 0.0)
        rows.append(row(name, p, cif, mif, cif, dif, raw, rrw))
    return tuple(rows)


def _conditional(
    f: FlatBdd, table: tuple[Sequence[float], Sequence[float]], packed: array[float]
) -> dict[int, tuple[float, float]]:
    """P(module | v=1), P(module | v=0) for the variables v of one module's BDD.

    The kernel's pass costs O(size + number of variables) (its range sums span all levels). A module's BDD
    holds a narrow band of the tree's variables, so a small module is passed with its levels shifted to
    that band: in a chain of 100,000 modules a pass over all levels for each one was quadratic."""
    nvars = len(f.variables)
    level = f.level
    if len(level) > 1:
        first, last = min(level[1:]), max(level[1:])
        width = last - first + 1
        if first > 0 and 4 * width < nvars:
            shifted = array("i", [width])
            shifted.extend(v - first for v in level[1:])
            local = _bddk.conditional_probabilities(
                shifted, f.high, f.low, f.root, packed[first : last + 1], *table, width
            )
            return {v + first: pq for v, pq in local.items()}
    return _bddk.conditional_probabilities(level, f.high, f.low, f.root, packed, *table, nvars)


def _limit(
    tree: FaultTree,
    message: str,
    hint: str = "use --limit-order or --cut-off, or lower --cut-set-limit",
    refused: bool = False,
) -> DiagnosticError:
    top = tree.gates.get(tree.top)
    origin = top.origin if top is not None else None
    loc = Location(origin.file, origin.line, origin.col) if origin else Location(tree.name)
    return (BddRefused if refused else DiagnosticError)([make(LIMIT_EXCEEDED, message, loc, hint=hint)])
