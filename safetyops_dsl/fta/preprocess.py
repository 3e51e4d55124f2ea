"""Preprocessing of a fault tree before its BDD: the same Boolean function on a smaller, flatter graph.

Phases (after Rauzy's and Nieto's techniques, as SCRAM's `preprocessor.cc` runs them), each linear in the
size of the graph and none recursive, so chains and nestings of 100,000 gates are safe:

1. **Normalisation and constant propagation**, bottom-up: house events are constants; NULL and one-input
   gates vanish; NOT, NAND and NOR become complemented edges over AND/OR; a constant input decides or
   leaves its gate (AND with FALSE is FALSE, k-of-n with a TRUE input is (k-1)-of-the-rest); k-of-n with
   k = 1 is OR, with k = n AND; repeated inputs of AND/OR collapse and complementary ones decide the gate
   (x AND NOT x = FALSE); XOR takes the complements out of its inputs (NOT x XOR y = NOT (x XOR y)),
   cancels repeated pairs and keeps odd parity; in k-of-n a pair x, NOT x counts exactly one.
2. **Multiple definitions**: gates with the same kind, k and inputs are one gate (hash-consing during 1).
3. **Coalescing**: an AND input that is a positive AND gate used nowhere else joins its parent's inputs,
   and so do OR into OR and, by De Morgan, a complemented OR into AND (NOT (a OR b) = NOT a AND NOT b) and a
   complemented AND into OR. The chain g0 = or(g1, e0), g1 = or(g2, e1), ... becomes one OR of all the
   events. Inputs are spliced top-down, each absorbed gate by its only parent, so a chain costs linear time
   (bottom-up concatenation would copy every tail again).
Phases 1-3 repeat while coalescing finds work (it can bring repeated or complementary inputs together, and
their simplification new coalescing chances), at most a few rounds.
Two optional phases follow (`preprocess(merge=..., decompose=...)`; off by default, the module constants
MERGE_COMMON_ARGS and DECOMPOSE_COMMON_NODES: measured against SCRAM on the Aralia set, merging made
cea9601 slower and heavier than SCRAM while helping edfpa15b, and decomposition changed no input's time
beyond the noise; docs/fault-trees.md has the figures):
4. **Merging of common arguments** (`_merge_common_args`): inputs that exactly the same AND (OR) gates
   share become one new AND (OR) gate those gates take instead. Exact by associativity alone; one pass.
5. **Decomposition of shared nodes** (`_decompose_common_nodes`): in x AND f(x), f(x) = f(TRUE), so x
   becomes a constant below an AND (OR) gate that has it both as an input and deeper down; only the
   parents of x may be cloned on the way, and the work is bounded. Coalescing runs again afterwards.
(A first merging, in the second pass on issue 18, was taken out after the property test caught it
changing a function; these phases are tested the same way, on every gate kind, with brute force.)

Modules (`modules.find_modules`) and the variable orders are then computed on the preprocessed tree.
The basic events are the original ones, untouched: cut sets, probabilities and importance factors are
expressed over them as before. Gates get new names (`@<n>`, or `@@<n>`... if the model uses such names);
the top keeps its name, so diagnostics still point at the model's top gate.
"""

from __future__ import annotations

from array import array
from collections.abc import ItemsView, Iterator, KeysView, Mapping, Sequence, ValuesView
from itertools import repeat

from safetyops_dsl.fta.tree import FaultTree, Gate, GateKind, HouseEvent
from safetyops_dsl.lazy_dataclasses import dataclass

TYPE_CHECKING = False  # typing itself is not imported at run time (`sops fta` start-up)
if TYPE_CHECKING:
    from typing import Any

