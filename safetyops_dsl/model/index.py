"""The whole model: every file's elements indexed by name, and name resolution with helpful errors.

Scoping: a name is looked up in the referring element's own package first, then across all loaded packages
(it must then be unique, or be qualified as `package.Name`). Deviation types are global.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from safetyops_dsl import diagnostics as dg
from safetyops_dsl.diagnostics import Diagnostic, Location
from safetyops_dsl.model import elements as el
from safetyops_dsl.model import parameters
from safetyops_dsl.model.instances import build_instances

DEFAULT_MISSION_TIME_HOURS = 1.0
DEFAULT_STANDARD = "iso26262"

# kind name used in messages -> attribute of Model holding that kind
KINDS = ("component", "hazard", "safety_goal", "requirement", "evidence", "argument")


@dataclass
class Model:
    root: Path
    files: list[el.SourceFile]
    components: dict[str, el.Component] = field(default_factory=dict)
    hazards: dict[str, el.Hazard] = field(default_factory=dict)
    goals: dict[str, el.SafetyGoal] = field(default_factory=dict)
    requirements: dict[str, el.Requirement] = field(default_factory=dict)
    evidence: dict[str, el.Evidence] = field(default_factory=dict)
    arguments: dict[str, el.Argument] = field(default_factory=dict)
    deviations: dict[str, el.Deviation] = field(default_factory=dict)  # declared; built-ins are implicit
    parameters: dict[str, el.Parameter] = field(default_factory=dict)  # qualified name -> parameter
    policy: list[el.PolicyRule] = field(default_factory=list)
    # `mission_time` at file level holds for the whole package; packages without one use the default
    mission_time_by_package: dict[str, float] = field(default_factory=dict)
    # `standard NAME` at file level holds for the whole package (model/profiles); packages without one: iso26262
    standard_by_package: dict[str, el.StandardDecl] = field(default_factory=dict)
    risk_matrix_by_package: dict[str, el.RiskMatrix] = field(default_factory=dict)  # ISO 14971
    risk_graph_by_package: dict[str, el.RiskGraph] = field(default_factory=dict)  # IEC 61508-5 Annex E
    dal_reduction_by_package: dict[str, el.DalReduction] = field(default_factory=dict)  # ARP4754A Table 3 as data
    ffs: dict[str, el.Ffs] = field(default_factory=dict)  # ARP4754A functional failure sets, by qualified name
    # ARP4761A operating profile: package -> flight phase name -> its declaration
    flight_phases_by_package: dict[str, dict[str, el.FlightPhaseDef]] = field(default_factory=dict)
    # simple name -> [(kind, qualified name)]
    _by_name: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    _rel_of: dict[str, str] = field(default_factory=dict)  # display path -> root-relative path
    _instances: dict[str, Any] = field(default_factory=dict)  # system qname -> instance tree (cached)
    # component qname -> (the component, the resolved type of each of its parts): model/instances.part_types
    part_type_memo: dict[str, tuple[el.Component, tuple[el.Component | None, ...]]] = field(
        default_factory=dict, repr=False, compare=False)
    # component qname -> the qualified names of its parts' types, as stored by validation/incremental.py
    stored_part_types: dict[str, tuple[str | None, ...]] = field(default_factory=dict, repr=False, compare=False)
    # qualified name -> (value in base units, hour exponent), for the parameters that evaluate
    parameter_values: dict[str, tuple[float, int]] = field(default_factory=dict)
    links_cache: Any = field(default=None, repr=False, compare=False)  # model/links.py, built on first use
    _features: frozenset[str] | None = field(default=None, repr=False, compare=False)
    # component qname -> rel_path of the file that defines it (the one in `components`, not a duplicate)
    component_files: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    # -- lookups ------------------------------------------------------------------------------------------------
    def _stores(self) -> dict[str, dict[str, Any]]:
        return {
            "component": self.components,
            "hazard": self.hazards,
            "safety_goal": self.goals,
            "requirement": self.requirements,
            "evidence": self.evidence,
            "argument": self.arguments,
        }

    def element(self, kind: str, qname: str) -> Any:
        return self._stores()[kind][qname]

    def mission_time(self, package: str) -> float:
        return self.mission_time_by_package.get(package, DEFAULT_MISSION_TIME_HOURS)

    def standard(self, package: str) -> str:
        """The standard a package is analysed against, as declared (validation reports unknown names)."""
        decl = self.standard_by_package.get(package)
        return decl.name if decl is not None else DEFAULT_STANDARD

    def instances(self, system: el.Component) -> Any:
        """The instance tree of `system` (model/instances.py), built once."""
        key = system.qualified_name
        if key not in self._instances:
            self._instances[key] = build_instances(self, system)
        return self._instances[key]

    def systems(self) -> list[el.Component]:
        if "__systems__" not in self._instances:
            self._instances["__systems__"] = [
                c for _, c in sorted(self.components.items()) if c.kind is el.ComponentKind.SYSTEM
            ]
        systems: list[el.Component] = self._instances["__systems__"]
        return systems

    def uses(self, feature: str) -> bool:
        """Whether any component type uses `feature` (one of FEATURES). A rule that reads a feature of every
        component or failure mode asks first and skips its pass when none does: over 10,000 types each such
        pass cost 5-15 ms, mostly in cache misses, and most models use few of these features."""
        if self._features is None:
            self._features = component_features(self.components.values())
        return feature in self._features

    def rel_path(self, display: str) -> str:
        return self._rel_of.get(display, display)

    def all_deviations(self) -> set[str]:
        return set(el.BASE_DEVIATIONS) | set(self.deviations)

    def refinements(self, deviation: str) -> list[str]:
        """The deviation itself and every declared deviation that refines it, transitively (sorted)."""
        out = {deviation}
        changed = True
        while changed:
            changed = False
            for d in self.deviations.values():
                if d.base in out and d.name not in out:
                    out.add(d.name)
                    changed = True
        return sorted(out)

    def lookup(self, text: str, kinds: Iterable[str], package: str) -> tuple[str, str] | None:
        """Resolve without building a diagnostic (cheap where a miss is expected)."""
        wanted = tuple(kinds)
        if "." in text:
            name = text.rpartition(".")[2]
            hits = [(k, q) for k, q in self._by_name.get(name, []) if q == text and k in wanted]
        else:
            entries = self._by_name.get(text, [])
            hits = [(k, q) for k, q in entries if q == f"{package}.{text}" and k in wanted] or [
                (k, q) for k, q in entries if k in wanted
            ]
        return hits[0] if len(hits) == 1 else None

    def resolve(
        self, ref: el.NameRef, kinds: Iterable[str], package: str, what: str
    ) -> tuple[str, str] | Diagnostic:
        """Resolve `ref` to (kind, qualified name) among `kinds`, or return the diagnostic to report."""
        wanted = tuple(kinds)
        text = ref.text
        candidates: list[tuple[str, str]]
        if "." in text:
            pkg, _, name = text.rpartition(".")
            candidates = [(k, q) for k, q in self._by_name.get(name, []) if q == text]
        else:
            all_named = self._by_name.get(text, [])
            if len(all_named) == 1 and all_named[0][0] in wanted:  # the usual case, as the lines below decide it
                return all_named[0]
            local = [(k, q) for k, q in all_named if q == f"{package}.{text}"]
            candidates = local or all_named
        matching = [(k, q) for k, q in candidates if k in wanted]
        if len(matching) == 1:
            return matching[0]
        if len(matching) > 1:
            return dg.make(
                dg.AMBIGUOUS_NAME,
                f"'{text}' is defined in several packages: {', '.join(q for _, q in sorted(matching))}",
                ref.location,
                "qualify the name with its package",
            )
        if candidates:
            kind = candidates[0][0]
            return dg.make(
                dg.WRONG_KIND,
                f"{what} must name a {' or '.join(k.replace('_', ' ') for k in wanted)}, "
                f"but '{text}' is a {kind.replace('_', ' ')}",
                ref.location,
            )
        return unknown(text, what, self.names_of(wanted), ref.location)

    def names_of(self, kinds: Iterable[str]) -> list[str]:
        wanted = set(kinds)
        return sorted({name for name, entries in self._by_name.items() if any(k in wanted for k, _ in entries)})

    def iter_named(self) -> Iterator[tuple[str, str, Any]]:
        stores = self._stores()
        for kind in KINDS:
            for qname in sorted(stores[kind]):
                yield kind, qname, stores[kind][qname]


# component features `Model.uses` answers for (what each means: component_features)
FEATURES = ("odd", "assumptions", "common_causes", "profile_classes", "metric_slices", "proof_tests",
            "uncertainties", "trigger_conditions", "reveals")


def component_features(components: Iterable[el.Component]) -> frozenset[str]:
    found: set[str] = set()
    for c in components:
        if c.odd is not None:
            found.add("odd")
        if c.assumptions:
            found.add("assumptions")
        if c.common_causes:
            found.add("common_causes")
        if c.element_type is not None or c.systematic_capability is not None:
            found.add("profile_classes")  # IEC 61508 element type and systematic capability
        if c.ml is not None and any(m.where for m in c.ml.metrics):
            found.add("metric_slices")
        for fm in c.failure_modes:
            if fm.proof_test is not None:
                found.add("proof_tests")
            if fm.uncertainty is not None:
                found.add("uncertainties")
            if fm.where:
                found.add("trigger_conditions")
            if fm.reveals:
                found.add("reveals")
    return frozenset(found)


def unknown(text: str, what: str, choices: Iterable[str], location: Location, scope: str = "") -> Diagnostic:
    close = difflib.get_close_matches(text, list(choices), n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'?" if close else ""
    where = f" in '{scope}'" if scope else ""
    return dg.make(dg.UNKNOWN_NAME, f"unknown {what} '{text}'{where}", location, hint)


def assemble(root: Path, files: list[el.SourceFile]) -> tuple[Model, list[Diagnostic]]:
    model = Model(root=root, files=files)
    diags: list[Diagnostic] = []
    first_seen: dict[str, tuple[str, Location]] = {}

    def add(kind: str, store: dict[str, Any], element: Any) -> str | None:
        """The element's qualified name, or None for a duplicate (reported)."""
        qname = f"{element.package}.{element.name}"
        if qname in first_seen:
            other_kind, other_loc = first_seen[qname]
            diags.append(
                dg.make(
                    dg.DUPLICATE,
                    f"'{element.name}' is already defined in package '{element.package}' "
                    f"(as a {other_kind.replace('_', ' ')} at {other_loc})",
                    element.location,
                    "every element of a package needs its own name",
                )
            )
            return None
        first_seen[qname] = (kind, element.location)
        store[qname] = element
        model._by_name.setdefault(element.name, []).append((kind, qname))
        return qname

    mission_seen: dict[str, tuple[float, Location | None]] = {}
    for f in files:
        model._rel_of[f.path] = f.rel_path
        for p in f.parameters:
            add("parameter", model.parameters, p)
        for c in f.components:
            if (q := add("component", model.components, c)) is not None:
                model.component_files[q] = f.rel_path
        for h in f.hazards:
            add("hazard", model.hazards, h)
        for g in f.goals:
            add("safety_goal", model.goals, g)
        for r in f.requirements:
            add("requirement", model.requirements, r)
        for e in f.evidence:
            add("evidence", model.evidence, e)
        for a in f.arguments:
            add("argument", model.arguments, a)
        for s in f.ffs:
            add("ffs", model.ffs, s)
        for d in f.deviations:
            if d.name in el.BASE_DEVIATIONS or d.name in model.deviations:
                where = "built in" if d.name in el.BASE_DEVIATIONS else f"declared at {model.deviations[d.name].location}"
                diags.append(dg.make(dg.DUPLICATE, f"deviation '{d.name}' is already {where}", d.location))
                continue
            model.deviations[d.name] = d
        model.policy.extend(f.policy)
        if f.mission_time_hours is not None:
            first = mission_seen.get(f.package)
            if first is None:
                mission_seen[f.package] = (f.mission_time_hours, f.mission_time_location)
                model.mission_time_by_package[f.package] = f.mission_time_hours
            elif first[0] != f.mission_time_hours and f.mission_time_location is not None:
                diags.append(
                    dg.make(
                        dg.DUPLICATE,
                        f"mission time {f.mission_time_hours:g} h contradicts {first[0]:g} h "
                        f"declared for package '{f.package}' at {first[1]}",
                        f.mission_time_location,
                        "declare a package's mission time once; systems and hazards may override it",
                    )
                )
        if f.standard is not None:
            seen = model.standard_by_package.setdefault(f.package, f.standard)
            if seen.name != f.standard.name:
                diags.append(dg.make(
                    dg.STANDARD_CONFLICT,
                    f"package '{f.package}' is analysed against '{seen.name}' (declared at {seen.location}); "
                    f"it cannot also be '{f.standard.name}'",
                    f.standard.location, "declare a package's standard once; put the parts analysed against another "
                    "standard in their own package"))
        for ph in f.flight_phases:
            known = model.flight_phases_by_package.setdefault(f.package, {})
            if ph.name in known:
                diags.append(dg.make(dg.DUPLICATE, f"flight phase '{ph.name}' is already declared at "
                                     f"{known[ph.name].location}", ph.location, "declare each flight phase once"))
                continue
            known[ph.name] = ph
        if f.risk_matrix is not None:
            matrix = model.risk_matrix_by_package.setdefault(f.package, f.risk_matrix)
            if matrix is not f.risk_matrix:
                diags.append(dg.make(
                    dg.BAD_RISK_MATRIX, f"package '{f.package}' already defines its risk matrix at {matrix.location}",
                    f.risk_matrix.location, "define the risk matrix once per package"))
        if f.risk_graph is not None:
            graph = model.risk_graph_by_package.setdefault(f.package, f.risk_graph)
            if graph is not f.risk_graph:
                diags.append(dg.make(
                    dg.BAD_RISK_GRAPH, f"package '{f.package}' already defines its risk graph at {graph.location}",
                    f.risk_graph.location, "define the risk graph once per package"))
        if f.dal_reduction is not None:
            table = model.dal_reduction_by_package.setdefault(f.package, f.dal_reduction)
            if table is not f.dal_reduction:
                diags.append(dg.make(
                    dg.BAD_DAL_TABLE, f"package '{f.package}' already defines its dal_reduction at {table.location}",
                    f.dal_reduction.location, "define the reduction options once per package"))
    _resolve_parameters(model, diags)
    return model, diags


def _resolve_parameters(model: Model, diags: list[Diagnostic]) -> None:
    """Evaluate every parameter and the failure modes whose quantity names parameters; the components (in
    the index and in their files) are replaced by their evaluated versions."""
    if not model.parameters:
        return

    def resolve(use: el.ParamUse, package: str) -> str | Diagnostic:
        found = model.resolve(el.NameRef(use.name, use.location), ("parameter",), package, "parameter")
        return found if isinstance(found, Diagnostic) else found[1]

    table = parameters.Table(model.parameters, resolve)
    for qname in sorted(model.parameters):
        found = table.value(qname)
        if isinstance(found, Diagnostic):
            diags.append(found)
    replaced: dict[int, el.Component] = {}
    for qname, c in sorted(model.components.items()):
        new = parameters.resolve_failure_modes(c, table, diags)
        if new is not c:
            replaced[id(c)] = new
            model.components[qname] = new
    if replaced:
        model.files = [dataclasses.replace(f, components=tuple(replaced.get(id(c), c) for c in f.components))
                       if any(id(c) in replaced for c in f.components) else f for f in model.files]
    model.parameter_values = {q: v for q in sorted(model.parameters)
                              if not isinstance(v := table.value(q), Diagnostic)}
