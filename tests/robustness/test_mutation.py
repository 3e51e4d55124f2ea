"""Byte-level mutation of the example models (models/**/*.sops): flipped bits, deleted, duplicated and
swapped ranges, truncation, NUL bytes, invalid UTF-8, BOMs, bidi controls and huge tokens. The mutated file
replaces its original inside a copy of the whole model (so imports still resolve) and the model goes
through check and, where still valid, the whole pipeline. Result: diagnostics or results, never an
exception, never a hang."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from harness import (
    ROOT,
    assert_diagnostics_positioned,
    check_folder,
    fuzz,
    run_cli,
    run_pipeline,
    save_crash,
    time_limit,
)
from hypothesis import given
from hypothesis import strategies as st

MODEL_FILES = sorted(p.relative_to(ROOT / "models") for p in (ROOT / "models").rglob("*.sops"))
INSERTS = (
    b"\x00", b"\xff", b"\xfe\xff", b"\xc3", b"\xed\xa0\x80", b"\xef\xbb\xbf", "\u202e".encode(), "\u2066".encode(),
    b"\r", b"\r\n", b"\t", b"{", b"}", b"(", b")", b'"', b"<-", b"->", b" or ", b" and ", b" 2 of (", b"//", b"/*",
    b"import \"../../etc/passwd.sops\"\n", b"import \"/etc/x.sops\"\n",
)


@st.composite
def mutation(draw: st.DrawFn) -> tuple[Path, bytes]:
    rel = draw(st.sampled_from(MODEL_FILES))
    data = bytearray((ROOT / "models" / rel).read_bytes())
    for _ in range(draw(st.integers(1, 4))):
        n = len(data)
        op = draw(st.sampled_from(("flip", "delete", "duplicate", "truncate", "insert", "huge", "swap", "byte")))
        i = draw(st.integers(0, max(n - 1, 0)))
        j = min(n, i + draw(st.integers(1, 64)))
        if op == "flip" and n:
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "byte" and n:
            data[i] = draw(st.integers(0, 255))
        elif op == "delete":
            del data[i:j]
        elif op == "duplicate":
            data[i:i] = data[i:j] * draw(st.integers(1, 3))
        elif op == "truncate":
            del data[i:]
        elif op == "insert":
            data[i:i] = draw(st.sampled_from(INSERTS))
        elif op == "huge":
            token = draw(st.sampled_from((b"A", b"9", b"(", b"a.", b" or x")))
            data[i:i] = token * draw(st.sampled_from((1000, 20_000, 100_000)))
        elif op == "swap" and j < n:
            k = min(n, j + (j - i))
            data[i:k] = data[j:k] + data[i:j]
    return rel, bytes(data)


def _run(rel: Path, data: bytes) -> bool:
    with tempfile.TemporaryDirectory(prefix="sops-mut-") as tmp:
        model = Path(tmp) / rel.parts[0]
        shutil.copytree(ROOT / "models" / rel.parts[0], model)
        (Path(tmp) / rel).write_bytes(data)
        try:
            with time_limit():
                checked = check_folder(model)
                assert_diagnostics_positioned(checked)
                if checked.ok:
                    run_pipeline(checked.model, formats=False)
                return bool(checked.ok)
        except BaseException:
            save_crash("sops", data, ".sops")
            raise


@fuzz(60)
@given(mutation())
def test_mutated_models_give_diagnostics_or_results(case: tuple[Path, bytes]) -> None:
    _run(*case)


def test_each_mutation_kind_once() -> None:
    """Deterministic cases, one per mutation kind, on every model file (these run even when hypothesis
    draws few examples)."""
    for rel in (Path("aeb/components.sops"), Path("insulin_pump/types.sops")):
        data = (ROOT / "models" / rel).read_bytes()
        mid = len(data) // 2
        cases = [
            data[:mid],  # truncated mid-element
            data[:mid] + b"\x00" + data[mid:],
            data[:mid] + b"\xff\xfe" + data[mid:],
            b"\xef\xbb\xbf" + data,  # BOM: accepted
            data.replace(b"\n", b"\r\n"),  # CRLF: accepted
            data.replace(b"\n", b"\r"),  # classic Mac line ends
            data[:mid] + b"A" * 100_000 + data[mid:],  # a 100 kB identifier (1 MB: test_resource_bounds)
            data[:mid] + b"(" * 5000 + data[mid:],
            data + data,  # every element duplicated
            data.replace(b"{", b"", 1),
            data.replace(b"}", b"", 1),
            data.replace(b'"', b"", 1),
            b"",
        ]
        results = [_run(rel, c) for c in cases]
        assert results[3] and results[4], f"{rel}: a BOM or CRLF line ends must not break a model"


def test_mutated_model_through_the_cli() -> None:
    """One heavily damaged model per command through the CLI: no traceback, exit 1 with diagnostics."""
    with tempfile.TemporaryDirectory(prefix="sops-mut-cli-") as tmp:
        model = Path(tmp) / "aeb"
        shutil.copytree(ROOT / "models" / "aeb", model)
        f = model / "components.sops"
        data = f.read_bytes()
        f.write_bytes(data[:300] + b"\x00\xff" + b"((((" * 2000 + data[300:])
        for cmd in (["check"], ["fta"], ["trace"]):
            proc = run_cli([*cmd, str(model)])
            out = proc.stdout + proc.stderr
            assert proc.returncode == 1 and "SOPS002" in out and "not valid UTF-8" in out, out[-2000:]