# Literals: 2 * node + complemented. Node 0 is the constant TRUE (literal 0 TRUE, literal 1 FALSE), then one
# node per basic event, then the gates.
TRUE, FALSE = 0, 1
AND, OR, ATLEAST, XOR = 0, 1, 2, 3
MAX_ROUNDS = 4
# Optional phases (preprocess(merge=..., decompose=...)); the defaults are chosen by measurement (docs/fault-trees.md).
MERGE_COMMON_ARGS = False
DECOMPOSE_COMMON_NODES = False
# The decomposition's work (ancestors marked, gates rewritten) at most this many per input occurrence, plus the minimum.
DECOMPOSE_WORK_PER_INPUT = 4
DECOMPOSE_WORK_MIN = 10_000


@dataclass
class _Graph:
    events: list[str]  # event node i + 1 -> name
    kind: list[int]  # gate node g -> kind (index g - first_gate)
    k: list[int]
    inputs: list[list[int]]
    first_gate: int
    top: int  # literal
    # (kind, k, sorted inputs) -> gate literal; the graph is hash-consed
    table: dict[tuple[int, int, tuple[int, ...]], int]

    def is_gate(self, lit: int) -> bool:
        return lit >> 1 >= self.first_gate

    def gate(self, lit: int) -> int:
        return (lit >> 1) - self.first_gate

    def make(self, kind: int, k: int, lits: list[int]) -> int:
        """The literal of kind(lits), simplified; a new gate only when no equal one exists."""
        neg = 0
        if kind in (AND, OR):
            # OR is the dual of AND: absorbing = TRUE for OR, FALSE for AND.
            absorbing = TRUE if kind == OR else FALSE
            seen: set[int] = set()
            kept: list[int] = []
            for x in lits:
                if x == absorbing:
                    return absorbing
                if x == absorbing ^ 1 or x in seen:
                    continue
                if x ^ 1 in seen:
                    return absorbing
                seen.add(x)
                kept.append(x)
            if not kept:
                return absorbing ^ 1
            if len(kept) == 1:
                return kept[0]
            lits = kept
        elif kind == ATLEAST:
            count: dict[int, int] = {}
            for x in lits:
                if x == TRUE:
                    k -= 1
                elif x != FALSE:
                    count[x] = count.get(x, 0) + 1
            kept = []
            for x in lits:  # a pair x, NOT x holds exactly one true input
                if x <= FALSE:
                    continue
                c, d = count[x], count.get(x ^ 1, 0)
                if c and d:
                    pairs = min(c, d)
                    k -= pairs
                    count[x], count[x ^ 1] = c - pairs, d - pairs
                if count[x]:
                    count[x] -= 1
                    kept.append(x)
            n = len(kept)
            if k <= 0:
                return TRUE
            if k > n:
                return FALSE
            if k == 1:
                return self.make(OR, 0, kept)
            if k == n:
                return self.make(AND, 0, kept)
            lits = kept
        else:  # XOR: odd parity
            parity: dict[int, int] = {}
            for x in lits:
                neg ^= x & 1
                parity[x & ~1] = parity.get(x & ~1, 0) ^ 1
            # TRUE (node 0) flips the result: its literal counts once per occurrence
            if parity.pop(TRUE, 0):
                neg ^= 1
            lits = [x for x, odd in parity.items() if odd]
            if not lits:
                return FALSE ^ neg
            if len(lits) == 1:
                return lits[0] ^ neg
        key = (kind, k if kind == ATLEAST else 0, tuple(sorted(lits)))
        found = self.table.get(key)
        if found is None:
            found = 2 * (self.first_gate + len(self.kind))
            self.kind.append(kind)
            self.k.append(key[1])
            self.inputs.append(lits)
            self.table[key] = found
        return found ^ neg


def preprocess(tree: FaultTree, merge: bool | None = None, decompose: bool | None = None) -> FaultTree:
    """A tree with the same function of the same basic events, normalised, simplified and coalesced; with
    `merge` its AND/OR gates' common arguments merged, with `decompose` its shared nodes decomposed (None:
    the module defaults MERGE_COMMON_ARGS and DECOMPOSE_COMMON_NODES)."""
    g = _from_tree(tree)
    g = _coalesce_rounds(g)
    if MERGE_COMMON_ARGS if merge is None else merge:
        g = _merge_phase(g)
    if DECOMPOSE_COMMON_NODES if decompose is None else decompose:
        g = _decompose_phase(g)
    # A top that is no gate of the model names both the written-back top gate and its input: only the tree
    # written out by name says what that means.
    return _to_tree(tree, g, lazy=tree.top in tree.gates)


