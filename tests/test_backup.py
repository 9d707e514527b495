"""Label Studio on PostgreSQL, and backup / restore, on real servers.

A real PostgreSQL (Debian's server: `initdb` in a temporary folder, on a free loopback
port, as the unprivileged `postgres` user when the tests run as root) is started for this
module, and a second real Label Studio runs on it. The round trip of the seed gold goes
through it, then the server is backed up (pg_dump), its data folder destroyed, a fresh
server restored into a new empty database, and a pull gives byte-identical files. The
SQLite flavour backs up the session's server while it runs and restores it next to it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests_support import LS, REPO, copy_registry, executable, free_port

from sitrep.annotate.labelstudio import backup as backup_mod
from sitrep.annotate.labelstudio import database, server
from sitrep.annotate.labelstudio import project as proj
from sitrep.annotate.labelstudio import pull as pull_mod
from sitrep.annotate.labelstudio.client import Client
from sitrep.testing import postgres as pg
from sitrep.testing.postgres import PG

pytestmark = pytest.mark.label_studio

GOLD = REPO / "datasets" / "annotations" / "seed-8128c0eee969d3a6.json"


@pytest.fixture(scope="module")
def postgres() -> Iterator[PG]:
    gone = pg.missing()
    if gone:
        why = "PostgreSQL is not installed: run `make setup-postgres` (Debian's postgresql)"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    with pg.throwaway() as server_:
        yield server_


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A dataset checkout with the seed article and its gold annotation."""
    (tmp_path / "seeds" / "articles").mkdir(parents=True)
    for file in (REPO / "seeds" / "articles").iterdir():
        shutil.copy(file, tmp_path / "seeds" / "articles" / file.name)
    (tmp_path / "datasets" / "annotations").mkdir(parents=True)
    shutil.copy(GOLD, tmp_path / "datasets" / "annotations" / GOLD.name)
    copy_registry(tmp_path)
    monkeypatch.setenv("SITREP_HOME", str(tmp_path))
    return tmp_path


def _start(data_dir: Path, url: str | None = None) -> server.Started:
    found = executable()
    assert found is not None, "label-studio is not installed: run `make setup-ls`"
    return server.serve(data_dir, port=free_port(), timeout=400, executable=found, database_url=url)


def _client(started: server.Started) -> Client:
    return Client(server.Connection(started.state.url, started.credentials.token, "test"))


def _round_trip(client: Client, root: Path, title: str) -> pull_mod.PullReport:
    proj.push(
        client,
        sources=[root / "seeds"],
        annotations=[root / "datasets" / "annotations"],
        ground_truth=True,
        title=title,
    )
    report = pull_mod.pull(client, title=title, root=root)
    assert report.ok, [str(p) for p in report.problems]
    return report


def _pulled(root: Path, title: str) -> dict[str, bytes]:
    """Every annotation file a pull writes: per annotator, and the released ground truth
    (the raw export is left out: a new export is a new snapshot)."""
    files = list((proj.project_dir(title, root) / "annotations").rglob("*.json"))
    files += list((root / "datasets" / "annotations").glob("*.json"))
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(files)}


def _fresh_root(root: Path, tmp_path: Path) -> Path:
    again = tmp_path / "again"
    shutil.copytree(root / "seeds", again / "seeds")
    (again / "datasets" / "annotations").mkdir(parents=True)
    shutil.copy(GOLD, again / "datasets" / "annotations" / GOLD.name)
    copy_registry(again)
    return again


