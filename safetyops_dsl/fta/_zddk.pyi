# Types of the C kernel _zddk.c (minsol and whole-family passes over ZDDs). Integer inputs that are array('i')
# and probabilities that are array('d') are read in place (buffer protocol); any other sequence item by item.

from collections.abc import Sequence
from typing import Literal, overload

def minimal_solutions(
    level: Sequence[int], high: Sequence[int], low: Sequence[int], root: int, nvars: int, limit: int | None,
    *, first_steps: int = -1
) -> tuple[list[int], list[int], list[int], int]: ...
def count_by_order(var: Sequence[int], hi: Sequence[int], lo: Sequence[int], root: int) -> dict[int, int]: ...
def power_sums(
    var: Sequence[int], hi: Sequence[int], lo: Sequence[int], root: int, probs: Sequence[float], powers: int
) -> list[float]: ...
@overload
def ranked_sets(
    var: Sequence[int], hi: Sequence[int], lo: Sequence[int], root: int, rank: Sequence[int],
    *, flat: Literal[False] = False
) -> list[tuple[int, ...]]: ...
@overload
def ranked_sets(
    var: Sequence[int], hi: Sequence[int], lo: Sequence[int], root: int, rank: Sequence[int], *, flat: Literal[True]
) -> tuple[bytes, bytes]: ...
