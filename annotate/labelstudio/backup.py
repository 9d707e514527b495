"""Backups of the embedded Label Studio, and bringing a fresh server back to one.

A backup is a folder `label-studio-<UTC time>/` (mode 0700) holding:

1. the database, copied consistently while the server runs: SQLite through its online
   backup API (`database.sqlite3`), PostgreSQL with `pg_dump --format=custom`
   (`database.pgdump`; the password travels in the environment, never in argv);
2. `media.tar`: the uploads under the data folder's `media/` (export files left out:
   pulls keep their own copies);
3. `credentials.json` and `database.json`: the admin account lives in the database, so
   the backup keeps the credentials that open it (mode 0600, like the original);
4. `backup.json` (what, when, from where, every file's bytes and sha256) and `SHA256SUMS`
   (`sha256sum -c SHA256SUMS` checks it).

The folder is written under a temporary name and renamed when complete, so a failed
backup leaves nothing that looks like one. `restore` checks every checksum first, then
refuses a data folder that already holds a server (or a PostgreSQL database that is not
empty), and only then writes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sitrep.annotate.labelstudio import database
from sitrep.annotate.labelstudio.database import Database
from sitrep.errors import ConfigError, SitrepError

FORMAT = 1
MANIFEST = "backup.json"
SUMS = "SHA256SUMS"
SQLITE_COPY = "database.sqlite3"
PG_DUMP = "database.pgdump"
MEDIA = "media.tar"
CREDENTIALS = "credentials.json"  # the server module's name for it
SKIPPED_MEDIA = ("export",)  # export snapshots: every pull keeps its own copy


class BackupError(SitrepError):
    """A backup could not be made, or a backup is damaged or cannot be restored here."""


@dataclass(frozen=True)
class Backup:
    path: Path
    manifest: dict[str, Any]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def backup(data_dir: Path, target: Path, *, created: datetime | None = None) -> Backup:
    """Write a consistent backup of the server in `data_dir` into a new folder of `target`."""
    data_dir = data_dir.resolve()
    if not (data_dir / CREDENTIALS).is_file():
        raise BackupError(f"{data_dir} holds no Label Studio made by sitrep (no {CREDENTIALS})")
    db = database.recorded(data_dir)
    stamp = (created or datetime.now(UTC)).replace(microsecond=0)
    target.mkdir(parents=True, exist_ok=True)
    final = target / f"label-studio-{stamp.strftime('%Y%m%dT%H%M%SZ')}"
    if final.exists():
        raise BackupError(f"{final} exists already: backups are never overwritten")
    staging = Path(tempfile.mkdtemp(prefix=".backup-", dir=target))
    try:
        files = _write_parts(data_dir, staging, db)
        manifest = {
            "format": FORMAT,
            "created": stamp.isoformat().replace("+00:00", "Z"),
            "data_dir": str(data_dir),
            "database": "postgresql" if db else "sqlite",
            "database_url": db.url if db else None,
            "files": {
                n: {"bytes": (staging / n).stat().st_size, "sha256": h} for n, h in files.items()
            },
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        sums = {**files, MANIFEST: sha256_file(staging / MANIFEST)}
        (staging / SUMS).write_text("".join(f"{h}  {n}\n" for n, h in sorted(sums.items())))
        os.rename(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Backup(final, manifest)


def _write_parts(data_dir: Path, out: Path, db: Database | None) -> dict[str, str]:
    names = [_copy_database(data_dir, out, db), _pack_media(data_dir, out)]
    for name in (CREDENTIALS, database.FILE):
        if (data_dir / name).is_file():
            shutil.copy2(data_dir / name, out / name)
            os.chmod(out / name, 0o600)
            names.append(name)
    return {n: sha256_file(out / n) for n in names}


def _copy_database(data_dir: Path, out: Path, db: Database | None) -> str:
    if db is None:
        source = data_dir / database.SQLITE_FILE
        if not source.is_file():
            raise BackupError(f"{source} does not exist: has the server ever started?")
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        dst = sqlite3.connect(out / SQLITE_COPY)
        try:
            src.backup(dst)  # a consistent copy even while the server writes
        finally:
            dst.close()
            src.close()
        os.chmod(out / SQLITE_COPY, 0o600)
        return SQLITE_COPY
    _run(
        [
            "pg_dump",
            "--format=custom",
            "--no-owner",
            *db.client_args(),
            "--file",
            str(out / PG_DUMP),
            db.name,
        ],
        db,
        "pg_dump",
    )
    os.chmod(out / PG_DUMP, 0o600)
    return PG_DUMP


def _pack_media(data_dir: Path, out: Path) -> str:
    media = data_dir / "media"
    with tarfile.open(out / MEDIA, "w") as tar:
        if media.is_dir():
            for child in sorted(media.iterdir()):
                if child.name not in SKIPPED_MEDIA:
                    tar.add(child, arcname=f"media/{child.name}")
    os.chmod(out / MEDIA, 0o600)
    return MEDIA


def _run(command: list[str], db: Database, what: str) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(
            f"{command[0]} is not installed: install PostgreSQL's client tools "
            "(Debian: apt-get install postgresql-client)"
        )
    done = subprocess.run(command, env=db.client_env(), capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{what} failed for {db.url}: {done.stderr.strip()[-800:]}")


# --- restore ------------------------------------------------------------------------------


def verify(folder: Path) -> dict[str, Any]:
    """The backup's manifest, once every file listed in SHA256SUMS has its checksum."""
    sums = folder / SUMS
    if not sums.is_file():
        raise BackupError(f"{folder} is not a sitrep backup (no {SUMS})")
    listed = {}
    for line in sums.read_text().splitlines():
        digest, _, name = line.partition("  ")
        if "/" in name or name.startswith("."):
            raise BackupError(f"{sums}: file name {name!r} would leave the backup folder")
        listed[name] = digest
    for name, digest in listed.items():
        path = folder / name
        if not path.is_file():
            raise BackupError(f"{folder}: {name} is missing (listed in {SUMS})")
        found = sha256_file(path)
        if found != digest:
            raise BackupError(
                f"{folder}: {name} is damaged (expected sha256 {digest}; found {found})"
            )
    manifest: dict[str, Any] = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{folder}: backup format {manifest.get('format')} is not {FORMAT}")
    return manifest


