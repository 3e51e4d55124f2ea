"""Fault-tree diagrams: DOT structure, escaping, highlight, paging and the post-processed SVG."""

from __future__ import annotations

import random
import re
import xml.etree.ElementTree as ET

import defusedxml.ElementTree as SafeET
import pytest
from safetyops_dsl.generators.fault_tree_dot import (
    HIGHLIGHT_STROKE,
    fmt_number,
    node_ids,
    render_dot,
    render_pages,
    render_svg,
    svg_from_dot,
)

from safetyops_dsl.fta.result import FtaResult
from safetyops_dsl.fta.tree import BasicEvent, FaultTree, Gate, GateKind, HouseEvent, Origin

SVG = "{http://www.w3.org/2000/svg}"
XLINK_TITLE = "{http://www.w3.org/1999/xlink}title"


def _o(line: int) -> Origin:
    return Origin("models/brake.sops", line, 3, "component")


def small_tree(**changes: object) -> FaultTree:
    """AND of two ORs sharing the POWER sub-tree, a 2/3 gate with a NOT, a house and an undeveloped event."""
    gates = {
        "TOP": Gate(
            "TOP", GateKind.AND, ("CH_A", "CH_B", "VOTE", "DEMAND"), label="Loss of braking", origin=_o(10)
        ),
        "CH_A": Gate(
            "CH_A", GateKind.OR, ("PUMP_A", "POWER", "VALVE_A"), label="Channel A fails", origin=_o(20)
        ),
        "CH_B": Gate(
            "CH_B", GateKind.OR, ("PUMP_B", "POWER", "SENSOR_IN"), label="Channel B fails", origin=_o(30)
        ),
        "POWER": Gate("POWER", GateKind.XOR, ("BUS_1", "BUS_2"), label="Power lost", origin=_o(40)),
        "VOTE": Gate(
            "VOTE", GateKind.ATLEAST, ("S1", "S2", "NOT_MAINT"), k=2, label="2oo3 sensors", origin=_o(50)
        ),
        "NOT_MAINT": Gate("NOT_MAINT", GateKind.NOT, ("MAINT",), origin=_o(55)),
    }
    events = {
        "PUMP_A": BasicEvent("PUMP_A", 1.2e-6, "Pump A fails", _o(60), rate_per_hour=1.2e-7),
        "PUMP_B": BasicEvent("PUMP_B", 1.3e-6, "Pump B fails", _o(61)),
        "VALVE_A": BasicEvent("VALVE_A", 4e-5, "Valve A stuck", _o(62)),
        "BUS_1": BasicEvent("BUS_1", 2e-4, "Bus 1 fails", _o(63)),
        "BUS_2": BasicEvent("BUS_2", 2e-4, "Bus 2 fails", _o(64)),
        "S1": BasicEvent("S1", 1e-3, "Sensor 1 wrong", _o(65)),
        "S2": BasicEvent("S2", 1e-3, "Sensor 2 wrong", _o(66)),
        "SENSOR_IN": BasicEvent("SENSOR_IN", 5e-3, "Input deviates", _o(67), undeveloped=True),
        "MAINT": BasicEvent("MAINT", 1e-2, "Maintenance mode", _o(68)),
    }
    houses = {"DEMAND": HouseEvent("DEMAND", True, "Brake demand", _o(70))}
    fields: dict[str, object] = {
        "name": "brake_loss",
        "top": "TOP",
        "gates": gates,
        "basic_events": events,
        "house_events": houses,
        "label": "Braking",
        "notes": ("feedback loop cut at Controller.out",),
        "mission_time": 1000.0,
    }
    fields.update(changes)
    return FaultTree(**fields)  # type: ignore[arg-type]


def small_result(
    tree: FaultTree, cut_sets: tuple[tuple[str, ...], ...] = (("SENSOR_IN",), ("BUS_1", "S1"))
) -> FtaResult:
    return FtaResult(
        tree=tree.name,
        top=tree.top,
        probability=3.4e-9,
        exact_probability=3.4e-9,
        rare_event_probability=None,
        mcub_probability=None,
        cut_set_count=len(cut_sets),
        cut_sets_by_order={},
        cut_sets=cut_sets,
        cut_sets_truncated=False,
    )


