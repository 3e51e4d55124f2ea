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
Merging of common arguments (Rauzy and Nieto) was built and taken out again: the brute-force property test
found a tree it changed the function of, and an engine option that can be wrong is not one we ship.
Decomposition of shared nodes (Nieto's other phase) is not done either.

Modules (`modules.find_modules`) and the variable orders are then computed on the preprocessed tree.
The basic events are the original ones, untouched: cut sets, probabilities and importance factors are
expressed over them as before. Gates get new names (`@<n>`, or `@@<n>`... if the model uses such names);
the top keeps its name, so diagnostics still point at the model's top gate.
"""

from __future__ import annotations

from dataclasses import dataclass

from safetyops_dsl.fta.tree import FaultTree, Gate, GateKind, HouseEvent

# Literals: 2 * node + complemented. Node 0 is the constant TRUE (literal 0 TRUE, literal 1 FALSE), then one
# node per basic event, then the gates.
TRUE, FALSE = 0, 1
AND, OR, ATLEAST, XOR = 0, 1, 2, 3
MAX_ROUNDS = 4


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


def preprocess(tree: FaultTree) -> FaultTree:
    """A tree with the same function of the same basic events, normalised, simplified and coalesced."""
    g = _from_tree(tree)
    for _ in range(MAX_ROUNDS):
        flat, absorbed = _coalesce(g)
        if not absorbed:
            break
        g = _rebuild(g, flat)
    return _to_tree(tree, g)


def _post_order(g: _Graph) -> list[int]:
    """Gates (indices) reachable from the top, inputs before the gates using them."""
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
    events = [n for n in tree.reachable() if n in tree.basic_events]
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
    """For each gate reachable from the top that is not absorbed: its inputs with absorbable inputs spliced in.

    A gate input c of gate p is absorbed when p is the only user of c (counting every occurrence) and c
    has p's kind (AND/OR) once its complement is taken into account by De Morgan."""
    order = _post_order(g)
    users: dict[int, int] = {}
    for x in order:
        for lit in g.inputs[x]:
            if g.is_gate(lit):
                users[g.gate(lit)] = users.get(g.gate(lit), 0) + 1
    if g.is_gate(g.top):
        users[g.gate(g.top)] = users.get(g.gate(g.top), 0) + 1  # the top is never absorbed

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


def _to_tree(tree: FaultTree, g: _Graph) -> FaultTree:
    taken = set(tree.gates) | set(tree.basic_events) | set(tree.house_events)
    prefix = "@"
    while any(n.startswith(prefix) for n in taken):
        prefix += "@"
    top_gate = tree.gates.get(tree.top)
    origin = top_gate.origin if top_gate is not None else None
    label = top_gate.label if top_gate is not None else ""
    gates: dict[str, Gate] = {}
    houses: dict[str, HouseEvent] = {}
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
        if g.top <= FALSE:
            const = f"{prefix}const"
            houses[const] = HouseEvent(const, g.top == TRUE)
            inner = const
        else:
            inner = ref(g.top)
        gates[tree.top] = Gate(tree.top, GateKind.NULL, (inner,), None, label, origin)
    return FaultTree(
        name=tree.name,
        top=tree.top,
        gates=gates,
        basic_events=tree.basic_events,
        house_events=houses,
        label=tree.label,
        notes=tree.notes,
        mission_time=tree.mission_time,
    )
