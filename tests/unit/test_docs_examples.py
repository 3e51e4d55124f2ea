"""Every example in the docs that is marked `<!-- check: ... -->` is checked: the codes it claims are the
codes `sops check` reports (`clean`: none at all). Keeps the language reference true."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from safetyops_dsl.api import check

DOCS = Path(__file__).resolve().parents[2] / "docs"
PATTERN = re.compile(r"<!-- check: ([^>]*?) -->\s*```sops\n(.*?)```", re.S)


def examples() -> list[tuple[str, str, str]]:
    out = []
    for md in sorted(DOCS.rglob("*.md")):
        text = md.read_text(encoding="utf-8")
        for i, m in enumerate(PATTERN.finditer(text)):
            out.append((f"{md.relative_to(DOCS)}#{i + 1}", m.group(1).strip(), m.group(2)))
    return out


EXAMPLES = examples()


def test_there_are_checked_examples() -> None:
    if not DOCS.is_dir():
        pytest.skip("no docs/")
    assert len(EXAMPLES) >= 50


@pytest.mark.parametrize("where,claim,source", EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_doc_example(where: str, claim: str, source: str, tmp_path: Path) -> None:
    f = tmp_path / "example.sops"
    f.write_text(source, encoding="utf-8")
    got = sorted({d.code for d in check([f]).diagnostics})
    want = [] if claim == "clean" else sorted(set(claim.split()))
    assert got == want, f"{where}: claims {want}, sops check reports {got}"
