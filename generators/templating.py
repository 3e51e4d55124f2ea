"""The one Jinja2 configuration for every HTML/Markdown template: autoescape on (model text is never
markup), strict undefined (a typo in a template fails the test, not the report), stable whitespace."""

from __future__ import annotations

from pathlib import Path
from typing import Any

TEMPLATES = Path(__file__).parent / "templates"


def environment(folder: Path = TEMPLATES) -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        autoescape=True,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
