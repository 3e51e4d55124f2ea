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
- the logic cycles of a system depend on its instance tree, which the types reachable from it decide: their
  content and the types their parts resolve to (and the deviation types: refinements), keyed as the content
  key and the part-types digest of each file holding a reachable type. Those part types are stored with the
  per-component results and seeded into the model (instances.part_types), so unchanged files' parts are not
  resolved and unchanged systems' trees are not built;
- the containment check reads the part-type graph only: a pass is stored under its digest.

Each file's share of the interface, and the component features it uses (Model.uses), are stored under the
file's key, so only edited files are read for them. The other rules (CCF, deviations, ODD, hazards, goals,
requirements, evidence, arguments, policy, profiles) read the whole model and run every time; those that
read a feature of every component skip their pass when no component uses it. Of the components read from
the cache folder they read names, kinds, and the ports and parts of systems: nothing here reads more, so
that the rest of them stays pickled (parse/lazy_components.py). The store salt includes a
digest of the source of the validation and model modules, so that a changed rule never reads results of
the old one.

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
from safetyops_dsl.model.index import Model, component_features
from safetyops_dsl.model.instances import part_type_names, part_types
from safetyops_dsl.validation import rules

# Bump when the stored shape changes.
FORMAT = "2"

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


def owners(model: Model) -> dict[str, str]:
    """Component qualified name -> the rel_path of the file of the component the model holds under that name."""
    if len(model.component_files) == len(model.components):  # recorded by assembly (index.assemble)
        return model.component_files
    out: dict[str, str] = {}
    for f in model.files:
        for c in f.components:
            q = c.qualified_name
            if model.components.get(q) is c:
                out[q] = f.rel_path
    return out


def interface_digest(model: Model, file_keys: dict[str, str] | None = None, store: Store | None = None) -> str:
    """What a per-component rule reads beyond its own component (see the module docstring): the name table,
    each component type's kind, name, file and ports, the deviation types and what assembly and loading
    share between files.

    The name table and the components are both decided by the files' own elements in file order (assembly
    adds each file's elements in order; the first of a qualified name wins), so they are digested file by
    file (`file_interface`) and each file's digest is stored under its content key: only an edited file is
    read again. The table's order decides the first of several candidates, so the files' order is kept."""
    pieces = []
    features: set[str] = set()
    for f in model.files:
        key = file_keys.get(f.rel_path) if file_keys is not None else None
        piece: object = None
        if key is not None and store is not None:
            entry_key = _digest("file interface", key)
            piece = store.get(entry_key)
            if not (isinstance(piece, tuple) and len(piece) == 2 and isinstance(piece[0], str)
                    and isinstance(piece[1], frozenset)):
                piece = (file_interface(f), component_features(f.components))
                store.put(entry_key, piece)
        else:
            piece = (file_interface(f), component_features(f.components))
        pieces.append((f.rel_path, piece[0]))
        features |= piece[1]
    # The features the file's components use (Model.uses), kept with its share of the interface: a rule whose
    # feature no component uses skips its pass over the model. (A file's features are those of its text:
    # what assembly and loading change, rates and dataset digests, is no feature.) Duplicates that assembly
    # drops add features no component has: a rule then runs for nothing, with the same result.
    model._features = frozenset(features)
    # read at assembly or load, not from the component's own file: parameter values (a rate may be an
    # expression over parameters of other files), each package's standard and mission time, DVC md5s
    shared = (
        sorted(model.parameter_values.items()),
        sorted((p, s.name) for p, s in model.standard_by_package.items()),
        sorted(model.mission_time_by_package.items()),
        sorted((p, n, ph.hours) for p, ps in model.flight_phases_by_package.items() for n, ph in ps.items()),
        sorted((q, d.identity, d.md5) for q, c in model.components.items() if c.ml for d in c.ml.datasets),
    )
    return _digest("interface", pieces, sorted(model.all_deviations()), shared)


def file_interface(f: el.SourceFile) -> str:
    """One file's share of the interface: its named elements (kind and qualified name) in the order assembly
    adds them to the name table (index.assemble), and the kind, name and ports of its components."""
    named = [
        (kind, e.package, e.name)
        for kind, elements in (
            ("parameter", f.parameters), ("component", f.components), ("hazard", f.hazards),
            ("safety_goal", f.goals), ("requirement", f.requirements), ("evidence", f.evidence),
            ("argument", f.arguments), ("ffs", f.ffs),
        )
        for e in elements
    ]
    # (`_value_`: the enum's documented value slot; `.value` is a descriptor, 4x slower over 10,000 types)
    comps = [(c.kind._value_, c.name, [(p.name, p.direction._value_) for p in c.ports]) for c in f.components]
    return _digest("file", named, comps)


