"""`sops fta` on Open-PSA input: formats, output files, limits, exit codes."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from safetyops_dsl import schemas
from safetyops_dsl.cli.main import cli

TWO_TOPS = """<?xml version="1.0"?>
<opsa-mef>
  <define-fault-tree name="FT">
    <define-gate name="Top1"><or><gate name="Shared"/><basic-event name="a"/></or></define-gate>
    <define-gate name="Top2"><and><gate name="Shared"/><basic-event name="b"/></and></define-gate>
    <define-gate name="Shared"><atleast min="2"><basic-event name="c"/><basic-event name="d"/><basic-event name="e"/></atleast></define-gate>
  </define-fault-tree>
  <model-data>
    <define-basic-event name="a"><float value="0.1"/></define-basic-event>
    <define-basic-event name="b"><float value="0.2"/></define-basic-event>
    <define-basic-event name="c"><float value="0.3"/></define-basic-event>
    <define-basic-event name="d"><float value="0.4"/></define-basic-event>
    <define-basic-event name="e"><float value="0.5"/></define-basic-event>
  </model-data>
</opsa-mef>
"""


@pytest.fixture
def model(tmp_path: Path) -> Path:
    p = tmp_path / "two.xml"
    p.write_text(TWO_TOPS, encoding="utf-8")
    return p


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_json_has_every_top_event_and_exact_numbers(model: Path) -> None:
    code, out = run("fta", str(model), "--format", "json")
    assert code == 0
    doc = json.loads(out)
    names = [t["name"] for t in doc["top_events"]]
    assert names == ["Top1", "Top2"]
    top1 = doc["top_events"][0]
    shared = 0.3 * 0.4 + 0.3 * 0.5 + 0.4 * 0.5 - 2 * 0.3 * 0.4 * 0.5
    assert top1["exact_probability"] == pytest.approx(1 - 0.9 * (1 - shared), rel=1e-15)
    assert top1["cut_sets"] == [["d", "e"], ["c", "e"], ["c", "d"], ["a"]]
    assert set(top1) == {
        "name", "probability", "approximation", "exact_probability", "rare_event_probability",
        "mcub_probability", "cut_set_count", "cut_sets_by_order", "cut_sets", "cut_sets_truncated",
        "importance", "warnings", "notes",
    }  # fmt: skip
    assert set(top1["importance"]["a"]) == {
        "probability", "fussell_vesely", "birnbaum", "criticality", "diagnosis", "raw", "rrw"
    }


def test_simulate_adds_a_seeded_estimate_whose_interval_holds_the_exact_value(model: Path) -> None:
    code, out = run("fta", str(model), "--format", "json", "--simulate", "200000", "--seed", "9")
    assert code == 0
    doc = json.loads(out)
    exact = {t["name"]: t["exact_probability"] for t in doc["top_events"]}
    assert set(doc["simulation"]) == {"Top1", "Top2"}
    for name, s in doc["simulation"].items():
        assert s["samples"] == 200000 and s["seed"] == 9 and s["interval"] == "clopper-pearson"
        assert s["estimate"] == s["hits"] / s["samples"]
        assert s["lower"] <= exact[name] <= s["upper"] and s["exact_in_interval"] is True
        assert s["upper"] - s["lower"] < 0.01  # about 4 standard deviations at 200,000 samples
    assert run("fta", str(model), "--format", "json", "--simulate", "200000", "--seed", "9")[1] == out
    code, text = run("fta", str(model), "--simulate", "1000")
    assert code == 0 and "Simulation: P(top) by Monte Carlo" in text and "Top2" in text.split("Simulation")[1]


def test_no_importance_leaves_the_factors_out_and_the_numbers_alone(model: Path) -> None:
    code, out = run("fta", str(model), "--format", "json")
    code2, out2 = run("fta", str(model), "--format", "json", "--no-importance")
    assert code == code2 == 0
    with_imp, without = json.loads(out)["top_events"], json.loads(out2)["top_events"]
    assert all(t["importance"] for t in with_imp)
    assert all(t["importance"] == {} for t in without)
    for a, b in zip(with_imp, without, strict=True):
        assert {k: v for k, v in a.items() if k != "importance"} == {k: v for k, v in b.items() if k != "importance"}


def test_bdd_node_cap_is_a_positioned_error_not_an_exhausted_memory(model: Path) -> None:
    result = CliRunner().invoke(cli, ["fta", str(model), "--max-bdd-nodes", "2"], catch_exceptions=False)
    assert result.exit_code == 1
    assert "error[SOPS008]" in result.output
    assert "needs more than 2 nodes under each of the" in result.output
    assert "--max-bdd-nodes" in result.output
    code, _ = run("fta", str(model), "--max-bdd-nodes", "1000")
    assert code == 0


def test_hazard_selects_one_tree_and_output_is_written(model: Path, tmp_path: Path) -> None:
    out = tmp_path / "deep" / "r.json"
    code, text = run("fta", str(model), "--hazard", "Top2", "--format", "json", "-o", str(out))
    assert code == 0 and text == ""
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert [t["name"] for t in doc["top_events"]] == ["Top2"]
    assert not list(out.parent.glob(".*.tmp")), "no temporary file left behind"


def test_unknown_hazard_and_bad_options_are_usage_errors(model: Path, tmp_path: Path) -> None:
    assert run("fta", str(model), "--hazard", "Nope")[0] == 2
    assert run("fta", str(model), "--format", "pdf")[0] == 2
    assert run("fta", str(model), "--cut-off", "2")[0] == 2
    assert run("fta", str(tmp_path / "missing.xml"))[0] == 2
    assert run("fta")[0] == 2


def test_cut_set_limit_and_max_cut_sets(model: Path) -> None:
    code, out = run("fta", str(model), "--hazard", "Top1", "--format", "json", "--cut-set-limit", "2")
    top = json.loads(out)["top_events"][0]
    assert code == 0 and top["cut_set_count"] == 4 and top["cut_sets_truncated"] is True
    assert top["cut_sets"] == [["d", "e"], ["c", "e"]]
    code, out = run("fta", str(model), "--cut-set-limit", "0", "--max-cut-sets", "2", "--format", "json")
    assert code == 0, "counting is never limited, and nothing is listed"
    code, out = run("fta", str(model), "--approx", "mcub", "--max-cut-sets", "1", "--hazard", "Top1")
    assert code == 1 and "error[SOPS008]" in out and "Traceback" not in out


def test_limit_order_and_approximations(model: Path) -> None:
    _, out = run("fta", str(model), "--hazard", "Top1", "--limit-order", "1", "--approx", "rare-event", "--format", "json")
    top = json.loads(out)["top_events"][0]
    assert top["cut_sets"] == [["a"]] and top["probability"] == top["rare_event_probability"] == 0.1
    assert top["approximation"] == "rare-event" and top["warnings"]


def test_openpsa_export_round_trips(model: Path, tmp_path: Path) -> None:
    out = tmp_path / "export.xml"
    assert run("fta", str(model), "--format", "openpsa", "-o", str(out))[0] == 0
    _, a = run("fta", str(model), "--format", "json")
    _, b = run("fta", str(out), "--format", "json")
    assert a == b


def test_bad_xml_exits_1_without_traceback(tmp_path: Path) -> None:
    p = tmp_path / "bad.xml"
    p.write_text("<opsa-mef><define-gate name='x'><or></define-gate></opsa-mef>", encoding="utf-8")
    code, out = run("fta", str(p))
    assert code == 1 and "error[SOPS200]" in out and "Traceback" not in out


def test_dot_with_several_trees_writes_one_file_per_tree(
    model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The diagram module is written elsewhere; a stand-in checks the contract of the call.
    fake = types.ModuleType("safetyops_dsl.generators.fault_tree_dot")

    def render_dot(tree: object, result: object = None, highlight: object = None) -> str:
        assert result is not None
        return f"digraph {tree.name} {{}}\n"  # type: ignore[attr-defined]

    fake.render_dot = render_dot  # type: ignore[attr-defined]
    fake.render_svg = render_dot  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "safetyops_dsl.generators.fault_tree_dot", fake)
    folder = tmp_path / "dots"
    assert run("fta", str(model), "--format", "dot", "-o", str(folder))[0] == 0
    assert sorted(p.name for p in folder.iterdir()) == ["Top1.dot", "Top2.dot"]
    code, out = run("fta", str(model), "--format", "dot", "--hazard", "Top1")
    assert code == 0 and out == "digraph Top1 {}\n"


COOLING_CCF = """<?xml version="1.0"?>
<opsa-mef>
  <define-fault-tree name="Cooling">
    <define-gate name="NoCooling">
      <label>both cooling trains fail</label>
      <and><gate name="TrainA"/><gate name="TrainB"/></and>
    </define-gate>
    <define-gate name="TrainA"><or><event name="PumpA"/><basic-event name="ValveA"/></or></define-gate>
    <define-gate name="TrainB"><or><event name="PumpB"/><basic-event name="ValveB"/></or></define-gate>
    <define-CCF-group name="Pumps" model="MGL">
      <members><basic-event name="PumpA"/><basic-event name="PumpB"/></members>
      <distribution><float value="0.01"/></distribution>
      <factors><factor level="2"><float value="0.05"/></factor></factors>
    </define-CCF-group>
  </define-fault-tree>
  <model-data>
    <define-basic-event name="ValveA"><float value="0.002"/></define-basic-event>
    <define-basic-event name="ValveB"><float value="0.002"/></define-basic-event>
  </model-data>
