"""Hostile input (issue 11): every case is an issue with file, pointer, stable code,
expected and found, never a traceback, never a hang and never a silent OK, through
`sitrep validate`, `sitrep release build --from`, `sitrep seeds check` and the library's
`validate_paths`; and a good file given beside a bad one is still validated.

The corpus in tests/data/hostile/documents/ holds the minimal reproductions (made by
tests/data/hostile/make_corpus.py, expected issues in cases.json); the cases that need
the file system (FIFOs, sockets, devices, permissions, sizes) are made here.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sitrep.cli import app
from sitrep.schema.files import max_document_bytes
from sitrep.schema.report import Code, Report
from sitrep.schema.validation import validate_paths
from sitrep.validate.dataset import load_dataset

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ROOT / "tests" / "data" / "hostile"
CASES: dict[str, list[list[str]]] = json.loads((HOSTILE / "cases.json").read_text())
GOOD = ROOT / "datasets" / "annotations" / "voa-6181132.json"
SEED = ROOT / "datasets" / "annotations" / "seed-8128c0eee969d3a6.json"
SITREP = Path(sys.executable).parent / "sitrep"
runner = CliRunner()


def _issues(report: dict[str, Any] | Report, name: str) -> set[tuple[str, str]]:
    data = report.to_dict() if isinstance(report, Report) else report
    return {(i["pointer"], i["code"]) for i in data["issues"] if i["file"].endswith(name)}  # type: ignore[index,union-attr]


def _cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def _run(*args: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    """The real command in its own process (a hang fails the test by the timeout)."""
    command = [str(SITREP), *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    assert "Traceback" not in done.stderr, done.stderr
    return done


# --- the corpus: each case beside a good file, through every entry point --------------


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus_case_through_cli_and_library(name: str) -> None:
    case = HOSTILE / "documents" / name
    expected = {tuple(i) for i in CASES[name]}
    code, output = _cli("validate", str(case), str(GOOD), "--format", "json")
    report = json.loads(output)
    assert code == (1 if expected else 0)
    assert _issues(report, name) == expected
    assert _issues(report, GOOD.name) == set()
    assert report["files_checked"] == 2
    assert report["counts"]["documents"] == 2  # the good file was read and counted
    assert _issues(validate_paths([case, GOOD]), name) == expected  # the library agrees
    assert (
        _issues(validate_paths([case, GOOD], engine_name="python"), name)
        >= {e for e in expected if e[1] != "file.duplicate_key"}
        or not expected
    )


@pytest.mark.parametrize("name", sorted(n for n, issues in CASES.items() if issues))
def test_corpus_case_stops_a_release_build(name: str, tmp_path: Path) -> None:
    case = HOSTILE / "documents" / name
    releases = tmp_path / "releases"
    code, output = _cli(
        "release", "build", "--version", "1.0.0", "--from", str(case), "--from", str(GOOD),
        "--releases", str(releases), "--no-changelog",
    )  # fmt: skip
    assert code == 1
    assert name in output
    assert not (releases / "1.0.0").exists()


def test_text_output_cannot_be_forged_or_flooded() -> None:
    forged = HOSTILE / "documents" / "span-text-forges-a-summary.json"
    big = HOSTILE / "documents" / "string-2mb.json"
    code, output = _cli("validate", str(forged), str(big))
    lines = output.splitlines()
    assert code == 1
    # three issues (the two files share the seed's id) and the summary: the quoted
    # newline is escaped, so it starts no line of its own
    assert len(lines) == 4
    assert not any(line.startswith("OK") for line in lines)
    assert "\x1b" not in output and "\\x1b[2K" in output
    assert max(len(line) for line in lines) < 2_000
    assert "(2,000,000 characters)" in output


def test_json_lines_bad_line_names_itself_and_the_rest_is_checked(tmp_path: Path) -> None:
    """10,000 lines; lines 200 and 7,001 hold cases 1 and 2 (a 2**63 offset, a duplicate
    key): each is named by file:line and every other line is still validated."""
    doc = json.loads(SEED.read_text(encoding="utf-8"))
    doc.update(actors=doc["actors"][:3], events=[], figures=[], locations=[])
    for actor in doc["actors"]:
        actor["affiliated_with"] = None
    lines = []
    for number in range(1, 10_001):
        copy_ = copy.deepcopy(doc)
        copy_["document"]["id"] = f"doc-{number}"
        if number == 200:
            copy_["actors"][0]["spans"][0]["end"] = 2**63
        line = json.dumps(copy_)
        if number == 7_001:
            line = line.replace('"type": ', '"type": "person", "type": ', 1)
        lines.append(line)
    bundle = tmp_path / "bundle.jsonl"
    bundle.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = load_dataset([bundle]).report
    found = {(i.file, i.pointer, str(i.code)) for i in report.issues}
    assert found == {
        (f"{bundle}:200", "/actors/0/spans/0/end", "schema.range"),
        (f"{bundle}:200", "/actors/0/spans/0/end", "span.bounds"),
        (f"{bundle}:7001", "/actors/0/type", "file.duplicate_key"),
    }
    assert report.files_checked == 10_000
    assert report.counts["documents"] == 10_000


# --- sizes -------------------------------------------------------------------------


def _padded(size: int) -> bytes:
    """A valid document of about `size` bytes: the seed with its notes padded."""
    doc = json.loads(SEED.read_text(encoding="utf-8"))
    doc["provenance"]["notes"] = ""
    base = len(json.dumps(doc).encode())
    doc["provenance"]["notes"] = "n" * max(0, size - base)
    return json.dumps(doc).encode()


def test_documents_over_the_limit_are_refused_before_parsing(tmp_path: Path) -> None:
    limit = max_document_bytes()
    assert limit == 16 * 1024 * 1024
    big = tmp_path / "big.json"
    big.write_bytes(b"[" + b"0," * (limit // 2) + b"0]")  # a huge top-level array
    bundle = tmp_path / "big.jsonl"
    bundle.write_bytes(SEED.read_bytes().replace(b"\n", b" ") + b"\n" + _padded(limit + 10) + b"\n")
    report = load_dataset([big, bundle, GOOD]).report
    found = {(i.file, str(i.code)) for i in report.issues}
    assert found == {
        (str(big), "file.too_large"),
        (f"{bundle}:2", "file.too_large"),
    }
    assert report.counts["documents"] == 2  # line 1 of the bundle and the good file
    issue = next(i for i in report.issues if i.file == str(big))
    assert issue.expected == f"at most {limit:,} bytes"
    assert issue.found == f"{big.stat().st_size:,} bytes"


def test_a_valid_document_just_under_the_limit_is_read_by_both_layers(tmp_path: Path) -> None:
    """Arrow's JSON reader refused documents over one block (the straddling error)."""
    target = tmp_path / "large.json"
    target.write_bytes(_padded(max_document_bytes() - 1_000))
    report = load_dataset([target]).report
    assert report.valid, report.issues[:3]
    assert report.counts["documents"] == 1
    assert validate_paths([target]).valid


