"""The `.sops` language server (LSP over stdio, pygls).

A document belongs to a *model folder*: the folder holding it, widened upwards while the parent folder holds
`.sops` files too (so `models/aeb/lib/x.sops` belongs to `models/aeb`), but only inside a workspace folder. On
every change the whole front end (`api.check`) runs again for that folder, with the text of the open
documents overriding the disk (`load(overrides=...)`); unchanged files come from a content-hash parse cache,
so only edited files are parsed again. Changes are debounced; any request first flushes a pending check, so
answers always reflect the latest text.

Diagnostics are published for every file of the model, not only the open ones: editing one file can break
another. Navigation and hover use the symbol index (symbols.py) of the latest check in which the document
parsed; while it does not parse (mid-typing), the previous good index still answers.

Everything but `SopsServer` is plain functions over model data, so unit tests need no protocol.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import math
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from safetyops_dsl import diagnostics as dg
from safetyops_dsl.analysis.synthesis import SynthesisResult, synthesise_all
from safetyops_dsl.api import Checked, check
from safetyops_dsl.diagnostics import Diagnostic, Location, Severity, show_hidden
from safetyops_dsl.lsp import symbols as sy
from safetyops_dsl.lsp.protocol import SopsProtocol
from safetyops_dsl.lsp.protocol import serve as serve_stdio
from safetyops_dsl.lsp.symbols import Span, Symbol, SymbolIndex, build_index
from safetyops_dsl.model import elements as el
from safetyops_dsl.model.index import Model
from safetyops_dsl.model.links import links
from safetyops_dsl.model.semantics import derived_asil, goal_asil, hazard_system, resolve_allocation
from safetyops_dsl.parse import grammar_info
from safetyops_dsl.parse.loader import SUFFIX, ParseMemo, display_path

SOURCE = "sops"
# Short: a check blocks the server, so edits typed meanwhile are coalesced into the next check anyway.
DEBOUNCE_SECONDS = 0.05
# A check leaves a model of about a million objects (2,000 types) made while the cyclic GC was off (api.check);
# the first collections after it scan them all (measured: 70 + 200 ms of CPU, as often as every third check),
# and an edit that arrives meanwhile waits. They are moved out of the collector's sight after each check
# (gc.freeze). What a check leaves as cyclic garbage (the instance trees of the model it replaces: parents and
# children point at each other; about 7,000 objects a check at 2,000 types) is collected once FULL_COLLECT_EVERY
# checks have passed, when no change has come for IDLE_COLLECT_SECONDS (the full collection takes 0.3-1.5 s: an
# edit arriving meanwhile would wait for it).
FULL_COLLECT_EVERY = 25
IDLE_COLLECT_SECONDS = 2.0

# -- which model a document belongs to --------------------------------------------------------------------------


def _has_sops(folder: Path) -> bool:
    try:
        return any(p.suffix == SUFFIX and not p.name.startswith(".") and p.is_file() for p in folder.iterdir())
    except OSError:
        return False


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def model_folder(file: Path, workspace: Sequence[Path] = ()) -> Path:
    """The folder whose model `file` belongs to (see the module docstring). Outside every workspace folder
    (or with none) it is the file's own folder: widening is never allowed to reach an unbounded tree."""
    folder = file.resolve().parent
    stops = [w.resolve() for w in workspace]
    while True:
        parent = folder.parent
        if parent == folder or folder in stops or not any(_inside(parent, s) for s in stops):
            return folder
        if not _has_sops(parent):
            return folder
        folder = parent


def display_to_path(display: str) -> Path:
    """Inverse of loader.display_path: display paths are relative to the working directory."""
    return Path(os.path.abspath(display))


# -- one check of one model ---------------------------------------------------------------------------------------


@dataclass
class ModelState:
    folder: Path
    checked: Checked
    version: int

    @property
    def model(self) -> Model | None:
        return self.checked.model

    @cached_property
    def index(self) -> SymbolIndex:
        """Built on the first request that needs it, not before publishing: on a 2,000-type model it costs
        longer than the check itself, and diagnostics should not wait for navigation data."""
        if self.checked.model is None:
            return SymbolIndex()
        return build_index(self.checked.model, self.checked.sources)

    def parsed(self, display: str) -> bool:
        return self.model is not None and any(f.path == display for f in self.model.files)

    def lines(self, display: str) -> Sequence[str]:
        return self.checked.sources.get(display, [])

    @cached_property
    def synthesis(self) -> list[SynthesisResult] | None:
        """Fault trees of every hazard, once per model version; None while the model has errors (the trees
        of a model that does not check are not worth showing)."""
        if self.model is None or dg.has_errors(self.checked.diagnostics):
            return None
        try:
            return synthesise_all(self.model)
        except Exception:  # a half-edited model must never take the server down
            return None


def run_check(folder: Path, overrides: dict[Path, str], version: int, cache_dir: str | None,
              memo: ParseMemo | None = None) -> ModelState:
    unsaved = [p for p in overrides if not p.exists() and _inside(p, folder)]
    checked = check([folder, *unsaved], root=folder, cache_dir=cache_dir, workers=1, overrides=overrides, memo=memo)
    return ModelState(folder, checked, version)


