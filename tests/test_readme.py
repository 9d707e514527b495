"""Every `sitrep ...` command line the README shows runs here, as a user would type it
(the real `sitrep` executable, in a copy of the repository), so a documented command or
option cannot disappear again. Lines that need Label Studio run in the server test below.

A README line this module does not know fails the first test: say how to run it in
`OFFLINE` or `SERVER` (placeholders such as EMAIL or [PATH ...] get a concrete value).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from tests_support import LS, REPO, free_port

SITREP = Path(sys.executable).with_name("sitrep")
README = REPO / "README.md"
GOLD = REPO / "datasets" / "annotations" / "seed-8128c0eee969d3a6.json"

# README line -> (what to run instead of a placeholder, if anything; expected exit status)
OFFLINE: dict[str, tuple[str | None, int]] = {
    "sitrep run --no-label-studio": (None, 0),
    "sitrep schema codebook": (None, 0),
    "sitrep schema codebook --check": (None, 0),
    "sitrep validate seed-broken.json": (None, 1),
    "sitrep validate seed-broken.json --format jsonl": (None, 1),
    "sitrep validate [PATH ...]": ("sitrep validate datasets/annotations", 0),
    "sitrep validate": (None, 0),
    "sitrep seeds check": (None, 0),
    "sitrep schema version": (None, 0),
    "sitrep --help": (None, 0),
    # the sandbox's published releases are up to date: a fresh folder gets a first one
    "sitrep release build --next": ("sitrep release build --next --releases fresh-releases", 0),
    "sitrep release rehydrate datasets/releases/1.0.0 --texts seeds/articles --output texts-1.0.0": (
        None,
        0,
    ),
    "sitrep release rehydrate": ("sitrep release rehydrate --help", 0),
    "sitrep release verify": ("sitrep release verify datasets/releases/1.0.0", 0),
    "sitrep release verify ~/.cache/sitrep/releases/1.0.0": (
        "sitrep release verify home/.cache/sitrep/releases/1.0.0",  # HOME is home/
        0,
    ),
    "sitrep release verify datasets/releases/1.0.0": (None, 0),
    "sitrep release serve datasets/releases --port 8000": (None, 0),  # with fetch, below
    "sitrep release fetch 1.0.0 --from http://127.0.0.1:8000": (None, 0),
    "sitrep claims --quantity q-jaffar-express-rescued": (None, 0),
    "sitrep claims --cluster ec-jaffar-express-clearance-operation --summary --format csv": (
        None,
        0,
    ),
    "sitrep claims --format json --chart charts": (None, 0),
    "sitrep annotate propose story.txt": (None, 0),
    # the fresh held-out split misses its figure targets (BENCHMARKS.md, issue 12): exit 1
    "sitrep annotate eval --check": (None, 1),
    "sitrep annotate eval": (None, 0),
    "sitrep link": (None, 0),
    "sitrep link --apply": (None, 0),
    "sitrep link datasets/annotations --threshold 0.95 --out link-proposals.json": (None, 0),
}
# Run against the session's Label Studio, in the order the README tells the story.
SERVER: dict[str, tuple[str | None, int]] = {
    "sitrep annotate serve": (None, 0),  # it is already running: serve says so
    "sitrep annotate status": (None, 0),
    "sitrep annotate push": (None, 0),
    "sitrep annotate push seeds --annotations datasets/annotations --ground-truth": (None, 0),
    "sitrep annotate push --predictions proposals/ --model-version figures@0.1": (None, 0),
    "sitrep annotate push --propose": (None, 0),
    "sitrep annotate pull": (None, 0),
    "sitrep annotate check --annotator EMAIL": ("sitrep annotate check --annotator {email}", 0),
    "sitrep annotate check --annotator ann1@example.org": (None, 0),  # nothing of theirs
    "sitrep annotate agreement --chart agreement.html --json agreement.json": (None, 0),
    "sitrep annotate agreement": (None, 0),
    "sitrep annotate adjudicate --order ann1@example.org,ann2@example.org": (None, 0),
    "sitrep annotate adjudicate": (None, 0),
    "sitrep annotate stop": (None, 0),  # in a folder with no server of its own
    # the team: accounts on the session's server, a roster in the sandbox
    "sitrep annotate team add ann1@example.org": (None, 0),
    "sitrep annotate team add rev1@example.org --role reviewer --handover rev1.txt": (None, 0),
    "sitrep annotate team list": (None, 0),
    "sitrep annotate push --overlap 2": (None, 0),
    "sitrep annotate team remove ann3@example.org": (
        "sitrep annotate team remove ann1@example.org",  # the one added above
        0,
    ),
    # the sandbox's server is the session's, on SQLite: a PostgreSQL URL is refused (exit 2)
    "sitrep annotate serve --database postgresql://sitrep@127.0.0.1:5432/labelstudio": (None, 2),
    "sitrep annotate backup --to backups": (None, 0),
    "sitrep annotate restore backups/label-studio-20261202T150000Z --data-dir .sitrep/restored": (
        "sitrep annotate restore --from backups --data-dir .sitrep/restored",  # the newest
        0,
    ),
    # these serve until Ctrl-C: run until the backend answers, then interrupted (below)
    "sitrep annotate ml-backend --connect": (
        "sitrep annotate ml-backend --connect --port {port}",
        0,
    ),
    "sitrep annotate ml-backend": ("sitrep annotate ml-backend --port {port}", 0),
}
PROJECT_OPTION = ("push", "pull", "check", "agreement", "adjudicate", "ml-backend")


def readme_commands(text: str | None = None) -> list[str]:
    """The `sitrep` command lines of the README: console lines and inline code, without
    their comments, once each, in order."""
    text = README.read_text(encoding="utf-8") if text is None else text
    found = []
    for line in text.splitlines():
        console = re.match(r"^\s*\$ (sitrep(?:\s.*)?)$", line)
        if console:
            found.append(console.group(1).split("  #")[0].split(" # ")[0])
        found += re.findall(r"`(sitrep(?: [^`]*)?)`", line)
    return list(dict.fromkeys(" ".join(c.split()) for c in found if c.strip() != "sitrep"))


def test_every_readme_command_line_is_run_by_a_test() -> None:
    lines = readme_commands()
    assert len(lines) >= 20
    unknown = [line for line in lines if line not in OFFLINE and line not in SERVER]
    assert unknown == [], "README lines no test runs: add them to OFFLINE or SERVER"


def test_the_readme_reader_finds_console_and_inline_commands() -> None:
    text = "```console\n$ sitrep a b   # note\nsitrep: not a command\n```\nRun `sitrep c --d`.\n"
    assert readme_commands(text) == ["sitrep a b", "sitrep c --d"]


def _sandbox(tmp: Path) -> Path:
    """A copy of what the commands read: the seeds and the hand-made annotations."""
    shutil.copytree(REPO / "seeds", tmp / "seeds")
    shutil.copytree(REPO / "datasets" / "annotations", tmp / "datasets" / "annotations")
    shutil.copytree(REPO / "datasets" / "entities", tmp / "datasets" / "entities")
    shutil.copytree(REPO / "datasets" / "releases", tmp / "datasets" / "releases")
    shutil.copy(REPO / "datasets" / "splits.json", tmp / "datasets" / "splits.json")
    for name in ("CHANGELOG.md", "CITATION.cff"):
        shutil.copy(REPO / name, tmp / name)
    (tmp / "home").mkdir()
    return tmp


def _env(root: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LABEL_STUDIO_", "SITREP_", "XDG_"))
    }
    env.update(SITREP_HOME=str(root), HOME=str(root / "home"), NO_COLOR="1", COLUMNS="200")
    env.update(extra)
    return env


def _run(line: str, root: Path, env: dict[str, str], timeout: float = 600) -> tuple[int, str]:
    argv = shlex.split(line)
    assert argv[0] == "sitrep"
    done = subprocess.run(
        [str(SITREP), *argv[1:]],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return done.returncode, done.stdout + done.stderr


def _run_until_healthy(line: str, root: Path, env: dict[str, str], health: str) -> tuple[int, str]:
    """A command that serves until Ctrl-C: started, awaited until `health` answers and
    (with --connect) it says it registered, then interrupted as a person would."""
    argv = shlex.split(line)
    process = subprocess.Popen(
        [str(SITREP), *argv[1:]], cwd=root, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        _wait_for(health, seconds=120)
        assert process.stdout is not None
        seen = []
        for text in process.stdout:
            seen.append(text)
            if "Ctrl-C stops it" in text:
                break
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, "".join(seen) + (rest or "")


def _broken_seed(root: Path) -> list[str]:
    """seed-broken.json as the README's validate transcript describes it; the transcript."""
    doc = json.loads(GOLD.read_text(encoding="utf-8"))
    doc["actors"][0]["spans"][0]["text"] = "US Central Command"
    doc["figures"][1]["low"] = 8000
    doc["figures"][6]["part_of"] = "fig-120-escapd"
    (root / "seed-broken.json").write_text(json.dumps(doc, indent=2), encoding="utf-8")
    text = README.read_text(encoding="utf-8")
    block = text.split("$ sitrep validate seed-broken.json\n", 1)[1].split("$ echo", 1)[0]
    return block.strip().splitlines()


