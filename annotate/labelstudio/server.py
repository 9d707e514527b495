"""The Label Studio server annotators work in, and the connection to any Label Studio.

`serve` starts a real Label Studio (the `label-studio` package, installed in its own
virtual environment `.venv-ls/` because its pins clash with ours) on 127.0.0.1 with SQLite
in a local data directory. The admin account and API token are generated on first run,
kept in `<data dir>/credentials.json` (mode 0600) and handed to the server through its
environment only. `stop` and `status` work from any process through `<data dir>/server.json`.

`connection()` tells later code (push, pull) which server to talk to: an existing one
(`LABEL_STUDIO_URL` + `LABEL_STUDIO_API_KEY`, or a 0600 config file) or the embedded one.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sitrep import paths
from sitrep.annotate.labelstudio import database
from sitrep.annotate.labelstudio.database import Database
from sitrep.annotate.labelstudio.defaults import HEALTH_TIMEOUT, STOP_GRACE
from sitrep.errors import ConfigError, SitrepError
from sitrep.fileio import write_atomic

HOST = "127.0.0.1"
DEFAULT_PORT = 8080
ADMIN_EMAIL = "sitrep-admin@localhost"
EXECUTABLE_ENV = "SITREP_LABEL_STUDIO"
SETUP_HINT = "make setup-ls"
CREDENTIALS = "credentials.json"
STATE = "server.json"
LOG = "server.log"
DATABASE = database.SQLITE_FILE

# Label Studio 1.23.2's SSRF block list (`validate_ip` in label_studio/core/utils/io.py)
# without 127.0.0.0/8; tests/test_mlbackend.py compares it with the installed Label Studio.
BANNED_BUT_LOOPBACK = (
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.88.99.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "233.252.0.0/24",
    "240.0.0.0/4",
    "255.255.255.255/32",
    "::/128",
    "::1/128",
    "::ffff:0:0/96",
    "::ffff:0:0:0/96",
    "64:ff9b::/96",
    "64:ff9b:1::/48",
    "100::/64",
    "2001:0000::/32",
    "2001:20::/28",
    "2001:db8::/32",
    "2002::/16",
    "fc00::/7",
    "fe80::/10",
    "ff00::/8",
)

# What the embedded server must not do on its own. Label Studio reads LABEL_STUDIO_<NAME>
# before the bare <NAME>, so these win over anything stray in the caller's environment.
QUIET_ENV = {
    "LABEL_STUDIO_LATEST_VERSION_CHECK": "false",  # GET pypi.org at import, 10 s timeout
    "LABEL_STUDIO_SENTRY_DSN": "",  # backend errors and traces go to sentry.io by default
    "LABEL_STUDIO_FRONTEND_SENTRY_DSN": "",  # and the browser's too
    "LABEL_STUDIO_COLLECT_ANALYTICS": "false",  # a POST to tele.labelstud.io per request
    "LABEL_STUDIO_FEATURE_FLAGS_OFFLINE": "true",  # LaunchDarkly stays offline
    "LABEL_STUDIO_CONVERTER_DOWNLOAD_RESOURCES": "false",  # exports fetch no media URLs
    "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",  # else the API token gets 401
    "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",  # other local users need an invite
    "LABEL_STUDIO_HOST": "",  # ignore a stray HOST variable
    # Label Studio's SSRF guard refuses every reserved address, loopback included, so an
    # ML backend on 127.0.0.1 (`sitrep annotate ml-backend`, and the webhook Label Studio
    # adds for it) cannot be registered. This server binds 127.0.0.1 and admits invited
    # users only: it allows loopback and keeps every other subnet of the guard banned.
    "LABEL_STUDIO_USE_DEFAULT_BANNED_SUBNETS": "false",
    "LABEL_STUDIO_USER_ADDITIONAL_BANNED_SUBNETS": ",".join(BANNED_BUT_LOOPBACK),
    "PYTHONUNBUFFERED": "1",  # the log shows the start-up line as it happens
}
# Whatever outgoing HTTP is left (the interface's "tips" are proxied by the server from
# raw.githubusercontent.com, with a 5 s timeout) goes to a closed port on loopback and
# fails at once: no name lookup, no packet leaves the machine. Loopback stays direct.
NO_OUTSIDE = "http://127.0.0.1:9"
PROXY_ENV = {
    name: value
    for upper, value in (
        ("HTTP_PROXY", NO_OUTSIDE),
        ("HTTPS_PROXY", NO_OUTSIDE),
        ("ALL_PROXY", NO_OUTSIDE),
        ("NO_PROXY", "127.0.0.1,localhost,::1"),
    )
    for name in (upper, upper.lower())
}


# --- errors ------------------------------------------------------------------------------


class LabelStudioNotInstalled(ConfigError):
    """The `label-studio` executable cannot be found."""


class InsecureFile(ConfigError):
    """A file holding a secret can be read by other users."""

    def __init__(self, path: Path, mode: int) -> None:
        super().__init__(
            f"{path} holds a Label Studio token but has mode {mode:04o}, readable by other "
            f"users; refusing to use it. Run `chmod 600 {path}` (and rotate the token if "
            "others may have read it)."
        )
        self.path = path
        self.mode = mode


class ServerStartError(SitrepError):
    """The embedded Label Studio did not start or did not become healthy in time."""


class Reason(StrEnum):
    """Why a Label Studio server could not be used (stable codes for tests and scripts)."""

    server_down = "server_down"
    wrong_url = "wrong_url"
    wrong_token = "wrong_token"
    legacy_tokens_disabled = "legacy_tokens_disabled"
    timeout = "timeout"
    server_error = "server_error"
    refused = "refused"  # the server answered 400/409: it will not do what was asked


class ConnectionFailed(SitrepError):
    """A Label Studio server did not accept the connection, the URL or the token."""

    def __init__(self, reason: Reason, url: str, detail: str) -> None:
        super().__init__(f"Label Studio at {url}: {detail}")
        self.reason = reason
        self.url = url
        self.detail = detail


# --- data ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    """The embedded server's admin account. Label Studio logs in by e-mail."""

    email: str
    password: str = field(repr=False)
    token: str = field(repr=False)
    created: str = ""