# -- diagnostics ---------------------------------------------------------------------------------------------------

_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.NOTE: types.DiagnosticSeverity.Information,
}


def diagnostic_range(lines: Sequence[str], loc: Location) -> tuple[int, int, int, int]:
    """(start line, start char, end line, end char), 0-based code points, of a diagnostic's location: its
    span as the builder recorded it; a point location covers one character (the end of its line when it
    lies past it), col 0 the whole line, line 0 the file's first position."""
    if loc.line <= 0:
        return 0, 0, 0, 0
    text = lines[loc.line - 1] if loc.line <= len(lines) else ""
    if loc.col <= 0:
        return loc.line - 1, 0, loc.line - 1, len(text)
    if loc.has_span:
        return loc.line - 1, loc.col - 1, loc.end_line - 1, loc.end_col - 1
    start = min(loc.col - 1, len(text))
    return loc.line - 1, start, loc.line - 1, min(start + 1, len(text))


# -- hover -----------------------------------------------------------------------------------------------------------


def _rate(per_hour: float | None) -> str:
    if per_hour is None:
        return "n/a"
    return f"{per_hour:.3g} /h ({per_hour * 1e9:.4g} FIT)"


def residual_rate(comp: el.Component, fm: el.FailureMode) -> tuple[float | None, float, list[el.Mechanism]]:
    """(residual rate per hour or None for a probability, combined coverage, covering mechanisms): the rate
    left after the safe fraction and the mechanisms, as fault-tree synthesis computes it."""
    mechanisms = list(comp.covering(fm.name))
    coverage = 1.0 - math.prod(1.0 - m.coverage for m in mechanisms)
    if fm.rate_per_hour is None:
        return None, coverage, mechanisms
    return fm.rate_per_hour * comp.residual_share(fm), coverage, mechanisms


def _resolved(model: Model, refs: Iterable[el.NameRef], kinds: tuple[str, ...], package: str) -> list[Any]:
    out = []
    for ref in refs:
        found = model.lookup(ref.text, kinds, package)
        if found is not None:
            out.append(model.element(*found))
    return out


def instances_of(model: Model, comp: el.Component) -> list[str]:
    paths = []
    for system in model.systems():
        for inst in model.instances(system).walk():
            if inst.component.qualified_name == comp.qualified_name:
                paths.append(inst.path)
    return paths


def _hazard_md(state: ModelState, model: Model, hz: el.Hazard) -> list[str]:

    classes = [c.text for c in (hz.severity, hz.exposure, hz.controllability) if c is not None]
    asil = derived_asil(hz)
    out = [f"- ASIL **{asil}** (derived from {' '.join(classes)}, ISO 26262-3 Table 4)" if asil
           else f"- ASIL: not derivable (classification {' '.join(classes) or 'missing'})"]
    if hz.typed_asil is not None:
        out.append(f"- typed ASIL: {hz.typed_asil}")
    if hz.situation:
        out.append(f"- situation: {hz.situation}")
    if hz.condition is not None:
        out.append(f"- condition: `{el.expr_text(hz.condition)}`")
    goals = [model.goals[q] for q in links(model).goals_of_hazard.get(hz.qualified_name, ())]
    if goals:
        out.append("- safety goals: " + ", ".join(
            f"`{g.name}` (ASIL {goal_asil(model, g) or '?'})" for g in sorted(goals, key=lambda g: g.name)))
    else:
        out.append("- safety goals: none")
    trees = state.synthesis
    if trees is not None:
        for r in trees:
            if r.hazard.qualified_name == hz.qualified_name:
                out.append(f"- fault tree: {len(r.tree.basic_events)} basic events over {r.tree.mission_time:g} h")
    return out


def _goal_md(model: Model, g: el.SafetyGoal) -> list[str]:

    hazards = _resolved(model, g.mitigates, ("hazard",), g.package)
    out = [f"- ASIL **{goal_asil(model, g) or '?'}** (inherited from its hazards)"]
    if g.typed_asil is not None:
        out.append(f"- typed ASIL: {g.typed_asil}")
    out.append("- mitigates: " + (", ".join(f"`{h.name}` (ASIL {derived_asil(h) or '?'})" for h in hazards) or "nothing"))
    if g.target_per_hour is not None:
        out.append(f"- target: {g.target_per_hour:g} per h")
    if g.ftti_seconds is not None:
        out.append(f"- FTTI: {g.ftti_seconds * 1000:g} ms")
    if g.safe_state:
        out.append(f"- safe state: {g.safe_state}")
    children = [model.requirements[q].name for q in links(model).children.get(g.qualified_name, ())]
    out.append("- refined by: " + (", ".join(f"`{c}`" for c in sorted(children)) or "no requirement"))
    return out