def _coalesce_rounds(g: _Graph) -> _Graph:
    for _ in range(MAX_ROUNDS):
        flat, absorbed = _coalesce(g)
        if not absorbed:
            break
        g = _rebuild(g, flat)
    return g


def _post_order(g: _Graph) -> Sequence[int]:
    """Gates (indices) reachable from the top, inputs before the gates using them (in C: `_reference_post_order`'s)."""
    from safetyops_dsl.fta import _bddk

    return _bddk.graph_post_order(g.inputs, g.first_gate, g.top)


def _reference_post_order(g: _Graph) -> list[int]:
    """`_post_order` in Python (the reference of the C walk in the tests)."""
    out: list[int] = []
    if not g.is_gate(g.top):
        return out
    state: dict[int, bool] = {}
    first, inputs = g.first_gate, g.inputs  # is_gate and gate inlined: this loop runs for every input
    stack = [(g.gate(g.top), False)]
    while stack:
        x, done = stack.pop()
        if done:
            out.append(x)
            continue
        if x in state:
            continue
        state[x] = True
        stack.append((x, True))
        for lit in reversed(inputs[x]):
            c = (lit >> 1) - first
            if c >= 0 and c not in state:
                stack.append((c, False))
    return out


_KIND = {GateKind.AND: AND, GateKind.OR: OR, GateKind.ATLEAST: ATLEAST, GateKind.XOR: XOR}


def _from_tree(tree: FaultTree) -> _Graph:
    """Phase 1 (normalisation, constants, hash-consing): on the tree's flat arrays in C (`_bddk.graph_from_flat`,
    the walk and `_Graph.make` of `_from_names` without a Python step per gate), which gives the same graph."""
    if tree.top not in tree.gates:
        return _from_names(tree)
    from safetyops_dsl.fta import _bddk
    from safetyops_dsl.fta.bdd import _FlatTree

    flat = _FlatTree(tree)
    names, ids = flat.names, flat.ids
    none = array("b", [0]) * len(names)
    # The basic events in depth-first pre-order (FaultTree.reachable()'s): the first order with no module.
    order = _bddk.flat_first_order(flat.kinds, flat.offsets, flat.inputs, flat.top, none, none)
    events = list(map(names.__getitem__, order))
    leaflit = array("i", [-1]) * len(names)
    for rank, x in enumerate(order, 1):
        leaflit[x] = 2 * rank
    for name, h in tree.house_events.items():
        node = ids.get(name)
        if node is not None and flat.kinds[node] == -2:
            leaflit[node] = TRUE if h.state else FALSE
    first = len(events) + 1
    kind, k, inputs, table, top = _bddk.graph_from_flat(
        flat.kinds, flat.ks, flat.offsets, flat.inputs, flat.top, leaflit, first
    )
    return _Graph(events, kind, k, inputs, first, top, table)