@dataclass(frozen=True)
class Connection:
    """Where a Label Studio is and the API token to use; `source` says where both came from."""

    url: str
    token: str = field(repr=False)
    source: str = ""


@dataclass(frozen=True)
class ServerState:
    """What `serve` started, as recorded in `<data dir>/server.json`."""

    pid: int
    pgid: int
    proc_start: str
    port: int
    url: str
    started: str
    executable: str
    data_dir: str
    log: str


@dataclass(frozen=True)
class Started:
    state: ServerState
    credentials: Credentials
    account: dict[str, Any]
    seconds: float
    already_running: bool = False


@dataclass(frozen=True)
class Stopped:
    pid: int | None
    signal: str | None
    note: str


@dataclass(frozen=True)
class Status:
    data_dir: Path
    state: ServerState | None
    running: bool
    healthy: bool
    note: str
    credentials_file: Path | None
    username: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "data_dir": str(self.data_dir),
            "running": self.running,
            "healthy": self.healthy,
            "note": self.note,
            "server": asdict(self.state) if self.state else None,
            "username": self.username,
            "credentials_file": str(self.credentials_file) if self.credentials_file else None,
        }


Progress = Callable[[float, float, str], None]  # (elapsed s, timeout s, what is awaited)


# --- paths --------------------------------------------------------------------------------


def default_data_dir(root: Path | None = None) -> Path:
    """`<root>/.sitrep/label-studio`: the embedded server's SQLite, media and secrets."""
    return (root or paths.project_root()) / ".sitrep" / "label-studio"


def config_files(root: Path | None = None, environ: Mapping[str, str] | None = None) -> list[Path]:
    """Config files naming an existing server, most specific first."""
    env = os.environ if environ is None else environ
    user = Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return [
        (root or paths.project_root()) / ".sitrep" / "label-studio.json",
        user / "sitrep" / "label-studio.json",
    ]