def _requirement_md(model: Model, r: el.Requirement) -> list[str]:

    out = [f"- ASIL **{r.asil}**" if r.asil is not None else "- ASIL: none given"]
    parents = []
    for p in _resolved(model, r.refines, ("safety_goal", "requirement"), r.package):
        asil = goal_asil(model, p) if isinstance(p, el.SafetyGoal) else (str(p.asil) if p.asil else None)
        parents.append(f"`{p.name}` (ASIL {asil or '?'})")
    out.append("- refines: " + (", ".join(parents) or "nothing"))
    targets = []
    for ref in r.allocated_to:
        res = resolve_allocation(model, r, ref)
        targets.append(f"`{ref.text}`" + ("" if isinstance(res, Diagnostic) or res == ref.text else f" ({res})"))
    out.append("- allocated to: " + (", ".join(targets) or "nothing"))
    verifies = links(model).verifies
    verified = sorted(e.name for q, e in model.evidence.items() if ("requirement", r.qualified_name) in verifies[q])
    out.append("- verified by: " + (", ".join(f"`{v}`" for v in verified) or "no evidence"))
    return out


def _failure_md(state: ModelState, model: Model, comp: el.Component, fm: el.FailureMode) -> list[str]:
    residual, coverage, mechanisms = residual_rate(comp, fm)
    out = [f"- {'rate' if fm.rate_per_hour is not None else 'given as'}: {fm.quantity_text}"]
    if fm.description:
        out.append(f"- {fm.description}")
    if fm.safe_fraction:
        out.append(f"- safe fraction: {fm.safe_fraction * 100:g} %")
    if fm.systematic:
        out.append("- systematic fault: not counted in the FMEDA hardware metrics")
    if mechanisms:
        out.append("- covered by: " + ", ".join(f"`{m.name}` {m.coverage * 100:g} %" for m in mechanisms)
                   + f" (combined {coverage * 100:.4g} %)")
    if residual is not None:
        out.append(f"- residual rate: **{_rate(residual)}**")
    if fm.exposure_hours is not None:
        out.append(f"- exposure: {fm.exposure_hours:g} h")
    if fm.exposure_missions is not None:
        out.append(f"- exposure: {fm.exposure_missions:g} x the mission time")
    if fm.proof_test is not None:
        pt = fm.proof_test
        out.append(f"- proof test every {pt.interval_hours:g} h (first at {pt.first_hours:g} h), coverage "
                   f"{pt.coverage * 100:g} %" + (f", lasting {pt.duration_hours:g} h" if pt.duration_hours else "")
                   + (f"; repaired in {fm.mttr_hours:g} h (MTTR)" if fm.mttr_hours else ""))
    if fm.uncertainty is not None:
        out.append(f"- uncertainty: {fm.uncertainty}")
    trees = state.synthesis
    if trees is None:
        out.append("- hazards reached: unknown while the model has errors")
        return out
    paths = instances_of(model, comp)
    reached = []
    common: dict[str, str] = {}
    for r in trees:
        for path in paths:
            name = f"{path}.{fm.name}"
            event = r.structure.basic_events.get(name)  # (in r.tree a CCF member is a gate)
            if event is None:
                continue
            reached.append(f"`{r.hazard.name}` via {event.name} (p = {event.probability:.3g})")
            gate = r.tree.gates.get(name)
            if gate is not None and name not in common:
                common[name] = " or ".join(f"`{i}` (p = {r.tree.basic_events[i].probability:.3g})"
                                           for i in gate.inputs if i in r.tree.basic_events)
    out.append("- hazards reached: " + ("; ".join(reached) if reached else "none"))
    out += [f"- in a CCF group: {name} = {parts}" for name, parts in sorted(common.items())]
    return out


def _component_md(model: Model, c: el.Component) -> list[str]:
    out = []
    if c.description:
        out.append(f"- {c.description}")
    ins = [p.name for p in c.ports if p.direction is el.PortDirection.IN]
    outs = [p.name for p in c.ports if p.direction is el.PortDirection.OUT]
    out.append(f"- ports: in {', '.join(ins) or '-'}; out {', '.join(outs) or '-'}")
    if c.failure_modes:
        out.append("- failure modes: " + ", ".join(f"`{f.name}` {f.quantity_text}" for f in c.failure_modes))
    if c.mechanisms:
        out.append("- mechanisms: " + ", ".join(f"`{m.name}` {m.coverage * 100:g} %" for m in c.mechanisms))
    if c.parts:
        out.append("- parts: " + ", ".join(f"`{p.name}` : {p.type_ref.text}" for p in c.parts))
    if c.kind is not el.ComponentKind.SYSTEM:
        paths = instances_of(model, c)
        out.append("- instances: " + (", ".join(paths) if paths else "none"))
    return out


_CCF_MODEL_WORDS = {"beta": "beta-factor model:", "mgl": "multiple Greek letter model:",
                    "alpha": "alpha-factor model:", "phi": "phi-factor model:"}


