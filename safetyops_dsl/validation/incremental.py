"""Validation that re-runs only what an edit can change, with the same diagnostics as `rules.validate`.

Most of the rules' work is per component type (members, connections, failure logic, ML) and per system (logic
cycles). Each such result is stored under a key made of everything it reads, so a later check reuses it when
none of that changed:

- a component's own content is named by a *token*: the loader's key of the file it comes from (a hash of the
  text, the paths, the grammar and the sops version) and its qualified name;
- what a per-component rule reads of the rest of the model is the *interface*: the name table (every element's
  kind and qualified name, in order), each component type's kind, name, file and ports, and the deviation
  types. A per-component result is keyed by the component's token and a digest of the interface; an edit that
  changes the interface (a port, a name) re-runs every per-component rule, any other edit only those of the
  edited file's components;
- the logic cycles of a system depend on its instance tree (each instance's path and its component's token)
  and the deviation types (refinements).

The other rules (containment, CCF, deviations, hazards, goals, requirements, evidence, arguments, policy) read
the whole model and are cheap: they run every time. The store salt includes a digest of the source of the
validation and model modules, so that a changed rule never reads results of the old one.

tests/unit/test_incremental_validation.py checks this against a from-scratch validation on random edits of
generated models.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from safetyops_dsl.diagnostics import Diagnostic
from safetyops_dsl.model import elements as el
from safetyops_dsl.model.index import Model
from safetyops_dsl.validation import rules

# Bump when the stored shape changes.
FORMAT = "1"

ComponentRule = Callable[[Model, el.Component], Iterable[Diagnostic]]
# rule of ALL_RULES -> its per-component part; results are kept per component
PER_COMPONENT: dict[Callable[[Model], Iterable[Diagnostic]], ComponentRule] = {
    rules.check_component_members: rules.component_members,
    rules.check_connections: rules.component_connections,
    rules.check_failure_logic: rules.component_failure_logic,
    rules.check_ml: rules.component_ml,
}
# the modules whose code decides a stored result
_CODE_MODULES = (
    "safetyops_dsl.validation.rules",
    "safetyops_dsl.validation.policy",
    "safetyops_dsl.validation.incremental",
    "safetyops_dsl.model.index",
    "safetyops_dsl.model.instances",
    "safetyops_dsl.model.propagation",
    "safetyops_dsl.model.semantics",
    "safetyops_dsl.model.elements",
    "safetyops_dsl.model.iso26262",
    "safetyops_dsl.graphs",
    "safetyops_dsl.diagnostics",
)


@lru_cache(maxsize=1)
def _code_salt() -> bytes:
    h = hashlib.sha256(FORMAT.encode())
    for name in _CODE_MODULES:
        path = getattr(sys.modules.get(name), "__file__", None)
        try:
            h.update(Path(path).read_bytes() if path else name.encode())
        except OSError:
            h.update(name.encode())
    return h.digest()


class Store(Protocol):
    """Where results are kept between checks (parse/loader.py StoredResults: memory and/or the cache folder)."""

    def get(self, key: str) -> object | None: ...

    def put(self, key: str, value: object) -> None: ...

    def retain(self) -> None: ...


def _digest(*parts: object) -> str:
    return hashlib.sha256(_code_salt() + repr(parts).encode("utf-8")).hexdigest()


def owners(model: Model) -> dict[str, el.SourceFile]:
    """Component qualified name -> the file of the component the model holds under that name."""
    out: dict[str, el.SourceFile] = {}
    for f in model.files:
        for c in f.components:
            q = c.qualified_name
            if model.components.get(q) is c:
                out[q] = f
    return out


def interface_digest(model: Model, owner: dict[str, el.SourceFile]) -> str:
    """What a per-component rule reads beyond its own component (see the module docstring). The name table's
    order is the files' order, which decides the first of several candidates, so it is kept."""
    # (`_value_`: the enum's documented value slot; `.value` is a descriptor, 4x slower over 10,000 types)
    comps = [
        (q, c.kind._value_, c.name, owner[q].rel_path, [(p.name, p.direction._value_) for p in c.ports])
        for q, c in model.components.items()
    ]
    # read at assembly or load, not from the component's own file: parameter values (a rate may be an
    # expression over parameters of other files), each package's standard and mission time, DVC md5s
    shared = (
        sorted(model.parameter_values.items()),
        sorted((p, s.name) for p, s in model.standard_by_package.items()),
        sorted(model.mission_time_by_package.items()),
        sorted((p, n, ph.hours) for p, ps in model.flight_phases_by_package.items() for n, ph in ps.items()),
        sorted((q, d.identity, d.md5) for q, c in model.components.items() if c.ml for d in c.ml.datasets),
    )
    return _digest("interface", model._by_name, comps, sorted(model.all_deviations()), shared)