def find_executable(root: Path | None = None) -> Path:
    """$SITREP_LABEL_STUDIO, else `<root>/.venv-ls/bin/label-studio`, else PATH."""
    configured = os.environ.get(EXECUTABLE_ENV)
    if configured:
        found = Path(configured)
        if found.is_file() and os.access(found, os.X_OK):
            return found
        raise LabelStudioNotInstalled(
            f"${EXECUTABLE_ENV} is {configured!r}, which is not an executable file"
        )
    local = (root or paths.project_root()) / ".venv-ls" / "bin" / "label-studio"
    if local.is_file() and os.access(local, os.X_OK):
        return local
    on_path = shutil.which("label-studio")
    if on_path:
        return Path(on_path)
    raise LabelStudioNotInstalled(
        f"Label Studio is not installed: run `{SETUP_HINT}` (it creates {local.parent.parent} "
        f"with the pinned label-studio), or set ${EXECUTABLE_ENV} to a label-studio executable"
    )


# --- secrets ------------------------------------------------------------------------------


def check_private(path: Path) -> None:
    """Refuse a secret file that other users can read or that someone else owns."""
    info = path.stat()
    if info.st_mode & 0o077 or info.st_uid != os.getuid():
        raise InsecureFile(path, stat.S_IMODE(info.st_mode))


def new_credentials() -> Credentials:
    # A DRF token key is at most 40 characters: 20 random bytes in hex fill it exactly.
    return Credentials(
        email=ADMIN_EMAIL,
        password=secrets.token_urlsafe(24),
        token=secrets.token_hex(20),
        created=_now(),
    )


def load_credentials(data_dir: Path) -> Credentials | None:
    file = data_dir / CREDENTIALS
    if not file.exists():
        return None
    check_private(file)
    data = json.loads(file.read_text(encoding="utf-8"))
    return Credentials(data["email"], data["password"], data["token"], data.get("created", ""))


def ensure_credentials(data_dir: Path) -> Credentials:
    """The admin account of the server in `data_dir`, generated on first run (mode 0600)."""
    existing = load_credentials(data_dir)
    if existing:
        return existing
    if (data_dir / DATABASE).exists():
        raise ConfigError(
            f"{data_dir} has a Label Studio database but no {CREDENTIALS}, so sitrep cannot "
            f"know its admin password. Restore {data_dir / CREDENTIALS}, or move {data_dir} "
            "away to start an empty server."
        )
    creds = new_credentials()
    file = data_dir / CREDENTIALS
    write_atomic(file, json.dumps(asdict(creds), indent=2) + "\n", mode=0o600)
    if stat.S_IMODE(file.stat().st_mode) != 0o600:
        raise OSError(f"{file} was written but its mode is not 0600")
    return creds


# --- starting -----------------------------------------------------------------------------


def server_env(
    data_dir: Path,
    creds: Credentials,
    base: Mapping[str, str] | None = None,
    db: Database | None = None,
) -> dict[str, str]:
    """The server's environment: the caller's, less any Label Studio settings and client
    tokens, plus the data dir, the account, the database (SQLite in the data dir unless
    `db` names a PostgreSQL one) and the settings that keep it offline."""
    inherited = os.environ if base is None else base
    env = {
        key: value
        for key, value in inherited.items()
        if not key.startswith(("LABEL_STUDIO_", "HEARTEX_")) and key != "DJANGO_SETTINGS_MODULE"
    }
    env.update(QUIET_ENV)
    env.update(PROXY_ENV)
    env["LABEL_STUDIO_BASE_DATA_DIR"] = str(data_dir)
    env["LABEL_STUDIO_USERNAME"] = creds.email
    env["LABEL_STUDIO_PASSWORD"] = creds.password
    env["LABEL_STUDIO_USER_TOKEN"] = creds.token
    if db is not None:
        env.update(db.env(dict(inherited)))
    return env