</opsa-mef>
"""


@pytest.fixture
def ccf_model(tmp_path: Path) -> Path:
    p = tmp_path / "cooling.xml"
    p.write_text(COOLING_CCF, encoding="utf-8")
    return p


def test_ccf_group_json(ccf_model: Path) -> None:
    code, out = run("fta", str(ccf_model), "--format", "json")
    assert code == 0
    [top] = json.loads(out)["top_events"]
    q1, q2, valve = 0.95 * 0.01, 0.05 * 0.01, 0.002  # MGL, n = 2: Q1 = (1 - rho2) Qt, Q2 = rho2 Qt
    train = 1 - (1 - q1) * (1 - valve)  # one train, given no common cause
    assert top["exact_probability"] == pytest.approx(q2 + (1 - q2) * train * train, rel=1e-14)
    assert f"{top['exact_probability']:.6g}" == "0.000631747"  # SCRAM 0.16.2 --ccf true on this input
    assert top["cut_set_count"] == 5 and top["cut_sets_by_order"] == {"1": 1, "2": 4}
    assert top["cut_sets"] == [
        ["[PumpA PumpB]"], ["[PumpA]", "[PumpB]"], ["ValveA", "[PumpB]"], ["ValveB", "[PumpA]"], ["ValveA", "ValveB"]
    ]
    assert sorted(top["importance"]) == ["ValveA", "ValveB", "[PumpA PumpB]", "[PumpA]", "[PumpB]"]
    assert top["importance"]["[PumpA PumpB]"]["probability"] == pytest.approx(q2, rel=1e-15)


def test_ccf_group_text_md_and_dot(ccf_model: Path) -> None:
    code, text = run("fta", str(ccf_model))
    assert code == 0 and "      1       0.0005  [PumpA PumpB]\n" in text and "[PumpA] [PumpB]" in text
    code, md = run("fta", str(ccf_model), "--format", "md")
    assert code == 0 and "| `[PumpA PumpB]` | 0.0005 |" in md and "`[PumpA]`, `[PumpB]`" in md
    code, dot = run("fta", str(ccf_model), "--format", "dot")
    assert code == 0
    assert "<B>[PumpA PumpB]</B>" in dot and "common-cause failure of all 2 members (CCF group Pumps, MGL)" in dot
    assert "independent or common-cause failure (CCF group Pumps)" in dot  # the member, now an OR gate


def test_ccf_group_export_round_trips(ccf_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "export.xml"
    assert run("fta", str(ccf_model), "--format", "openpsa", "-o", str(out))[0] == 0
    assert '<define-basic-event name="CCF_PumpA_PumpB">' in out.read_text(encoding="utf-8")
    _, a = run("fta", str(ccf_model), "--format", "json")
    _, b = run("fta", str(out), "--format", "json")
    [ta], [tb] = json.loads(a)["top_events"], json.loads(b)["top_events"]
    for key in ("exact_probability", "cut_set_count", "cut_sets_by_order", "rare_event_probability"):
        assert ta[key] == tb[key]
    assert tb["cut_sets"][0] == ["CCF_PumpA_PumpB"]


def test_ccf_group_errors_exit_1_positioned(ccf_model: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text(COOLING_CCF.replace('<factor level="2">', '<factor level="3">'), encoding="utf-8")
    code, out = run("fta", str(bad))
    assert code == 1 and "Traceback" not in out
    assert f"{bad}:13:16: error[SOPS201]: CCF group 'Pumps': factor level 3 is more than its 2 members" in out


def _voting_chain(n: int) -> str:
    """Top = AND of n overlapping 2-out-of-3 gates over n + 2 events, and a second tree small enough for any
    limit: the first needs more BDD nodes than a tiny --max-bdd-nodes allows, the second does not."""
    events = [f"e{i}" for i in range(n + 2)]
    votes = "".join(
        f'<define-gate name="v{i}"><atleast min="2">'
        + "".join(f'<basic-event name="{e}"/>' for e in events[i : i + 3])
        + "</atleast></define-gate>"
        for i in range(n)
    )
    big = '<define-gate name="Big"><and>' + "".join(f'<gate name="v{i}"/>' for i in range(n)) + "</and></define-gate>"
    small = '<define-gate name="Small"><or><basic-event name="e0"/></or></define-gate>'
    data = "".join(f'<define-basic-event name="{e}"><float value="0.{i + 1}"/></define-basic-event>'
                   for i, e in enumerate(events))
    return (f'<?xml version="1.0"?>\n<opsa-mef><define-fault-tree name="FT">{big}{small}{votes}'
            f"</define-fault-tree><model-data>{data}</model-data></opsa-mef>\n")


def test_simulate_reports_the_estimate_alone_where_the_bdd_is_refused(tmp_path: Path) -> None:
    xml = tmp_path / "vote.xml"
    xml.write_text(_voting_chain(6), encoding="utf-8")
    args = ["fta", str(xml), "--max-bdd-nodes", "8", "--simulate", "4000", "--seed", "1"]
    result = CliRunner().invoke(cli, [*args, "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 1  # the refusal stays an error, as without --simulate
    assert "error[SOPS008]" in result.stderr and "needs more than 8 nodes" in result.stderr
    doc = json.loads(result.stdout)
    Draft202012Validator(schemas.load("sops-fta")).validate(doc)
    assert [t["name"] for t in doc["top_events"]] == ["Small"]  # the tree that fits is analysed exactly
    assert list(doc["refused"]) == ["Big"] and "--max-bdd-nodes" in doc["refused"]["Big"]
    big = doc["simulation"]["Big"]
    assert big["exact_in_interval"] is None and big["samples"] == 4000
    assert big["lower"] <= big["estimate"] <= big["upper"] and big["estimate"] == big["hits"] / 4000
    assert doc["simulation"]["Small"]["exact_in_interval"] is True
    # the same estimate as with a limit the BDD fits in, where it is checked against the exact value
    fits = CliRunner().invoke(cli, ["fta", str(xml), "--simulate", "4000", "--seed", "1", "--format", "json"])
    assert fits.exit_code == 0
    exact = {t["name"]: t["exact_probability"] for t in json.loads(fits.stdout)["top_events"]}
    assert json.loads(fits.stdout)["simulation"]["Big"] == {**big, "exact_in_interval": True}
    assert big["lower"] <= exact["Big"] <= big["upper"]

    text = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert text.exit_code == 1
    assert "exact (BDD)  refused: the BDD of tree 'Big' needs more than 8 nodes" in text.stdout
    assert f"estimate     {big['estimate']:.6g} (Monte Carlo; 95 % interval" in text.stdout
    assert "refused  -" in text.stdout.split("Simulation")[1]  # the exact column of the table
    md = tmp_path / "out.md"
    code = CliRunner().invoke(cli, [*args, "--format", "md", "-o", str(md)]).exit_code
    assert code == 1 and "**Exact analysis refused:**" in md.read_text(encoding="utf-8")


def test_refused_bdd_without_a_report_of_the_estimate_is_still_only_an_error(tmp_path: Path) -> None:
    xml = tmp_path / "vote.xml"
    xml.write_text(_voting_chain(6), encoding="utf-8")
    for extra in ([], ["--simulate", "100", "--format", "dot"]):  # a drawing holds no estimate
        result = CliRunner().invoke(cli, ["fta", str(xml), "--max-bdd-nodes", "8", *extra])
        assert result.exit_code == 1 and result.stdout == "" and "error[SOPS008]" in result.stderr


needs_counter = pytest.mark.skipif(
    __import__("importlib").util.find_spec("pyganak") is None, reason="pyganak (the [count] extra) not installed"
)


@needs_counter
def test_model_count_gives_the_exact_probability_where_the_bdd_is_refused(tmp_path: Path) -> None:
    xml = tmp_path / "vote.xml"
    xml.write_text(_voting_chain(6), encoding="utf-8")
    fits = CliRunner().invoke(cli, ["fta", str(xml), "--format", "json"], catch_exceptions=False)
    exact = {t["name"]: t["exact_probability"] for t in json.loads(fits.stdout)["top_events"]}

    args = ["fta", str(xml), "--max-bdd-nodes", "8", "--model-count", "--simulate", "4000", "--seed", "1"]
    result = CliRunner().invoke(cli, [*args, "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0  # the figure asked for is there; the missing cut sets are a warning
    assert "warning[SOPS015]" in result.stderr and "error" not in result.stderr
    doc = json.loads(result.stdout)
    Draft202012Validator(schemas.load("sops-fta")).validate(doc)
    assert [t["name"] for t in doc["top_events"]] == ["Small"]
    assert list(doc["refused"]) == ["Big"]
    counted = doc["model_count"]["Big"]
    assert counted["exact_probability"] == pytest.approx(exact["Big"], rel=1e-12)
    assert counted["method"] == "weighted model counting (Ganak)" and counted["variables"] > 0
    assert doc["simulation"]["Big"]["exact_in_interval"] is True  # checked against the counted value

    text = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert text.exit_code == 0
    assert f"exact        {exact['Big']:.6g} (model counting, Ganak:" in text.stdout
    assert "estimate     0.0" in text.stdout and "refused  -" not in text.stdout
    md = tmp_path / "out.md"
    assert CliRunner().invoke(cli, [*args, "--format", "md", "-o", str(md)]).exit_code == 0
    assert f"Exact P(top): {exact['Big']:.6g} (model counting" in md.read_text(encoding="utf-8")


@needs_counter
def test_model_count_changes_nothing_where_every_bdd_fits(tmp_path: Path) -> None:
    xml = tmp_path / "vote.xml"
    xml.write_text(_voting_chain(6), encoding="utf-8")
    plain = CliRunner().invoke(cli, ["fta", str(xml), "--format", "json"], catch_exceptions=False)
    counted = CliRunner().invoke(cli, ["fta", str(xml), "--format", "json", "--model-count"], catch_exceptions=False)
    assert (counted.exit_code, counted.output) == (plain.exit_code, plain.output) == (0, plain.output)


def test_model_count_does_not_draw_a_refused_tree(tmp_path: Path) -> None:
    xml = tmp_path / "vote.xml"
    xml.write_text(_voting_chain(6), encoding="utf-8")
    result = CliRunner().invoke(cli, ["fta", str(xml), "--max-bdd-nodes", "8", "--model-count", "--format", "dot"])
    assert result.exit_code == 1 and result.stdout == "" and "error[SOPS008]" in result.stderr
    assert "--model-count" in result.stderr  # the hint names the way out


@needs_counter
def test_the_counter_writes_nothing_of_its_own(tmp_path: Path) -> None:
    """Ganak is C++: its output would bypass Python's streams. A real process, so that file descriptors count."""
    import subprocess

    xml = tmp_path / "vote.xml"
    xml.write_text(_voting_chain(6), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "safetyops_dsl.cli.main", "fta", str(xml), "--max-bdd-nodes", "8",
                           "--model-count", "--format", "json", "--no-importance"],
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["model_count"]["Big"]["exact_probability"] > 0
    assert done.stderr.startswith(f"{xml}:2:40: warning[SOPS015]:") and done.stderr.count("\n") == 4