def _from_names(tree: FaultTree) -> _Graph:
    """Phase 1 walking the tree by name (a tree whose top is no gate; the reference of the C path)."""
    # The basic events in FaultTree.reachable()'s order (depth-first pre-order), by the same walk inlined:
    # the generator's resumptions cost a quarter of this function on a 10,000-gate chain.
    events: list[str] = []
    seen: set[str] = set()
    walk = [tree.top]
    while walk:
        name = walk.pop()
        if name in seen:
            continue
        seen.add(name)
        node = tree.gates.get(name)
        if node is not None:
            walk.extend(reversed(node.inputs))
        elif name in tree.basic_events:
            events.append(name)
    g = _Graph(events, [], [], [], len(events) + 1, TRUE, {})
    lit: dict[str, int] = {name: 2 * (i + 1) for i, name in enumerate(events)}
    for name, h in tree.house_events.items():
        lit[name] = TRUE if h.state else FALSE
    gates = tree.gates
    stack: list[tuple[str, bool]] = [(tree.top, False)]
    while stack:
        name, expanded = stack.pop()
        if name in lit:
            continue
        gate = gates[name]
        if not expanded:
            stack.append((name, True))
            stack.extend((c, False) for c in reversed(gate.inputs) if c not in lit)
            continue
        args = [lit[c] for c in gate.inputs]
        kind = gate.kind
        if kind is GateKind.NULL:
            lit[name] = args[0]
        elif kind is GateKind.NOT:
            lit[name] = args[0] ^ 1
        elif kind is GateKind.NAND:
            lit[name] = g.make(AND, 0, args) ^ 1
        elif kind is GateKind.NOR:
            lit[name] = g.make(OR, 0, args) ^ 1
        else:
            lit[name] = g.make(_KIND[kind], gate.k or 0, args)
    g.top = lit[tree.top]
    return g


def _coalesce(g: _Graph) -> tuple[dict[int, list[int]], int]:
    """For each gate reachable from the top that is not absorbed: its inputs with absorbable inputs spliced in
    (nothing when no input is absorbable), and the number of gates absorbed.

    A gate input c of gate p is absorbed when p is the only user of c (counting every occurrence) and c
    has p's kind (AND/OR) once its complement is taken into account by De Morgan."""
    from safetyops_dsl.fta import _bddk

    # The uses of each gate (the top's counted once more: it is never absorbed) and whether anything is
    # absorbable at all, in C: on an alternating AND/OR chain, and in the last round of most trees, nothing
    # is, and the flattening below would be thrown away.
    order, users, found = _bddk.graph_coalesce_scan(g.kind, g.inputs, g.first_gate, g.top)
    if not found:
        return {}, 0

    def absorbable(parent_kind: int, lit: int) -> bool:
        if not g.is_gate(lit) or users[g.gate(lit)] != 1:
            return False
        child = g.kind[g.gate(lit)]
        if child not in (AND, OR):
            return False
        # De Morgan: NOT (a AND b) = NOT a OR NOT b, so a complemented child of the other kind counts.
        return (child == parent_kind) == (lit & 1 == 0)

    flat: dict[int, list[int]] = {}
    absorbed: set[int] = set()
    for x in reversed(order):  # top-down: a gate is flattened before its inputs
        if x in absorbed:
            continue
        kind = g.kind[x]
        if kind not in (AND, OR):
            flat[x] = g.inputs[x]
            continue
        out: list[int] = []
        stack = [(lit, 0) for lit in reversed(g.inputs[x])]
        while stack:
            lit, neg = stack.pop()
            lit ^= neg
            if absorbable(kind, lit):
                c = g.gate(lit)
                absorbed.add(c)
                stack.extend((i, lit & 1) for i in reversed(g.inputs[c]))
            else:
                out.append(lit)
        flat[x] = out
    return flat, len(absorbed)


def _rebuild(g: _Graph, flat: dict[int, list[int]]) -> _Graph:
    """A fresh hash-consed graph of the flattened gates (simplifying what the splicing brought together)."""
    new = _Graph(g.events, [], [], [], g.first_gate, TRUE, {})
    lit: dict[int, int] = {}
    if not g.is_gate(g.top):
        new.top = g.top
        return new

    def mapped(x: int) -> int:
        return lit[g.gate(x)] ^ (x & 1) if g.is_gate(x) else x

    stack: list[tuple[int, bool]] = [(g.gate(g.top), False)]
    while stack:
        x, expanded = stack.pop()
        if x in lit:
            continue
        if not expanded:
            stack.append((x, True))
            stack.extend((g.gate(c), False) for c in reversed(flat[x]) if g.is_gate(c) and g.gate(c) not in lit)
            continue
        lit[x] = new.make(g.kind[x], g.k[x], [mapped(c) for c in flat[x]])
    new.top = mapped(g.top)
    return new


