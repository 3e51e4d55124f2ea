"""The one Jinja2 configuration for every HTML/Markdown template: autoescape on (model text is never
markup), strict undefined (a typo in a template fails the test, not the report), stable whitespace, and
hidden characters (bidi controls, zero-width ones) written out as `<U+202E>` in every `{{ ... }}`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import markupsafe

from safetyops_dsl.diagnostics import show_hidden

TEMPLATES = Path(__file__).parent / "templates"


def _finalize(value: Any) -> Any:
    """Every expression's value before autoescape. Text gets its hidden characters written out (autoescape
    then escapes the brackets); markup already escaped (`|safe`, e.g. our SVG) gets them as entities."""
    if isinstance(value, markupsafe.Markup):
        return markupsafe.Markup(show_hidden(str(value), "&lt;", "&gt;"))
    if isinstance(value, str):
        return show_hidden(value)
    return value


def environment(folder: Path = TEMPLATES) -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        autoescape=True,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
    )
