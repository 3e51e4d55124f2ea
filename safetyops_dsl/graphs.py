"""Cycle finding for the small directed graphs of a model (imports, containment, refinement, GSN).

networkx does this too, but importing it costs more than `sops check` spends on a whole small model; this
is one iterative depth-first search (no recursion limit on deep chains), deterministic in its order.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping, Sequence
from typing import TypeVar

N = TypeVar("N", bound=Hashable)


def back_edge_cycles(graph: Mapping[N, Sequence[N]], starts: Sequence[N] | None = None) -> list[tuple[list[N], int]]:
    """One cycle per back edge met by a DFS from each start (default: every node, in the given order).

    Each result is (cycle as a node list that ends where it starts, index of the closing edge in the list of
    the last node's successors), so callers can point at the link that closes the loop."""
    state: dict[N, int] = {}  # 1 on the stack, 2 done
    found: list[tuple[list[N], int]] = []
    for start in starts if starts is not None else list(graph):
        if start in state:
            continue
        path: list[N] = [start]
        state[start] = 1
        iters: list[Iterator[tuple[int, N]]] = [iter(enumerate(graph.get(start, ())))]
        while iters:
            advanced = False
            for index, nxt in iters[-1]:
                if state.get(nxt) == 1:
                    found.append((path[path.index(nxt) :] + [nxt], index))
                elif nxt not in state:
                    state[nxt] = 1
                    path.append(nxt)
                    iters.append(iter(enumerate(graph.get(nxt, ()))))
                    advanced = True
                    break
            if not advanced:
                iters.pop()
                state[path.pop()] = 2
    return found


def has_cycle(graph: Mapping[N, Sequence[N]]) -> bool:
    """Whether any cycle exists (a self-loop counts): the same walk as back_edge_cycles, stopping at the first."""
    state: dict[N, int] = {}
    for start in graph:
        if start in state:
            continue
        path: list[N] = [start]
        state[start] = 1
        iters: list[Iterator[N]] = [iter(graph.get(start, ()))]
        while iters:
            advanced = False
            for nxt in iters[-1]:
                if state.get(nxt) == 1:
                    return True
                if nxt not in state:
                    state[nxt] = 1
                    path.append(nxt)
                    iters.append(iter(graph.get(nxt, ())))
                    advanced = True
                    break
            if not advanced:
                iters.pop()
                state[path.pop()] = 2
    return False