def _wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_the_readme_offline_command_lines_run(tmp_path: Path) -> None:
    root = _sandbox(tmp_path)
    env = _env(root)
    (root / "story.txt").write_text(
        "Officials said more than 1,200 people were killed.", encoding="utf-8"
    )
    transcript = _broken_seed(root)
    codebook = (REPO / "schema" / "CODEBOOK.md").read_bytes()
    lines = [line for line in readme_commands() if line in OFFLINE]
    port = free_port()
    served: subprocess.Popen[str] | None = None
    try:
        for line in lines:
            placeholder, status = OFFLINE[line]
            command = (placeholder or line).replace("8000", str(port))
            if " release serve " in f" {command} ":
                argv = shlex.split(command)
                served = subprocess.Popen(
                    [str(SITREP), *argv[1:]], cwd=root, env=env, text=True,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )  # fmt: skip
                _wait_for(f"http://127.0.0.1:{port}/index.json")
                continue
            code, output = _run(command, root, env)
            assert code == status, f"`{line}` exited {code}:\n{output[-3000:]}"
            if line == "sitrep validate seed-broken.json":
                assert output.strip().splitlines() == transcript  # the README transcript
    finally:
        if served is not None:
            served.terminate()
            served.wait(timeout=30)
    assert served is not None, "the README's `release serve` line was not run"
    # `schema codebook` rewrote the codebook: it was up to date, so nothing changed
    assert (REPO / "schema" / "CODEBOOK.md").read_bytes() == codebook
    assert len(list((root / "datasets" / "releases").glob("*/datapackage.json"))) >= 2
    assert (root / "home" / ".cache" / "sitrep" / "releases" / "1.0.0").is_dir()