@needs_counter
def test_safety_goals_are_checked_against_the_counted_probability() -> None:
    """The AEB model's hazard trees with every BDD refused: the counted P(top) and the goal checks are the BDD's
    (equal to the bit on this machine; compared to 1e-12)."""
    aeb = str(Path(__file__).resolve().parents[2] / "models" / "aeb")
    plain = json.loads(CliRunner().invoke(cli, ["fta", aeb, "--format", "json", "--no-importance"]).stdout)
    result = CliRunner().invoke(cli, ["fta", aeb, "--format", "json", "--max-bdd-nodes", "2", "--model-count",
                                      "--gate"])
    assert result.exit_code == 0 and result.stderr.count("warning[SOPS015]") == len(json.loads(result.stdout)["refused"])
    doc = json.loads(result.stdout)
    exact = {t["name"]: t["exact_probability"] for t in plain["top_events"]}
    counted = {name: c["exact_probability"] for name, c in doc["model_count"].items()}
    assert counted and all(counted[name] == pytest.approx(exact[name], rel=1e-12) for name in counted)
    for goal, want in zip(doc["safety_goals"], plain["safety_goals"], strict=True):
        assert goal["achieved_per_hour"] == pytest.approx(want["achieved_per_hour"], rel=1e-12)
        assert {**goal, "achieved_per_hour": 0} == {**want, "achieved_per_hour": 0}  # passed, no missing tree


