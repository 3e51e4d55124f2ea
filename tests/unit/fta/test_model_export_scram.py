"""The fault trees synthesised from our own models, exported to Open-PSA MEF, are accepted by SCRAM
(`scram --validate`) and give SCRAM our numbers: the same minimal cut-set count, order distribution and exact
probability, hazard by hazard. This covers what the corpus cannot: pass-through gates, k-of-n expansions and
common-cause events as synthesis makes them.

Each hazard is checked in its own export (`sops fta --hazard H --format openpsa`, the build's `fta/<H>.xml`)
and in the combined one (`sops fta MODEL --format openpsa`, the build's `fta/all.xml`), against `sops fta`.
Besides the example models, two models make the combined export hard: hazards with their own mission times
(one name, several probabilities) and feedback loops (one gate name, a different structure per hazard)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner
from test_scram_oracle import agrees, run_scram

from generators.openpsa import write_openpsa
from safetyops_dsl.analysis.synthesis import synthesise_all
from safetyops_dsl.api import check
from safetyops_dsl.cli.main import cli
from safetyops_dsl.fta.engine import analyse
from safetyops_dsl.fta.openpsa import load_openpsa
from safetyops_dsl.fta.result import AnalysisOptions, FtaResult
from safetyops_dsl.fta.tree import FaultTree

ROOT = Path(__file__).resolve().parents[3]

# Three hazards over one 2-out-of-3 sensor with a CCF group, each with its own mission time; the value
# deviations come from probability-quantified failure modes, which no mission time changes: H3 and H4 can
# share them while every omission node differs between the hazards.
MISSION_TIMES = """
package mt
mission_time 1000 h
component Sensor "speed sensor" {
    out o
    failure Dead rate 100 FIT "no output"
    failure Miscal probability 1e-4 "miscalibrated at the factory"
    o.omission <- Dead
    o.value <- Miscal
}
component Voter3 "2-out-of-3 voter" {
    in x, y, z
    out o
    failure Stuck rate 5 FIT "output frozen"
    o.omission <- 2 of (x.omission, y.omission, z.omission) or Stuck
    o.value <- 2 of (x.value, y.value, z.value)
}
component Triple "triple-redundant speed" {
    out o
    part p : Sensor
    part q : Sensor
    part r : Sensor
    part v : Voter3
    connect p.o -> v.x
    connect q.o -> v.y
    connect r.o -> v.z
    connect v.o -> o
    ccf Harness covers p.Dead, q.Dead, r.Dead beta 5 % "one harness"
}
system Plant "speed measurement" {
    out speed
    part t : Triple
    connect t.o -> speed
}
hazard H1 "No speed on a short trip" {
    severity S1 exposure E1 controllability C1
    mission_time 1 h
    when speed.omission
}
hazard H2 "No speed on a long trip" {
    severity S1 exposure E1 controllability C1
    mission_time 10000 h
    when speed.omission
}
hazard H3 "Wrong speed" {
    severity S1 exposure E1 controllability C1
    when speed.value
}
hazard H4 "No or wrong speed" {
    severity S1 exposure E1 controllability C1
    mission_time 10 h
    when speed.omission or speed.value
}
"""

# A closed loop observed at two outputs: the loop is cut where each hazard's walk closes it, so the gates
# Loop.ctrl.cmd.omission and Loop.plant.state.omission are built differently for H1 and H2 (same mission
# time: the difference is structure only). H3 walks the loop twice and gets the re-built copies `...#2`.
FEEDBACK = """
package loop
mission_time 100 h
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
    out state, command
    part ctrl  : Ctrl
    part plant : Plant
    connect ctrl.cmd     -> plant.cmd
    connect plant.state  -> ctrl.feedback
    connect plant.state  -> state
    connect ctrl.cmd     -> command
}
hazard H1 "Loss of state" {
    severity S1 exposure E1 controllability C1
    when state.omission
}
hazard H2 "Loss of command" {
    severity S1 exposure E1 controllability C1
    when command.omission
}
hazard H3 "Loss of both" {
    severity S1 exposure E1 controllability C1
    mission_time 10 h
    when state.omission and command.omission
}
"""

TEXTS = {"mission_times": MISSION_TIMES, "feedback": FEEDBACK}
MODELS = ["aeb", "insulin_pump", "fta_ccf_model", *TEXTS]


def model_folder(name: str, tmp_path: Path) -> Path:
    if name in TEXTS:
        folder = tmp_path / name
        folder.mkdir()
        (folder / "m.sops").write_text(TEXTS[name], encoding="utf-8")
        return folder
    return ROOT / "tests" / "golden" / name if name.startswith("fta_") else ROOT / "models" / name


def model_trees(folder: Path) -> list[FaultTree]:
    checked = check([folder])
    assert checked.model is not None and checked.ok, checked.diagnostics
    trees = [r.tree for r in synthesise_all(checked.model)]
    assert len(trees) >= 2
    return trees


def sops_fta(folder: Path) -> dict[str, dict]:  # type: ignore[type-arg]
    """What `sops fta MODEL --format json` reports, hazard by hazard."""
    result = CliRunner().invoke(cli, ["fta", str(folder), "--format", "json", "--cut-set-limit", "0",
                                      "--no-importance"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return {t["name"]: t for t in json.loads(result.stdout)["top_events"]}


def numbers(r: FtaResult) -> tuple[float | None, int, dict[int, int]]:
    return r.exact_probability, r.cut_set_count, dict(r.cut_sets_by_order)


def assert_sops_numbers(tree: FaultTree, r: FtaResult, reported: dict) -> None:  # type: ignore[type-arg]
    assert r.exact_probability == reported["exact_probability"], tree.name
    assert r.cut_set_count == reported["cut_set_count"], tree.name
    assert {str(k): v for k, v in r.cut_sets_by_order.items()} == reported["cut_sets_by_order"], tree.name


def assert_scram_numbers(tree: FaultTree, ours: FtaResult, s: ElementTree.Element | None) -> None:
    if "NEVER" in tree.house_events:  # a constant-false top: SCRAM reports no products either
        assert ours.cut_set_count == 0 and (s is None or int(s.get("products", "0")) == 0), tree.name
        return
    assert s is not None, tree.name
    assert ours.exact_probability is not None
    assert agrees(ours.exact_probability, s.get("probability", "")), (tree.name, ours.exact_probability, s.attrib)
    assert ours.cut_set_count == int(s.get("products", "0")), tree.name
    scram_orders = [int(x) for x in s.get("distribution", "").split()]
    assert [ours.cut_sets_by_order.get(i + 1, 0) for i in range(len(scram_orders))] == scram_orders, tree.name


def validate(scram: str, path: Path) -> None:
    proc = subprocess.run([scram, "--validate", str(path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, (path.name, proc.stdout + proc.stderr)


@pytest.mark.parametrize("name", MODELS)
def test_scram_agrees_with_the_exported_model_trees(name: str, scram: str, tmp_path: Path) -> None:
    folder = model_folder(name, tmp_path)
    trees = model_trees(folder)
    reported = sops_fta(folder)
    combined = tmp_path / "all.xml"
    combined.write_text(write_openpsa(trees), encoding="utf-8")
    validate(scram, combined)
    scram_all = {s.get("name"): s for s in run_scram(scram, [combined], 20, False, tmp_path / "all.report.xml")
                 .findall("./results/sum-of-products")}
    for tree in trees:
        ours = analyse(tree, AnalysisOptions())
        assert_sops_numbers(tree, ours, reported[tree.name])
        single = tmp_path / f"{tree.name}.xml"
        single.write_text(write_openpsa([tree]), encoding="utf-8")
        validate(scram, single)
        found = run_scram(scram, [single], 20, False, tmp_path / f"{tree.name}.report.xml").findall(
            "./results/sum-of-products")
        assert len(found) <= 1, tree.name
        assert_scram_numbers(tree, ours, found[0] if found else None)
        assert_scram_numbers(tree, ours, scram_all.get(tree.name))
    # the combined file has no top event besides the hazards (a per-tree copy is always used by its tree)
    assert set(scram_all) <= {t.name for t in trees}


def original_names(text: str) -> dict[str, str]:
    """MEF identifier -> the node's name in the tree (the export keeps a rewritten name in `name`)."""
    out = {}
    for el in ElementTree.fromstring(text).iter():
        if el.tag in ("define-gate", "define-basic-event", "define-house-event"):
            renamed = el.find("./attributes/attribute[@name='name']")
            out[el.get("name", "")] = el.get("name", "") if renamed is None else renamed.get("value", "")
    return out