def server_command(executable: Path, port: int) -> list[str]:
    """The command line: no secret ever goes on it (other users can read it in ps)."""
    return [
        str(executable),
        "start",
        "--no-browser",
        "--port",
        str(port),
        "--internal-host",
        HOST,
        "--enable-legacy-api-token",
    ]


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the server will: a port lingering in TIME_WAIT after a stop is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def choose_port(requested: int | None) -> int:
    """`requested` if free (else an error), or 8080 if free, or any free port."""
    if requested is not None:
        if not port_is_free(requested):
            raise ConfigError(
                f"port {requested} on {HOST} is taken: choose another --port, or leave it out"
            )
        return requested
    if port_is_free(DEFAULT_PORT):
        return DEFAULT_PORT
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def serve(
    data_dir: Path | None = None,
    port: int | None = None,
    timeout: float = HEALTH_TIMEOUT,
    progress: Progress | None = None,
    executable: Path | None = None,
    database_url: str | None = None,
) -> Started:
    """Start the embedded Label Studio (or find it already running) and wait until it is
    healthy and its API token works. `executable` defaults to `find_executable()`;
    `database_url` (postgresql://USER@HOST:PORT/NAME) puts its data in PostgreSQL instead
    of SQLite, and the data folder remembers it."""
    folder = (data_dir or default_data_dir()).resolve()
    _make_private_dir(folder)
    with _exclusive(folder):
        db = database.choose(folder, database_url)
        return _serve_locked(folder, port, timeout, progress, executable, db)


def _serve_locked(
    folder: Path,
    port: int | None,
    timeout: float,
    progress: Progress | None,
    executable: Path | None,
    db: Database | None = None,
) -> Started:
    running = _live_state(folder)
    if running:
        creds = ensure_credentials(folder)
        account = check_connection(Connection(running.url, creds.token, "embedded"))
        return Started(running, creds, account, 0.0, already_running=True)
    executable = executable or find_executable()
    creds = ensure_credentials(folder)
    began = time.monotonic()
    state = _launch(executable, folder, creds, choose_port(port), db)
    try:
        state = _await_healthy(state, timeout, began, progress)
        account = check_connection(Connection(state.url, creds.token, "embedded"))
    except BaseException:
        _terminate(state, STOP_GRACE)
        (folder / STATE).unlink(missing_ok=True)
        raise
    return Started(state, creds, account, time.monotonic() - began)


def _launch(
    executable: Path, folder: Path, creds: Credentials, port: int, db: Database | None = None
) -> ServerState:
    log = folder / LOG
    env = server_env(folder, creds, db=db)
    with open(log, "ab") as out:
        process = subprocess.Popen(
            server_command(executable, port),
            env=env,
            cwd=folder,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group; the terminal's Ctrl-C is not its
        )
    identity = _process_identity(process.pid)
    state = ServerState(
        pid=process.pid,
        pgid=os.getpgid(process.pid),
        proc_start=identity[1] if identity else "",
        port=port,
        url=f"http://{HOST}:{port}",
        started=_now(),
        executable=str(executable),
        data_dir=str(folder),
        log=str(log),
    )
    write_state(folder, state)
    return state


def _await_healthy(
    state: ServerState, timeout: float, began: float, progress: Progress | None
) -> ServerState:
    log = Path(state.log)
    offset = log.stat().st_size if log.exists() else 0
    announced = False
    while True:
        elapsed = time.monotonic() - began
        if not _alive(state):
            raise ServerStartError(
                f"Label Studio exited during start-up; the end of {log}:\n" + _log_tail(log)
            )
        announced = announced or _announced(state, _read_from(log, offset))
        if announced and health(state.url, timeout=2.0):
            return state
        if elapsed > timeout:
            raise ServerStartError(
                f"Label Studio did not answer {state.url}/health within {timeout:.0f} s "
                f"(raise --timeout on a slow machine); the end of {log}:\n" + _log_tail(log)
            )
        if progress:
            progress(elapsed, timeout, "waiting for /health" if announced else "loading")
        time.sleep(0.5)


def _announced(state: ServerState, log_text: str) -> bool:
    """Whether the server has said where it listens; an error if not where we asked.

    Label Studio silently moves to the next port when its port is taken (a race with
    `choose_port`), and /health on our port might then be someone else's server."""
    marker = "Starting development server at "
    if marker not in log_text:
        return False
    where = log_text.split(marker, 1)[1].split()[0].rstrip("/")
    if where != state.url:
        raise ServerStartError(
            f"Label Studio started at {where} instead of {state.url} (the port was taken "
            "meanwhile) and was stopped; run `sitrep annotate serve` again"
        )
    return True