def test_limit_order_lists_the_cut_sets_of_a_refused_tree_as_the_bdd_would(tmp_path: Path) -> None:
    """The cut sets found without the BDD are the ones, in the order, that the same command gives where the
    BDD fits; P(top) is still missing, so the refusal stays an error, after the report."""
    xml = tmp_path / "vote.xml"
    xml.write_text(_voting_chain(6), encoding="utf-8")
    common = ["fta", str(xml), "--limit-order", "6", "--cut-set-limit", "3", "--format", "json"]
    fits = json.loads(CliRunner().invoke(cli, common, catch_exceptions=False).stdout)
    big = {t["name"]: t for t in fits["top_events"]}["Big"]
    result = CliRunner().invoke(cli, [*common, "--max-bdd-nodes", "8"], catch_exceptions=False)
    assert result.exit_code == 1 and "error[SOPS008]" in result.stderr
    doc = json.loads(result.stdout)
    Draft202012Validator(schemas.load("sops-fta")).validate(doc)
    found = doc["enumerated_cut_sets"]["Big"]
    assert found["cut_sets"] == big["cut_sets"] and len(found["cut_sets"]) == 3
    assert found["cut_set_count"] == big["cut_set_count"] == 10
    assert found["cut_sets_by_order"] == big["cut_sets_by_order"]
    assert found["cut_sets_truncated"] is True and found["limit_order"] == 6

    text = CliRunner().invoke(cli, [*common[:-2], "--max-bdd-nodes", "8"], catch_exceptions=False)
    assert text.exit_code == 1
    assert "cut sets     10 of order <= 6 (5: 4, 6: 6), without the BDD" in text.stdout
    assert "Minimal cut sets of order <= 6 (3 most probable of 10)" in text.stdout
    cut = CliRunner().invoke(cli, [*common, "--max-bdd-nodes", "8", "--cut-off", "0.01"], catch_exceptions=False)
    kept = json.loads(cut.stdout)["enumerated_cut_sets"]["Big"]
    assert 0 < kept["cut_set_count"] < 10  # the cut-off drops the improbable sets, as the engine's does