def big_tree(n_events: int = 200, seed: int = 7) -> FaultTree:
    """A generated tree of nested AND/OR gates with `n_events` basic events and some shared sub-trees."""
    rnd = random.Random(seed)
    gates: dict[str, Gate] = {}
    events: dict[str, BasicEvent] = {}

    def event() -> str:
        name = f"E{len(events) + 1:03d}"
        events[name] = BasicEvent(
            name, rnd.random() * 1e-3, f"Component {name} fails", Origin("m.sops", 1, 1)
        )
        return name

    def gate(depth: int, name: str) -> str:
        inputs: list[str] = []
        for i in range(rnd.randint(3, 5)):
            if len(events) >= n_events:
                break
            inputs.append(gate(depth + 1, f"{name}_{i + 1}") if depth < 3 and rnd.random() < 0.6 else event())
        if not inputs:
            inputs.append(event())
        gates[name] = Gate(
            name, rnd.choice([GateKind.OR, GateKind.AND]), tuple(inputs), label=f"{name} fails"
        )
        return name

    top_inputs: list[str] = []
    while len(events) < n_events:
        top_inputs.append(gate(1, f"G{len(top_inputs) + 1}"))
    # Share two sub-trees between distant parents, as synthesis does for common causes.
    shared = sorted(g for g in gates if g.count("_") == 2)[:2]
    for parent in ("G1", f"G{len(top_inputs)}"):
        old = gates[parent]
        gates[parent] = Gate(parent, old.kind, old.inputs + tuple(s for s in shared if s not in old.inputs))
    gates["TOP"] = Gate("TOP", GateKind.OR, tuple(top_inputs), label="Plant trip fails")
    return FaultTree("plant", "TOP", gates, events)


def parse_svg(svg: str) -> ET.Element:
    root: ET.Element = SafeET.fromstring(svg)
    return root


def groups(root: ET.Element) -> dict[str, ET.Element]:
    return {g.get("id", ""): g for g in root.iter(f"{SVG}g") if g.get("id")}


def classes(element: ET.Element) -> set[str]:
    return set(element.get("class", "").split())


def texts(element: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in element.iter(f"{SVG}text")]


# ------------------------------------------------------------------------------------------------ DOT


def test_dot_is_deterministic_and_independent_of_mapping_order() -> None:
    tree = small_tree()
    shuffled = small_tree(
        gates=dict(reversed(list(tree.gates.items()))),
        basic_events=dict(reversed(list(tree.basic_events.items()))),
    )
    first = render_dot(tree, small_result(tree), ("BUS_1", "S1"))
    assert first == render_dot(tree, small_result(tree), ("BUS_1", "S1"))
    assert first == render_dot(shuffled, small_result(shuffled), ("BUS_1", "S1"))


def test_shared_subtree_is_one_node_with_two_parents() -> None:
    dot = render_dot(small_tree())
    assert len(re.findall(r"^  n_POWER \[", dot, re.M)) == 1
    assert re.findall(r"^  j_(\w+) -> a_POWER ", dot, re.M) == ["CH_A", "CH_B"]


def test_node_ids_are_safe_stable_and_collision_free() -> None:
    names = ["a-b", "a_b", "a b", "1x", "ü", "Pump.A", ""]
    tree = FaultTree(
        "t", "TOP", {"TOP": Gate("TOP", GateKind.OR, tuple(names))}, {n: BasicEvent(n, 0.1) for n in names}
    )
    ids = node_ids(tree)
    assert ids["a_b"] == "a_b" and ids["TOP"] == "TOP"  # safe names are their own ids
    assert len(set(ids.values())) == len(ids)
    assert all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", v) for v in ids.values())
    smaller = FaultTree(
        "t", "TOP", {"TOP": Gate("TOP", GateKind.OR, ("a-b",))}, {"a-b": BasicEvent("a-b", 0.1)}
    )
    assert node_ids(smaller)["a-b"] == ids["a-b"]  # does not depend on the other names


def test_number_format() -> None:
    assert fmt_number(1.2e-6) == "1.2e-6"
    assert fmt_number(3.456e-10) == "3.5e-10"
    assert fmt_number(0.5) == "5.0e-1"
    assert fmt_number(0.0) == "0"
    assert fmt_number(1.0) == "1"


