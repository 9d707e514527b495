"""The pre-commit hook (`.pre-commit-hooks.yaml`), run by the real pre-commit framework on
a throw-away dataset repository: `pre-commit try-repo` on this repository (a local path,
so nothing is downloaded) with the `sitrep-validate-system` hook, which runs the `sitrep`
of this environment on the staged annotation files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import build_valid_doc  # tests/ is on sys.path (pytest's rootdir import)
from pre_commit.clientlib import load_manifest

ROOT = Path(__file__).resolve().parent.parent
HOOK = "sitrep-validate-system"


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True, env=_env(repo)
    )
    return done.stdout


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        PRE_COMMIT_HOME=str(home / ".pre-commit-cache"),
        GIT_AUTHOR_NAME="test",
        GIT_AUTHOR_EMAIL="test@localhost",
        GIT_COMMITTER_NAME="test",
        GIT_COMMITTER_EMAIL="test@localhost",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
    )
    return env


def _try_repo(repo: Path) -> subprocess.CompletedProcess[str]:
    """The hook on what `repo` has staged, as `git commit` would run it."""
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), HOOK],
        cwd=repo,
        capture_output=True,
        text=True,
        env=_env(repo.parent),
        timeout=300,
    )


@pytest.fixture
def dataset_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "dataset"
    (repo / "datasets" / "annotations").mkdir(parents=True)
    _git(repo, "init", "-q")
    (repo / "README.md").write_text("a dataset\n", encoding="utf-8")
    _git(repo, "add", "README.md")
    _git(repo, "commit", "-q", "-m", "start")
    return repo


def _write(repo: Path, name: str, doc: object) -> str:
    path = repo / "datasets" / "annotations" / name
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    return str(path.relative_to(repo))


def test_the_manifest_loads_and_both_hooks_check_the_same_files() -> None:
    hooks = {h["id"]: h for h in load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))}
    assert set(hooks) == {"sitrep-validate", HOOK}
    python, system = hooks["sitrep-validate"], hooks[HOOK]
    assert python["language"] == "python"
    for key in ("entry", "files", "require_serial", "pass_filenames"):
        assert python[key] == system[key], key
    assert python["entry"] == "sitrep validate" and python["require_serial"] is True


def test_the_hook_passes_a_good_file_and_stops_a_broken_one(dataset_repo: Path) -> None:
    good = _write(dataset_repo, "good.json", build_valid_doc())
    _git(dataset_repo, "add", good)
    passed = _try_repo(dataset_repo)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout

    broken_doc = build_valid_doc()
    broken_doc["document"]["id"] = "doc-broken"
    broken_doc["figures"][0]["low"] = 10**9
    broken_doc["actors"][0]["type"] = "alien"
    broken = _write(dataset_repo, "broken.json", broken_doc)
    _git(dataset_repo, "add", broken)
    failed = _try_repo(dataset_repo)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "Failed" in failed.stdout
    assert f"{broken}:/actors/0/type: [schema.enum]" in failed.stdout
    assert f"{broken}:/figures/0/best: [figure.interval]" in failed.stdout
    assert "problem(s) in 1 of 2 file(s)" in failed.stdout  # the good file went along


def test_files_outside_the_annotations_are_not_checked(dataset_repo: Path) -> None:
    export = dataset_repo / "datasets" / "label-studio" / "p" / "exports" / "export.json"
    export.parent.mkdir(parents=True)
    export.write_text('{"not": "a sitrep document"}', encoding="utf-8")
    _git(dataset_repo, "add", str(export.relative_to(dataset_repo)))
    done = _try_repo(dataset_repo)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "(no files to check)Skipped" in done.stdout