# --- state, status, stop ------------------------------------------------------------------


def write_state(data_dir: Path, state: ServerState) -> None:
    write_atomic(data_dir / STATE, json.dumps(asdict(state), indent=2) + "\n", mode=0o600)


def read_state(data_dir: Path) -> ServerState | None:
    file = data_dir / STATE
    if not file.exists():
        return None
    return ServerState(**json.loads(file.read_text(encoding="utf-8")))


def status(data_dir: Path | None = None) -> Status:
    """What sitrep started in `data_dir`: running or not, and whether /health answers."""
    folder = (data_dir or default_data_dir()).resolve()
    state = read_state(folder)
    creds_file = folder / CREDENTIALS
    username = _username(folder)
    if state is None:
        note = f"no Label Studio started by sitrep in {folder}"
        return Status(folder, None, False, False, note, None, username)
    if not _alive(state):
        note = f"not running: process {state.pid} is gone (the state file is stale)"
        return Status(folder, state, False, False, note, creds_file, username)
    healthy = health(state.url)
    note = f"running at {state.url}" + ("" if healthy else ", but /health does not answer")
    return Status(folder, state, True, healthy, note, creds_file, username)


def stop(data_dir: Path | None = None, grace: float = STOP_GRACE) -> Stopped:
    """Stop the server sitrep started in `data_dir`: SIGTERM to its process group, SIGKILL
    after `grace` seconds. Nothing is signalled unless the recorded PID is still that
    Label Studio (same command, same start time)."""
    folder = (data_dir or default_data_dir()).resolve()
    state = read_state(folder)
    if state is None:
        return Stopped(None, None, f"no Label Studio started by sitrep in {folder}")
    if not _alive(state):
        (folder / STATE).unlink(missing_ok=True)
        return Stopped(state.pid, None, f"process {state.pid} had already stopped")
    used = _terminate(state, grace)
    (folder / STATE).unlink(missing_ok=True)
    return Stopped(state.pid, used, f"stopped Label Studio (pid {state.pid}) with {used}")