def _prefix(tree: FaultTree) -> str:
    """The prefix of the preprocessed tree's gate names: `@`, or `@@`... where a name of the model has it."""
    prefix = "@"
    while any(any(map(str.startswith, names, repeat(prefix))) for names in (tree.gates, tree.basic_events,
                                                                             tree.house_events)):
        prefix += "@"
    return prefix


def _const_houses(g: _Graph, prefix: str) -> dict[str, HouseEvent]:
    """The house event of a constant top (the written-back tree's only one), else none."""
    const = f"{prefix}const"
    return {const: HouseEvent(const, g.top == TRUE)} if g.top <= FALSE else {}


def _to_tree(tree: FaultTree, g: _Graph, lazy: bool = False) -> FaultTree:
    """The graph written back as a tree: its gates made at once, or (`lazy`) only when something reads them
    (`WrittenGates`)."""
    prefix = _prefix(tree)
    return FaultTree(
        name=tree.name,
        top=tree.top,
        gates=WrittenGates(tree, g, prefix) if lazy else _gates_of(tree, g, prefix),
        basic_events=tree.basic_events,
        house_events=_const_houses(g, prefix),
        label=tree.label,
        notes=tree.notes,
        mission_time=tree.mission_time,
    )


def _gates_of(tree: FaultTree, g: _Graph, prefix: str) -> dict[str, Gate]:
    """The preprocessed tree's gates: one per gate reachable in the graph (post-order, named `<prefix><i>`,
    the top keeping its name), a NOT gate per complemented input, and a NULL top over a top literal that is
    no gate (a constant: the house event `<prefix>const`)."""
    top_gate = tree.gates.get(tree.top)
    origin = top_gate.origin if top_gate is not None else None
    label = top_gate.label if top_gate is not None else ""
    gates: dict[str, Gate] = {}
    names: dict[int, str] = {}  # gate index -> name
    nots: dict[int, str] = {}  # complemented literal -> name of its NOT gate

    order = _post_order(g)
    top_index = g.gate(g.top) if g.is_gate(g.top) and g.top & 1 == 0 else -1
    for i, x in enumerate(order):
        names[x] = tree.top if x == top_index else f"{prefix}{i}"

    def ref(lit: int) -> str:
        node = lit >> 1
        name = names[g.gate(lit)] if g.is_gate(lit) else g.events[node - 1]
        if lit & 1 == 0:
            return name
        found = nots.get(lit)
        if found is None:
            found = nots[lit] = f"{prefix}{len(order) + len(nots)}"
            gates[found] = Gate(found, GateKind.NOT, (name,))
        return found

    kinds = {AND: GateKind.AND, OR: GateKind.OR, ATLEAST: GateKind.ATLEAST, XOR: GateKind.XOR}
    for x in order:
        kind = kinds[g.kind[x]]
        name = names[x]
        own = name == tree.top
        gates[name] = Gate(
            name,
            kind,
            tuple(ref(c) for c in g.inputs[x]),
            g.k[x] if kind is GateKind.ATLEAST else None,
            label if own else "",
            origin if own else None,
        )
    if top_index < 0:  # the top is a constant, an event or a complement: a pass-through gate over it
        inner = f"{prefix}const" if g.top <= FALSE else ref(g.top)
        gates[tree.top] = Gate(tree.top, GateKind.NULL, (inner,), None, label, origin)
    return gates


class FlatArrays:
    """The written-back tree as `bdd._FlatTree` holds it (see there), made from the graph in C."""

    __slots__ = ("names", "kinds", "ks", "offsets", "inputs", "top", "ngates")

    def __init__(self, names: list[str], kinds: array[int], ks: array[int], offsets: array[int],
                 inputs: array[int], top: int, ngates: int) -> None:
        self.names, self.kinds, self.ks, self.offsets, self.inputs = names, kinds, ks, offsets, inputs
        self.top, self.ngates = top, ngates