def validate(model: Model, file_keys: dict[str, str], store: Store) -> list[Diagnostic]:
    """`rules.validate(model)`, reusing stored per-component and per-system results. `file_keys`: a file's
    rel_path -> the loader's key of its content (loader.LoadResult.keys); a component of a file without a key
    is validated afresh."""
    owner = owners(model)
    interface = interface_digest(model, owner)

    def token(q: str) -> str | None:
        f = owner.get(q)
        key = file_keys.get(f.rel_path) if f is not None else None
        return f"{key}:{q}" if key is not None else None

    # per file: component -> rule name -> diagnostics, under the file's key and the interface
    per_file: dict[str, dict[str, dict[str, list[Diagnostic]]]] = {}
    fresh: dict[str, dict[str, list[Diagnostic]]] = {}
    by_file: dict[str, list[str]] = {}
    for q in model.components:
        f = owner.get(q)
        if f is not None:
            by_file.setdefault(f.rel_path, []).append(q)
    for rel, qnames in by_file.items():
        key = file_keys.get(rel)
        if key is None:
            continue
        entry_key = _digest("components", key, interface)
        entry = store.get(entry_key)
        if not isinstance(entry, dict) or any(q not in entry for q in qnames):
            entry = {q: _component_results(model, model.components[q]) for q in qnames}
            store.put(entry_key, entry)
        per_file[rel] = entry

    def component_results(q: str) -> dict[str, list[Diagnostic]]:
        f = owner[q]
        if f.rel_path in per_file:
            return per_file[f.rel_path][q]
        if q not in fresh:
            fresh[q] = _component_results(model, model.components[q])
        return fresh[q]

    deviations = tuple(sorted((d.name, d.base) for d in model.deviations.values()))
    results = [component_results(q) for q in sorted(model.components)]
    out: list[Diagnostic] = []
    for rule in rules.ALL_RULES:
        if rule in PER_COMPONENT:
            name = rule.__name__
            for result in results:
                if result[name]:
                    out.extend(result[name])
        elif rule is rules.check_logic_cycles:
            for system in model.systems():
                out.extend(_system_cycles(model, system, token, deviations, store))
        else:
            out.extend(rule(model))
    store.retain()
    return out


def _component_results(model: Model, comp: el.Component) -> dict[str, list[Diagnostic]]:
    return {rule.__name__: list(part(model, comp)) for rule, part in PER_COMPONENT.items()}


def _system_cycles(
    model: Model, system: el.Component, token: Callable[[str], str | None], deviations: tuple[object, ...],
    store: Store,
) -> list[Diagnostic]:
    tree = []
    for inst in model.instances(system).walk():
        t = token(inst.component.qualified_name)
        if t is None:
            return list(rules.system_logic_cycles(model, system))
        tree.append((inst.path, t))
    key = _digest("cycles", tuple(tree), deviations)
    found = store.get(key)
    if not isinstance(found, list):
        found = list(rules.system_logic_cycles(model, system))
        store.put(key, found)
    return found