def canonical(tree: FaultTree, names: dict[str, str]) -> tuple[dict, dict, dict]:  # type: ignore[type-arg]
    """The tree as read back from an export, in the original node names: equal for two exports exactly when
    they define the same gates over the same events with the same probabilities."""
    gates = {names[n]: (g.kind, tuple(names[i] for i in g.inputs), g.k) for n, g in tree.gates.items()}
    events = {names[n]: repr(e.probability) for n, e in tree.basic_events.items()}
    house = {names[n]: e.state for n, e in tree.house_events.items()}
    return gates, events, house


@pytest.mark.parametrize("name", MODELS)
def test_combined_export_holds_each_hazards_own_export(name: str, tmp_path: Path) -> None:
    folder = model_folder(name, tmp_path)
    trees = model_trees(folder)
    text = write_openpsa(trees)
    assert text == write_openpsa(list(reversed(trees))), "export must not depend on input order"
    combined = tmp_path / "all.xml"
    combined.write_text(text, encoding="utf-8")
    names = original_names(text)
    assert len(names) == text.count("<define-gate") + text.count("<define-basic-event") + text.count(
        "<define-house-event"), "every MEF name is defined once"
    read = {t.name: t for t in load_openpsa([str(combined)])}
    assert sorted(read) == sorted(t.name for t in trees)
    for tree in trees:
        single_text = write_openpsa([tree])
        single = tmp_path / f"{tree.name}.xml"
        single.write_text(single_text, encoding="utf-8")
        [alone] = load_openpsa([str(single)])
        assert canonical(read[tree.name], names) == canonical(alone, original_names(single_text)), tree.name
        ours = numbers(analyse(tree, AnalysisOptions()))
        assert numbers(analyse(read[tree.name], AnalysisOptions())) == ours, tree.name
        assert numbers(analyse(alone, AnalysisOptions())) == ours, tree.name


