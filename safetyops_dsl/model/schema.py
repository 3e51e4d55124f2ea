"""The schema of the semantic model: what each field of each element means to the tools that walk it.

Every dataclass field in `model/elements.py` declares its role, once, next to the field itself
(`name: str = field(metadata=key())`), and the tools that must not miss a field walk the roles instead of listing fields by
hand: `sops diff` compares every `compared` field, diffs every `members` tuple element by element, and
refuses (an internal error) a value it does not know how to compare. A test walks every field of every
element and fails when one has no role or a role the diff does not handle (tests/unit/test_schema.py), so a
new field is compared the day it is added, or it says why not (`presentation("...")`).

Roles:
- compared (the default): part of the element's meaning; a change is a semantic change.
  `label` is the field's name in reports, `unit` how a number reads (`FIT`: a per-hour rate shown in FIT,
  `%`: a fraction shown as a percentage, else a suffix such as " h"), `refs` the namespace of the names it
  holds (`failure_mode`: failure modes of the same component, `ccf_member`: `part.Mode`, "" : model elements),
  so that a diff can follow renames, `ordered` whether a tuple's order carries meaning.
- key: identifies the element among its siblings (with the other key fields, in field order).
- presentation: where or how it was written, never what it means (locations, spellings whose parsed value is
  another field). The reason is required: it is the review record of why the diff may ignore it.
- members: a tuple of sub-elements, each diffed on its own as `kind`, matched by its key.
- nested: a record whose compared fields form one pseudo-member `kind` (its tuples are members in turn).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

_META = "sops.role"


@dataclass(frozen=True)
class Role:
    kind: str  # compared | key | presentation | members | nested
    label: str = ""
    unit: str = ""
    refs: str | None = None  # compared fields holding names: "", "failure_mode" or "ccf_member"
    ordered: bool = False
    reason: str = ""
    member: str = ""  # members / nested: the diff kind


Meta = dict[str, Role]


def compared(*, label: str = "", unit: str = "", refs: str | None = None, ordered: bool = False) -> Meta:
    return {_META: Role("compared", label=label, unit=unit, refs=refs, ordered=ordered)}


def key() -> Meta:
    return {_META: Role("key")}


def presentation(reason: str) -> Meta:
    if not reason:
        raise ValueError("a presentation-only field needs the reason why it carries no meaning")
    return {_META: Role("presentation", reason=reason)}


def members(kind: str) -> Meta:
    return {_META: Role("members", member=kind)}


def nested(kind: str) -> Meta:
    return {_META: Role("nested", member=kind)}


LOCATION = "where it was written"

_DEFAULT = Role("compared")


def role_of(f: dataclasses.Field[Any]) -> Role:
    """A field's declared role; undeclared fields are compared (so that nothing is missed by default)."""
    role = f.metadata.get(_META)
    return role if isinstance(role, Role) else _DEFAULT


def roles(cls: type) -> list[tuple[dataclasses.Field[Any], Role]]:
    return [(f, role_of(f)) for f in dataclasses.fields(cls)]


def label_of(f: dataclasses.Field[Any], role: Role) -> str:
    return role.label or f.name


def key_of(obj: Any) -> str:
    """The identity of an element among its siblings: its key fields, joined as the class says
    (`SOPS_KEY`, a format over the key fields) or with '.'."""
    parts = {f.name: getattr(obj, f.name) for f, r in roles(type(obj)) if r.kind == "key"}
    fmt = getattr(type(obj), "SOPS_KEY", None)
    if fmt:
        return str(fmt.format(**{k: getattr(v, "text", v) for k, v in parts.items()}))
    return ".".join(str(getattr(v, "text", v)) for v in parts.values())