def validate(model: Model, file_keys: dict[str, str], store: Store) -> list[Diagnostic]:
    """`rules.validate(model)`, reusing stored per-component and per-system results. `file_keys`: a file's
    rel_path -> the loader's key of its content (loader.LoadResult.keys); a component of a file without a key
    is validated afresh."""
    owner = owners(model)
    interface = interface_digest(model, file_keys, store)

    # per file, under the file's key and the interface: component -> rule name -> diagnostics, and component
    # -> the qualified name of each part's type (None: unresolved), both only where not empty (most are: an
    # entry is read at every check); a digest of those part types; the file's components
    per_file: dict[str, dict[str, dict[str, list[Diagnostic]]]] = {}
    graph_digests: list[tuple[str, str]] = []
    fresh: dict[str, dict[str, list[Diagnostic]]] = {}
    by_file: dict[str, list[str]] = {}
    # components whose part types are all in model.stored_part_types (one without parts is not there): the
    # cycle search's key reads them there, not from the component (one read from the cache folder is then
    # not unpickled: parse/lazy_components.py)
    seeded: set[str] = set()
    for q in model.components:
        rel = owner.get(q)
        if rel is not None:
            by_file.setdefault(rel, []).append(q)
    for rel, qnames in by_file.items():
        key = file_keys.get(rel)
        if key is None:
            continue
        entry_key = _digest("components", key, interface)
        entry = store.get(entry_key)
        if _seed_part_types(model, entry, qnames):
            seeded.update(qnames)
        else:
            parts = {q: tuple(t.qualified_name if t is not None else None
                              for t in part_types(model, model.components[q])) for q in qnames}
            computed = {q: _component_results(model, model.components[q]) for q in qnames}
            entry = (
                {q: {name: diags for name, diags in by_rule.items() if diags}
                 for q, by_rule in computed.items() if any(by_rule.values())},
                {q: names for q, names in parts.items() if names},
                _digest("part types", [(q, parts[q]) for q in qnames]),
                tuple(qnames),
            )
            store.put(entry_key, entry)
        assert isinstance(entry, tuple)
        per_file[rel] = entry[0]
        graph_digests.append((rel, entry[2]))
    # The containment check reads only the part-type graph: when every file's share of it is known and the
    # same graph passed before, it passes again. (Only a pass is stored: a finding carries locations, which
    # move with edits that leave the graph alone.)
    hierarchy_key = (_digest("hierarchy", interface, graph_digests)
                     if sum(len(qnames) for qnames in by_file.values()) == len(model.components)
                     and len(graph_digests) == len(by_file) else None)

    def component_results(q: str) -> dict[str, list[Diagnostic]]:
        rel = owner[q]
        if rel in per_file:
            return per_file[rel].get(q, _NOTHING)
        if q not in fresh:
            fresh[q] = _component_results(model, model.components[q])
        return fresh[q]

    def targets(q: str) -> tuple[str | None, ...]:
        return model.stored_part_types.get(q, ()) if q in seeded else part_type_names(model, q)

    deviations = tuple(sorted((d.name, d.base) for d in model.deviations.values()))
    results = [component_results(q) for q in sorted(model.components)]
    out: list[Diagnostic] = []
    for rule in rules.ALL_RULES:
        if rule in PER_COMPONENT:
            name = rule.__name__
            for result in results:
                if name in result:
                    out.extend(result[name])
        elif rule is rules.check_logic_cycles:
            file_part_types = dict(graph_digests)
            for system in model.systems():
                out.extend(_system_cycles(model, system, owner, file_keys, file_part_types, targets, deviations,
                                          store))
        elif rule is rules.check_hierarchy_cycles and hierarchy_key is not None:
            if store.get(hierarchy_key) is not True:
                contained = list(rule(model))
                if not contained:
                    store.put(hierarchy_key, True)
                out.extend(contained)
        else:
            out.extend(rule(model))
    store.retain()
    return out


def _seed_part_types(model: Model, entry: object, qnames: list[str]) -> bool:
    """Whether `entry` is a stored per-file entry for `qnames` (a damaged or partial one is not); if so, the
    part types it holds go into the model (instances.part_types looks them up instead of resolving them;
    they were resolved against the same name table: the entry's key holds the interface)."""
    if not (isinstance(entry, tuple) and len(entry) == 4 and isinstance(entry[0], dict)
            and isinstance(entry[1], dict) and isinstance(entry[2], str) and entry[3] == tuple(qnames)):
        return False
    model.stored_part_types.update(entry[1])
    return True


_NOTHING: dict[str, list[Diagnostic]] = {}  # a component of which no per-component rule has anything to say


def _component_results(model: Model, comp: el.Component) -> dict[str, list[Diagnostic]]:
    return {rule.__name__: list(part(model, comp)) for rule, part in PER_COMPONENT.items()}


def _system_cycles(
    model: Model, system: el.Component, owner: dict[str, str], file_keys: dict[str, str],
    file_part_types: dict[str, str], part_targets: Callable[[str], tuple[str | None, ...]],
    deviations: tuple[object, ...], store: Store,
) -> list[Diagnostic]:
    # The instance tree is decided by the types reachable from the system through part types: their content
    # and the type each of their parts resolves to. Keyed by those, not by the tree itself, so that an
    # unchanged system's result is found without building its tree: by the content key and the part-types
    # digest of each file that holds a reachable type (which types are reachable follows from these).
    files = set()
    seen = {system.qualified_name}
    todo = [system.qualified_name]
    while todo:
        q = todo.pop()
        rel = owner.get(q)
        if rel is None or rel not in file_part_types:  # a file without a key: validated afresh
            return list(rules.system_logic_cycles(model, system))
        files.add(rel)
        for n in part_targets(q):
            if n is not None and n not in seen:
                seen.add(n)
                todo.append(n)
    key = _digest("cycles", system.qualified_name, sorted((file_keys[rel], file_part_types[rel]) for rel in files),
                  deviations)
    found = store.get(key)
    if not isinstance(found, list):
        found = list(rules.system_logic_cycles(model, system))
        store.put(key, found)
    return found