def hover_markdown(state: ModelState, sym: Symbol) -> str:
    """The hover text of `sym`: what it is and the facts the analyses derive for it."""
    model = state.model
    assert model is not None
    e = sym.element
    kind = sym.kind.replace("_", " ")
    title = getattr(e, "title", "") or ""
    if sym.kind == sy.COMPONENT:
        kind = e.kind.value.replace("_", " ")
    head = f"**{kind}** `{sym.qualified}`" + (f" — {title}" if title else "")
    body: list[str] = []
    if sym.kind == sy.HAZARD:
        body = _hazard_md(state, model, e)
    elif sym.kind == sy.SAFETY_GOAL:
        body = _goal_md(model, e)
    elif sym.kind == sy.REQUIREMENT:
        body = _requirement_md(model, e)
    elif sym.kind == sy.FAILURE_MODE:
        head = f"**{e.kind if e.kind == 'trigger' else 'failure mode'}** `{sym.qualified}`"
        body = _failure_md(state, model, sym.owner, e)
    elif sym.kind == sy.COMPONENT:
        body = _component_md(model, e)
    elif sym.kind == sy.PORT:
        rules = [f"`{r.port}.{r.deviation} <- {el.expr_text(r.expr)}`" for r in sym.owner.rules if r.port == e.name]
        body = [f"- {e.direction.value}put of `{sym.owner.name}`"] + [f"- {r}" for r in rules]
    elif sym.kind == sy.PART:
        paths = [p for p in instances_of(model, sym.owner)]
        body = [f"- type `{e.type_ref.text}`" + (f": {e.description}" if e.description else ""),
                "- instances: " + (", ".join(f"{p}.{e.name}" for p in paths) or "none")]
    elif sym.kind == sy.MECHANISM:
        body = [f"- covers {', '.join(r.text for r in e.covers)} with {e.coverage * 100:g} %"
                + (f", latent {e.latent_coverage * 100:g} %" if e.latent_coverage is not None else "")]
        if e.description:
            body.append(f"- {e.description}")
    elif sym.kind == sy.CCF_GROUP:
        head = f"**CCF group** `{sym.qualified}`"
        body = [f"- covers {', '.join(r.text for r in e.members)}",
                f"- {_CCF_MODEL_WORDS[e.model]} {e.factors_text}"]
        if e.description:
            body.append(f"- {e.description}")
    elif sym.kind == sy.EVIDENCE:
        body = [f"- {e.kind}: `{e.source}`"]
        if e.verifies:
            body.append("- verifies: " + ", ".join(r.text for r in e.verifies))
        if e.supports:
            body.append("- supports: " + ", ".join(r.text for r in e.supports))
    elif sym.kind == sy.GSN_NODE:
        head = f"**GSN {e.kind.replace('_', ' ')}** `{sym.qualified}`"
        body = [f"- {e.text}"] + (["- undeveloped"] if e.undeveloped else [])
    elif sym.kind == sy.ARGUMENT:
        body = [f"- {len(e.nodes)} GSN nodes"]
    elif sym.kind == sy.DEVIATION:
        if e is None:
            body = ["- built-in deviation type"]
        else:
            body = [f"- refines `{e.base}`" if e.base else "- a base deviation type"]
            if e.description:
                body.append(f"- {e.description}")
        finer = [d for d in model.refinements(sym.name) if d != sym.name]
        if finer:
            body.append("- refined by: " + ", ".join(f"`{d}`" for d in finer))
    return "\n".join([head, ""] + body)


# -- completion ------------------------------------------------------------------------------------------------------

# Read from the grammar (parse/grammar_info.py): a keyword added to the language is completed at once.
TOP_KEYWORDS = grammar_info.HEADER_KEYWORDS + grammar_info.element_keywords()
MEMBER_KEYWORDS = grammar_info.member_keywords()
_COMPONENT_KINDS = ("component", "ml_component", "system")
_TOKEN = re.compile(r"//[^\n]*|/\*[\s\S]*?(?:\*/|\Z)|\"[^\"\n]*\"?|'[^'\n]*'?|[{}]|[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Context:
    element: str  # the enclosing top-level keyword ("" before any): component, hazard, ...
    name: str  # its name
    depth: int  # braces open at the cursor


def context_at(text: str, offset: int) -> Context:
    """The top-level element enclosing `offset`, from a light scan that survives text that does not parse."""
    element, name, depth, want_name = "", "", 0, False
    for m in _TOKEN.finditer(text, 0, offset):
        tok = m.group()
        if tok[0] in "/\"'":
            continue
        if tok == "{":
            depth += 1
        elif tok == "}":
            depth = max(depth - 1, 0)
        elif want_name:
            name, want_name = tok, False
        elif depth == 0 and tok in TOP_KEYWORDS:
            element = "component" if tok in _COMPONENT_KINDS else tok
            name, want_name = "", True
    return Context(element, name, depth)


@dataclass(frozen=True)
class Candidate:
    label: str
    kind: types.CompletionItemKind
    detail: str = ""


_KIND_ICON = {
    sy.COMPONENT: types.CompletionItemKind.Class,
    sy.PART: types.CompletionItemKind.Field,
    sy.PORT: types.CompletionItemKind.Interface,
    sy.FAILURE_MODE: types.CompletionItemKind.Event,
    sy.MECHANISM: types.CompletionItemKind.Function,
    sy.CCF_GROUP: types.CompletionItemKind.Function,
    sy.HAZARD: types.CompletionItemKind.Constant,
    sy.SAFETY_GOAL: types.CompletionItemKind.Constant,
    sy.REQUIREMENT: types.CompletionItemKind.Constant,
    sy.EVIDENCE: types.CompletionItemKind.Reference,
    sy.ARGUMENT: types.CompletionItemKind.Module,
    sy.GSN_NODE: types.CompletionItemKind.Reference,
    sy.DEVIATION: types.CompletionItemKind.EnumMember,
}

# keyword -> kinds of top-level element named after it
_REF_KINDS = {
    "mitigates": (sy.HAZARD,),
    "refines": (sy.SAFETY_GOAL, sy.REQUIREMENT),
    "verifies": (sy.REQUIREMENT, sy.SAFETY_GOAL),
    "supports": (sy.HAZARD, sy.SAFETY_GOAL, sy.REQUIREMENT, sy.COMPONENT),
    "parts": (sy.COMPONENT,),
    "refers": (sy.HAZARD, sy.SAFETY_GOAL, sy.REQUIREMENT, sy.COMPONENT, sy.EVIDENCE),
    "attach_to": (sy.HAZARD, sy.SAFETY_GOAL, sy.REQUIREMENT, sy.COMPONENT),
}
_AFTER_KEYWORD = re.compile(r"\b([a-z_]+)\s+(?:[A-Za-z0-9_.]+\s*,\s*)*([A-Za-z0-9_.]*)$")
_PART_TYPE = re.compile(r"\bpart\s+[A-Za-z_][A-Za-z0-9_]*\s*:\s*([A-Za-z0-9_.]*)$")
_LINE_START = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)?$")
_EXPR = re.compile(r"(?:<-|\bwhen\b|\bor\b|\band\b|\(|,)\s*([A-Za-z0-9_.]*)$")
_ENDPOINT = re.compile(r"\bconnect\s+(?:[A-Za-z0-9_.]+\s*->\s*)?([A-Za-z0-9_.]*)$")