class WrittenGates(Mapping[str, Gate]):
    """The gates of a preprocessed tree, written out as `Gate`s (`_gates_of`) the first time they are read.

    The engine reads none of them on its usual path: the BDD build takes the tree's flat arrays, which
    `flat()` makes from the graph in C (`_bddk.graph_to_flat`, node for node those of `_FlatTree` of the
    written-out tree), and on a 10,000-gate chain writing the gates out cost more than the BDD build. The
    other orders of the race, the Shannon split, and diagnostics read the gates; they are then made once."""

    def __init__(self, tree: FaultTree, g: _Graph, prefix: str) -> None:
        # Without the hash-consing table, which nothing reads once the graph is final (about 2 MB of tuples
        # on a 10,000-gate chain, held as long as the tree).
        self._graph = _Graph(g.events, g.kind, g.k, g.inputs, g.first_gate, g.top, {})
        self._tree, self._prefix = tree, prefix
        self._gates: dict[str, Gate] | None = None
        self._flat: FlatArrays | None = None

    def _written(self) -> dict[str, Gate]:
        if self._gates is None:
            self._gates = _gates_of(self._tree, self._graph, self._prefix)
        return self._gates

    def __getitem__(self, name: str) -> Gate:
        return self._written()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._written())

    def __len__(self) -> int:
        return len(self._written())

    def __contains__(self, name: object) -> bool:
        return name in self._written()

    def get(self, name: str, default: Any = None) -> Any:
        return self._written().get(name, default)

    def keys(self) -> KeysView[str]:
        return self._written().keys()

    def values(self) -> ValuesView[Gate]:
        return self._written().values()

    def items(self) -> ItemsView[str, Gate]:
        return self._written().items()

    def flat(self) -> FlatArrays:
        if self._flat is None:
            from safetyops_dsl.fta import _bddk

            g, prefix = self._graph, self._prefix
            kinds, ks, offsets, inputs, top, ranks, leaves = _bddk.graph_to_flat(
                g.kind, g.k, g.inputs, g.first_gate, g.top
            )
            # Names by C loops (map): exactly one gate, the top, has rank -1 and keeps the model's top name.
            names = list(map(prefix.__add__, map(str, ranks)))
            names[ranks.index(-1)] = self._tree.top
            nodes = [f"{prefix}const", *g.events]  # node 0 (a constant top's house event), then the events
            names += map(nodes.__getitem__, leaves)
            self._flat = FlatArrays(names, kinds, ks, offsets, inputs, top, len(ranks))
        return self._flat

    def coherent(self) -> bool:
        """modules.is_coherent of the tree: no XOR and no NOT gate (every written-back gate is reachable)."""
        flat = self.flat()
        gate_kinds = flat.kinds[: flat.ngates]
        return XOR not in gate_kinds and _NOT_CODE not in gate_kinds


_NOT_CODE = 4  # bdd.KIND_CODE[GateKind.NOT]


# ---- Merging of common arguments and decomposition of shared nodes (optional phases, see the module doc) ----


def _merge_phase(g: _Graph) -> _Graph:
    flat, merged = _merge_common_args(g)
    return _rebuild(g, flat) if merged else g