def test_postgresql_round_trip_backup_destroy_restore_pull_identical(
    postgres: PG, root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PGPASSWORD", postgres.password)
    data_dir = tmp_path / "ls-pg"
    url = postgres.create("labelstudio")
    started = _start(data_dir, url)
    title = f"pg-{uuid.uuid4().hex[:8]}"
    try:
        assert database.recorded(data_dir) == database.parse(url)
        assert not (data_dir / database.SQLITE_FILE).exists()  # the data is in PostgreSQL
        first = _round_trip(_client(started), root, title)
        assert (first.tasks, first.annotations, first.converted) == (1, 1, 1)
        assert first.released_unchanged == 1  # the gold came back identical
        before = _pulled(root, title)
        made = backup_mod.backup(data_dir, tmp_path / "backups")
    finally:
        server.stop(data_dir)
    assert made.manifest["database"] == "postgresql"
    assert (made.path / backup_mod.PG_DUMP).stat().st_mode & 0o077 == 0

    shutil.rmtree(data_dir)  # the server's folder is gone
    target = postgres.create("restored")
    restored_dir = tmp_path / "ls-pg-restored"
    backup_mod.restore(made.path, restored_dir, target)
    again = _start(restored_dir)  # the folder remembers its database
    try:
        assert database.recorded(restored_dir) == database.parse(target)
        fresh = _fresh_root(root, tmp_path)
        report = pull_mod.pull(_client(again), title=title, root=fresh)
        assert report.ok, [str(p) for p in report.problems]
        assert _pulled(fresh, title) == {k: v for k, v in before.items()}
    finally:
        server.stop(restored_dir)


def test_sqlite_backup_while_running_restores_to_an_identical_server(
    ls: LS, root: Path, tmp_path: Path
) -> None:
    title = f"sq-{uuid.uuid4().hex[:8]}"
    _round_trip(ls.client(), root, title)
    before = _pulled(root, title)
    made = backup_mod.backup(ls.data_dir, tmp_path / "backups")
    assert made.manifest["database"] == "sqlite"
    sums = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=made.path, capture_output=True, text=True
    )
    assert sums.returncode == 0, sums.stdout + sums.stderr

    restored_dir = tmp_path / "ls-restored"
    backup_mod.restore(made.path, restored_dir)
    again = _start(restored_dir)
    try:
        fresh = _fresh_root(root, tmp_path)
        report = pull_mod.pull(_client(again), title=title, root=fresh)
        assert report.ok, [str(p) for p in report.problems]
        assert _pulled(fresh, title) == before
    finally:
        server.stop(restored_dir)


def test_a_damaged_backup_is_refused_before_anything_is_written(ls: LS, tmp_path: Path) -> None:
    made = backup_mod.backup(ls.data_dir, tmp_path / "backups")
    with open(made.path / backup_mod.MEDIA, "ab") as handle:
        handle.write(b"\0")
    target = tmp_path / "target"
    with pytest.raises(backup_mod.BackupError, match=r"media\.tar is damaged"):
        backup_mod.restore(made.path, target)
    assert not target.exists()


def test_restore_never_writes_over_a_server(ls: LS, tmp_path: Path) -> None:
    made = backup_mod.backup(ls.data_dir, tmp_path / "backups")
    listing = sorted(p.name for p in ls.data_dir.iterdir())
    with pytest.raises(backup_mod.BackupError, match="already holds a Label Studio"):
        backup_mod.restore(made.path, ls.data_dir)
    assert sorted(p.name for p in ls.data_dir.iterdir()) == listing


def test_a_backup_is_never_overwritten_and_a_failed_one_leaves_nothing(
    ls: LS, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    when = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
    backup_mod.backup(ls.data_dir, tmp_path / "b", created=when)
    with pytest.raises(backup_mod.BackupError, match="never overwritten"):
        backup_mod.backup(ls.data_dir, tmp_path / "b", created=when)
    with pytest.raises(backup_mod.BackupError, match="no Label Studio"):
        backup_mod.backup(tmp_path / "empty", tmp_path / "c")
    assert [p.name for p in (tmp_path / "b").iterdir()] == ["label-studio-20261202T150000Z"]


def test_a_folder_made_for_sqlite_is_never_started_on_postgresql(ls: LS) -> None:
    with pytest.raises(database.DatabaseError, match="belongs to SQLite"):
        database.choose(ls.data_dir, "postgresql://sitrep@127.0.0.1:5432/other")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://sitrep:secret@127.0.0.1/ls", "must not hold the password"),
        ("mysql://sitrep@127.0.0.1/ls", "expected postgresql://"),
        ("postgresql://127.0.0.1/ls", "with a user, a host and a database name"),
        ("postgresql://sitrep@127.0.0.1:port/ls", "the port is not a number"),
    ],
)
def test_database_urls_are_checked(url: str, message: str) -> None:
    with pytest.raises(database.DatabaseError, match=message):
        database.parse(url)


def test_the_password_comes_from_the_environment_or_the_password_file(tmp_path: Path) -> None:
    db = database.parse("postgresql://sitrep@127.0.0.1:5433/ls")
    assert db.password({"PGPASSWORD": "a"}) == "a"
    passfile = tmp_path / "pgpass"
    passfile.write_text("other:5433:ls:sitrep:no\n127.0.0.1:*:ls:sitrep:pa\\:ss\n")
    passfile.chmod(0o600)
    assert db.password({"PGPASSFILE": str(passfile)}) == "pa:ss"
    passfile.chmod(0o644)
    with pytest.raises(database.DatabaseError, match="readable by others"):
        db.password({"PGPASSFILE": str(passfile)})
    with pytest.raises(database.DatabaseError, match="no password for"):
        db.password({"PGPASSFILE": str(tmp_path / "none")})
    env = db.env({"PGPASSWORD": "a"})
    assert (env["DJANGO_DB"], env["POSTGRE_PORT"], env["POSTGRE_PASSWORD"]) == (
        "default",
        "5433",
        "a",
    )