def _symbols(index: SymbolIndex, kinds: Iterable[str]) -> list[Candidate]:
    seen: dict[str, Candidate] = {}
    for s in index.of_kind(*kinds):
        title = getattr(s.element, "title", "") or getattr(s.element, "description", "") or ""
        seen.setdefault(s.name, Candidate(s.name, _KIND_ICON[s.kind], f"{s.kind.replace('_', ' ')} {title}".strip()))
    return list(seen.values())


def _owner(index: SymbolIndex, kind: str, name: str, display: str) -> Any:
    hits = [s for s in index.symbols.values() if s.kind == kind and s.name == name]
    hits.sort(key=lambda s: (s.definition is None or s.definition.file != display, s.key))
    return hits[0].element if hits else None


def _members(index: SymbolIndex, owner: Any, kinds: Iterable[str], direction: el.PortDirection | None = None
             ) -> list[Candidate]:
    out = []
    for s in index.of_kind(*kinds):
        if s.owner is None or s.owner.qualified_name != owner.qualified_name:
            continue
        if direction is not None and s.kind == sy.PORT and s.element.direction is not direction:
            continue
        detail = s.kind.replace("_", " ")
        if s.kind == sy.PORT:
            detail = f"{s.element.direction.value}put port"
        out.append(Candidate(s.name, _KIND_ICON[s.kind], detail))
    return out


def _deviations(model: Model, partial: str) -> list[Candidate]:
    return [Candidate(d, types.CompletionItemKind.EnumMember, "deviation")
            for d in sorted(model.all_deviations()) if d.startswith(partial.rpartition(".")[0])]


def complete(state: ModelState, display: str, text: str, line: int, char: int) -> tuple[list[Candidate], int]:
    """Candidates at 0-based (line, char) in code points, and how many characters before the cursor they
    replace."""
    model = state.model
    if model is None:
        return [Candidate(k, types.CompletionItemKind.Keyword) for k in TOP_KEYWORDS], 0
    lines = text.split("\n")
    before = lines[line][:char] if line < len(lines) else ""
    offset = sum(len(x) + 1 for x in lines[:line]) + char
    ctx = context_at(text, offset)
    index = state.index
    comp = _owner(index, sy.COMPONENT, ctx.name, display) if ctx.element == "component" and ctx.depth else None

    m = _PART_TYPE.search(before)
    if m:
        return _symbols(index, (sy.COMPONENT,)), len(m.group(1))
    m = _ENDPOINT.search(before)
    if m and comp is not None:
        return _dotted(index, model, comp, m.group(1), endpoint=True)
    m = _AFTER_KEYWORD.search(before)
    if m and m.group(1) not in ("in", "out", "or", "and", "when"):
        word, partial = m.group(1), m.group(2)
        n = len(partial)
        if word == "refines" and ctx.element == "deviation":
            return _deviations(model, ""), n
        if word == "supports" and ctx.element == "argument" or word in ("for", "in_context_of"):
            arg = _owner(index, sy.ARGUMENT, ctx.name, display) if ctx.element == "argument" else None
            return (_members(index, arg, (sy.GSN_NODE,)) if arg is not None else []), n
        if word == "evidence" and ctx.element == "argument" and ctx.depth:
            return _symbols(index, (sy.EVIDENCE,)), n
        if word == "system" and ctx.element == "hazard" and ctx.depth:
            return [c for c in _symbols(index, (sy.COMPONENT,))
                    if any(s.name == c.label for s in model.systems())], n
        if word == "covers" and comp is not None and re.match(r"\s*ccf\b", before):
            return _part_failures(model, comp), n
        if word == "covers":
            return (_members(index, comp, (sy.FAILURE_MODE,)) if comp is not None else []), n
        if word == "allocated_to":
            parts = sorted({i.path.split(".", 1)[1] for s in model.systems()
                            for i in model.instances(s).walk() if i.parent is not None})
            return _symbols(index, (sy.COMPONENT,)) + [
                Candidate(p, types.CompletionItemKind.Field, "part") for p in parts], n
        if word in _REF_KINDS:
            return _symbols(index, _REF_KINDS[word]), n
    m = _EXPR.search(before)
    if m and comp is not None and "<-" in before:
        return _dotted(index, model, comp, m.group(1), endpoint=False)
    if m and ctx.element == "hazard" and ctx.depth and re.search(r"\bwhen\b", before):
        return _condition(index, model, ctx, m.group(1))
    m = _LINE_START.match(before)
    if m:
        partial = m.group(1) or ""
        if ctx.depth and ctx.element in MEMBER_KEYWORDS:
            words = MEMBER_KEYWORDS[ctx.element]
        elif ctx.element in ("requirement", "evidence", "safety_goal"):
            words = MEMBER_KEYWORDS.get(ctx.element, ()) + TOP_KEYWORDS
        else:
            words = TOP_KEYWORDS
        out = [Candidate(k, types.CompletionItemKind.Keyword) for k in words]
        if comp is not None:  # a rule starts with an output port
            out += _members(index, comp, (sy.PORT,), el.PortDirection.OUT)
        return out, len(partial)
    return [], 0


