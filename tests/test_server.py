"""The embedded Label Studio, against a real server started once for the session.

The server runs from `.venv-ls` (`make setup-ls`). A `sitecustomize` audit hook, put on the
server's PYTHONPATH by the fixture only, records every outgoing connection and name lookup,
so the tests can show start-up and use talk to nothing but loopback.
"""

from __future__ import annotations

import http.cookiejar
import http.server
import json
import os
import re
import socket
import stat
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from tests_support import LS, STRAY
from typer.testing import CliRunner

from sitrep.annotate.labelstudio import server
from sitrep.annotate.labelstudio.server import Connection, Reason
from sitrep.annotate_cli import annotate_app
from sitrep.errors import ConfigError

pytestmark = pytest.mark.label_studio

REPO = Path(__file__).resolve().parents[1]


def _listening(port: int) -> list[tuple[str, int]]:
    """(local address, socket inode) of every TCP socket listening on `port`."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].rsplit(":", 1)
            if fields[3] == "0A" and int(port_hex, 16) == port:
                found.append((address, int(fields[9])))
    return found


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd)
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def _secrets_absent(text: str, creds: server.Credentials) -> None:
    assert creds.password not in text
    assert creds.token not in text


# --- the running server -----------------------------------------------------------------


def test_serve_answers_health_on_loopback_only(ls: LS) -> None:
    state = ls.state
    assert state.url == f"http://127.0.0.1:{state.port}"
    with urllib.request.urlopen(f"{state.url}/health", timeout=5) as response:
        assert response.status == 200
    sockets = _listening(state.port)
    assert sockets, f"nothing listens on port {state.port}"
    assert {address for address, _ in sockets} == {"0100007F"}  # 127.0.0.1, nothing else
    assert {inode for _, inode in sockets} <= _socket_inodes(state.pid)


def test_credentials_are_private_and_the_token_works_with_the_api(ls: LS) -> None:
    file = ls.data_dir / server.CREDENTIALS
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert stat.S_IMODE(ls.data_dir.stat().st_mode) == 0o700
    stored = json.loads(file.read_text(encoding="utf-8"))
    assert stored["email"] == server.ADMIN_EMAIL
    assert len(stored["token"]) == 40 and len(stored["password"]) >= 24
    # the SDK's legacy-token call, made directly (label-studio-sdk is not a dependency yet)
    request = urllib.request.Request(
        f"{ls.state.url}/api/current-user/whoami",
        headers={"Authorization": f"Token {stored['token']}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.loads(response.read())["email"] == server.ADMIN_EMAIL


def test_secrets_never_reach_the_command_line_the_state_or_the_log(ls: LS) -> None:
    cmdline = Path(f"/proc/{ls.state.pid}/cmdline").read_bytes().decode()
    assert "label-studio" in cmdline and "--internal-host\x00127.0.0.1" in cmdline
    _secrets_absent(cmdline, ls.creds)
    _secrets_absent((ls.data_dir / server.STATE).read_text(encoding="utf-8"), ls.creds)
    _secrets_absent((ls.data_dir / server.LOG).read_text(encoding="utf-8"), ls.creds)


def test_the_server_gets_sitrep_settings_not_the_callers_label_studio_ones(ls: LS) -> None:
    environ = Path(f"/proc/{ls.state.pid}/environ").read_bytes().decode().split("\0")
    assert STRAY not in "\n".join(environ)
    for key, value in server.QUIET_ENV.items():
        assert f"{key}={value}" in environ


def test_startup_and_use_connect_to_loopback_only(ls: LS) -> None:
    for path in ("/health", "/user/login/", "/api/projects/"):
        request = urllib.request.Request(
            f"{ls.state.url}{path}", headers={"Authorization": f"Token {ls.creds.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
    time.sleep(1)  # Label Studio sends its telemetry from a thread
    records = [json.loads(line) for line in ls.net_log.read_text().splitlines()]
    assert records[0]["event"] == "loaded", "the audit hook did not load in the server"
    outside = [
        r
        for r in records[1:]
        if not any(
            loopback in r["value"]
            for loopback in ("'127.0.0.1'", "'localhost'", "'::1'", "'/", "'\\x00")
        )
    ]
    assert outside == []


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _log_in(url: str, email: str, password: str) -> tuple[int, int]:
    """Log in through the form as a browser does: (status of the form post, status of
    /api/current-user/whoami in that browser session afterwards)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
    with opener.open(f"{url}/user/login/", timeout=10) as page:
        html = page.read().decode()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "no CSRF token in the login form"
    form = {"csrfmiddlewaretoken": match.group(1), "email": email, "password": password}
    request = urllib.request.Request(
        f"{url}/user/login/",
        data=urllib.parse.urlencode(form).encode(),
        headers={"Referer": f"{url}/user/login/"},
    )
    return _status(opener, request), _status(opener, f"{url}/api/current-user/whoami")


