"""A throw-away PostgreSQL server for tests and benchmarks.

Debian's server binaries (`make setup-postgres`): `initdb` in a temporary folder, a
generated password (handed over in a 0600 file that is deleted right after `initdb`,
never on a command line), listening only on 127.0.0.1 on a free port, run as the
unprivileged `postgres` user when the caller is root (PostgreSQL refuses root). Stopped
and removed when the context ends.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

NEEDED = ("initdb", "pg_ctl", "pg_dump", "psql")


def tool(name: str) -> str | None:
    """A PostgreSQL program on PATH or in Debian's versioned folder."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def missing() -> list[str]:
    return [name for name in NEEDED if tool(name) is None]


@dataclass
class PG:
    host: str
    port: int
    user: str
    password: str
    folder: Path
    run_as: list[str]

    def url(self, name: str) -> str:
        """The database URL without the password (sitrep refuses one in a URL)."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{name}"

    def create(self, name: str) -> str:
        subprocess.run(
            [
                tool("psql") or "psql",
                "-h",
                self.host,
                "-p",
                str(self.port),
                "-U",
                self.user,
                "-d",
                "postgres",
                "-c",
                f'create database "{name}"',
            ],
            env={**os.environ, "PGPASSWORD": self.password},
            check=True,
            capture_output=True,
        )
        return self.url(name)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def throwaway() -> Iterator[PG]:
    """Start a PostgreSQL server; stop it and delete its folder at the end."""
    gone = missing()
    if gone:
        raise RuntimeError(
            f"PostgreSQL is not installed (no {', '.join(gone)}): run `make setup-postgres`"
        )
    initdb, pg_ctl = tool("initdb") or "initdb", tool("pg_ctl") or "pg_ctl"
    folder = Path(tempfile.mkdtemp(prefix="sitrep-pg-"))
    run_as: list[str] = []
    owner = None
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(folder, owner.pw_uid, owner.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    password = secrets.token_urlsafe(16)
    pwfile = folder / "pw"
    fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(password)
    if owner is not None:
        os.chown(pwfile, owner.pw_uid, -1)
    port = free_port()
    data = folder / "data"
    try:
        subprocess.run(
            [
                *run_as,
                initdb,
                "-D",
                str(data),
                "-U",
                "sitrep",
                "--auth=scram-sha-256",
                f"--pwfile={pwfile}",
                "-E",
                "UTF8",
            ],
            check=True,
            capture_output=True,
        )
        pwfile.unlink()
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder}"
        subprocess.run(
            [
                *run_as,
                pg_ctl,
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(folder / "log"),
                "-w",
                "start",
            ],
            check=True,
            capture_output=True,
        )
        yield PG("127.0.0.1", port, "sitrep", password, folder, run_as)
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                [*run_as, pg_ctl, "-D", str(data), "-m", "fast", "stop"], capture_output=True
            )
        shutil.rmtree(folder, ignore_errors=True)