def _merge_common_args(g: _Graph) -> tuple[dict[int, list[int]], int]:
    """Inputs (literals) that the same AND gates, and no other AND gate, share become one new AND gate
    taken by each of those gates in their place (AND(a, b, c), AND(a, b, d) -> AND(m, c), AND(m, d) with
    m = AND(a, b)); likewise for OR. Exact by associativity alone, whatever else uses the gates or the inputs
    (a complemented input is a literal of its own; a gate whose inputs are exactly the group becomes `m`).

    Literals are grouped by their exact set of users, so groups are disjoint and every merge is independent
    of the others: one linear pass, no search. (SCRAM's MergeCommonArgs also merges inputs whose users differ,
    by a greedy search over pairs of gates; here such inputs stay where they are.) Returns the inputs of
    each gate reachable from the top, the new gates included, and the number of merges."""
    order = _post_order(g)
    flat = {x: g.inputs[x] for x in order}
    merges = 0
    for kind in (AND, OR):
        users: dict[int, list[int]] = {}
        for x in order:
            if g.kind[x] == kind:
                for lit in dict.fromkeys(g.inputs[x]):
                    users.setdefault(lit, []).append(x)
        # Users in post-order, so every literal of a group is first met in the same gate: the group keeps
        # that gate's input order.
        groups: dict[tuple[int, ...], list[int]] = {}
        for lit, xs in users.items():
            if len(xs) > 1:
                groups.setdefault(tuple(xs), []).append(lit)
        for parents, lits in groups.items():
            if len(lits) < 2:
                continue
            m = len(g.kind)
            g.kind.append(kind)
            g.k.append(0)
            g.inputs.append(lits)
            flat[m] = lits
            m_lit = 2 * (g.first_gate + m)
            members = set(lits)
            for y in parents:
                out: list[int] = []
                placed = False
                for lit in flat[y]:
                    if lit not in members:
                        out.append(lit)
                    elif not placed:  # the merged gate where the first shared input stood
                        out.append(m_lit)
                        placed = True
                flat[y] = out
            merges += 1
    return flat, merges


def _decompose_phase(g: _Graph) -> _Graph:
    work = DECOMPOSE_WORK_PER_INPUT * sum(len(g.inputs[x]) for x in _post_order(g)) + DECOMPOSE_WORK_MIN
    repl = _decompose_common_nodes(g, work)
    if not repl:
        return g
    new = _rebuild_replaced(g, repl)
    return g if new is None else _coalesce_rounds(new)