def test_deep_nesting_is_a_json_issue_everywhere(tmp_path: Path) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    (tmp_path / "deep.json").write_bytes(deep)
    (tmp_path / "deep.jsonl").write_bytes(SEED.read_bytes().replace(b"\n", b" ") + b"\n" + deep)
    report = load_dataset([tmp_path, GOOD]).report
    assert {(Path(i.file).name, str(i.code)) for i in report.issues} == {
        ("deep.json", "file.json"),
        ("deep.jsonl:2", "file.json"),
    }
    assert report.counts["documents"] == 2
    assert {str(i.code) for i in validate_paths([tmp_path]).issues} == {"file.json"}


def test_seeds_check_survives_deep_json(tmp_path: Path) -> None:
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "a.txt").write_text("Some text.", encoding="utf-8")
    (articles / "a.meta.json").write_bytes(b"{" + b'"a":{' * 100_000 + b"}" * 100_001)
    stories = tmp_path / "voa"
    stories.mkdir()
    (stories / "source.json").write_text(
        json.dumps(
            {k: "x" for k in ("id_prefix", "publisher", "language", "retrieved", "license")}
            | {"credit": "x"}
        ),
        encoding="utf-8",
    )
    (stories / "s.jsonl").write_bytes(b"[" * 100_000 + b"]" * 100_000 + b"\n")
    code, output = _cli("seeds", "check", str(tmp_path), "--format", "json")
    report = json.loads(output)
    assert code == 1
    assert {(Path(i["file"]).name, i["code"]) for i in report["issues"]} == {
        ("a.meta.json", "file.json"),
        ("s.jsonl:1", "file.json"),
    }


