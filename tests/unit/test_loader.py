"""Files, imports, the model root, caching and parallel parsing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from safetyops_dsl.api import check
from safetyops_dsl.parse.loader import load

COMPONENT = 'component Sensor "A sensor" {\n    out value\n    failure Dead rate 10 FIT\n    value.omission <- Dead\n}\n'


def codes(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [d.code for d in result.diagnostics]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_import_is_followed_and_relative(tmp_path: Path) -> None:
    write(tmp_path / "lib" / "sensor.sops", "package plant\n" + COMPONENT)
    main = write(tmp_path / "main.sops", 'package plant\nimport "lib/sensor.sops"\n')
    r = load([main], root=tmp_path)
    assert [f.rel_path for f in r.files] == ["lib/sensor.sops", "main.sops"]
    assert r.files[1].imports[0].resolved == "lib/sensor.sops"
    assert r.ok


def test_import_leaving_root_with_dotdot(tmp_path: Path) -> None:
    write(tmp_path / "outside.sops", COMPONENT)
    main = write(tmp_path / "model" / "main.sops", 'import "../outside.sops"\n')
    r = load([main])
    assert codes(r) == ["SOPS004"]
    assert r.diagnostics[0].location.line == 1


def test_import_absolute_path_refused(tmp_path: Path) -> None:
    other = write(tmp_path / "x.sops", COMPONENT)
    main = write(tmp_path / "model" / "main.sops", f'import "{other}"\n')
    assert codes(load([main])) == ["SOPS004"]


def test_import_through_symlink_leaving_root(tmp_path: Path) -> None:
    write(tmp_path / "secret" / "x.sops", COMPONENT)
    (tmp_path / "model").mkdir()
    os.symlink(tmp_path / "secret", tmp_path / "model" / "link")
    main = write(tmp_path / "model" / "main.sops", 'import "link/x.sops"\n')
    assert codes(load([main])) == ["SOPS004"]


def test_import_not_found_and_not_sops(tmp_path: Path) -> None:
    main = write(tmp_path / "main.sops", 'import "missing.sops"\nimport "notes.txt"\n')
    assert codes(load([main])) == ["SOPS003", "SOPS003"]


def test_import_cycle(tmp_path: Path) -> None:
    write(tmp_path / "a.sops", 'import "b.sops"\n')
    write(tmp_path / "b.sops", 'import "a.sops"\n')
    r = load([tmp_path])
    assert codes(r) == ["SOPS005"]
    assert r.diagnostics[0].message.count("a.sops") == 2 and "b.sops" in r.diagnostics[0].message


def test_not_utf8_is_positioned(tmp_path: Path) -> None:
    f = tmp_path / "bad.sops"
    f.write_bytes(b"package p\ncomponent X \xff {\n}\n")
    r = load([f])
    assert codes(r) == ["SOPS002"]
    assert (r.diagnostics[0].location.line, r.diagnostics[0].location.col) == (2, 13)


def test_missing_path_and_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert codes(load([tmp_path / "nope.sops"])) == ["SOPS002"]
    assert codes(load([tmp_path / "empty"])) == ["SOPS006"]


def test_default_package_is_folder_name(tmp_path: Path) -> None:
    f = write(tmp_path / "brake-unit" / "x.sops", COMPONENT)
    assert load([f]).files[0].package == "brake_unit"


def test_cache_round_trip(tmp_path: Path) -> None:
    f = write(tmp_path / "m" / "x.sops", COMPONENT)
    cache = tmp_path / "cache"
    first = load([f], cache_dir=cache)
    assert any(cache.rglob("*"))
    second = load([f], cache_dir=cache)
    assert first.files == second.files
    # a change in the text is a new key
    f.write_text(COMPONENT.replace("10 FIT", "11 FIT"), encoding="utf-8")
    third = load([f], cache_dir=cache)
    assert third.files[0].components[0].failure_modes[0].rate_per_hour == pytest.approx(11e-9)


def test_parallel_equals_serial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from safetyops_dsl.parse import loader

    for i in range(4):
        write(tmp_path / f"f{i}.sops", "package p\n" + COMPONENT.replace("Sensor", f"Sensor{i}"))
    monkeypatch.setattr(loader, "PARALLEL_MIN_BYTES", 0)
    parallel = load([tmp_path], workers=2)
    serial = load([tmp_path], workers=1)
    assert parallel.files == serial.files


@pytest.mark.parametrize("workers", [2, 3])
def test_parallel_shares_work_with_the_parent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int) -> None:
    """The parent parses the batches no worker has started (loader._parallel): every file is built once, by
    one of them, with the same files and diagnostics as a serial load, whatever the sizes and order."""
    from safetyops_dsl.parse import loader

    for i in range(23):
        body = "".join(COMPONENT.replace("Sensor", f"S{i}x{k}") for k in range(1 + (i * 7) % 5))
        if i == 5:
            body += "component Broken {\n    out\n}\n"  # a syntax error in one file
        if i == 11:
            body += "hazard H \"h\" {\n    severity S9\n}\n"  # a diagnostic of the builder
        write(tmp_path / f"f{i:02d}.sops", f"package p{i}\n" + body)
    monkeypatch.setattr(loader, "PARALLEL_MIN_BYTES", 0)
    built: list[str] = []
    parse = loader._parse_and_build

    def counting(job: loader._Job) -> loader.Built:
        built.append(job.rel)  # in the parent only: a worker's list is its own copy
        return parse(job)

    monkeypatch.setattr(loader, "_parse_and_build", counting)
    parallel = load([tmp_path], workers=workers)
    in_parent = list(built)
    serial = load([tmp_path], workers=1)
    assert parallel.files == serial.files
    assert parallel.diagnostics == serial.diagnostics
    assert {d.code for d in serial.diagnostics}  # the broken files do report
    assert len(in_parent) == len(set(in_parent)) < 23  # the parent took a share, the workers the rest


def test_duplicates_across_files(tmp_path: Path) -> None:
    write(tmp_path / "a.sops", "package p\n" + COMPONENT)
    write(tmp_path / "b.sops", "package p\n" + COMPONENT)
    r = check([tmp_path])
    assert "SOPS010" in [d.code for d in r.diagnostics]


def test_same_name_in_two_packages_needs_qualification(tmp_path: Path) -> None:
    write(tmp_path / "a.sops", "package p\n" + COMPONENT)
    write(tmp_path / "b.sops", "package q\n" + COMPONENT)
    write(tmp_path / "c.sops", 'package r\nsystem S "s" {\n    part x : Sensor\n}\n')
    r = check([tmp_path])
    assert "SOPS013" in [d.code for d in r.diagnostics]
    write(tmp_path / "c.sops", 'package r\nsystem S "s" {\n    part x : q.Sensor\n}\n')
    assert "SOPS013" not in [d.code for d in check([tmp_path]).diagnostics]


def test_too_many_files_is_a_limit_not_minutes_of_parsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from safetyops_dsl.parse import loader

    monkeypatch.setattr(loader, "MAX_FILES", 3)
    for i in range(4):
        write(tmp_path / f"f{i}.sops", COMPONENT.replace("Sensor", f"S{i}"))
    parsed: list[str] = []
    monkeypatch.setattr(loader, "_parse_and_build", lambda job: parsed.append(job.rel) or (None, []))
    r = load([tmp_path])
    assert codes(r) == ["SOPS008"]
    assert "4 .sops files" in r.diagnostics[0].message and "limit is 3" in r.diagnostics[0].message
    assert parsed == [] and r.files == []


def test_imports_count_towards_the_file_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from safetyops_dsl.parse import loader

    monkeypatch.setattr(loader, "MAX_FILES", 2)
    write(tmp_path / "lib" / "a.sops", COMPONENT)
    write(tmp_path / "lib" / "b.sops", 'import "c.sops"\n')
    write(tmp_path / "lib" / "c.sops", "")
    main = write(tmp_path / "main.sops", 'import "lib/a.sops"\nimport "lib/b.sops"\n')
    assert "SOPS008" in codes(load([main], root=tmp_path))


def test_memo_rebuilds_only_the_changed_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from safetyops_dsl.parse import loader

    a = write(tmp_path / "a.sops", COMPONENT)
    write(tmp_path / "b.sops", COMPONENT.replace("Sensor", "Other"))
    memo = loader.ParseMemo()
    first = load([tmp_path], memo=memo)
    built: list[str] = []
    real = loader._parse_and_build
    monkeypatch.setattr(loader, "_parse_and_build", lambda job: built.append(job.rel) or real(job))
    again = load([tmp_path], memo=memo)
    assert built == [] and again.files == first.files
    edited = load([tmp_path], memo=memo, overrides={a: COMPONENT.replace("10 FIT", "20 FIT")})
    assert built == ["a.sops"]
    assert edited.files[0].components[0].failure_modes[0].rate_per_hour == pytest.approx(20e-9)
    assert len(memo.entries) == 2  # the entry of the old text of a.sops is gone


def test_damaged_cache_entries_are_misses(tmp_path: Path) -> None:
    f = write(tmp_path / "m" / "a.sops", COMPONENT)
    cache = tmp_path / "cache"
    good = load([f], cache_dir=cache)
    entries = [p for p in cache.rglob("*") if p.is_file()]
    assert entries
    for p in entries:
        p.write_bytes(b"\x80\x05garbage")
    again = load([f], cache_dir=cache)
    assert again.files == good.files and again.ok


def test_built_locations_are_locations_as_the_constructor_makes_them() -> None:
    import pickle

    from safetyops_dsl.diagnostics import Location
    from safetyops_dsl.parse.builder import FileBuilder
    from safetyops_dsl.parse.textx_parser import parse_text

    text = 'component A "a" {\n    out y\n    failure F rate 1 FIT\n    y.omission <- F\n}\n'
    tx, _ = parse_text(text, "f.sops")
    built = FileBuilder(text, "f.sops", "f.sops", "p").build(tx)
    for loc in (built.components[0].location, built.components[0].ports[0].location):
        plain = Location(loc.file, loc.line, loc.col, loc.end_line, loc.end_col)
        assert loc == plain and hash(loc) == hash(plain) and repr(loc) == repr(plain)
        assert pickle.dumps(loc) == pickle.dumps(plain)
        assert vars(loc) == vars(plain) and list(vars(loc)) == list(vars(plain))