def test_limit_order_beyond_the_zdd_and_the_enumeration_budget_is_refused_with_both(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from safetyops_dsl.fta import enumeration, truncated

    monkeypatch.setattr(enumeration, "DEFAULT_BUDGET", 100)
    xml = tmp_path / "vote.xml"
    xml.write_text(_voting_chain(6), encoding="utf-8")
    args = ["fta", str(xml), "--max-bdd-nodes", "8", "--limit-order", "3", "--format", "json"]
    fits = CliRunner().invoke(cli, args)  # the tree is coherent: its truncated ZDD needs no enumeration
    assert fits.exit_code == 1 and "error[SOPS008]" in fits.stderr and "more than the 100" not in fits.stderr
    found = json.loads(fits.stdout)["enumerated_cut_sets"]["Big"]
    assert found["method"] == "zdd" and found["zdd_nodes"] > 2 and found["sets_evaluated"] == 0

    monkeypatch.setattr(truncated, "DEFAULT_MAX_NODES", 10)
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1 and result.stdout == ""
    assert "error[SOPS008]" in result.stderr and "would take more than 10 nodes" in result.stderr
    assert "sets of events would be more than the 100 allowed" in result.stderr
    assert "Traceback" not in result.output


def test_limit_order_on_a_zdd_too_big_falls_back_to_the_enumeration(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from safetyops_dsl.fta import truncated

    xml = tmp_path / "vote.xml"
    xml.write_text(_voting_chain(6), encoding="utf-8")
    args = ["fta", str(xml), "--max-bdd-nodes", "8", "--limit-order", "6", "--format", "json"]
    by_zdd = json.loads(CliRunner().invoke(cli, args).stdout)["enumerated_cut_sets"]["Big"]
    monkeypatch.setattr(truncated, "DEFAULT_MAX_NODES", 10)
    by_sets = json.loads(CliRunner().invoke(cli, args).stdout)["enumerated_cut_sets"]["Big"]
    assert by_sets["method"] == "enumeration" and by_sets["zdd_nodes"] is None and by_sets["sets_evaluated"] > 0
    assert by_zdd["method"] == "zdd"
    same = ("cut_set_count", "cut_sets_by_order", "cut_sets", "events")
    assert [by_zdd[k] for k in same] == [by_sets[k] for k in same]


@needs_counter
def test_limit_order_with_model_count_gives_both_and_exits_0(tmp_path: Path) -> None:
    xml = tmp_path / "vote.xml"
    xml.write_text(_voting_chain(6), encoding="utf-8")
    result = CliRunner().invoke(cli, ["fta", str(xml), "--max-bdd-nodes", "8", "--limit-order", "5",
                                      "--model-count", "--format", "md"], catch_exceptions=False)
    assert result.exit_code == 0 and "warning[SOPS015]" in result.stderr
    assert "its cut sets only up to --limit-order" in result.stderr
    assert "Exact P(top):" in result.stdout and "Minimal cut sets: 4 of order <= 5" in result.stdout