def restore(folder: Path, data_dir: Path, database_url: str | None = None) -> dict[str, Any]:
    """Bring a fresh data folder (and, for PostgreSQL, an empty database: the recorded one or
    `database_url`) back to the backup in `folder`. Start the server afterwards."""
    manifest = verify(folder)
    data_dir = data_dir.resolve()
    _check_fresh(data_dir)
    db = _target_database(folder, manifest, database_url)
    if db is not None:
        _check_empty(db)
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=data_dir))
    try:
        _unpack(folder, staging, db)
        for child in staging.iterdir():
            os.rename(child, data_dir / child.name)
        database.record(data_dir, db)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


def _check_fresh(data_dir: Path) -> None:
    taken = [
        n
        for n in (CREDENTIALS, database.SQLITE_FILE, database.FILE, "media")
        if (data_dir / n).exists()
    ]
    if taken:
        raise BackupError(
            f"{data_dir} already holds a Label Studio ({', '.join(taken)}): restore into a new "
            "--data-dir, or move this one away first; nothing was changed"
        )


def _target_database(folder: Path, manifest: dict[str, Any], url: str | None) -> Database | None:
    if manifest["database"] == "sqlite":
        if url:
            raise BackupError(f"{folder} is a SQLite backup: restore it without --database")
        return None
    if url:
        return database.parse(url)
    return database.parse(manifest["database_url"])


def _check_empty(db: Database) -> None:
    if shutil.which("psql") is None:
        raise BackupError("psql is not installed (Debian: apt-get install postgresql-client)")
    query = "select count(*) from information_schema.tables where table_schema = 'public'"
    done = subprocess.run(
        ["psql", *db.client_args(), "--dbname", db.name, "-Atc", query],
        env=db.client_env(),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise BackupError(f"cannot open {db.url}: {done.stderr.strip()[-400:]}")
    if done.stdout.strip() != "0":
        raise BackupError(
            f"{db.url} is not empty ({done.stdout.strip()} tables): restore into a new, empty "
            "database; nothing was changed"
        )


def _unpack(folder: Path, out: Path, db: Database | None) -> None:
    shutil.copy2(folder / CREDENTIALS, out / CREDENTIALS)
    os.chmod(out / CREDENTIALS, 0o600)
    if db is None:
        shutil.copy2(folder / SQLITE_COPY, out / database.SQLITE_FILE)
        os.chmod(out / database.SQLITE_FILE, 0o600)
    else:
        _run(
            [
                "pg_restore",
                "--no-owner",
                "--exit-on-error",
                "--single-transaction",
                *db.client_args(),
                "--dbname",
                db.name,
                str(folder / PG_DUMP),
            ],
            db,
            "pg_restore",
        )
    with tarfile.open(folder / MEDIA) as tar:
        tar.extractall(out, filter="data")


def latest(target: Path) -> Path | None:
    """The newest complete backup folder under `target`."""
    found = sorted(p for p in target.glob("label-studio-*") if (p / SUMS).is_file())
    return found[-1] if found else None


def require(folder: Path | None, target: Path) -> Path:
    if folder is None:
        folder = latest(target)
        if folder is None:
            raise ConfigError(f"no backup under {target}: run `sitrep annotate backup` first")
    return folder