def _status(opener: urllib.request.OpenerDirector, request: urllib.request.Request | str) -> int:
    try:
        with opener.open(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_admin_logs_in_with_the_stored_password_and_only_with_it(ls: LS) -> None:
    assert _log_in(ls.state.url, server.ADMIN_EMAIL, ls.creds.password) == (302, 200)
    posted, whoami = _log_in(ls.state.url, server.ADMIN_EMAIL, "not-the-password")
    assert posted == 200 and whoami in (401, 403)


# --- the command line -------------------------------------------------------------------


def test_cli_serve_when_running_reports_without_secrets(ls: LS) -> None:
    result = CliRunner().invoke(annotate_app, ["serve", "--data-dir", str(ls.data_dir)])
    assert result.exit_code == 0, result.output
    assert f"already running at {ls.state.url}" in result.output
    assert server.ADMIN_EMAIL in result.output and "credentials.json" in result.output
    _secrets_absent(result.output, ls.creds)


def test_cli_serve_shows_credentials_only_when_asked(ls: LS) -> None:
    args = ["serve", "--data-dir", str(ls.data_dir), "--show-credentials"]
    result = CliRunner().invoke(annotate_app, args)
    assert result.exit_code == 0, result.output
    assert ls.creds.password in result.output and ls.creds.token in result.output


def test_cli_status_json_says_running(ls: LS) -> None:
    args = ["status", "--data-dir", str(ls.data_dir), "--format", "json"]
    result = CliRunner().invoke(annotate_app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["running"], report["healthy"]) == (True, True)
    assert report["server"]["pid"] == ls.state.pid and report["server"]["url"] == ls.state.url
    assert report["username"] == server.ADMIN_EMAIL
    _secrets_absent(result.output, ls.creds)


def test_every_command_has_an_example() -> None:
    for command in annotate_app.registered_commands:
        assert command.callback is not None and command.callback.__doc__
        assert "Example: sitrep annotate " in command.callback.__doc__


# --- connections: resolution and failures -----------------------------------------------


def test_the_embedded_server_is_the_connection_when_nothing_else_is_set(
    ls: LS, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(ls.root / "no-config"))
    conn = server.connection(ls.root, environ={"XDG_CONFIG_HOME": str(ls.root / "no-config")})
    assert (conn.url, conn.token) == (ls.state.url, ls.creds.token)
    assert "embedded" in conn.source and ls.creds.token not in repr(conn)
    assert server.check_connection(conn)["email"] == server.ADMIN_EMAIL


def _silent_listener() -> tuple[socket.socket, int]:
    """A socket that accepts connections (the kernel does) but never answers."""
    silent = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    return silent, silent.getsockname()[1]


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def other_http_server() -> Iterator[str]:
    """A web server on 127.0.0.1 that is not Label Studio (a plain HTML page everywhere)."""

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<html><body>hello</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _failure(conn: Connection, timeout: float = 5.0) -> tuple[server.ConnectionFailed, float]:
    began = time.monotonic()
    with pytest.raises(server.ConnectionFailed) as caught:
        server.check_connection(conn, timeout=timeout)
    return caught.value, time.monotonic() - began


def test_wrong_token_is_named_as_such_fast(ls: LS) -> None:
    error, seconds = _failure(Connection(ls.state.url, "0" * 40))
    assert error.reason is Reason.wrong_token and seconds < 10
    assert "token was refused" in str(error)


def test_wrong_path_on_the_right_server_is_a_wrong_url(ls: LS) -> None:
    error, seconds = _failure(Connection(f"{ls.state.url}/label-studio", ls.creds.token))
    assert error.reason is Reason.wrong_url and seconds < 10


def test_a_server_that_is_not_label_studio_is_a_wrong_url(other_http_server: str) -> None:
    error, seconds = _failure(Connection(other_http_server, "0" * 40))
    assert error.reason is Reason.wrong_url and seconds < 10
    assert "not with JSON" in str(error)


def test_a_server_that_is_down_is_named_as_such_fast() -> None:
    error, seconds = _failure(Connection(f"http://127.0.0.1:{_closed_port()}", "0" * 40))
    assert error.reason is Reason.server_down and seconds < 10
    assert "sitrep annotate serve" in str(error)


def test_a_server_that_never_answers_times_out() -> None:
    silent, port = _silent_listener()
    try:
        error, seconds = _failure(Connection(f"http://127.0.0.1:{port}", "0" * 40), timeout=2)
    finally:
        silent.close()
    assert error.reason is Reason.timeout and seconds < 10


def test_the_environment_wins(tmp_path: Path) -> None:
    env = {"LABEL_STUDIO_URL": "http://127.0.0.1:9/", "LABEL_STUDIO_API_KEY": "abc"}
    _write_config(tmp_path / ".sitrep" / "label-studio.json", 0o600)
    conn = server.connection(tmp_path, environ=env)
    assert (conn.url, conn.token) == ("http://127.0.0.1:9", "abc")
    assert conn.source.startswith("environment")


def test_half_an_environment_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="both LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY"):
        server.connection(tmp_path, environ={"LABEL_STUDIO_URL": "http://127.0.0.1:9"})


