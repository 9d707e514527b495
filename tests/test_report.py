"""Reports and their renderers: text for people, JSON for programs, GitHub annotations."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sitrep.schema.report import (
    RENDERERS,
    Code,
    Issue,
    Report,
    printable,
    render_github,
    render_json,
    render_jsonl,
    render_text,
)
from sitrep.schema.validation import validate_paths

TRICKY_FILE = "data/100%,done:yes/doc.json"


def _report() -> Report:
    return Report(
        issues=[
            Issue(
                Code.SCHEMA_ENUM,
                "a.json",
                "/actors/0/type",
                "'army' is not one of ...",
                "one of: person",
                '"army"',
            ),
            Issue(
                Code.FILE_JSON, "b.json", "", "invalid JSON at line 3, column 8: Expecting value"
            ),
            Issue(
                Code.SPAN_TEXT,
                TRICKY_FILE,
                "/actors/1/spans/0/text",
                "quoted text differs\nfrom the text: 50% off, really",
                "military’s",
                "military's",
            ),
        ],
        files_checked=4,
        counts=Counter({"spans": 9, "documents": 2, "actors": 3}),
    )


GH_LINE = re.compile(r"^::error file=(?P<file>[^,]*),title=(?P<title>[^:]*)::(?P<message>.*)$")


def _gh_unescape(value: str) -> str:
    for escaped, raw in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        value = value.replace(escaped, raw)
    return value


# --- text ----------------------------------------------------------------------------


def test_text_has_one_line_per_issue_and_a_summary() -> None:
    lines = render_text(_report()).split("\n")
    assert lines[0] == (
        "a.json:/actors/0/type: [schema.enum] 'army' is not one of ... "
        '(expected one of: person; found "army")'
    )
    assert lines[1] == "b.json:/: [file.json] invalid JSON at line 3, column 8: Expecting value"
    assert lines[2].startswith(
        f"{TRICKY_FILE}:/actors/1/spans/0/text: [span.text] quoted text differs"
    )
    assert lines[-1] == "FAILED: 3 problem(s) in 3 of 4 file(s)"
    assert len(lines) == 4  # the third message's newline is escaped, not a line of its own
    assert "quoted text differs\\nfrom the text" in lines[2]


def test_text_of_a_valid_report() -> None:
    assert render_text(Report(files_checked=7)) == "OK: 7 file(s) valid"


@pytest.mark.parametrize(
    ("expected", "found", "tail"),
    [
        ("", "", ""),
        ("x", "", " (expected x)"),
        ("", "y", " (found y)"),
        ("x", "y", " (expected x; found y)"),
    ],
)
def test_text_shows_expected_and_found_only_when_known(
    expected: str, found: str, tail: str
) -> None:
    report = Report(
        issues=[Issue(Code.ID_DUPLICATE, "f.json", "/actors/1/id", "dup", expected, found)]
    )
    assert render_text(report).split("\n")[0] == f"f.json:/actors/1/id: [id.duplicate] dup{tail}"


# --- JSON ----------------------------------------------------------------------------


def test_json_equals_to_dict() -> None:
    report = _report()
    rendered = render_json(report)
    assert json.loads(rendered) == report.to_dict()
    assert "military’s" in rendered  # not \\u2019


def test_to_dict_shape() -> None:
    data = _report().to_dict()
    assert data["valid"] is False
    assert (data["files_checked"], data["files_invalid"]) == (4, 3)
    assert list(data["counts"]) == ["actors", "documents", "spans"]  # sorted
    assert [i["code"] for i in data["issues"]] == ["schema.enum", "file.json", "span.text"]
    assert set(data["issues"][0]) == {"code", "file", "pointer", "message", "expected", "found"}


def test_json_of_a_real_run_equals_to_dict(
    tmp_path: Path, valid_doc: dict[str, Any], write_doc: Callable[..., Path]
) -> None:
    write_doc(valid_doc, "good.json")
    valid_doc["actors"][0]["type"] = "army"
    valid_doc["document"]["text_sha256"] = "0" * 64
    write_doc(valid_doc, "bad.json")
    (tmp_path / "empty.json").write_text("")
    report = validate_paths([tmp_path])
    data = json.loads(render_json(report))
    assert data == report.to_dict()
    assert [(i["code"], i["pointer"]) for i in data["issues"]] == [
        ("schema.enum", "/actors/0/type"),
        ("text.sha256", "/document/text_sha256"),
        ("file.empty", ""),
    ]
    assert (data["files_checked"], data["files_invalid"], data["counts"]["documents"]) == (3, 2, 2)
    for issue in report.issues:
        assert f"{issue.file}:{issue.pointer or '/'}: [{issue.code}] " in render_text(report)


# --- GitHub --------------------------------------------------------------------------


def test_github_lines() -> None:
    lines = render_github(_report()).split("\n")
    assert len(lines) == 3
    assert lines[0] == (
        "::error file=a.json,title=schema.enum::/actors/0/type: 'army' is not one of ... "
        '(expected one of: person; found "army")'
    )
    assert lines[1] == (
        "::error file=b.json,title=file.json::/: invalid JSON at line 3, column 8: Expecting value"
    )
    assert lines[2] == (
        "::error file=data/100%25%2Cdone%3Ayes/doc.json,title=span.text::/actors/1/spans/0/text: "
        "quoted text differs%0Afrom the text: 50%25 off, really "
        "(expected military’s; found military's)"
    )


def test_github_lines_parse_back() -> None:
    report = _report()
    for issue, line in zip(report.issues, render_github(report).split("\n"), strict=True):
        match = GH_LINE.match(line)
        assert match is not None
        assert _gh_unescape(match["file"]) == issue.file
        assert match["title"] == str(issue.code)
        assert _gh_unescape(match["message"]).startswith(f"{issue.pointer or '/'}: {issue.message}")


def test_github_of_a_valid_report() -> None:
    assert (
        render_github(Report(files_checked=2)) == "::notice title=sitrep validate::2 file(s) valid"
    )


@given(file=st.text(), message=st.text())
def test_github_escaping_round_trips(file: str, message: str) -> None:
    report = Report(issues=[Issue(Code.SCHEMA_OTHER, file, "/x", message)])
    (line,) = render_github(report).split("\n")
    match = GH_LINE.match(line)
    assert match is not None
    assert not re.search(r"[\r\n:,]", match["file"])
    assert not re.search(r"[\r\n]", match["message"])
    # control characters other than line breaks are escaped as \xNN (see printable)
    assert _gh_unescape(match["file"]) == printable(file, newlines=True)
    assert _gh_unescape(match["message"]) == printable(f"/x: {message}", newlines=True)


# --- the report ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("issues", "valid", "exit_code"),
    [([], True, 0), ([Issue(Code.FILE_EMPTY, "f.json", "", "empty")], False, 1)],
    ids=["valid", "invalid"],
)
def test_exit_code(issues: list[Issue], valid: bool, exit_code: int) -> None:
    report = Report(issues=issues, files_checked=1)
    assert (report.valid, report.exit_code) == (valid, exit_code)


def test_files_invalid_counts_distinct_files() -> None:
    report = Report(files_checked=3)
    report.extend(Issue(Code.SPAN_TEXT, f, "/x", "m") for f in ("a.json", "a.json", "b.json"))
    assert (len(report.issues), report.files_invalid) == (3, 2)


def test_renderers_cover_every_format() -> None:
    assert {
        "text": render_text,
        "json": render_json,
        "github": render_github,
        "jsonl": render_jsonl,
    } == RENDERERS


def test_jsonl_is_one_line_per_issue_then_the_summary() -> None:
    report = Report(files_checked=2)
    report.issues += [
        Issue(Code.REF_CYCLE, "a.json", "/figures/1/part_of", "m", "no cycle", "fig-1"),
        Issue(Code.FILE_EMPTY, "b.json", "", "the file is empty"),
    ]
    lines = [json.loads(line) for line in render_jsonl(report).splitlines()]
    assert [line["kind"] for line in lines] == ["issue", "issue", "summary"]
    assert [{k: v for k, v in line.items() if k != "kind"} for line in lines[:2]] == [
        i.to_dict() for i in report.issues
    ]
    assert lines[2] == {"kind": "summary", **report.to_dict(), "issues": 2}
    assert lines[2]["valid"] is False and lines[2]["files_invalid"] == 2


def test_issue_to_dict_code_is_a_plain_string() -> None:
    data = Issue(Code.REF_CYCLE, "f.json", "/a", "m").to_dict()
    assert type(data["code"]) is str
    assert data["code"] == "ref.cycle"


def test_codes_are_unique_and_dotted() -> None:
    values = [c.value for c in Code]
    assert len(set(values)) == len(values)
    assert all(re.fullmatch(r"[a-z]+\.[a-z_0-9]+", v) for v in values)
