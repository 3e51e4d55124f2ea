"""How deviations travel through a system: the dependency graph behind fault-tree synthesis.

A node is a deviation at a port of an instance. An output deviation is caused by its component's rules
(and `propagate` lines, and for composites the part output delegated to it); an input deviation is caused
by whatever drives the input. Validation walks this graph to find feedback loops; synthesis walks it to
build the gates. Both cut a loop the same way: a deviation already on the current path adds nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from safetyops_dsl.diagnostics import Location
from safetyops_dsl.graphs import has_cycle
from safetyops_dsl.model import elements as el
from safetyops_dsl.model.index import Model
from safetyops_dsl.model.instances import Instance, part_type


@dataclass(frozen=True, slots=True, order=True)
class DevNode:
    direction: str  # "out" or "in"
    instance: str  # instance path
    port: str
    deviation: str

    def __str__(self) -> str:
        return f"{self.instance}.{self.port}.{self.deviation}"


@dataclass(frozen=True, slots=True)
class RuleCause:
    """A rule's expression, evaluated in the scope of `instance`."""

    instance: str
    rule: el.Rule


@dataclass(frozen=True, slots=True)
class NodeCause:
    node: DevNode
    location: Location | None


@dataclass(frozen=True, slots=True)
class BoundaryCause:
    """A deviation arriving at a system input from outside the model: an undeveloped event."""

    system: str
    port: str
    deviation: str
    location: Location


Cause = RuleCause | NodeCause | BoundaryCause


class Propagation:
    def __init__(self, model: Model, root: Instance):
        self.model = model
        self.root = root
        self.instances: dict[str, Instance] = {i.path: i for i in root.walk()}
        self._refinements: dict[str, list[str]] = {}
        self._conn_by_target: dict[str, dict[str, el.Connection]] = {}

    def refinements(self, deviation: str) -> list[str]:
        if deviation not in self._refinements:
            self._refinements[deviation] = self.model.refinements(deviation)
        return self._refinements[deviation]

    def _connections(self, comp: el.Component) -> dict[str, el.Connection]:
        key = comp.qualified_name
        if key not in self._conn_by_target:
            table: dict[str, el.Connection] = {}
            for c in comp.connections:
                table.setdefault(c.target, c)
            self._conn_by_target[key] = table
        return self._conn_by_target[key]

    def causes(self, node: DevNode) -> list[Cause]:
        inst = self.instances[node.instance]
        comp = inst.component
        out: list[Cause] = []
        if node.direction == "out":
            wanted = set(self.refinements(node.deviation))
            for rule in comp.rules:
                if rule.port == node.port and rule.deviation in wanted:
                    out.append(RuleCause(inst.path, rule))
            for prop in comp.propagates:
                if prop.target != node.port:
                    continue
                if not prop.deviations:
                    out.append(NodeCause(DevNode("in", inst.path, prop.source, node.deviation), prop.location))
                    continue
                # `propagate i -> o { value.stuck }` makes o.value.stuck, which is also an o.value
                for dev in prop.deviations:
                    if dev in wanted:
                        out.append(NodeCause(DevNode("in", inst.path, prop.source, dev), prop.location))
            conn = self._connections(comp).get(node.port)
            if conn is not None:
                src_part, _, src_port = conn.source.rpartition(".")
                if not src_part:  # a pass-through from the component's own input
                    out.append(NodeCause(DevNode("in", inst.path, src_port, node.deviation), conn.location))
                elif src_part in inst.children:
                    child = inst.children[src_part]
                    out.append(NodeCause(DevNode("out", child.path, src_port, node.deviation), conn.location))
            return out
        parent = inst.parent
        if parent is None:
            port = comp.port(node.port)
            loc = port.location if port is not None else comp.location
            return [BoundaryCause(inst.path, node.port, node.deviation, loc)]
        assert inst.part is not None
        conn = self._connections(parent.component).get(f"{inst.part.name}.{node.port}")
        if conn is None:
            return []
        src_part, _, src_port = conn.source.rpartition(".")
        if not src_part:
            return [NodeCause(DevNode("in", parent.path, src_port, node.deviation), conn.location)]
        sibling = parent.children.get(src_part)
        if sibling is None:
            return []
        return [NodeCause(DevNode("out", sibling.path, src_port, node.deviation), conn.location)]

    def successors(self, node: DevNode) -> Iterator[tuple[DevNode, Location | None]]:
        """Nodes `node` depends on, ignoring the Boolean structure (for graph walks)."""
        for cause in self.causes(node):
            if isinstance(cause, NodeCause):
                yield cause.node, cause.location
            elif isinstance(cause, RuleCause):
                for ref in el.expr_refs(cause.rule.expr):
                    port, dot, dev = ref.path.partition(".")
                    if dot:
                        yield DevNode("in", cause.instance, port, dev), ref.location


