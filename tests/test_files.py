"""File-level problems met by `validate_paths`: paths, encodings, JSON syntax.

Every problem becomes an issue with a stable code; the other files of the same run are
still checked, and nothing given to `validate_paths` is ever written to.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sitrep.schema.report import Code, Report
from sitrep.schema.validation import Engine, read_document, validate_paths

ENGINES: tuple[Engine, ...] = ("rust", "python")
Json = dict[str, Any]


def _codes(report: Report) -> list[tuple[str, str]]:
    """(code, file) of every issue, in report order (files are checked in sorted order)."""
    return [(str(i.code), i.file) for i in report.issues]


def _snapshot(root: Path) -> dict[str, tuple[bytes, int, int]]:
    """Bytes, mtime (ns) and mode of every file under `root`."""
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_mode)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# --- paths ---------------------------------------------------------------------------


def test_missing_path(tmp_path: Path) -> None:
    target = tmp_path / "nope.json"
    report = validate_paths([target])
    assert _codes(report) == [(Code.PATH_MISSING, str(target))]
    assert report.files_checked == 0
    assert report.exit_code == 1


def test_empty_folder(tmp_path: Path) -> None:
    report = validate_paths([tmp_path])
    assert _codes(report) == [(Code.PATH_EMPTY, str(tmp_path))]
    assert report.files_checked == 0


def test_folder_without_json_files_is_empty(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not an annotation", encoding="utf-8")
    (tmp_path / "doc.json.bak").write_text("{}", encoding="utf-8")
    report = validate_paths([tmp_path])
    assert _codes(report) == [(Code.PATH_EMPTY, str(tmp_path))]


def test_folders_are_searched_recursively(
    tmp_path: Path, valid_doc: Json, write_doc: Callable[..., Path]
) -> None:
    write_doc(valid_doc, "a.json")
    write_doc(valid_doc, "deep/er/b.json")
    report = validate_paths([tmp_path])
    assert report.valid
    assert report.files_checked == 2
    assert report.counts["documents"] == 2


# --- one bad file --------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"  \n\t\n"], ids=["zero-bytes", "whitespace"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    target = tmp_path / "doc.json"
    target.write_bytes(content)
    report = validate_paths([target])
    assert _codes(report) == [(Code.FILE_EMPTY, str(target))]
    assert report.issues[0].found == f"{len(content)} byte(s)"
    assert report.files_checked == 1


@pytest.mark.parametrize(
    ("content", "line", "column"),
    [
        (b'{"a": 1,}', 1, 8),  # orjson points at the comma itself
        (b'{\n  "a": 1,\n  "b": ,\n}', 3, 8),
        (b'{"a": 1', 1, 8),
        (b"{'a': 1}", 1, 2),
        (b'{"a": 1} {"b": 2}', 1, 10),
    ],
    ids=["trailing-comma", "missing-value-line-3", "truncated", "single-quotes", "two-documents"],
)
def test_invalid_json_names_line_and_column(
    tmp_path: Path, content: bytes, line: int, column: int
) -> None:
    target = tmp_path / "doc.json"
    target.write_bytes(content)
    report = validate_paths([target])
    assert _codes(report) == [(Code.FILE_JSON, str(target))]
    assert f"line {line}, column {column}" in report.issues[0].message


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_json_number_literals_are_invalid_json(
    tmp_path: Path, valid_doc: Json, literal: str
) -> None:
    target = tmp_path / "doc.json"
    target.write_text(json.dumps(valid_doc).replace('"low": 71', f'"low": {literal}'))
    for engine in ENGINES:
        report = validate_paths([target], engine_name=engine)
        assert _codes(report) == [(Code.FILE_JSON, str(target))]


@pytest.mark.parametrize(
    ("content", "offset"),
    [
        ('{"a": "café"}'.encode("latin-1"), 10),
        (b"\xff\xfe{\x00}\x00", 0),
        (b'{"a": "ok"}' + b"\x80", 11),
    ],
    ids=["latin-1", "utf-16-le", "stray-continuation-byte"],
)
def test_not_utf8(tmp_path: Path, content: bytes, offset: int) -> None:
    target = tmp_path / "doc.json"
    target.write_bytes(content)
    report = validate_paths([target])
    assert _codes(report) == [(Code.FILE_ENCODING, str(target))]
    assert report.issues[0].message == f"not valid UTF-8 at byte {offset}"
    assert report.issues[0].found == f"byte 0x{content[offset]:02x}"


def test_byte_order_mark(tmp_path: Path, valid_doc: Json) -> None:
    target = tmp_path / "doc.json"
    target.write_bytes(b"\xef\xbb\xbf" + json.dumps(valid_doc).encode("utf-8"))
    report = validate_paths([target])
    assert _codes(report) == [(Code.FILE_ENCODING, str(target))]
    assert "byte-order mark" in report.issues[0].message


def test_non_ascii_utf8_is_fine(valid_doc: Json, write_doc: Callable[..., Path]) -> None:
    target = write_doc(valid_doc)
    assert "’".encode() in target.read_bytes()
    assert validate_paths([target]).valid


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_by_mode(tmp_path: Path) -> None:
    target = tmp_path / "doc.json"
    target.write_text("{}", encoding="utf-8")
    target.chmod(0)
    try:
        report = validate_paths([target])
    finally:
        target.chmod(0o644)
    assert _codes(report) == [(Code.FILE_UNREADABLE, str(target))]
    assert report.issues[0].found == "PermissionError"


def test_read_document_returns_an_issue_not_an_exception(tmp_path: Path) -> None:
    loaded = read_document(tmp_path / "gone.json", label="gone")
    assert loaded.doc is None
    assert loaded.issue is not None
    assert (loaded.issue.code, loaded.issue.file, loaded.issue.found) == (
        Code.FILE_UNREADABLE,
        "gone",
        "FileNotFoundError",
    )


def test_dangling_symlink_in_a_folder_is_reported(
    tmp_path: Path, valid_doc: Json, write_doc: Callable[..., Path]
) -> None:
    write_doc(valid_doc, "a.json")
    link = tmp_path / "b.json"
    link.symlink_to(tmp_path / "deleted.json")
    report = validate_paths([tmp_path])
    assert report.files_checked == 2
    assert _codes(report) == [(Code.FILE_UNREADABLE, str(link))]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("value", "expected"),
    [([], [("schema.type", "")]), ("text", [("schema.type", "")]), (None, [("schema.type", "")])],
    ids=["array", "string", "null"],
)
def test_a_json_value_that_is_not_an_object(
    write_doc: Callable[..., Path], value: Any, expected: list[tuple[str, str]], engine: Engine
) -> None:
    target = write_doc(value)
    report = validate_paths([target], engine_name=engine)
    assert [(str(i.code), i.pointer) for i in report.issues] == expected
    assert report.counts["documents"] == 0


# --- many files ----------------------------------------------------------------------


@pytest.fixture
def mixed_folder(tmp_path: Path, valid_doc: Json, write_doc: Callable[..., Path]) -> Path:
    """One valid document and three broken files."""
    write_doc(valid_doc, "a-good.json")
    (tmp_path / "b-empty.json").write_bytes(b"")
    (tmp_path / "c-syntax.json").write_bytes(b'{"schema_version": "1.0.0",')
    (tmp_path / "d-bom.json").write_bytes(b"\xef\xbb\xbf{}")
    return tmp_path


@pytest.mark.parametrize("engine", ENGINES)
def test_every_file_is_checked(mixed_folder: Path, valid_doc: Json, engine: Engine) -> None:
    report = validate_paths([mixed_folder], engine_name=engine)
    assert _codes(report) == [
        (Code.FILE_EMPTY, str(mixed_folder / "b-empty.json")),
        (Code.FILE_JSON, str(mixed_folder / "c-syntax.json")),
        (Code.FILE_ENCODING, str(mixed_folder / "d-bom.json")),
    ]
    assert report.files_checked == 4
    assert report.files_invalid == 3
    spans = sum(
        len(r["spans"])
        for kind in ("actors", "locations", "events", "figures")
        for r in valid_doc[kind]
    )
    assert dict(report.counts) == {
        "documents": 1,
        "actors": len(valid_doc["actors"]),
        "locations": len(valid_doc["locations"]),
        "events": len(valid_doc["events"]),
        "figures": len(valid_doc["figures"]),
        "spans": spans,
    }


def test_paths_and_folders_together(
    mixed_folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    elsewhere = tmp_path_factory.mktemp("other")
    missing = elsewhere / "missing.json"
    empty = elsewhere / "empty"
    empty.mkdir()
    report = validate_paths([missing, mixed_folder / "a-good.json", empty, mixed_folder])
    codes = [str(i.code) for i in report.issues]
    assert codes == ["path.missing", "path.empty", "file.empty", "file.json", "file.encoding"]
    assert report.files_checked == 4  # a-good.json, given alone and in its folder, once


def test_schema_issues_name_the_file(valid_doc: Json, write_doc: Callable[..., Path]) -> None:
    valid_doc["actors"][0]["type"] = "army"
    target = write_doc(valid_doc)
    report = validate_paths([target])
    assert [(str(i.code), i.file, i.pointer) for i in report.issues] == [
        ("schema.enum", str(target), "/actors/0/type")
    ]


def test_validate_paths_never_writes(mixed_folder: Path, valid_doc: Json) -> None:
    broken = dict(valid_doc, schema_version="2.0.0")
    (mixed_folder / "e-rules.json").write_text(json.dumps(broken), encoding="utf-8")
    old = 1_600_000_000_000_000_000
    for p in mixed_folder.iterdir():
        os.utime(p, ns=(old, old))
    before = _snapshot(mixed_folder)
    listing = sorted(os.listdir(mixed_folder))
    for engine in ENGINES:
        report = validate_paths([mixed_folder], engine_name=engine)
        assert report.files_checked == 5
    assert _snapshot(mixed_folder) == before
    assert sorted(os.listdir(mixed_folder)) == listing


def test_json_error_message_is_actionable(tmp_path: Path) -> None:
    target = tmp_path / "doc.json"
    target.write_bytes(b'{\n"a": tru}')
    message = validate_paths([target]).issues[0].message
    assert re.fullmatch(r"invalid JSON at line 2, column \d+: .+", message)