@pytest.mark.parametrize(
    ("tree", "message"),
    [
        (FaultTree("t", "X", {}, {}), "top"),
        (FaultTree("t", "T", {"T": Gate("T", GateKind.OR, ("nope",))}, {}), "unknown input"),
        (
            FaultTree(
                "t", "T", {"T": Gate("T", GateKind.OR, ("U",)), "U": Gate("U", GateKind.AND, ("T",))}, {}
            ),
            "cycle",
        ),
    ],
)
def test_broken_trees_are_rejected(tree: FaultTree, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render_dot(tree)
    with pytest.raises(ValueError, match=message):
        render_pages(tree)


def test_bad_highlight_and_mismatched_result_are_rejected() -> None:
    tree = small_tree()
    with pytest.raises(ValueError, match="NOPE"):
        render_dot(tree, highlight=("NOPE",))
    with pytest.raises(ValueError, match="not an event"):
        render_dot(tree, highlight=("CH_A",))
    other = small_tree(top="CH_A")
    with pytest.raises(ValueError, match="top"):
        render_dot(tree, small_result(other))


def test_no_environment_in_output() -> None:
    dot = render_dot(small_tree(), small_result(small_tree()))
    assert "/work" not in dot and "/tmp" not in dot
    assert 'tooltip="TOP\\nLoss of braking\\nmodels/brake.sops:10 (component)"' in dot


# ------------------------------------------------------------------------------------------------ SVG


@pytest.fixture(scope="module")
def small_svg() -> ET.Element:
    tree = small_tree()
    return parse_svg(render_svg(tree, small_result(tree), ("BUS_1", "S1")))


@pytest.mark.usefixtures("dot_program")
def test_svg_draws_standard_symbols(small_svg: ET.Element) -> None:
    g = groups(small_svg)
    expected = {
        "sym-TOP": "ft-and",
        "sym-CH_A": "ft-or",
        "sym-POWER": "ft-xor",
        "sym-VOTE": "ft-atleast",
        "sym-NOT_MAINT": "ft-not",
        "sym-PUMP_A": "ft-basic",
        "sym-SENSOR_IN": "ft-undeveloped",
        "sym-DEMAND": "ft-house-true",
    }
    for sym_id, kind in expected.items():
        assert kind in classes(g[sym_id]), sym_id
        # The placeholder rectangle is gone, replaced by the symbol outline.
        assert not list(g[sym_id].iter(f"{SVG}polygon")), sym_id
        assert list(g[sym_id].iter(f"{SVG}path")) or list(g[sym_id].iter(f"{SVG}circle")), sym_id
    assert "2/3" in texts(g["sym-VOTE"])
    assert "TRUE" in texts(g["sym-DEMAND"])
    assert len(list(g["sym-POWER"].iter(f"{SVG}path"))) == 3  # shield + extra arc + stub
    assert len(list(g["sym-NOT_MAINT"].iter(f"{SVG}circle"))) == 1  # inverter bubble
    # Probabilities (and the rate where there is one) under the basic events.
    assert texts(g["sym-PUMP_A"]) == ["p=1.2e-6", "\u03bb=1.2e-7/h"]
    assert texts(g["sym-PUMP_B"]) == ["p=1.3e-6"]
    # The top probability on the top gate only.
    assert any("P(top) = 3.4e-9" in t for t in texts(g["ev-TOP"]))
    assert not any("P(" in t for t in texts(g["ev-CH_A"]))
    assert any("feedback loop cut at Controller.out" in t for t in texts(g["notes"]))


@pytest.mark.usefixtures("dot_program")
def test_svg_is_safe_and_has_origin_tooltips(small_svg: ET.Element) -> None:
    assert not [e for e in small_svg.iter() if e.tag.endswith(("script", "foreignObject"))]
    assert not [k for e in small_svg.iter() for k in e.attrib if k.lower().startswith("on")]
    g = groups(small_svg)
    titles = [a.get(XLINK_TITLE, "") for a in g["ev-PUMP_A"].iter(f"{SVG}a")]
    assert titles and "models/brake.sops:60" in titles[0]


@pytest.mark.usefixtures("dot_program")
def test_highlight_marks_exactly_the_cut_set_and_its_paths(small_svg: ET.Element) -> None:
    g = groups(small_svg)
    marked_boxes = {i[3:] for i, e in g.items() if i.startswith("ev-") and "ft-hl" in classes(e)}
    # BUS_1 sits under POWER, which is shared by CH_A and CH_B; S1 under VOTE; all under TOP.
    assert marked_boxes == {"BUS_1", "S1", "POWER", "CH_A", "CH_B", "VOTE", "TOP"}
    marked_syms = {i[4:] for i, e in g.items() if i.startswith("sym-") and "ft-hl" in classes(e)}
    assert marked_syms == marked_boxes
    marked_edges = {i for i, e in g.items() if i.startswith("e-") and "ft-hl" in classes(e)}
    assert marked_edges == {
        "e-TOP-CH_A",
        "e-TOP-CH_B",
        "e-TOP-VOTE",
        "e-CH_A-POWER",
        "e-CH_B-POWER",
        "e-POWER-BUS_1",
        "e-VOTE-S1",
    }
    for edge_id in marked_edges:
        path = next(g[edge_id].iter(f"{SVG}path"))
        assert path.get("stroke") == HIGHLIGHT_STROKE and float(path.get("stroke-width", "1")) > 2
    for edge_id in ("e-TOP-DEMAND", "e-POWER-BUS_2", "e-CH_A-PUMP_A"):
        assert next(g[edge_id].iter(f"{SVG}path")).get("stroke") != HIGHLIGHT_STROKE


@pytest.mark.usefixtures("dot_program")
def test_single_points_of_failure_are_marked_only_on_request() -> None:
    tree = small_tree()
    g = groups(parse_svg(render_svg(tree, small_result(tree))))
    assert {i for i, e in g.items() if "ft-spof" in classes(e)} == {"ev-SENSOR_IN", "sym-SENSOR_IN"}
    assert "SPOF" in texts(g["ev-SENSOR_IN"])
    plain = render_dot(tree, small_result(tree), mark_single_points=False)
    assert "ft-spof" not in plain and "SPOF" not in plain


HOSTILE = 'q"uo\\te <b>&amp; {r|e}\n\\N\\G \u00fc\u2603\U0001f600\x07'


@pytest.mark.usefixtures("dot_program")
def test_hostile_labels_survive_dot_and_svg() -> None:
    name = 'ev"<x>|{y}\\'
    tree = FaultTree(
        name="t<&>",
        top="TOP",
        gates={"TOP": Gate("TOP", GateKind.OR, (name, "B"), label=HOSTILE)},
        basic_events={
            name: BasicEvent(name, 0.25, label=HOSTILE, origin=Origin('dir/"a&b".sops', 3, 1)),
            "B": BasicEvent("B", 0.5),
        },
        label=HOSTILE,
        notes=(HOSTILE,),
    )
    dot = render_dot(tree, highlight=(name,))
    root = parse_svg(svg_from_dot(dot))  # parses: well-formed XML despite the label text
    g = groups(root)
    ev = g[f"ev-{node_ids(tree)[name]}"]
    shown = " ".join(texts(ev))
    # Newlines become spaces, the hidden (and XML-invalid) BEL is written out as <U+0007>; everything else
    # is shown verbatim.
    assert name in shown
    assert 'q"uo\\te <b>&amp; {r|e} \\N\\G \u00fc\u2603\U0001f600<U+0007>' in shown
    tooltip = next(ev.iter(f"{SVG}a")).get(XLINK_TITLE, "")
    # Backslashes in tooltips are shown as U+29F5 (Graphviz unescapes tooltips a version-dependent number
    # of times), so no escape sequence can expand.
    assert tooltip.startswith(
        name.replace("\\", "\u29f5") + "\n" + 'q"uo\u29f5te <b>&amp; {r|e}\n\u29f5N\u29f5G'
    )
    assert 'dir/"a&b".sops:3' in tooltip
    assert "ft-hl" in classes(ev)
    notes = " ".join(texts(g["notes"]))
    assert 'q"uo\\te <b>&amp; {r|e} \\N\\G' in notes


# ---------------------------------------------------------------------------------------------- pages


def _page_nodes(dot: str) -> set[str]:
    return set(re.findall(r'^  n_(\w+) \[id="ev-', dot, re.M))


def _transfers(dot: str) -> set[str]:
    return set(re.findall(r'id="xfer-(\w+)"', dot))


def test_pages_split_large_tree_with_resolvable_transfers() -> None:
    tree = big_tree()
    ids = node_ids(tree)
    budget = 40
    pages = render_pages(tree, max_nodes_per_page=budget)
    assert next(iter(pages)) == ids["TOP"]
    assert len(pages) > 3
    referenced: set[str] = set()
    drawn_gates: dict[str, int] = {}
    drawn_events: set[str] = set()
    for page, dot in pages.items():
        nodes = _page_nodes(dot)
        assert len(nodes) <= budget, page
        transfers = _transfers(dot)
        assert transfers <= set(pages), page  # every transfer names an existing page
        assert page not in transfers
        referenced |= transfers
        for node in nodes - transfers:
            if node in tree.gates:
                drawn_gates[node] = drawn_gates.get(node, 0) + 1
            else:
                drawn_events.add(node)
        assert f"sym-{page}" in dot  # the page root is drawn as its gate, not as a transfer
    assert referenced == set(pages) - {ids["TOP"]}  # every page is reachable from another
    reachable = set(tree.reachable())
    # Every gate is drawn (with its symbol) on exactly one page: shared sub-trees are not duplicated.
    assert drawn_gates == dict.fromkeys(sorted(g for g in tree.gates if g in reachable), 1)
    assert drawn_events == set(tree.basic_events)
    assert pages == render_pages(tree, max_nodes_per_page=budget)


def test_small_tree_fits_one_page_and_matches_render_dot() -> None:
    tree = small_tree()
    pages = render_pages(tree)
    assert list(pages) == ["TOP"]
    assert "xfer-" not in pages["TOP"]
    with pytest.raises(ValueError):
        render_pages(tree, max_nodes_per_page=1)


@pytest.mark.usefixtures("dot_program")
def test_paged_svg_has_transfer_triangles_and_highlight_crosses_pages() -> None:
    tree = big_tree()
    pages = render_pages(tree, highlight=("E010",), max_nodes_per_page=40)
    carrying = [p for p, d in pages.items() if 'id="ev-E010"' in d]
    assert len(carrying) == 1
    for page, dot in pages.items():
        g = groups(parse_svg(svg_from_dot(dot)))
        for xfer in _transfers(dot):
            sym = g[f"xfer-{xfer}"]
            assert "ft-transfer" in classes(sym) and xfer in texts(sym)
            assert len(list(sym.iter(f"{SVG}path"))) == 1
        if page == carrying[0]:
            assert "ft-hl" in classes(g["ev-E010"])


@pytest.mark.usefixtures("dot_program")
def test_200_event_tree_renders_as_one_svg() -> None:
    tree = big_tree()
    root = parse_svg(render_svg(tree))
    g = groups(root)
    assert {f"ev-{e}" for e in tree.basic_events} <= set(g)
    assert {f"sym-{x}" for x in tree.gates} <= set(g)


def test_qualified_names_wrap_at_separators() -> None:
    name = "InsulinPump.drive.motor.plunger.omission"
    tree = FaultTree("t", "TOP", {"TOP": Gate("TOP", GateKind.OR, (name,))}, {name: BasicEvent(name, 0.1)})
    dot = render_dot(tree)
    assert "<B>InsulinPump.drive.motor.<BR/>plunger.omission</B>" in dot
    long = "x" * 70
    tree = FaultTree("t", "TOP", {"TOP": Gate("TOP", GateKind.OR, (long,))}, {long: BasicEvent(long, 0.1)})
    assert f"<B>{'x' * 30}<BR/>{'x' * 30}<BR/>{'x' * 10}</B>" in render_dot(tree)


def test_ccf_event_names_wrap_between_members() -> None:
    from safetyops_dsl.generators.fault_tree_dot import _node_name_lines, _wrap_name

    assert _node_name_lines("[PressureSensorOne PressureSensorTwo PressureSensorThree]") == [
        "[PressureSensorOne", "PressureSensorTwo", "PressureSensorThree]"
    ]
    assert _node_name_lines("[ValveOne ValveTwo ValveThree]") == ["[ValveOne ValveTwo ValveThree]"]
    # Qualified members still wrap after their dots; other names wrap as before (not at blanks).
    assert _node_name_lines("[Vehicle.front.radar.Dead Vehicle.rear.radar.Dead]") == [
        "[Vehicle.front.radar.Dead", "Vehicle.rear.radar.Dead]"
    ]
    assert _node_name_lines("a b " * 10) == _wrap_name("a b " * 10)
    tree = FaultTree("t", "[A B]", {"[A B]": Gate("[A B]", GateKind.OR, ("[A]", "[B]"))},
                     {"[A]": BasicEvent("[A]", 0.1), "[B]": BasicEvent("[B]", 0.1)})
    assert "<B>[A B]</B>" in render_dot(tree)


def chain_tree(stages: int = 100) -> FaultTree:
    """Synthesis of a chain where stage i takes the outputs of stages i-1 and i-2 (the shape of
    benchmarks/scale.py): every stage's gate is shared by two parents, so the tree is a deep DAG."""
    gates: dict[str, Gate] = {}
    events: dict[str, BasicEvent] = {}
    for i in range(stages):
        events[f"F{i}"] = BasicEvent(f"F{i}", 1e-6, f"stage {i} fails", _o(i + 1))
        ins = [f"Y{j}" for j in (i - 1, i - 2) if j >= 0] or [f"F{i}"]
        gates[f"A{i}"] = Gate(f"A{i}", GateKind.AND, tuple(ins))
        gates[f"Y{i}"] = Gate(f"Y{i}", GateKind.OR, (f"A{i}", f"F{i}"), label=f"omission of stage {i}")
    return FaultTree("chain", f"Y{stages - 1}", gates, events)


def _transfer_targets(dot: str) -> dict[str, str]:
    """Transfer symbol -> the page named under it."""
    return dict(re.findall(r'id="xfer-(\w+)", class="[^"]*", label="([^"]*)"', dot))


def _drawn_once(tree: FaultTree, pages: dict[str, str]) -> None:
    drawn: dict[str, int] = {}
    for dot in pages.values():
        targets = _transfer_targets(dot)
        assert set(targets.values()) <= set(pages)  # every transfer names a page that exists
        for node in _page_nodes(dot) - set(targets):
            if node in tree.gates:
                drawn[node] = drawn.get(node, 0) + 1
    assert drawn == dict.fromkeys(sorted(set(tree.reachable()) & set(tree.gates)), 1)


def _columns(dot: str, tree: FaultTree) -> int:
    """Events and transfers on a page: its width in boxes side by side (an upper bound)."""
    targets = _transfer_targets(dot)
    return sum(1 for n in _page_nodes(dot) if n in targets or n not in tree.gates)


def test_pages_are_bounded_in_width_as_well_as_in_nodes() -> None:
    tree = big_tree()
    pages = render_pages(tree, max_nodes_per_page=500, max_columns=12)
    assert len(pages) > 5
    assert all(_columns(dot, tree) <= 12 for dot in pages.values()), [_columns(d, tree) for d in pages.values()]
    _drawn_once(tree, pages)
    assert len(render_pages(tree, max_nodes_per_page=500)) == 1  # without a width bound it fits in nodes


def test_a_shared_chain_is_paged_into_few_readable_pages() -> None:
    """Every stage gate is shared: it is drawn on one page and is a transfer (naming that page) on the
    others, rather than a page of three boxes of its own."""
    tree = chain_tree(100)
    pages = render_pages(tree, max_nodes_per_page=60, max_columns=16)
    assert 3 <= len(pages) <= 16, len(pages)  # 300 nodes; a page per shared gate would be 100 pages
    _drawn_once(tree, pages)
    assert all(len(_page_nodes(dot)) <= 60 for dot in pages.values())


def test_many_notes_are_counted_not_all_drawn() -> None:
    tree = small_tree(notes=tuple(f"independence assumed between A{i} and B{i}" for i in range(75)))
    dot = render_dot(tree)
    assert "A2 and B2" in dot and "A3 and B3" not in dot
    assert "\u2026 and 72 more notes (listed in the report)" in dot


def test_nodes_link_to_their_pages() -> None:
    tree = big_tree()
    ids = node_ids(tree)
    urls = {name: f"el/{name}.html" for name in [*tree.gates, *tree.basic_events]}
    pages = render_pages(tree, max_nodes_per_page=40, urls={**urls, **{f"page:{p}": f"t.html#page-{p}" for p in
                                                                         node_ids(tree).values()}})
    for page, dot in pages.items():
        targets = _transfer_targets(dot)
        for node in _page_nodes(dot):
            name = next(n for n, i in ids.items() if i == node)
            want = f"t.html#page-{targets[node]}" if node in targets else f"el/{name}.html"
            assert re.search(rf'n_{node} \[[^\n]*URL="{re.escape(want)}"', dot), (page, node)
    assert "URL=" not in render_dot(tree)  # no links unless asked for