def _write_config(file: Path, mode: int) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(json.dumps({"url": "http://127.0.0.1:9", "api_key": "k" * 40}))
    file.chmod(mode)


@pytest.mark.parametrize("where", ["project", "user"])
def test_a_private_config_file_is_used(tmp_path: Path, where: str) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    file = server.config_files(tmp_path, env)[0 if where == "project" else 1]
    _write_config(file, 0o600)
    conn = server.connection(tmp_path, environ=env)
    assert (conn.url, conn.token, conn.source) == ("http://127.0.0.1:9", "k" * 40, str(file))


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_a_config_file_others_can_read_is_refused(tmp_path: Path, mode: int) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    file = server.config_files(tmp_path, env)[1]
    _write_config(file, mode)
    with pytest.raises(server.InsecureFile, match=f"chmod 600 {file}") as caught:
        server.connection(tmp_path, environ=env)
    assert caught.value.mode == mode


def test_no_server_at_all_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="sitrep annotate serve"):
        server.connection(tmp_path, environ={"XDG_CONFIG_HOME": str(tmp_path / "xdg")})


# --- credentials, executable, ports: no server needed ------------------------------------


def test_first_credentials_are_generated_once_with_mode_0600(tmp_path: Path) -> None:
    first = server.ensure_credentials(tmp_path)
    assert stat.S_IMODE((tmp_path / server.CREDENTIALS).stat().st_mode) == 0o600
    assert server.ensure_credentials(tmp_path) == first
    assert first.token != server.new_credentials().token


def test_readable_credentials_are_refused(tmp_path: Path) -> None:
    server.ensure_credentials(tmp_path)
    (tmp_path / server.CREDENTIALS).chmod(0o644)
    with pytest.raises(server.InsecureFile):
        server.load_credentials(tmp_path)


def test_a_database_without_credentials_is_refused(tmp_path: Path) -> None:
    (tmp_path / server.DATABASE).write_bytes(b"")
    with pytest.raises(ConfigError, match="cannot know its admin password"):
        server.ensure_credentials(tmp_path)


