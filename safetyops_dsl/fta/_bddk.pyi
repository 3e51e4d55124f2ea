# Types of the C kernel _bddk.c (BDD manager and probability passes). Edges: 2 * node + complemented.
#
# Flat BDDs come out as array('i') and node probabilities as array('d'); the passes read such arrays in place
# (buffer protocol) and convert any other sequence of ints / floats item by item.

from array import array
from collections.abc import Sequence

class Manager:
    def __init__(self, nvars: int, node_limit: int = 0) -> None: ...
    @property
    def nodes(self) -> int: ...
    node_limit: int
    def var(self, i: int) -> int: ...
    def and_(self, f: int, g: int) -> int: ...
    def or_(self, f: int, g: int) -> int: ...
    def xor(self, f: int, g: int) -> int: ...
    def atleast(self, k: int, edges: Sequence[int]) -> int: ...
    def build_modules(
        self,
        kinds: Sequence[int],
        ks: Sequence[int],
        offsets: Sequence[int],
        inputs: Sequence[int],
        leafval: array[int],
        topv: array[int],
        values: array[int],
        stamp: array[int],
        modules: Sequence[int],
        results: array[int],
        leaves: list[list[int]],
        state: array[int],
        top: int,
    ) -> None: ...
    def park(self) -> None: ...
    def size(self, f: int) -> int: ...
    def flatten(self, f: int) -> tuple[array[int], array[int], array[int], int]: ...

def node_probabilities(
    level: Sequence[int], high: Sequence[int], low: Sequence[int], probs: Sequence[float]
) -> tuple[array[float], array[float]]: ...
def conditional_probabilities(
    level: Sequence[int],
    high: Sequence[int],
    low: Sequence[int],
    root: int,
    probs: Sequence[float],
    pos: Sequence[float],
    neg: Sequence[float],
    nvars: int,
) -> dict[int, tuple[float, float]]: ...
def gate_post_order(kinds: Sequence[int], offsets: Sequence[int], inputs: Sequence[int], top: int) -> array[int]: ...
def flat_find_modules(kinds: Sequence[int], offsets: Sequence[int], inputs: Sequence[int], top: int) -> array[int]: ...
def flat_separate(
    kinds: Sequence[int], offsets: Sequence[int], inputs: Sequence[int], top: int, modules: array[int], thin: int
) -> array[int]: ...
def flat_first_order(
    kinds: Sequence[int], offsets: Sequence[int], inputs: Sequence[int], top: int, modules: array[int],
    late: array[int],
) -> array[int]: ...
def graph_from_flat(
    kinds: Sequence[int], ks: Sequence[int], offsets: Sequence[int], inputs: Sequence[int], top: int,
    leaflit: Sequence[int], first: int,
) -> tuple[list[int], list[int], list[list[int]], dict[tuple[int, int, tuple[int, ...]], int], int]: ...
def graph_post_order(inputs: Sequence[Sequence[int]], first: int, top: int) -> array[int]: ...
def graph_coalesce_scan(
    kind: Sequence[int], inputs: Sequence[Sequence[int]], first: int, top: int
) -> tuple[array[int], array[int], bool]: ...
def graph_to_flat(
    kind: Sequence[int], k: Sequence[int], inputs: Sequence[Sequence[int]], first: int, top: int
) -> tuple[array[int], array[int], array[int], array[int], int, array[int], array[int]]: ...