def _part_failures(model: Model, comp: el.Component) -> list[Candidate]:
    """`part.failure` for every part of `comp`: the members a CCF group can name."""
    out = []
    for part in comp.parts:
        found = model.lookup(part.type_ref.text, ("component",), comp.package)
        if found is None:
            continue
        for fm in model.components[found[1]].failure_modes:
            if fm.kind == "failure":
                out.append(Candidate(f"{part.name}.{fm.name}", types.CompletionItemKind.Field,
                                     f"{fm.quantity_text} {fm.description}".strip()))
    return out


def _dotted(index: SymbolIndex, model: Model, comp: el.Component, partial: str, endpoint: bool
            ) -> tuple[list[Candidate], int]:
    """Inside a component: `part.` -> the part type's ports, `port.` -> deviations; a bare word -> parts and
    ports (connect endpoints) or failure modes and input ports (failure logic)."""
    head, dot, tail = partial.partition(".")
    if not dot:
        if endpoint:
            return _members(index, comp, (sy.PART, sy.PORT)), len(partial)
        return (_members(index, comp, (sy.FAILURE_MODE,))
                + _members(index, comp, (sy.PORT,), el.PortDirection.IN)), len(partial)
    part = comp.part(head)
    if part is not None and endpoint:
        found = model.lookup(part.type_ref.text, ("component",), comp.package)
        ptype = model.components[found[1]] if found else None
        return (_members(index, ptype, (sy.PORT,)) if ptype is not None else []), len(tail)
    if comp.port(head) is not None:
        return _deviations(model, tail), len(tail)
    return [], len(tail)


def _condition(index: SymbolIndex, model: Model, ctx: Context, partial: str) -> tuple[list[Candidate], int]:
    """A hazard condition: `[part.]...port.deviation` over the hazard's system."""

    hz = _owner(index, sy.HAZARD, ctx.name, "")
    systems = model.systems()
    system: Any = hazard_system(model, hz) if hz is not None else (systems[0] if len(systems) == 1 else None)
    if system is None or isinstance(system, Diagnostic):
        return [], 0
    inst = model.instances(system)
    segs = partial.split(".")
    i = 1 if len(segs) > 1 and segs[0] == system.name and segs[0] not in inst.children else 0
    while i < len(segs) - 1 and segs[i] in inst.children:
        inst = inst.children[segs[i]]
        i += 1
    tail = ".".join(segs[i:])
    if i < len(segs) - 1 and inst.component.port(segs[i]) is not None:
        rest = ".".join(segs[i + 1:])
        return _deviations(model, rest), len(rest)
    out = [Candidate(n, types.CompletionItemKind.Field, f"part : {c.component.name}")
           for n, c in sorted(inst.children.items())]
    out += [Candidate(p.name, types.CompletionItemKind.Interface, "output port")
            for p in inst.component.ports if p.direction is el.PortDirection.OUT]
    return out, len(tail)


# -- the server --------------------------------------------------------------------------------------------------------


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("safetyops-dsl")
    except PackageNotFoundError:
        return "unknown"


class SopsServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("sops", _package_version(), text_document_sync_kind=types.TextDocumentSyncKind.Full,
                         protocol_cls=SopsProtocol)
        self.states: dict[Path, ModelState] = {}
        self.last_good: dict[str, ModelState] = {}  # display path -> the latest state in which it parsed
        self.published: dict[Path, set[str]] = {}  # model folder -> URIs with diagnostics
        self.pending: dict[Path, asyncio.TimerHandle] = {}
        self.memos: dict[Path, ParseMemo] = {}  # model folder -> its built files: a change re-parses one file
        self.uri_of: dict[Path, str] = {}  # resolved path -> the URI the client uses for it
        self.checks = 0  # model versions: one per check
        self.collected_at = 0  # self.checks at the last full collection of the frozen heap
        self.idle_collect: asyncio.TimerHandle | None = None
        self._own_cache: str | None = None

    # -- plumbing ------------------------------------------------------------------------------------------------
    @property
    def cache_dir(self) -> str:
        env = os.environ.get("SOPS_CACHE_DIR")
        if env:
            return env
        if self._own_cache is None:
            self._own_cache = tempfile.mkdtemp(prefix="sops-lsp-")
        return self._own_cache

    def cleanup(self) -> None:
        if self._own_cache is not None:
            shutil.rmtree(self._own_cache, ignore_errors=True)
            self._own_cache = None

    def workspace_roots(self) -> list[Path]:
        roots = []
        for folder in self.workspace.folders.values():
            path = to_fs_path(folder.uri)
            if path:
                roots.append(Path(path))
        if not roots and self.workspace.root_path:
            roots.append(Path(self.workspace.root_path))
        return roots

    def path_of(self, uri: str) -> Path | None:
        fs = to_fs_path(uri)
        return Path(fs).resolve() if fs and uri.startswith("file:") else None

    def uri_for(self, path: Path) -> str:
        return self.uri_of.get(path) or from_fs_path(str(path)) or path.as_uri()

    def folder_of(self, uri: str) -> Path | None:
        path = self.path_of(uri)
        if path is None:
            return None
        for folder in sorted(self.states, key=lambda f: -len(f.parts)):
            if _inside(path, folder) and path.suffix == SUFFIX:
                return folder
        return model_folder(path, self.workspace_roots())

    # -- checking ------------------------------------------------------------------------------------------------
    def schedule(self, folder: Path, delay: float = DEBOUNCE_SECONDS) -> None:
        old = self.pending.pop(folder, None)
        if old is not None:
            old.cancel()
        if self.idle_collect is not None:  # not idle: collect after the next check
            self.idle_collect.cancel()
            self.idle_collect = None
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.recheck(folder)
            return
        self.pending[folder] = loop.call_later(delay, self.recheck, folder)

    def flush(self, folder: Path) -> None:
        handle = self.pending.pop(folder, None)
        if handle is not None:
            handle.cancel()
            self.recheck(folder)

    def recheck(self, folder: Path) -> None:
        self.pending.pop(folder, None)
        overrides: dict[Path, str] = {}
        for uri, doc in self.workspace.text_documents.items():
            path = self.path_of(uri)
            if path is not None and path.suffix == SUFFIX and _inside(path, folder):
                overrides[path] = doc.source
                self.uri_of[path] = uri
        if not overrides and folder not in self.states:
            return
        self.checks += 1
        try:
            state = run_check(folder, overrides, self.checks, self.cache_dir, self.memos.setdefault(folder, ParseMemo()))
        except Exception as exc:  # a bug in the front end: say so, keep serving
            self.window_log_message(types.LogMessageParams(types.MessageType.Error, f"sops: check failed: {exc!r}"))
            return
        gc.freeze()
        self.states[folder] = state
        for display in state.checked.sources:
            if state.parsed(display):
                self.last_good[display] = state
        self.publish(state)
        if self.checks - self.collected_at >= FULL_COLLECT_EVERY:
            self.collect_when_idle()

    def collect_when_idle(self) -> None:
        if self.idle_collect is not None:
            self.idle_collect.cancel()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.collect_garbage()
            return
        self.idle_collect = loop.call_later(IDLE_COLLECT_SECONDS, self.collect_garbage)

    def collect_garbage(self) -> None:
        """The cyclic garbage of the frozen heap (see FULL_COLLECT_EVERY), then freeze again."""
        self.idle_collect = None
        self.collected_at = self.checks
        gc.unfreeze()
        gc.collect()
        gc.freeze()

    def publish(self, state: ModelState) -> None:
        by_file: dict[str, list[Diagnostic]] = {d: [] for d in state.checked.sources}
        for d in state.checked.diagnostics:
            # files that could not be read have no source lines but still get their diagnostic
            if d.location.file in by_file or d.location.file.endswith(SUFFIX):
                by_file.setdefault(d.location.file, []).append(d)
        uris: set[str] = set()
        for display, diags in sorted(by_file.items()):
            path = display_to_path(display)
            lines = state.lines(display)
            uri = self.uri_for(path)
            uris.add(uri)
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=[self.lsp_diagnostic(d, lines) for d in diags])
            )
        for uri in sorted(self.published.get(state.folder, set()) - uris):
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
        self.published[state.folder] = uris

    def lsp_diagnostic(self, d: Diagnostic, lines: Sequence[str]) -> types.Diagnostic:
        line, start, end_line, end = diagnostic_range(lines, d.location)
        message = show_hidden(d.message + (f"\nhint: {d.hint}" if d.hint else ""))
        return types.Diagnostic(
            range=self.client_range(lines, line, start, end, end_line),
            message=message,
            severity=_SEVERITY[d.level],
            code=d.code,
            source=SOURCE,
        )

    # -- positions -----------------------------------------------------------------------------------------------
    def client_range(self, lines: Sequence[str], line: int, start: int, end: int, end_line: int | None = None
                     ) -> types.Range:
        codec = self.workspace.position_codec
        return types.Range(
            start=codec.position_to_client_units(lines, types.Position(line, start)),
            end=codec.position_to_client_units(lines, types.Position(line if end_line is None else end_line, end)),
        )

    def location_of(self, state: ModelState, span: Span) -> types.Location:
        lines = state.lines(span.file)
        return types.Location(
            uri=self.uri_for(display_to_path(span.file)),
            range=self.client_range(lines, span.line - 1, span.start - 1, span.end - 1),
        )

    def lookup(self, uri: str, position: types.Position) -> tuple[ModelState, str, int, int] | None:
        """(state, display path, 1-based line, 1-based col in code points) for a client position."""
        folder = self.folder_of(uri)
        path = self.path_of(uri)
        if folder is None or path is None:
            return None
        self.flush(folder)
        display = display_path(path)
        state = self.states.get(folder)
        if state is None or not state.parsed(display):
            state = self.last_good.get(display, state)
        if state is None:
            return None
        doc = self.workspace.get_text_document(uri)
        pos = self.workspace.position_codec.position_from_client_units(
            doc.lines, types.Position(position.line, position.character))
        return state, display, pos.line + 1, pos.character + 1

    def symbol_at(self, uri: str, position: types.Position) -> tuple[ModelState, Symbol, sy.Occurrence] | None:
        found = self.lookup(uri, position)
        if found is None:
            return None
        state, display, line, col = found
        occ = state.index.at(display, line, col)
        if occ is None:
            return None
        return state, state.index.symbols[occ.key], occ


