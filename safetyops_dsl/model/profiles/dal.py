"""ARP4754A/B development assurance level assignment over functional failure sets (FFS), with the reduction
options read as data the model declares.

The top-level FDAL follows from the most severe failure condition an FFS is for (Catastrophic A ... No Safety
Effect E, model/profiles/arp4761a.py). Without both functional and item development independence between its
members, every member keeps the top-level level. With them, the assignment must satisfy one option of the
reduction table; the cells of ARP4754A Table 3 could not be confirmed from a public source, so no table is built
in: the model declares its options (`dal_reduction`) from the user's licensed copy. docs/profiles/arp4761a.md
shows the table as public secondary sources summarise it, marked unverified.
"""

from __future__ import annotations

from dataclasses import dataclass

from safetyops_dsl.model import elements as el

LEVELS: tuple[str, ...] = ("A", "B", "C", "D", "E")  # most stringent first
INDEPENDENCE_KINDS: tuple[str, ...] = ("functional", "item")


def at_least(level: str, floor: str) -> bool:
    """`level` is as stringent as `floor` or more (A is the most stringent)."""
    return LEVELS.index(level) <= LEVELS.index(floor)


def satisfies(option: el.DalOption, levels: list[str]) -> bool:
    """At least `count` members at `option.level` or above, and every member at `option.others` or above."""
    return (sum(1 for lv in levels if at_least(lv, option.level)) >= option.count
            and all(at_least(lv, option.others) for lv in levels))


@dataclass(frozen=True)
class Assessment:
    top_level: str  # the FDAL of the most severe condition the FFS is for
    independent: bool  # both functional and item development independence are claimed
    option: str  # the first option the assignment satisfies; "no reduction" when every member is at the top level
    problems: tuple[str, ...]  # (a) and (b): what the assignment breaks


def assess(top_class: str, top_level: str, ffs: el.Ffs, options: tuple[el.DalOption, ...]) -> Assessment:
    """Rules (a) and (b) of the assignment (rule (c), each member at least at the level of its own worst single
    effect, needs the fault trees: analysis/profile_report.py)."""
    independent = all(ffs.claims(k) for k in INDEPENDENCE_KINDS)
    levels = [m.level for m in ffs.members]
    if all(at_least(lv, top_level) for lv in levels):
        return Assessment(top_level, independent, "no reduction", ())
    if not independent:
        lacking = [k for k in INDEPENDENCE_KINDS if not ffs.claims(k)]
        low = [f"{m.ref.text} {m.kind.upper()} {m.level}" for m in ffs.members if not at_least(m.level, top_level)]
        return Assessment(top_level, False, "", (
            f"below the top-level FDAL {top_level} without {' and '.join(lacking)} independence: {', '.join(low)}",))
    mine = [o for o in options if o.top == top_class]
    for o in mine:
        if satisfies(o, levels):
            return Assessment(top_level, True, o.name, ())
    if not mine:
        return Assessment(top_level, True, "", (f"no reduction option for {top_class} in the model's dal_reduction",))
    return Assessment(top_level, True, "", (
        f"levels {', '.join(levels)} satisfy none of the {top_class} options "
        + "; ".join(f"{o.name}: {o.level} x {o.count}, others {o.others}" for o in mine),))


def levels_of_members(ffs_all: list[el.Ffs]) -> dict[str, set[str]]:
    """Member name as written -> the levels the FFSs assign it (one expected)."""
    out: dict[str, set[str]] = {}
    for f in ffs_all:
        for m in f.members:
            out.setdefault(f"{f.package}.{m.ref.text}", set()).add(m.level)
    return out
