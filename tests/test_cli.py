"""The command line: help texts, output formats, exit codes; JSON output equals the
library's report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from sitrep.cli import app
from sitrep.validate.dataset import load_dataset

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def _commands(group: Any, prefix: str = "") -> list[tuple[str, Any]]:
    found = []
    for name, command in group.commands.items():
        found.append((f"{prefix}{name}", command))
        if hasattr(command, "commands"):
            found.extend(_commands(command, f"{prefix}{name} "))
    return found


COMMANDS = _commands(get_command(app))


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_every_command_has_help_with_an_example(name: str, command: Any) -> None:
    assert command.help, name
    if not hasattr(command, "commands"):
        assert "Example: sitrep " in command.help, name
    result = runner.invoke(app, [*name.split(), "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


@pytest.fixture
def bad_file(tmp_path: Path) -> Path:
    gold = json.loads(next((ROOT / "datasets" / "annotations").glob("*.json")).read_text())
    gold["figures"][0]["low"] = 10**9
    gold["actors"][0]["type"] = "alien"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(gold))
    return path


def test_validate_valid_dataset_exits_0() -> None:
    result = runner.invoke(app, ["validate", str(ROOT / "datasets" / "annotations")])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: ")


def test_validate_text_names_file_pointer_and_code(bad_file: Path) -> None:
    result = runner.invoke(app, ["validate", str(bad_file)])
    assert result.exit_code == 1
    assert f"{bad_file}:/actors/0/type: [schema.enum]" in result.output
    assert "[figure.interval]" in result.output
    assert result.output.strip().endswith("problem(s) in 1 of 1 file(s)")


def test_validate_json_equals_the_library_report(bad_file: Path) -> None:
    result = runner.invoke(app, ["validate", str(bad_file), "--format", "json"])
    assert result.exit_code == 1
    assert json.loads(result.output) == load_dataset([bad_file]).report.to_dict()


def test_validate_github_format(bad_file: Path) -> None:
    result = runner.invoke(app, ["validate", str(bad_file), "-f", "github"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines and all(line.startswith(f"::error file={bad_file},title=") for line in lines)
    assert any("title=schema.enum::/actors/0/type: " in line for line in lines)


def test_validate_reports_every_file_even_when_some_are_missing(
    bad_file: Path, tmp_path: Path
) -> None:
    result = runner.invoke(
        app, ["validate", str(tmp_path / "nope.json"), str(bad_file), "-f", "json"]
    )
    report = json.loads(result.output)
    codes = {i["code"] for i in report["issues"]}
    assert result.exit_code == 1
    assert {"path.missing", "schema.enum", "figure.interval"} <= codes


def test_run_prints_the_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = runner.invoke(app, ["run", "--no-label-studio"])
    assert result.exit_code == 0, result.output
    assert "source documents (seeds/)" in result.output
    assert "figures" in result.output and "OK: " in result.output


def test_codebook_check_detects_a_stale_file(tmp_path: Path) -> None:
    target = tmp_path / "CODEBOOK.md"
    target.write_text("stale\n")
    assert (
        runner.invoke(app, ["schema", "codebook", "--output", str(target), "--check"]).exit_code
        == 1
    )
    assert target.read_text() == "stale\n"
    assert runner.invoke(app, ["schema", "codebook", "--output", str(target)]).exit_code == 0
    assert (
        runner.invoke(app, ["schema", "codebook", "--output", str(target), "--check"]).exit_code
        == 0
    )


def test_seeds_check_reports_the_real_seeds() -> None:
    result = runner.invoke(app, ["seeds", "check", str(ROOT / "seeds"), "-f", "json"])
    assert result.exit_code == 0
    assert json.loads(result.output)["counts"]["documents"] == 90


@pytest.fixture
def release_server() -> Any:
    import threading

    from sitrep.validate.fetch import make_server

    server = make_server(ROOT / "datasets" / "releases", "127.0.0.1", 0, quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_release_fetch_over_http_is_anchored_by_the_committed_index(
    release_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sitrep.errors import VerificationError

    monkeypatch.chdir(ROOT)
    cache = tmp_path / "cache"
    ok = runner.invoke(
        app, ["release", "fetch", "1.0.0", "--from", release_server, "--cache", str(cache)]
    )
    assert ok.exit_code == 0, ok.output
    assert "OK: 1.0.0 verified" in ok.output and "warning" not in ok.output
    assert (cache / "1.0.0" / "figures.parquet").is_file()
    bad = runner.invoke(
        app,
        [
            "release",
            "fetch",
            "1.0.0",
            "--from",
            release_server,
            "--cache",
            str(tmp_path / "other"),
            "--sha256",
            "0" * 64,
        ],
    )
    assert bad.exit_code != 0
    assert isinstance(bad.exception, VerificationError)
    assert not (tmp_path / "other" / "1.0.0").exists()


def test_validate_jsonl_streams_each_issue_then_the_summary(bad_file: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["validate", str(bad_file), str(tmp_path / "nope.json"), "--format", "jsonl"]
    )
    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.output.strip().splitlines()]
    expected = load_dataset([bad_file, tmp_path / "nope.json"]).report.to_dict()
    issues, summary = lines[:-1], lines[-1]
    assert sorted(json.dumps(i, sort_keys=True) for i in issues) == sorted(
        json.dumps({"kind": "issue", **i}, sort_keys=True) for i in expected["issues"]
    )
    assert summary == {"kind": "summary", **expected, "issues": len(expected["issues"])}
    assert {"path.missing", "schema.enum", "figure.interval"} <= {i["code"] for i in issues}


def test_validate_jsonl_on_a_valid_file_is_one_summary_line() -> None:
    seed = ROOT / "datasets" / "annotations" / "seed-8128c0eee969d3a6.json"
    result = runner.invoke(app, ["validate", str(seed), "-f", "jsonl"])
    assert result.exit_code == 0
    (line,) = result.output.strip().splitlines()
    assert json.loads(line)["kind"] == "summary" and json.loads(line)["valid"] is True