def test_combined_export_shares_only_what_is_identical(tmp_path: Path) -> None:
    text = write_openpsa(model_trees(model_folder("mission_times", tmp_path)))
    defined = re.findall(r'<define-(?:gate|basic-event|house-event) name="([^"]+)"', text)
    # the value side is identical in H3 and H4: written once, under its plain name
    assert defined.count("Plant_t_v_o_value") == 1 and "Plant_t_v_o_value_H3" not in defined
    assert "Plant_t_p_Miscal" in defined
    # every hazard has its own mission time: one omission gate and one Dead event each for H1, H2 and H4
    assert {d for d in defined if re.fullmatch(r"Plant_t_v_o_omission(_H\d)?", d)} == {
        "Plant_t_v_o_omission_H1", "Plant_t_v_o_omission_H2", "Plant_t_v_o_omission_H4"}
    assert {d for d in defined if re.fullmatch(r"CCF_Plant_t_p_Dead_Plant_t_q_Dead_Plant_t_r_Dead(_H\d)?", d)} == {
        f"CCF_Plant_t_p_Dead_Plant_t_q_Dead_Plant_t_r_Dead_{h}" for h in ("H1", "H2", "H4")}
    # trees whose definitions are identical share everything: one hazard, or all at one mission time
    aeb = model_trees(ROOT / "models" / "aeb")
    assert "_H1\"" not in write_openpsa(aeb) and write_openpsa(aeb[:1]) == write_openpsa([aeb[0]])


def test_feedback_loop_keeps_each_hazards_structure(tmp_path: Path) -> None:
    """The regression: both hazards have two single-point failures. Written once (from H1, where the loop is
    cut below the command), Loop.ctrl.cmd.omission gave H2 one cut set instead of two."""
    folder = model_folder("feedback", tmp_path)
    out = tmp_path / "all.xml"
    result = CliRunner().invoke(cli, ["fta", str(folder), "--format", "openpsa", "-o", str(out)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    read = {t.name: analyse(t, AnalysisOptions()) for t in load_openpsa([str(out)])}
    assert read["H1"].cut_set_count == read["H2"].cut_set_count == 2
    assert read["H3"].cut_set_count == 2
    assert out.read_text(encoding="utf-8") == write_openpsa(model_trees(folder))


INSTANCE_PATH = re.compile(r"[^/#]+")


@pytest.mark.parametrize("name", MODELS)
def test_element_is_the_instance_path(name: str, tmp_path: Path) -> None:
    """`element` names the model element a node instantiates by its instance path: for an event or a deviation
    its own name; for a gate of a sub-expression, the deviation whose rule holds it (`X.o.omission/and#1`);
    for the re-built copy of a deviation (`X.o.omission#2`) that deviation; for the events of a CCF group
    (`[X.a.Dead X.b.Dead]`, `[X.a.Dead]`) the group (`X.Harness`)."""
    folder = model_folder(name, tmp_path)
    trees = model_trees(folder)
    checked = check([folder])
    assert checked.model is not None
    roots = {r.system.name for r in synthesise_all(checked.model)} | {t.name for t in trees}
    text = write_openpsa(trees)
    names = original_names(text)
    seen = 0
    for el in ElementTree.fromstring(text).iter():
        element = el.find("./attributes/attribute[@name='element']")
        if element is None:
            continue
        value, node = element.get("value", ""), names[el.get("name", "")]
        seen += 1
        assert value.split(".")[0] in roots, (node, value)
        if node.startswith("["):  # the group, declared in an instance that holds every member
            owner = value.rpartition(".")[0] + "."
            assert all(m.startswith(owner) and m != value for m in node[1:-1].split()), (node, value)
        else:
            expected = INSTANCE_PATH.match(node)
            assert expected is not None and value == expected.group(0), (node, value)
    assert seen == len(names)