def test_command_and_environment_carry_secrets_only_in_the_environment(tmp_path: Path) -> None:
    creds = server.new_credentials()
    command = server.server_command(Path("/x/label-studio"), 8123)
    assert creds.password not in " ".join(command) and creds.token not in " ".join(command)
    assert command[command.index("--internal-host") + 1] == "127.0.0.1"
    assert "--no-browser" in command and "--enable-legacy-api-token" in command
    base = {"PATH": "/bin", "LABEL_STUDIO_URL": "http://x", "HEARTEX_DEBUG": "1", "HOST": "h"}
    env = server.server_env(tmp_path, creds, base)
    assert "LABEL_STUDIO_URL" not in env and "HEARTEX_DEBUG" not in env
    assert env["LABEL_STUDIO_PASSWORD"] == creds.password
    assert env["LABEL_STUDIO_USER_TOKEN"] == creds.token
    assert env["LABEL_STUDIO_LATEST_VERSION_CHECK"] == "false"
    assert env["LABEL_STUDIO_BASE_DATA_DIR"] == str(tmp_path)


def test_a_missing_executable_names_the_make_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(server.EXECUTABLE_ENV, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(server.LabelStudioNotInstalled, match="make setup-ls"):
        server.find_executable(tmp_path)
    monkeypatch.setenv("SITREP_HOME", str(tmp_path))
    with pytest.raises(server.LabelStudioNotInstalled, match="make setup-ls"):
        server.serve(tmp_path / "data")
    assert not (tmp_path / "data" / server.CREDENTIALS).exists()  # nothing written first
    monkeypatch.setenv(server.EXECUTABLE_ENV, str(tmp_path / "nope"))
    with pytest.raises(server.LabelStudioNotInstalled, match=server.EXECUTABLE_ENV):
        server.find_executable(tmp_path)


def test_a_taken_port_is_refused_or_avoided() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=f"port {port}"):
            server.choose_port(port)
        assert server.choose_port(None) != port


def test_a_second_serve_on_the_same_data_dir_waits_its_turn(tmp_path: Path) -> None:
    import fcntl

    with open(tmp_path / ".serve.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(ConfigError, match="another `sitrep annotate serve`"):
            server.serve(tmp_path, executable=Path("/bin/false"))
    assert not (tmp_path / server.STATE).exists()


# --- stopping: only what sitrep started ----------------------------------------------------


def test_stop_never_signals_a_process_that_is_not_the_recorded_server(
    ls: LS, tmp_path: Path
) -> None:
    bystander = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        fake = ls.state
        server.write_state(tmp_path, replace(fake, pid=bystander.pid, pgid=bystander.pid))
        assert server.status(tmp_path).running is False
        assert server.stop(tmp_path).signal is None
        reused = replace(fake, proc_start="1")  # the live server's PID, another start time
        server.write_state(tmp_path, reused)
        assert server.stop(tmp_path).signal is None
        assert bystander.poll() is None and server.health(ls.state.url)
    finally:
        bystander.kill()
        bystander.wait()


def test_stop_then_status_says_not_running_and_serve_again_reuses_the_account(ls: LS) -> None:
    """Runs last: it stops the session's server and starts it again."""
    before = ls.state
    stopped = server.stop(ls.data_dir)
    assert (stopped.pid, stopped.signal) == (before.pid, "SIGTERM")
    assert not Path(f"/proc/{before.pid}").exists()  # gone, and reaped: it was our child
    assert not server.health(before.url, timeout=2)
    result = CliRunner().invoke(annotate_app, ["status", "--data-dir", str(ls.data_dir)])
    assert result.exit_code == 1 and "no Label Studio started by sitrep" in result.output
    error, seconds = _failure(Connection(before.url, ls.creds.token))
    assert error.reason is Reason.server_down and seconds < 10
    assert server.stop(ls.data_dir).pid is None  # nothing left to stop

    again = server.serve(ls.data_dir, timeout=300, executable=Path(before.executable))
    assert not again.already_running and again.credentials == ls.creds
    assert again.account["email"] == server.ADMIN_EMAIL
