"""Incremental validation (validation/incremental.py) gives exactly the diagnostics of a check from scratch.

A generated three-file model (component types used across files, parts of one type chained, a feedback loop,
hazards, goals and requirements) is edited one file at a time by seeded random edits: lines deleted,
duplicated, names swapped for other names of the model, ports turned around, rates changed, feedback
connections added, component types renamed, deviation types declared and used, parts added to component
types (composites, containment cycles), hazard conditions and allocations that name parts of parts. After every
edit the check
with stored results (a cache folder, as `sops check --cache-dir`; a memo, as the language server) must give
the same list as a check without them, and the cache folder's files (components unpickled as they are used)
the same files. The type-level shortcut of the logic-cycle search must never hide a
loop that the full walk finds.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from safetyops_dsl.api import check
from safetyops_dsl.model.instances import Instance
from safetyops_dsl.model.propagation import may_have_logic_cycles, walk_logic_cycles
from safetyops_dsl.parse.loader import ParseMemo

FILES = 3
TYPES = 5
PARTS = 7


def _file(f: int) -> str:
    out = ["package big", ""]
    for i in range(TYPES):
        extra = "    out z\n    z.value <- a.value\n" if i == 2 else ""
        out += [
            f'component T{f}_{i} "type {i} of file {f}" {{',
            "    in  a, b",
            "    out y",
            f"    failure F{i}a rate {f + i + 1} FIT",
            f"    failure F{i}b rate {i + 2} FIT",
            f"    mechanism M{i} covers F{i}b coverage 90 %",
            "    y.omission <- (a.omission and b.omission) or F" + f"{i}a",
            f"    y.value <- a.value or F{i}b",
            extra.rstrip("\n") if extra else "",
            "}",
        ]
    out += [f'system S{f} "system {f}" {{', "    in  source", "    out sink"]
    for p in range(PARTS):
        owner = f if p % 3 else (f - 1) % FILES  # every third part's type comes from the previous file
        out.append(f"    part p{p} : T{owner}_{p % 2 if p > 3 else p % TYPES}")  # some types repeat: chained
    # file 1 closes a feedback loop: the last part drives p1.b
    p1b = f"p{PARTS - 1}.y" if f == 1 else "source"
    out += ["    connect source -> p0.a", "    connect source -> p0.b", f"    connect {p1b} -> p1.b"]
    for p in range(1, PARTS):
        out.append(f"    connect p{p - 1}.y -> p{p}.a")
        if p >= 2:
            out.append(f"    connect p{p - 2}.y -> p{p}.b")
    out += [f"    connect p{PARTS - 1}.y -> sink", "}", ""]
    out += [
        f'hazard H{f} "hazard {f}" {{',
        "    severity S2 exposure E3 controllability C2",
        f"    system S{f}",
        "    when sink.omission",
        "}",
        f'safety_goal G{f} "goal {f}" mitigates H{f}',
        f'requirement R{f} "requirement {f}" refines G{f} allocated_to p0 asil A',
        "",
    ]
    return "\n".join(out) + "\n"


NAME = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\b")


def _edit(rng: random.Random, text: str, names: list[str]) -> str:
    lines = text.split("\n")
    i = rng.randrange(len(lines))
    kind = rng.choice([0, 1, 2, 3, 4, 5, 6, 7, 8, 8, 9, 9])
    if kind == 0:
        del lines[i]
    elif kind == 1:
        lines.insert(i, lines[i])
    elif kind == 2:
        words = list(NAME.finditer(lines[i]))
        if words:
            w = rng.choice(words)
            lines[i] = lines[i][: w.start()] + rng.choice(names) + lines[i][w.end():]
    elif kind == 3:
        ports = [j for j, line in enumerate(lines) if line.strip().startswith(("in ", "out "))]
        j = rng.choice(ports)
        lines[j] = lines[j].replace("in ", "out ", 1) if "in " in lines[j] else lines[j].replace("out ", "in ", 1)
    elif kind == 4:
        rates = [j for j, line in enumerate(lines) if " rate " in line]
        j = rng.choice(rates)
        lines[j] = re.sub(r"rate \d+", f"rate {rng.choice([1, 7, 0, -3])}", lines[j])
    elif kind == 5:
        ends = [j for j, line in enumerate(lines) if line.startswith("    connect p")]
        if ends:
            a, b = rng.randrange(PARTS), rng.randrange(PARTS)
            lines.insert(rng.choice(ends) + 1, f"    connect p{a}.y -> p{b}.{rng.choice('ab')}")
    elif kind == 6:
        decls = [j for j, line in enumerate(lines) if line.startswith("component ")]
        j = rng.choice(decls)
        lines[j] = lines[j].replace("component T", "component U", 1)
    elif kind == 8:  # a composite type; the part's type may contain this one (a containment cycle)
        decls = [j for j, line in enumerate(lines) if line.startswith(("component ", "system "))]
        j = rng.choice(decls)
        own = lines[j].split()[1]
        types = [n for n in names if n.startswith(("T", "S"))]
        lines.insert(j + 1, f"    part x{rng.randrange(2)} : {own if rng.random() < 0.3 else rng.choice(types)}")
    elif kind == 9:  # conditions and allocations through parts (instance trees are made as they are read)
        k = rng.randrange(PARTS + 1)
        s = rng.randrange(FILES)
        if rng.random() < 0.5:
            when = rng.choice([f"p{k}.y.omission", f"S{s}.p{k}.y.omission", f"p{k}.x0.y.omission", "sink.omission"])
            lines = [f"    when {when}" if line.startswith("    when ") else line for line in lines]
        else:
            target = rng.choice([f"p{k}", f"S{s}.p{k}", f"S{s}.p{k}.x1", "T0_1", f"x{k % 2}"])
            lines = [re.sub(r"allocated_to \S+", f"allocated_to {target}", line) for line in lines]
    else:
        lines.insert(0, "deviation stuck refines value")
        rules = [j for j, line in enumerate(lines) if "y.value <-" in line]
        if rules:
            j = rng.choice(rules)
            lines[j] = lines[j].replace("y.value", "y.stuck").replace("a.value", "a.stuck")
    return "\n".join(lines)


def write_model(tmp_path: Path) -> tuple[Path, dict[str, str], list[str]]:
    """The generated model written under tmp_path/model: its folder, file texts and element names."""
    model = tmp_path / "model"
    model.mkdir()
    base = {f"f{f}.sops": _file(f) for f in range(FILES)}
    for name, text in base.items():
        (model / name).write_text(text, encoding="utf-8")
    names = sorted({m.group() for text in base.values() for m in NAME.finditer(text)})
    return model, base, names


@pytest.mark.parametrize("seed", range(1, 7))  # (seed 0 breaks the feedback loop at once)
def test_incremental_check_equals_a_check_from_scratch(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    model, base, names = write_model(tmp_path)
    cache, memo = tmp_path / "cache", ParseMemo()
    looped = 0
    for step in range(12):
        name = rng.choice(sorted(base))
        path = model / name
        path.write_text(base[name] if rng.random() < 0.2 else _edit(rng, path.read_text("utf-8"), names), "utf-8")
        scratch = check([model])
        cached = check([model], cache_dir=cache)
        remembered = check([model], memo=memo)
        assert cached.diagnostics == scratch.diagnostics, (seed, step)
        assert remembered.diagnostics == scratch.diagnostics, (seed, step)
        # the files read from the cache folder, their components unpickled as used (parse/lazy_components.py),
        # are the files built from the text
        assert (cached.model is None) == (scratch.model is None)
        if cached.model is not None and scratch.model is not None:
            assert cached.model.files == scratch.model.files, (seed, step)
        if scratch.model is not None:
            for system in scratch.model.systems():
                root = scratch.model.instances(system)
                _same_tree_lazily(remembered.model, system.qualified_name, root)
                if walk_logic_cycles(scratch.model, root):
                    looped += 1
                    assert may_have_logic_cycles(scratch.model, root)
    assert looped  # the feedback loop of file 1 (or an added one) was met at least once


def _same_tree_lazily(other: object, system: str, root: Instance) -> None:
    """The tree of `system` in another check's model, read child by child (`Instance.child`) before its
    children are made in full, is the tree `root` holds (made in full first), and `child` gives the same
    objects as `children` does."""
    from safetyops_dsl.model.index import Model

    assert isinstance(other, Model)
    lazy = other.instances(other.components[system])
    todo = [(root, lazy)]
    while todo:
        full, part = todo.pop()
        names = sorted({p.name for p in part.component.parts} | {"nothing"})
        picked = {n: part.child(n) for n in names}
        assert {n: c.path for n, c in picked.items() if c is not None} == {n: c.path for n, c in full.children.items()}
        assert all(part.children.get(n) is c for n, c in picked.items())
        assert list(part.children) == list(full.children)
        todo.extend((full.children[n], part.children[n]) for n in full.children)


CHAIN = """
component A {
    in  a
    out y
    failure F rate 1 FIT
    y.omission <- a.omission or F
}
component B {
    in  a
    out y
    failure F rate 1 FIT
    y.omission <- a.omission or F
}
system S {
    in  source
    out sink
    part p : A
    part q : B
    connect source -> p.a
    connect p.y -> q.a
    connect q.y -> sink
}
"""


def test_the_shortcut_skips_a_chain_and_not_a_chain_of_one_type(tmp_path: Path) -> None:
    # A -> B: no loop between the types' ports, the walk is skipped. A -> A: the type graph has the loop
    # A.y -> A.a -> A.y (one instance drives the other), so the walk runs (and finds nothing).
    for text, may in ((CHAIN, False), (CHAIN.replace("part q : B", "part q : A"), True)):
        (tmp_path / "m.sops").write_text(text, encoding="utf-8")
        checked = check([tmp_path])
        assert checked.model is not None and checked.ok
        (system,) = checked.model.systems()
        root = checked.model.instances(system)
        assert may_have_logic_cycles(checked.model, root) is may
        assert walk_logic_cycles(checked.model, root) == []


def test_a_stored_result_is_reused_and_a_damaged_one_is_a_miss(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    for f in range(FILES):
        (model / f"f{f}.sops").write_text(_file(f), encoding="utf-8")
    cache = tmp_path / "cache"
    first = check([model], cache_dir=cache)
    stored = sorted((cache / "validation").rglob("*"))
    entries = [p for p in stored if p.is_file()]
    assert entries
    for p in entries:
        p.write_bytes(b"not a pickle")
    again = check([model], cache_dir=cache)
    assert again.diagnostics == first.diagnostics == check([model]).diagnostics


def test_a_parameter_in_another_file_moves_a_components_stored_results(tmp_path: Path) -> None:
    """A rate written as a parameter of another file: the component's own file does not change, its stored
    results must (the interface digest holds the parameter values)."""
    from safetyops_dsl.api import check

    model, cache = tmp_path / "m", tmp_path / "cache"
    model.mkdir()
    (model / "b.sops").write_text("package p\ncomponent C {\n    out o\n    failure F rate lam\n    o.omission <- F\n}\n"
                                  "system S {\n    out o\n    part c: C\n    connect c.o -> o\n}\n", encoding="utf-8")
    codes = []
    for value in ("2e-6 per h", "0 per h - 2e-6 per h", "2e-6 per h"):
        (model / "a.sops").write_text(f"package p\nparameter lam = {value}\n", encoding="utf-8")
        cached = check([model], cache_dir=cache)
        scratch = check([model])
        assert [(d.code, d.message) for d in cached.diagnostics] == [(d.code, d.message) for d in scratch.diagnostics]
        codes.append(sorted(d.code for d in cached.diagnostics))
    assert codes == [[], ["SOPS037"], []]


def test_a_containment_cycle_closed_in_another_file_is_found_with_stored_results(tmp_path: Path) -> None:
    """The containment check is skipped when the same part-type graph passed before: closing a cycle from the
    other file, moving its lines, and opening it again must each give what a check from scratch gives."""
    model, cache, memo = tmp_path / "m", tmp_path / "cache", ParseMemo()
    model.mkdir()
    (model / "a.sops").write_text("component A {\n    part b : B\n}\n", encoding="utf-8")
    found = []
    for b in ("component B {\n}\n", "component B {\n    part a : A\n}\n", "\n\ncomponent B {\n    part a : A\n}\n",
              "component B {\n}\n"):
        (model / "b.sops").write_text(b, encoding="utf-8")
        scratch = check([model])
        for stored in (check([model], cache_dir=cache), check([model], memo=memo)):
            assert stored.diagnostics == scratch.diagnostics
        found.append([(d.code, d.location.line) for d in scratch.diagnostics if d.code == "SOPS024"])
    assert found[0] == found[3] == [] and found[1] and found[2] and found[1] != found[2]


FEATURE_LINES = (
    "    failure U rate 5 FIT uncertainty lognormal ef 0.5",  # an error factor must be above 1
    "    trigger Tr probability 0.1 where light = dusk",  # no ODD in scope
    "    trigger Tr probability 0.1 reveals Nothing",  # not a failure mode of the component
    "    failure P rate 5 FIT proof_test every 10 y",  # beyond the mission time of the hazard
    "    ccf G covers F0a beta 5 %",  # one member
)


def _skipping_changes_nothing(model: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rules give the same list when no rule skips its pass (every feature said to be used)."""
    from safetyops_dsl.model.index import Model
    from safetyops_dsl.validation.rules import validate

    assert isinstance(model, Model)
    skipping = validate(model)
    with monkeypatch.context() as m:
        m.setattr(Model, "uses", lambda self, feature: True)
        assert validate(model) == skipping