@pytest.mark.label_studio
def test_the_readme_server_command_lines_run(ls: LS, tmp_path: Path) -> None:
    from sitrep.annotate.labelstudio import pull as pull_mod
    from sitrep.annotate.prelabel import propose as propose_mod
    from sitrep.schema.documents import scan_sources

    root = _sandbox(tmp_path / "root")
    (root / ".sitrep").mkdir()
    (root / ".sitrep" / "label-studio").symlink_to(ls.data_dir)  # the session's server
    env = _env(root, LABEL_STUDIO_URL=ls.url, LABEL_STUDIO_API_KEY=ls.creds.token)
    (root / "proposals").mkdir()
    entries = propose_mod.gazetteer([root / "datasets" / "annotations"])
    [seed] = [s for s in scan_sources(root / "seeds")[0] if s.id.startswith("seed-")]
    proposal = propose_mod.proposed_document(seed.as_document(), entries)
    (root / "proposals" / "seed.json").write_text(json.dumps(proposal), encoding="utf-8")
    title = f"readme-{uuid.uuid4().hex[:8]}"
    empty = tmp_path / "nothing-running"
    empty.mkdir()
    lines = [line for line in readme_commands() if line in SERVER]
    for line in lines:
        placeholder, status = SERVER[line]
        port = free_port()
        command = (placeholder or line).format(email=ls.creds.email, port=port)
        if command.split()[2:3] and command.split()[2] in PROJECT_OPTION:
            command += f" --project {title}"  # its own project on the shared server
        where = empty if command.endswith(" stop") else root
        if " ml-backend" in command:
            code, output = _run_until_healthy(command, root, env, f"http://127.0.0.1:{port}/health")
        else:
            code, output = _run(command, where, _env(where) if where is empty else env)
        assert code == status, f"`{line}` exited {code}:\n{output[-3000:]}"
    assert "already running" in _run("sitrep annotate serve", root, env)[1]
    pulled = pull_mod.project_dir(title, root) / "annotations"
    assert len(list(pulled.rglob("*.json"))) == len(list(REPO.glob("datasets/annotations/*.json")))
    assert (root / "agreement.html").is_file() and (root / "agreement.json").is_file()