# A port of a component type, as ("out" | "in", component qualified name, port name).
TypePort = tuple[str, str, str]


def type_port_edges(model: Model, inst: Instance) -> list[tuple[TypePort, TypePort]]:
    """The edges that `Propagation.successors` can produce inside any instance of `inst.component`, with
    instances replaced by their component types and deviations dropped: a superset of their images (every rule
    on a port, every connection to a target, whatever deviation or instance asks). Part types are read from
    `inst`'s children, else resolved as build_instances does."""
    comp = inst.component
    q = comp.qualified_name
    edges: list[tuple[TypePort, TypePort]] = []
    for rule in comp.rules:
        for ref in el.expr_refs(rule.expr):
            port, dot, _ = ref.path.partition(".")
            if dot:
                edges.append((("out", q, rule.port), ("in", q, port)))
    for prop in comp.propagates:
        edges.append((("out", q, prop.target), ("in", q, prop.source)))

    def type_of(part_name: str) -> el.Component | None:
        child = inst.children.get(part_name)
        if child is not None:
            return child.component
        part = comp.part(part_name)
        return part_type(model, comp, part) if part is not None else None

    for conn in comp.connections:
        src_part, _, src_port = conn.source.rpartition(".")
        if src_part:
            ptype = type_of(src_part)
            if ptype is None:
                continue  # no such instance: successors yields nothing for it
            source: TypePort = ("out", ptype.qualified_name, src_port)
        else:
            source = ("in", q, src_port)
        dst_part, _, dst_port = conn.target.rpartition(".")
        if not dst_part:  # the composite's own output, delegated
            edges.append((("out", q, dst_port), source))
            continue
        ptype = type_of(dst_part)
        if ptype is not None:  # a part's input, driven from here
            edges.append((("in", ptype.qualified_name, dst_port), source))
    return edges


def may_have_logic_cycles(model: Model, root: Instance) -> bool:
    """False when no instance-level loop can exist: each instance-level edge maps to an edge between the
    component types' ports, so a loop of deviations maps to a loop there. The type graph has a node per port
    of a component type (tens of thousands for a large model, against one per deviation of every instance),
    and a model without feedback has no loop in it, so find_logic_cycles can skip its walk."""
    graph: dict[TypePort, list[TypePort]] = {}
    seen: set[str] = set()
    for inst in root.walk():
        comp = inst.component
        if comp.qualified_name in seen:
            continue
        seen.add(comp.qualified_name)
        for a, b in type_port_edges(model, inst):
            graph.setdefault(a, []).append(b)
    return has_cycle(graph)


def find_logic_cycles(model: Model, root: Instance) -> list[tuple[list[str], Location]]:
    """Every elementary loop found by a depth-first walk from each output deviation that has logic; each loop
    is reported once (by its set of nodes), at the location of the link that closes it."""
    if not may_have_logic_cycles(model, root):
        return []
    return walk_logic_cycles(model, root)


def walk_logic_cycles(model: Model, root: Instance) -> list[tuple[list[str], Location]]:
    """find_logic_cycles without the type-level shortcut (the reference the shortcut is tested against)."""
    prop = Propagation(model, root)
    starts: list[DevNode] = []
    for inst in root.walk():
        for rule in inst.component.rules:
            starts.append(DevNode("out", inst.path, rule.port, rule.deviation))
    state: dict[DevNode, int] = {}
    found: list[tuple[list[str], Location]] = []
    seen_cycles: set[frozenset[DevNode]] = set()
    for start in sorted(set(starts)):
        if start in state:
            continue
        # iterative DFS: (node, iterator over successors)
        stack: list[tuple[DevNode, Iterator[tuple[DevNode, Location | None]]]] = [(start, prop.successors(start))]
        path: list[DevNode] = [start]
        state[start] = 1
        while stack:
            node, it = stack[-1]
            advanced = False
            for nxt, loc in it:
                if state.get(nxt) == 1:
                    cycle = path[path.index(nxt) :]
                    key = frozenset(cycle)
                    if key not in seen_cycles:
                        seen_cycles.add(key)
                        names = [str(n) for n in cycle if n.direction == "out"] or [str(n) for n in cycle]
                        found.append((names + [names[0]], loc or root.component.location))
                elif nxt not in state:
                    state[nxt] = 1
                    path.append(nxt)
                    stack.append((nxt, prop.successors(nxt)))
                    advanced = True
                    break
            if not advanced:
                stack.pop()
                path.pop()
                state[node] = 2
    return found