def _terminate(state: ServerState, grace: float) -> str:
    if not _alive(state):
        return "nothing (already gone)"
    os.killpg(state.pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not _alive(state):
            _wait_gone(state.pid)
            return "SIGTERM"
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(state.pgid, signal.SIGKILL)
    while _alive(state):
        time.sleep(0.1)
    _wait_gone(state.pid)
    return "SIGKILL"


def _wait_gone(pid: int, timeout: float = 5.0) -> None:
    """Wait until the exited server is released: a multi-threaded process shows as a
    zombie while its last threads exit, and holds its port and files until then."""
    proc = Path(f"/proc/{pid}")
    deadline = time.monotonic() + timeout
    while proc.exists() and time.monotonic() < deadline:
        _reap(pid)
        time.sleep(0.05)


def _live_state(folder: Path) -> ServerState | None:
    state = read_state(folder)
    if state and _alive(state):
        return state
    if state:
        (folder / STATE).unlink(missing_ok=True)
    return None


def _alive(state: ServerState) -> bool:
    """True while the recorded PID is still the Label Studio that sitrep started."""
    _reap(state.pid)
    identity = _process_identity(state.pid)
    if identity is None:
        _reap(state.pid)  # it may have died between the two looks
        return False
    cmdline, started = identity
    ours = "label-studio" in cmdline or state.executable in cmdline
    return ours and (not state.proc_start or started == state.proc_start)


def _reap(pid: int) -> None:
    # A child of this very process (tests, --foreground) lingers as a zombie until reaped.
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _process_identity(pid: int) -> tuple[str, str] | None:
    """(command line, start time) of a live, non-zombie process, or None."""
    proc = Path(f"/proc/{pid}")
    if Path("/proc/self").exists():
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            return None
        return None if fields[0] == "Z" else (cmdline, fields[19])
    result = subprocess.run(
        ["ps", "-o", "stat=", "-o", "lstart=", "-o", "command=", "-p", str(pid)],
        capture_output=True,
        text=True,
        check=False,
    )
    parts = result.stdout.split(None, 6)
    if result.returncode != 0 or len(parts) < 7 or parts[0].startswith("Z"):
        return None
    return parts[6], " ".join(parts[1:6])


# --- talking to a server ------------------------------------------------------------------


def connection(root: Path | None = None, environ: Mapping[str, str] | None = None) -> Connection:
    """The Label Studio to use: LABEL_STUDIO_URL + LABEL_STUDIO_API_KEY from the
    environment, else the first config file of `config_files()` (mode 0600, JSON with
    "url" and "api_key"), else the embedded server if it is running."""
    env = os.environ if environ is None else environ
    url, key = env.get("LABEL_STUDIO_URL"), env.get("LABEL_STUDIO_API_KEY")
    if url or key:
        if not (url and key):
            raise ConfigError("set both LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY, or neither")
        return Connection(_clean_url(url), key, "environment (LABEL_STUDIO_URL)")
    files = config_files(root, env)
    for file in files:
        if file.exists():
            return _from_config_file(file)
    return _embedded_connection(root, files)


def _from_config_file(file: Path) -> Connection:
    check_private(file)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        return Connection(_clean_url(data["url"]), str(data["api_key"]), str(file))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(
            f'{file} must be JSON like {{"url": "https://...", "api_key": "..."}}: {exc}'
        ) from exc


def _embedded_connection(root: Path | None, files: list[Path]) -> Connection:
    folder = default_data_dir(root)
    state = _live_state(folder) if folder.exists() else None
    creds = load_credentials(folder) if state else None
    if state is None or creds is None:
        raise ConfigError(
            "no Label Studio to talk to: start one with `sitrep annotate serve`, or set "
            "LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY, or write "
            f"{' or '.join(str(f) for f in files)} (mode 0600)"
        )
    return Connection(state.url, creds.token, f"embedded server ({folder})")


def health(url: str, timeout: float = 3.0) -> bool:
    """True when `GET <url>/health` answers 200."""
    try:
        with _open(urllib.request.Request(f"{url}/health"), url, timeout) as response:
            return int(response.status) == 200
    except (OSError, ValueError):
        return False


def check_connection(conn: Connection, timeout: float = 5.0) -> dict[str, Any]:
    """The account the token belongs to (`/api/current-user/whoami`), or ConnectionFailed
    with a reason code, within about `timeout` seconds per request."""
    headers = {"Authorization": _authorization(conn, timeout), "Accept": "application/json"}
    request = urllib.request.Request(f"{conn.url}/api/current-user/whoami", headers=headers)
    body = _call(request, conn.url, timeout)
    if not isinstance(body, dict) or "email" not in body:
        raise ConnectionFailed(
            Reason.wrong_url, conn.url, "answers, but not as a Label Studio API does"
        )
    return body


def _authorization(conn: Connection, timeout: float) -> str:
    """Legacy tokens go as `Token`; a personal access token (a JWT refresh token) is first
    exchanged for an access token, as the SDK does."""
    if not _is_jwt(conn.token):
        return f"Token {conn.token}"
    request = urllib.request.Request(
        f"{conn.url}/api/token/refresh/",
        data=json.dumps({"refresh": conn.token}).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    body = _call(request, conn.url, timeout)
    if not isinstance(body, dict) or "access" not in body:
        raise ConnectionFailed(Reason.wrong_url, conn.url, "no access token came back")
    return f"Bearer {body['access']}"


def _call(request: urllib.request.Request, url: str, timeout: float) -> Any:
    try:
        with _open(request, url, timeout) as response:
            raw = response.read()
    except urllib.error.HTTPError as exc:
        raise _http_failure(exc, url) from None
    except TimeoutError as exc:
        raise ConnectionFailed(Reason.timeout, url, f"no answer within {timeout:.0f} s") from exc
    except urllib.error.URLError as exc:
        raise _network_failure(exc, url, timeout) from None
    except ValueError as exc:
        raise ConnectionFailed(Reason.wrong_url, url, f"not a usable URL ({exc})") from None
    try:
        return json.loads(raw)
    except ValueError:
        raise ConnectionFailed(
            Reason.wrong_url, url, "answers, but not with JSON: is this the Label Studio URL?"
        ) from None


def _http_failure(exc: urllib.error.HTTPError, url: str) -> ConnectionFailed:
    text = exc.read(2000).decode("utf-8", errors="replace")
    if exc.code in (401, 403):
        if "legacy token" in text.lower():
            return ConnectionFailed(
                Reason.legacy_tokens_disabled,
                url,
                "legacy API tokens are disabled for this organisation: enable them "
                "(Organization > API Tokens settings, or start with --enable-legacy-api-token) "
                "or use a personal access token",
            )
        return ConnectionFailed(
            Reason.wrong_token,
            url,
            f"the API token was refused (HTTP {exc.code}): check LABEL_STUDIO_API_KEY or "
            "the config file (Account & Settings > Access Token shows the right one)",
        )
    if exc.code >= 500:
        return ConnectionFailed(Reason.server_error, url, f"server error HTTP {exc.code}")
    return ConnectionFailed(
        Reason.wrong_url,
        url,
        f"HTTP {exc.code} for {exc.url}: no Label Studio API there; check the URL "
        "(scheme, host, port, no path after it unless the server is mounted there)",
    )


def _network_failure(exc: urllib.error.URLError, url: str, timeout: float) -> ConnectionFailed:
    reason = exc.reason
    if isinstance(reason, TimeoutError):
        return ConnectionFailed(Reason.timeout, url, f"no answer within {timeout:.0f} s")
    if isinstance(reason, ConnectionRefusedError):
        return ConnectionFailed(
            Reason.server_down,
            url,
            "nothing is listening there: is the server running? (`sitrep annotate status`; "
            "start the embedded one with `sitrep annotate serve`)",
        )
    if isinstance(reason, socket.gaierror):
        return ConnectionFailed(Reason.wrong_url, url, f"the host name does not resolve ({reason})")
    return ConnectionFailed(Reason.server_down, url, f"cannot connect ({reason})")


def _open(request: urllib.request.Request, url: str, timeout: float) -> Any:
    # A proxy from the environment must never carry loopback traffic off the machine.
    host = urllib.parse.urlsplit(url).hostname or ""
    handlers = [urllib.request.ProxyHandler({})] if _is_loopback(host) else []
    return urllib.request.build_opener(*handlers).open(request, timeout=timeout)


# --- small helpers ------------------------------------------------------------------------


def _clean_url(url: str) -> str:
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ConnectionFailed(Reason.wrong_url, url, "the URL must start with http:// or https://")
    return url


def _is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


def _is_jwt(token: str) -> bool:
    parts = token.split(".")
    if len(parts) != 3:
        return False
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except ValueError:
        return False
    return isinstance(header, dict) and "alg" in header


@contextlib.contextmanager
def _exclusive(folder: Path) -> Iterator[None]:
    """One `serve` at a time per data dir: two servers on one SQLite file corrupt it."""
    with open(folder / ".serve.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(
                f"another `sitrep annotate serve` is starting the server in {folder}; wait for it"
            ) from None
        yield


def _make_private_dir(folder: Path) -> None:
    # It holds credentials.json, Label Studio's SECRET_KEY (.env) and a SQLite database
    # with the API tokens in clear, which Label Studio itself creates world-readable.
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)


def _username(folder: Path) -> str | None:
    try:
        creds = load_credentials(folder)
    except (ConfigError, OSError, ValueError, KeyError):
        return None
    return creds.email if creds else None


def _read_from(log: Path, offset: int) -> str:
    try:
        with open(log, "rb") as handle:
            handle.seek(offset)
            return handle.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return ""


def _log_tail(log: Path, lines: int = 20) -> str:
    text = _read_from(log, 0)
    return "\n".join(text.splitlines()[-lines:])


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