@pytest.mark.parametrize("line", FEATURE_LINES)
def test_a_feature_added_to_one_file_is_checked_with_stored_results(tmp_path: Path, line: str,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Rules over every component skip their pass when no component uses their feature (Model.uses); with
    stored results the features of unchanged files come from the store. Adding, then removing, a line that
    uses a feature in one file must give what a check from scratch gives, and the rule must speak."""
    model, cache, memo = tmp_path / "m", tmp_path / "cache", ParseMemo()
    model.mkdir()
    for f in range(FILES):
        (model / f"f{f}.sops").write_text(_file(f), encoding="utf-8")
    plain = _file(1)
    with_line = plain.replace('component T1_0 "type 0 of file 1" {\n', 'component T1_0 "type 0 of file 1" {\n' + line + "\n")
    assert with_line != plain
    other = _file(0).replace("rate 1 FIT", "rate 3 FIT")
    codes = []
    # then another file is edited: the feature's file is unchanged, its features come from the store
    for f1, f0 in ((plain, _file(0)), (with_line, _file(0)), (with_line, other), (plain, other)):
        (model / "f1.sops").write_text(f1, encoding="utf-8")
        (model / "f0.sops").write_text(f0, encoding="utf-8")
        scratch = check([model])
        for stored in (check([model], cache_dir=cache), check([model], memo=memo)):
            assert stored.diagnostics == scratch.diagnostics
        _skipping_changes_nothing(scratch.model, monkeypatch)
        codes.append({d.code for d in scratch.diagnostics})
    assert codes[0] == codes[3] and codes[1] == codes[2] and codes[1] - codes[0]


MODELS = sorted(p for p in (Path(__file__).resolve().parents[2] / "models").iterdir() if p.is_dir())


@pytest.mark.parametrize("folder", MODELS, ids=[p.name for p in MODELS])
def test_no_rule_skips_a_pass_that_would_find_something_in_the_examples(folder: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    checked = check([folder])
    assert checked.model is not None
    _skipping_changes_nothing(checked.model, monkeypatch)
