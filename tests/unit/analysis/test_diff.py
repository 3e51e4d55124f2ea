"""Semantic diff and impact: renames, rate and logic changes, added hazards, removals, git revisions."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from safetyops_dsl.generators import diff_report

from safetyops_dsl.analysis.diff import ModelDiff, diff_models
from safetyops_dsl.api import check
from safetyops_dsl.cli.main import cli

ROOT = Path(__file__).resolve().parents[3]
AEB = ROOT / "models" / "aeb"


def _copy(tmp: Path, name: str, edits: dict[str, list[tuple[str, str]]]) -> Path:
    dest = tmp / name / "aeb"
    shutil.copytree(AEB, dest)
    for file, pairs in edits.items():
        p = dest / file
        text = p.read_text(encoding="utf-8")
        for old, new in pairs:
            assert old in text, old
            text = text.replace(old, new)
        p.write_text(text, encoding="utf-8")
    return dest


def _diff(tmp: Path, edits: dict[str, list[tuple[str, str]]]) -> ModelDiff:
    old = check([AEB])
    new = check([_copy(tmp, "new", edits)])
    assert old.model is not None and new.model is not None and new.ok, new.diagnostics
    return diff_models(old.model, new.model)


def _impact(d: ModelDiff) -> set[str]:
    return {i.name for i in d.impact}


def test_identical(tmp_path: Path) -> None:
    d = _diff(tmp_path, {})
    assert d.changes == [] and d.impact == [] and not any(h.changed for h in d.hazards)


def test_rate_change_reaches_every_hazard_whose_tree_holds_it(tmp_path: Path) -> None:
    d = _diff(tmp_path, {"components.sops": [("failure Misaligned rate 15 FIT", "failure Misaligned rate 30 FIT")]})
    [change] = [c for c in d.changes if c.owner]
    assert (change.kind, change.key, change.status) == ("failure_mode", "Misaligned", "changed")
    assert [(f.field, f.old, f.new) for f in change.fields] == [("rate", "15 FIT", "30 FIT")]
    changed = {h.name for h in d.hazards if h.changed}
    assert changed == {"H2"}  # misalignment is in H2's cut sets only
    h2 = next(h for h in d.hazards if h.name == "H2")
    assert h2.p_new > h2.p_old
    assert {e for e, _, _ in h2.events} == {"AEB.radars.aux.Misaligned", "AEB.radars.main.Misaligned"}
    assert _impact(d) == {"H2", "SG2", "FSR2", "TST_RDR"}


def test_logic_change_cut_sets(tmp_path: Path) -> None:
    d = _diff(tmp_path, {"components.sops": [(
        "tracks.omission <- (main.omission and aux.omission) or FusionSwFault",
        "tracks.omission <- main.omission or aux.omission or FusionSwFault")]})
    h1 = next(h for h in d.hazards if h.name == "H1")
    assert h1.status == "changed" and (h1.cut_sets_old, h1.cut_sets_new) == (16, 19)
    # the radars' NoEcho is in a CCF group: their independent parts are the events that pair up differently
    assert ("AEB.camera.Blackout", "[AEB.radars.main.NoEcho]") in h1.added
    assert ("AEB.camera.Blackout", "[AEB.radars.aux.NoEcho]", "[AEB.radars.main.NoEcho]") in h1.removed
    assert {"H1", "SG1", "FSR2", "TST_RDR"} == _impact(d)


def test_renames_are_not_changes(tmp_path: Path) -> None:
    d = _diff(tmp_path, {
        "safety.sops": [("FSR3", "FSR3a")],
        "components.sops": [("NoEcho", "NoTargets"), ('component Camera "Front', 'component FrontCamera "Front')],
        "system.sops": [("part camera     : Camera", "part camera     : FrontCamera")],
    })
    assert d.renames == {"aeb.FSR3": "aeb.FSR3a", "aeb.Camera": "aeb.FrontCamera"}
    statuses = {(c.kind, c.key): (c.status, c.old_key) for c in d.changes}
    assert statuses[("requirement", "aeb.FSR3a")] == ("renamed", "aeb.FSR3")
    assert statuses[("failure_mode", "NoTargets")] == ("renamed", "NoEcho")
    assert not [c for c in d.changes if c.status in ("added", "removed")]
    assert d.impact == []  # references follow the rename: nothing changed for evidence or trees
    assert not any(h.changed for h in d.hazards)


def test_rename_with_change_is_detected(tmp_path: Path) -> None:
    d = _diff(tmp_path, {"safety.sops": [
        ("requirement FSR6 \"Stale camera frames are detected within 2 frames\"\n    refines SG3  allocated_to camera",
         "requirement FSR7 \"Stale camera frames are detected within 2 frames\"\n    refines SG3  allocated_to perception"),
        ("verifies FSR6", "verifies FSR7")]})
    [c] = [c for c in d.changes if c.kind == "requirement"]
    assert (c.status, c.old_key, [f.field for f in c.fields]) == ("renamed", "aeb.FSR6", ["allocated_to"])
    assert "TST_STALE" in _impact(d)


def test_ccf_factor_change_reaches_the_trees_and_renames_are_followed(tmp_path: Path) -> None:
    d = _diff(tmp_path, {"components.sops": [("aux.NoEcho beta 5 %", "aux.NoEcho beta 10 %")]})
    [c] = [c for c in d.changes if c.kind == "ccf_group"]
    assert (c.key, c.status, [(f.field, f.old, f.new) for f in c.fields]) == (
        "RadarCommonCause", "changed", [("factors", "5 %", "10 %")])
    ccf_line = next(i for i, t in enumerate((AEB / "components.sops").read_text().splitlines(), 1) if "ccf " in t)
    assert (c.file, c.line) == ("components.sops", ccf_line)
    h1 = next(h for h in d.hazards if h.name == "H1")
    assert h1.changed and not h1.added and not h1.removed
    moved = {e for e, _, _ in h1.events}
    assert moved == {"[AEB.radars.main.NoEcho AEB.radars.aux.NoEcho]", "[AEB.radars.main.NoEcho]",
                     "[AEB.radars.aux.NoEcho]"}
    assert {"H1", "SG1", "FSR2"} <= _impact(d)
    # renaming a part of the pair and the radar's failure mode is no change of the group
    d = _diff(tmp_path / "r", {"components.sops": [
        ("NoEcho", "NoTargets"), ("part aux    : Radar", "part spare  : Radar"), ("-> aux.power", "-> spare.power"),
        ("connect aux.tracks ", "connect spare.tracks "), ("aux.NoTargets beta", "spare.NoTargets beta")]})
    assert not [c for c in d.changes if c.kind == "ccf_group"], d.changes
    assert not any(h.changed for h in d.hazards)


def test_added_hazard_and_goal_change(tmp_path: Path) -> None:
    d = _diff(tmp_path, {"safety.sops": [
        ("safety_goal SG1", 'hazard H5 "Ghost braking in a tunnel" {\n severity S3 exposure E3 controllability C3\n'
                            " when pressure.commission\n}\nsafety_goal SG1"),
        ("mitigates H2 {", "mitigates H2, H5 {")]})
    assert ("hazard", "aeb.H5", "added") in {(c.kind, c.key, c.status) for c in d.changes}
    h5 = next(h for h in d.hazards if h.name == "H5")
    assert h5.status == "added" and h5.p_old is None and h5.p_new is not None
    assert d.coverage_old.rule("hazard_goal").total == 3 and d.coverage_new.rule("hazard_goal").total == 4
    assert {"FSR4", "FSR5", "TST_CONF", "MET_PRE"} <= _impact(d)


def test_removed_requirement_leaves_its_evidence_suspect(tmp_path: Path) -> None:
    d = _diff(tmp_path, {"safety.sops": [
        ('requirement FSR6 "Stale camera frames are detected within 2 frames"\n    refines SG3  allocated_to camera'
         "     asil B\n", ""),
        ("verifies FSR6", "supports SG3")]})
    assert ("requirement", "aeb.FSR6", "removed") in {(c.kind, c.key, c.status) for c in d.changes}
    assert ("evidence", "aeb.TST_STALE", "changed") in {(c.kind, c.key, c.status) for c in d.changes}
    assert "SG3" in _impact(d)  # its refinement lost a requirement
    assert d.coverage_new.rule("goal_requirement").satisfied == 2


def test_ml_threshold_change_makes_metric_evidence_suspect(tmp_path: Path) -> None:
    d = _diff(tmp_path, {"components.sops": [("recall.night_pedestrian   >= 0.99", "recall.night_pedestrian   >= 0.995")]})
    assert "MET_REC" in _impact(d)
    why = next(i for i in d.impact if i.name == "MET_REC")
    assert why.path[0] == "Perception.recall.night_pedestrian"


def test_markdown_and_json_are_deterministic(tmp_path: Path) -> None:
    d = _diff(tmp_path, {"components.sops": [("failure NoEcho     rate 80 FIT", "failure NoEcho     rate 160 FIT")]})
    md = diff_report.render(d, "md")
    assert md == diff_report.render(d, "md")
    assert md.startswith("### Safety impact") and "<details>" in md
    assert str(tmp_path) not in md and str(tmp_path) not in diff_report.render(d, "json")


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_revision_against_working_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(AEB, repo / "models" / "aeb")

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)

    git("init", "-q")
    git("config", "user.email", "ci@example.com")
    git("config", "user.name", "CI")
    git("add", ".")
    git("commit", "-q", "-m", "base")
    comp = repo / "models" / "aeb" / "components.sops"
    comp.write_text(comp.read_text(encoding="utf-8").replace("rate 80 FIT", "rate 160 FIT"), encoding="utf-8")
    monkeypatch.chdir(repo)
    runner = CliRunner()
    res = runner.invoke(cli, ["diff", "HEAD", "models/aeb"])
    assert res.exit_code == 0, res.output
    assert "`HEAD:models/aeb` → `models/aeb`" in res.output
    assert "`80 FIT` → `160 FIT`" in res.output
    monkeypatch.chdir(repo / "models" / "aeb")
    res = runner.invoke(cli, ["diff", "HEAD", "--format", "json"])
    assert res.exit_code == 0, res.output
    assert '"old": "HEAD:models/aeb"' in res.output
    # an error on the old side is shown at REV:path, not in a temporary folder
    (repo / "models" / "aeb" / "safety.sops").write_text("hazard {\n", encoding="utf-8")
    git("commit", "-q", "-am", "broken")
    monkeypatch.chdir(repo)
    res = runner.invoke(cli, ["diff", "HEAD:models/aeb", str(AEB)])
    assert res.exit_code == 1
    assert "HEAD:models/aeb/safety.sops:1:" in res.output
    res = runner.invoke(cli, ["diff", "no-such-rev"])
    assert res.exit_code == 2 and "neither a folder nor a git revision" in res.output
