# Types of the C module _xmlk.c: the element type of fta/xmlread.py and its fast path for plain XML.

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar, overload

class ElementBase:
    tag: str
    attributes: list[str]  # [name, value, ...] as written
    file: str
    line: int
    col: int
    children: Sequence[ElementBase]  # the empty tuple until the first child, then a list
    text: str  # of a <label>, stripped
    def __init__(self, tag: str, attributes: list[str], file: str, line: int, col: int) -> None: ...
    @overload
    def get(self, key: str) -> str | None: ...
    @overload
    def get(self, key: str, default: str) -> str: ...
    @overload
    def get(self, key: str, default: str | None) -> str | None: ...

_E = TypeVar("_E", bound=ElementBase)

def parse(data: bytes, file: str, cls: type[_E]) -> _E | None: ...

# A record class, its fields in order and every field's default (see openpsa._layout). roots: a list.
_Layout = tuple[type, tuple[str, ...], tuple[object, ...]]

def plain_model(
    roots: Sequence[ElementBase], kinds: Mapping[str, object], gate: _Layout, basic_event: _Layout, origin: _Layout
) -> list[tuple[str, dict[str, Any], dict[str, Any]]] | None: ...
