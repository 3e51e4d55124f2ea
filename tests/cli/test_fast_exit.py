"""`sops` as a program ends without tearing the interpreter down (cli/main.py): its output is complete, its
exit status kept, and a reader that goes away early gets no traceback."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOPS = shutil.which("sops") or str(Path(sys.executable).with_name("sops"))


def test_output_and_status_survive_the_fast_exit(tmp_path: Path) -> None:
    bad = tmp_path / "m.sops"
    bad.write_text('hazard H1 "x" { severity S9 }\n', encoding="utf-8")
    done = subprocess.run([SOPS, "check", str(bad)], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1
    assert done.stdout.rstrip().endswith("1 file checked: 2 errors, 1 warning"), done.stdout
    fmea = subprocess.run([SOPS, "fmea", str(ROOT / "models" / "aeb"), "--format", "csv"], capture_output=True,
                          text=True, timeout=120, check=False)
    assert fmea.returncode == 0 and fmea.stdout.count("\n") > 10 and fmea.stdout.endswith("\n")


def test_a_reader_that_leaves_early_gets_no_traceback() -> None:
    proc = subprocess.Popen([SOPS, "fmea", str(ROOT / "models" / "aeb"), "--format", "md"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(10)
    proc.stdout.close()
    err = proc.stderr.read()
    proc.wait(timeout=120)
    assert b"Traceback" not in err