# --- special files: never opened, never waited on ----------------------------------


@pytest.fixture
def specials(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copy(GOOD, folder / "good.json")
    os.mkfifo(folder / "fifo.json")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(folder / "socket.json"))
        (folder / "linked").symlink_to(tmp_path, target_is_directory=True)
        yield folder


def test_special_files_inside_a_folder_are_issues(specials: Path) -> None:
    done = _run("validate", str(specials), "--format", "json", timeout=60)
    report = json.loads(done.stdout)
    assert done.returncode == 1
    assert {(Path(i["file"]).name, i["code"]) for i in report["issues"]} == {
        ("fifo.json", "path.special"),
        ("socket.json", "path.special"),
        ("linked", "path.special"),
    }
    assert report["counts"]["documents"] == 1  # good.json


@pytest.mark.parametrize("command", ["validate", "release", "seeds"])
def test_a_fifo_given_as_an_argument_never_hangs(
    specials: Path, tmp_path: Path, command: str
) -> None:
    fifo = str(specials / "fifo.json")
    args = {
        "validate": ["validate", fifo, str(GOOD)],
        "release": ["release", "build", "--version", "1.0.0", "--from", fifo, "--from",
                    str(GOOD), "--releases", str(tmp_path / "r"), "--no-changelog"],
        "seeds": ["seeds", "check", fifo],
    }[command]  # fmt: skip
    done = _run(*args, timeout=60)
    assert done.returncode == 1
    assert "path.special" in done.stdout
    assert not (tmp_path / "r" / "1.0.0").exists()


def test_a_device_is_not_read() -> None:
    code, output = _cli("validate", "/dev/zero", str(GOOD), "--format", "json")
    report = json.loads(output)
    assert code == 1
    assert [(i["file"], i["code"], i["found"]) for i in report["issues"]] == [
        ("/dev/zero", "path.special", "a character device")
    ]
    assert report["counts"]["documents"] == 1


# --- duplicates ----------------------------------------------------------------------


def test_a_copied_document_is_reported_and_still_checked_in_full(tmp_path: Path) -> None:
    doc = json.loads(SEED.read_text(encoding="utf-8"))
    shutil.copy(SEED, tmp_path / "a.json")
    doc["actors"][0]["spans"][0]["text"] = "US Central Command"
    doc["figures"][0]["high"] = 1  # exact: 150, 150, 150
    (tmp_path / "b.json").write_text(json.dumps(doc), encoding="utf-8")
    code, output = _cli("validate", str(tmp_path), "--format", "json")
    report = json.loads(output)
    assert code == 1
    assert _issues(report, "b.json") == {
        ("/document/id", "id.duplicate"),
        ("/actors/0/spans/0/text", "span.text"),
        ("/figures/0/high", "figure.interval"),
        ("/figures/0", "figure.qualifier"),
    }
    assert _issues(report, "a.json") == set()


def test_a_folder_and_one_of_its_files_is_not_a_duplicate(tmp_path: Path) -> None:
    shutil.copy(GOOD, tmp_path / "good.json")
    code, output = _cli("validate", str(tmp_path), str(tmp_path / "good.json"))
    assert (code, output.strip()) == (0, "OK: 1 file(s) valid")


# --- output ----------------------------------------------------------------------------


def test_file_names_cannot_reach_the_terminal_or_break_json(tmp_path: Path) -> None:
    folder = os.fsencode(tmp_path)
    ansi = folder + b"/\x1b[31mred\nOK.json"
    latin = folder + b"/caf\xe9.json"
    for name in (ansi, latin):
        with open(name, "wb") as handle:
            handle.write(b"{}")
    done = subprocess.run(
        [str(SITREP), "validate", str(tmp_path), "--format", "json"],
        capture_output=True,
        timeout=60,
    )
    report = json.loads(done.stdout.decode("utf-8"))  # strict: valid UTF-8
    assert done.returncode == 1
    assert {Path(i["file"]).name for i in report["issues"]} == {
        "caf\\xe9.json",
        "\x1b[31mred\nOK.json",
    }
    text = subprocess.run([str(SITREP), "validate", str(tmp_path)], capture_output=True, timeout=60)
    assert b"\x1b" not in text.stdout and b"\xe9" not in text.stdout
    assert b"\\x1b[31mred\\nOK.json" in text.stdout
    assert text.stdout.decode("utf-8").count("\n") == len(report["issues"]) + 1