def _decompose_common_nodes(g: _Graph, work: int) -> dict[int, int]:
    """Decomposition of shared nodes (Shannon, as SCRAM's DecomposeCommonNodes): where an AND gate D has a
    node x among its inputs and x also occurs deeper below another input, D = x AND f(x) = x AND f(TRUE), so
    x is replaced by a constant in D's other inputs (FALSE under an OR; the opposite for an input NOT x) and
    the constant propagates. The rewritten copies of the gates on the way are new gates: a gate used outside
    D keeps its old version there, i.e. it is cloned; as in SCRAM only the parents of x may be cloned (a D
    whose rewrite would clone a deeper gate is left alone), so the graph grows by at most a few gates per
    rewrite. Shared nodes are taken deepest first, gates before events; each AND/OR gate is rewritten for
    one node at most per call.

    The ancestors of each shared node are marked upward (that finds the destinations D) and the rewriting
    walks only gates above x, so the cost is the number of ancestors per shared node: quadratic on some
    graphs, hence `work` bounds the total; every rewrite made before the bound is exact on its own.
    Returns old gate -> its rewritten literal (in `g`, which gains the new gates)."""
    order = _post_order(g)
    first = g.first_gate
    n_old = len(g.kind)
    parents: dict[int, list[int]] = {}  # node -> the gates that use it, each once
    for x in order:
        for lit in dict.fromkeys(lit >> 1 for lit in g.inputs[x]):
            parents.setdefault(lit, []).append(x)
    shared = [first + x for x in order] + list(range(1, first))  # gates deepest first, then events
    mark: dict[int, int] = {}  # gate -> the last node whose strict ancestors' ancestors it is among
    repl: dict[int, int] = {}
    for n in shared:
        ps = parents.get(n, ())
        if len(ps) < 2 or not any(g.kind[p] in (AND, OR) and p not in repl for p in ps):
            continue
        stack: list[int] = []
        for p in ps:
            for q in parents.get(first + p, ()):
                if mark.get(q) != n:
                    mark[q] = n
                    stack.append(q)
        while stack:
            q = stack.pop()
            work -= 1
            for r in parents.get(first + q, ()):
                if mark.get(r) != n:
                    mark[r] = n
                    stack.append(r)
        if work < 0:
            break
        above = set(ps)  # with the marked gates: every gate with n below it
        for d in ps:
            kind = g.kind[d]
            if mark.get(d) != n or kind not in (AND, OR) or d in repl:
                continue
            lit_x = next(lit for lit in g.inputs[d] if lit >> 1 == n)
            # n's value wherever D's result depends on its other inputs
            value = (lit_x & 1) ^ 1 if kind == AND else lit_x & 1
            memo: dict[int, int] = {}  # old gate below D with n below it -> its rewritten literal

            def resolve(lit: int, n: int = n, value: int = value, memo: dict[int, int] = memo) -> int:
                node = lit >> 1
                if node == n:
                    return value ^ (lit & 1) ^ 1  # literal TRUE is 0, FALSE 1
                x = node - first
                if x < 0 or x >= n_old:
                    return lit
                done = memo.get(x)
                return lit if done is None else done ^ (lit & 1)

            # the old gates between D's other inputs and n, children first, without recursion
            region: dict[int, None] = {}
            for lit in g.inputs[d]:
                x = (lit >> 1) - first
                if 0 <= x < n_old and x not in region and (mark.get(x) == n or x in above):
                    todo = [(x, False)]
                    while todo:
                        y, expanded = todo.pop()
                        if expanded:
                            region[y] = None
                            continue
                        if y in region:
                            continue
                        todo.append((y, True))
                        work -= len(g.inputs[y])
                        for c in g.inputs[y]:
                            z = (c >> 1) - first
                            if 0 <= z < n_old and z not in region and (mark.get(z) == n or z in above):
                                todo.append((z, False))
            if work < 0:
                break
            # Growth bound (SCRAM's): a rewritten gate also used outside D's rewritten part keeps its old
            # version there, i.e. it is cloned. Only the parents of n may be cloned; a deeper shared gate
            # would clone the whole path, so such a D is left as it is.
            owned: set[int] = set()
            for y in reversed(region):  # parents before children
                if all(p == d or p in owned for p in parents[first + y]):
                    owned.add(y)
                elif y not in above:
                    break
            else:
                for y in region:
                    memo[y] = g.make(g.kind[y], g.k[y], [resolve(c) for c in g.inputs[y]])
                new = g.make(kind, 0, [lit_x] + [resolve(lit) for lit in g.inputs[d] if lit != lit_x])
                if new != 2 * (first + d):
                    repl[d] = new
        if work < 0:
            break
    return repl


def _rebuild_replaced(g: _Graph, repl: dict[int, int]) -> _Graph | None:
    """A fresh hash-consed graph of `g` where each gate in `repl` is its replacement (an equal function);
    None if the replacements made a cycle (they cannot, by construction: a guard, not a case)."""
    if not g.is_gate(g.top):
        return g
    new = _Graph(g.events, [], [], [], g.first_gate, TRUE, {})
    lit: dict[int, int] = {}
    open_: set[int] = set()  # gates being expanded: met again below themselves = a cycle

    def mapped(x: int) -> int:
        return lit[g.gate(x)] ^ (x & 1) if g.is_gate(x) else x

    stack: list[tuple[int, bool]] = [(g.gate(g.top), False)]
    while stack:
        x, expanded = stack.pop()
        if x in lit:
            continue
        r = repl.get(x)
        if not expanded:
            if x in open_:
                return None
            open_.add(x)
            stack.append((x, True))
            children = (r,) if r is not None else g.inputs[x]
            stack.extend((g.gate(c), False) for c in children if g.is_gate(c) and g.gate(c) not in lit)
            continue
        open_.discard(x)
        lit[x] = mapped(r) if r is not None else new.make(g.kind[x], g.k[x], [mapped(c) for c in g.inputs[x]])
    new.top = mapped(g.top)
    return new