def make_server() -> SopsServer:
    server = SopsServer()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: SopsServer, params: types.DidOpenTextDocumentParams) -> None:
        folder = ls.folder_of(params.text_document.uri)
        if folder is not None:
            ls.schedule(folder, 0.0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: SopsServer, params: types.DidChangeTextDocumentParams) -> None:
        folder = ls.folder_of(params.text_document.uri)
        if folder is not None:
            ls.schedule(folder)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: SopsServer, params: types.DidSaveTextDocumentParams) -> None:
        folder = ls.folder_of(params.text_document.uri)
        if folder is not None:
            ls.schedule(folder, 0.0)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: SopsServer, params: types.DidCloseTextDocumentParams) -> None:
        # the disk's text counts again for a closed document
        folder = ls.folder_of(params.text_document.uri)
        if folder is not None and folder in ls.states:
            ls.schedule(folder, 0.0)

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: SopsServer, params: types.DefinitionParams) -> types.Location | None:
        found = ls.symbol_at(params.text_document.uri, params.position)
        if found is None or found[1].definition is None:
            return None
        state, sym, _ = found
        assert sym.definition is not None
        return ls.location_of(state, sym.definition)

    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    def references(ls: SopsServer, params: types.ReferenceParams) -> list[types.Location]:
        found = ls.symbol_at(params.text_document.uri, params.position)
        if found is None:
            return []
        state, sym, _ = found
        spans = state.index.references(sym.key, params.context.include_declaration)
        return [ls.location_of(state, s) for s in spans]

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: SopsServer, params: types.HoverParams) -> types.Hover | None:
        found = ls.symbol_at(params.text_document.uri, params.position)
        if found is None:
            return None
        state, sym, occ = found
        return types.Hover(
            # hidden characters of model text written out; as entities, so Markdown shows the brackets
            contents=types.MarkupContent(kind=types.MarkupKind.Markdown,
                                         value=show_hidden(hover_markdown(state, sym), "&lt;", "&gt;")),
            range=ls.location_of(state, occ.span).range,
        )

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[".", " ", ":", ","])
    )
    def completion(ls: SopsServer, params: types.CompletionParams) -> types.CompletionList:
        uri = params.text_document.uri
        folder, path = ls.folder_of(uri), ls.path_of(uri)
        empty = types.CompletionList(is_incomplete=False, items=[])
        if folder is None or path is None:
            return empty
        ls.flush(folder)
        display = display_path(path)
        state = ls.states.get(folder)
        if state is None or not state.parsed(display):
            state = ls.last_good.get(display, state)
        if state is None:
            return empty
        doc = ls.workspace.get_text_document(uri)
        codec = ls.workspace.position_codec
        pos = codec.position_from_client_units(doc.lines, types.Position(params.position.line,
                                                                         params.position.character))
        source = doc.source.replace("\r\n", "\n")
        candidates, replace = complete(state, display, source, pos.line, pos.character)
        lines = source.split("\n")
        rng = ls.client_range(lines, pos.line, pos.character - replace, pos.character)
        items = [
            types.CompletionItem(
                label=c.label, kind=c.kind, detail=show_hidden(c.detail) or None,
                text_edit=types.TextEdit(range=rng, new_text=c.label), sort_text=f"{i:04d}",
            )
            for i, c in enumerate(candidates)
        ]
        return types.CompletionList(is_incomplete=False, items=items)

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: SopsServer, params: None) -> None:
        for handle in ls.pending.values():
            handle.cancel()
        ls.pending.clear()
        ls.cleanup()

    return server


def serve() -> None:
    """Run the server on stdin/stdout until the client sends exit."""
    server = make_server()
    try:
        serve_stdio(server)
    finally:
        with contextlib.suppress(Exception):
            server.cleanup()