# --- permissions: with the capabilities that let root ignore them dropped -------------

# Root reads every file whatever its mode; without CAP_DAC_OVERRIDE and
# CAP_DAC_READ_SEARCH (dropped from the bounding set, so the command never gets them back)
# it meets permissions as any user does. setpriv is in util-linux, part of every Debian.
DROP = "-dac_override,-dac_read_search"
needs_setpriv = pytest.mark.skipif(
    os.geteuid() == 0 and shutil.which("setpriv") is None,
    reason="as root, needs setpriv (util-linux) to drop the capabilities that bypass chmod",
)


def _as_user(*args: str) -> subprocess.CompletedProcess[str]:
    """`sitrep args` meeting file permissions (capabilities dropped when run as root)."""
    prefix = ["setpriv", f"--bounding-set={DROP}", f"--inh-caps={DROP}"]
    command = [*(prefix if os.geteuid() == 0 else []), str(SITREP), *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert "Traceback" not in done.stderr, done.stderr
    return done


@needs_setpriv
def test_unreadable_subfolder_is_an_issue_not_ok(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "locked").mkdir(parents=True)
    shutil.copy(GOOD, data / "good.json")
    shutil.copy(SEED, data / "locked" / "hidden.json")
    (data / "locked").chmod(0)
    try:
        done = _as_user("validate", str(data), "--format", "json")
        seeds = _as_user("seeds", "check", str(data), "--format", "json")
    finally:
        (data / "locked").chmod(0o755)
    report = json.loads(done.stdout)
    assert done.returncode == 1
    assert [(i["file"], i["code"], i["found"]) for i in report["issues"]] == [
        (str(data / "locked"), "path.unreadable", "PermissionError")
    ]
    assert report["counts"]["documents"] == 1
    assert seeds.returncode == 1
    assert [i["code"] for i in json.loads(seeds.stdout)["issues"]] == ["path.unreadable"]


@needs_setpriv
def test_unreadable_file_is_an_issue_and_the_others_are_checked(tmp_path: Path) -> None:
    shutil.copy(GOOD, tmp_path / "good.json")
    shutil.copy(SEED, tmp_path / "secret.json")
    (tmp_path / "secret.json").chmod(0)
    done = _as_user(
        "validate", str(tmp_path / "secret.json"), str(tmp_path / "good.json"), "--format", "json"
    )
    report = json.loads(done.stdout)
    assert done.returncode == 1  # invalid data, not a usage error
    assert [(Path(i["file"]).name, i["code"]) for i in report["issues"]] == [
        ("secret.json", str(Code.FILE_UNREADABLE))
    ]
    assert report["counts"]["documents"] == 1
    assert stat.S_IMODE((tmp_path / "secret.json").stat().st_mode) == 0


# --- repeated keys: the quick filter (colon counts) never hides one -----------------------------------


@pytest.mark.parametrize(
    ("raw", "pointers"),
    [
        (b'{"a": 1, "a": 2}', ["/a"]),
        (b'{"a" : 1, "a"\n: 2}', ["/a"]),  # whitespace before the colon
        (b'{"b": "\\":", "b": "x"}', ["/b"]),  # a quote and colon inside a string
        (b'{"b": "\\u0022:", "c": {"d": 1, "d": 1}}', ["/c/d"]),  # a quote written as \u0022
        (b'{"x": [{"k": 1}, {"k": 1, "k": 1}]}', ["/x/1/k"]),
        (b'{"a": 1, "b": "\\":"}', []),
        (b'{"b": "\\u003a", "c": {"d": 1, "d": 1}}', ["/c/d"]),  # a colon written as \u003a
        (b'{"b": "x\\u003A", "b": 2}', ["/b"]),
        (b'{"\\u0061": 1, "a": 2}', ["/a"]),  # the same key, escaped once
    ],
)
def test_repeated_keys_are_found_however_written(raw: bytes, pointers: list[str]) -> None:
    from sitrep.schema.files import duplicate_key_issues

    doc = json.loads(raw)
    found = duplicate_key_issues(raw, "x.json", doc)
    assert [i.pointer for i in found] == pointers
    assert all(i.code is Code.FILE_DUPLICATE_KEY for i in found)
