"""Which database the embedded Label Studio keeps its data in: SQLite or PostgreSQL.

SQLite (a file in the data folder) is the embedded default: nothing to install, right for
one person. A team runs Label Studio on PostgreSQL, its supported production database:
`sitrep annotate serve --database postgresql://USER@HOST:PORT/NAME`.

1. The URL names everything but the password. A password in the URL is refused: the
   command line of a process is readable by every user of the machine. The password comes
   from where PostgreSQL's own tools look for it: `PGPASSWORD`, or the password file
   (`PGPASSFILE`, default `~/.pgpass`, which must be 0600).
2. The data folder remembers its database (`database.json`, no secret), so later `serve`,
   `backup` and `restore` calls need no option, and a folder made for one database is
   never started against another.
3. The server gets the settings through its environment only (`server_env`).
"""

from __future__ import annotations

import json
import os
import urllib.parse
from dataclasses import asdict, dataclass
from pathlib import Path

from sitrep.errors import ConfigError
from sitrep.fileio import write_atomic

FILE = "database.json"  # in the data folder: which database it belongs to
SQLITE_FILE = "label_studio.sqlite3"  # Label Studio's own name, inside the data folder
SCHEMES = ("postgresql", "postgres")


class DatabaseError(ConfigError):
    """The database setting is malformed, insecure or does not match the data folder."""


@dataclass(frozen=True)
class Database:
    """A PostgreSQL database (the password is looked up when needed, never kept here)."""

    host: str
    port: int
    name: str
    user: str

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.name}"

    def password(self, environ: dict[str, str] | None = None) -> str:
        """The password, from PGPASSWORD or the password file; an error says where to put it."""
        env = os.environ if environ is None else environ
        if env.get("PGPASSWORD"):
            return env["PGPASSWORD"]
        found = _from_passfile(self, Path(env.get("PGPASSFILE", Path.home() / ".pgpass")))
        if found is None:
            raise DatabaseError(
                f"no password for {self.url}: set PGPASSWORD in the environment, or add the line "
                f"'{self.host}:{self.port}:{self.name}:{self.user}:PASSWORD' to ~/.pgpass (mode 0600)"
            )
        return found

    def env(self, environ: dict[str, str] | None = None) -> dict[str, str]:
        """Label Studio's settings for this database."""
        return {
            "DJANGO_DB": "default",
            "POSTGRE_HOST": self.host,
            "POSTGRE_PORT": str(self.port),
            "POSTGRE_NAME": self.name,
            "POSTGRE_USER": self.user,
            "POSTGRE_PASSWORD": self.password(environ),
        }

    def client_env(self, environ: dict[str, str] | None = None) -> dict[str, str]:
        """The environment for pg_dump / pg_restore: the password travels here, not in argv."""
        base = dict(os.environ if environ is None else environ)
        base["PGPASSWORD"] = self.password(environ)
        return base

    def client_args(self) -> list[str]:
        return ["--host", self.host, "--port", str(self.port), "--username", self.user]


def parse(url: str) -> Database:
    """`postgresql://USER@HOST:PORT/NAME` (port 5432 when left out)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise DatabaseError(
            f"--database {_safe(url)}: expected postgresql://USER@HOST:PORT/NAME (SQLite, the "
            "default, needs no option)"
        )
    if parts.password is not None:
        raise DatabaseError(
            "--database must not hold the password (a command line is readable by every user "
            "of the machine): set PGPASSWORD or use ~/.pgpass"
        )
    name = parts.path.lstrip("/")
    if not (parts.username and parts.hostname and name) or "/" in name:
        raise DatabaseError(
            f"--database {_safe(url)}: expected postgresql://USER@HOST:PORT/NAME with a user, "
            "a host and a database name"
        )
    try:
        port = parts.port or 5432
    except ValueError:
        raise DatabaseError(f"--database {_safe(url)}: the port is not a number") from None
    return Database(parts.hostname, port, name, urllib.parse.unquote(parts.username))


def _safe(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def _from_passfile(db: Database, file: Path) -> str | None:
    if not file.is_file():
        return None
    if file.stat().st_mode & 0o077:
        raise DatabaseError(f"{file} is readable by others: run chmod 600 {file}")
    wanted = (db.host, str(db.port), db.name, db.user)
    for line in file.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = _split_pgpass(line)
        if len(fields) == 5 and all(f in ("*", w) for f, w in zip(fields, wanted, strict=False)):
            return fields[4]
    return None


def _split_pgpass(line: str) -> list[str]:
    """host:port:db:user:password, where `\\:` and `\\\\` are escaped."""
    fields: list[str] = []
    current: list[str] = []
    escaped = False
    for char in line:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ":" and len(fields) < 4:
            fields.append("".join(current))
            current = []
        else:
            current.append(char)
    fields.append("".join(current))
    return fields


def recorded(data_dir: Path) -> Database | None:
    """The database this data folder belongs to (None: SQLite inside it)."""
    file = data_dir / FILE
    if not file.is_file():
        return None
    body = json.loads(file.read_text(encoding="utf-8"))
    return Database(**body) if body else None


def choose(data_dir: Path, url: str | None) -> Database | None:
    """The database for this start: the one asked for, which must match what the folder was
    made with, or the recorded one. The first start of a folder records it."""
    wanted = parse(url) if url else None
    known = recorded(data_dir)
    has_sqlite = (data_dir / SQLITE_FILE).exists()
    if (data_dir / FILE).is_file() or has_sqlite:
        current = known
        if url is not None and wanted != current:
            was = current.url if current else f"SQLite ({data_dir / SQLITE_FILE})"
            raise DatabaseError(
                f"{data_dir} belongs to {was}, not {wanted.url if wanted else 'SQLite'}: use "
                "another --data-dir for another database (or `sitrep annotate backup` and "
                "`restore` to move it)"
            )
        return current
    record(data_dir, wanted)
    return wanted


def record(data_dir: Path, db: Database | None) -> None:
    write_atomic(data_dir / FILE, json.dumps(asdict(db) if db else {}, indent=2) + "\n")
