"""`sitrep annotate ...`: the Label Studio server annotators work in. Each command calls one
function of `sitrep.annotate.server` and renders its result."""

from __future__ import annotations

import json
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from sitrep.annotate import server

annotate_app = typer.Typer(
    help="Label Studio for annotators: start, stop and inspect the local server.",
    no_args_is_help=True,
)

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="The server's data folder: SQLite, media, credentials (default: .sitrep/label-studio).",
        show_default=False,
    ),
]


class StatusFormat(StrEnum):
    text = "text"
    json = "json"


class _Ticker:
    """Start-up progress: a spinner on a terminal, a line every 10 s in a log (CI)."""

    def __init__(self) -> None:
        self.status = err.status("starting Label Studio") if err.is_terminal else None
        self.last = -10.0

    def __call__(self, elapsed: float, timeout: float, what: str) -> None:
        text = f"starting Label Studio: {what} ({elapsed:.0f} s of {timeout:.0f} s)"
        if self.status is not None:
            self.status.update(text)
        elif elapsed - self.last >= 10:
            err.print(text)
            self.last = elapsed


def _shown(path: Path) -> Path:
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


@annotate_app.command("serve")
def serve(
    port: Annotated[
        int | None,
        typer.Option(
            help="TCP port on 127.0.0.1 (default: 8080, or a free one if it is taken).",
            show_default=False,
        ),
    ] = None,
    data_dir: DataDir = None,
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait for the server to answer /health.")
    ] = server.HEALTH_TIMEOUT,
    show_credentials: Annotated[
        bool,
        typer.Option("--show-credentials", help="Also print the admin password and API token."),
    ] = False,
    foreground: Annotated[
        bool,
        typer.Option("--foreground", help="Stay attached; Ctrl-C stops the server."),
    ] = False,
) -> None:
    """Start the local Label Studio (SQLite, bound to 127.0.0.1) and wait until it is
    healthy. The first run creates an admin account and API token, stored with mode 0600
    in the data folder and never printed unless --show-credentials is given. Does nothing
    but report when it is already running. Needs `make setup-ls` once.

    Example: sitrep annotate serve --port 8080
    """
    ticker = _Ticker()
    if ticker.status is not None:
        ticker.status.start()
    try:
        started = server.serve(data_dir, port=port, timeout=timeout, progress=ticker)
    finally:
        if ticker.status is not None:
            ticker.status.stop()
    _print_started(started, show_credentials)
    if foreground:
        _stay_attached(started.state, data_dir)


def _print_started(started: server.Started, show_credentials: bool) -> None:
    state, creds = started.state, started.credentials
    how = "already running" if started.already_running else f"started in {started.seconds:.0f} s"
    typer.echo(f"Label Studio {how} at {state.url} (pid {state.pid})")
    typer.echo(f"  log in as:  {creds.email}")
    typer.echo(
        f"  password:   {creds.password}"
        if show_credentials
        else f'  password:   in {_shown(Path(state.data_dir) / server.CREDENTIALS)} ("password"; '
        "or run with --show-credentials)"
    )
    if show_credentials:
        typer.echo(f"  API token:  {creds.token}")
    typer.echo(f"  API token verified for user {started.account.get('email')}")
    typer.echo(f"  data:       {_shown(Path(state.data_dir))}  (log: {_shown(Path(state.log))})")
    typer.echo("  stop it with: sitrep annotate stop")


def _stay_attached(state: server.ServerState, data_dir: Path | None) -> None:
    typer.echo("running in the foreground: Ctrl-C stops it")
    try:
        while server.status(data_dir).running:
            time.sleep(1)
    except KeyboardInterrupt:
        typer.echo(server.stop(data_dir).note)
        return
    typer.echo(f"Label Studio (pid {state.pid}) has stopped; see {_shown(Path(state.log))}")
    raise typer.Exit(1)


@annotate_app.command("stop")
def stop(
    data_dir: DataDir = None,
    grace: Annotated[
        float, typer.Option(help="Seconds between SIGTERM and SIGKILL.")
    ] = server.STOP_GRACE,
) -> None:
    """Stop the Label Studio that `sitrep annotate serve` started (only that process, after
    checking its PID still is that server). Annotations stay in the data folder.

    Example: sitrep annotate stop
    """
    typer.echo(server.stop(data_dir, grace=grace).note)


@annotate_app.command("status")
def status(
    data_dir: DataDir = None,
    fmt: Annotated[
        StatusFormat, typer.Option("--format", "-f", help="Output: text or json.")
    ] = StatusFormat.text,
) -> None:
    """Say whether the local Label Studio is running, where, and whether /health answers.
    Exit status 0 when it is running and healthy, 1 otherwise.

    Example: sitrep annotate status --format json
    """
    result = server.status(data_dir)
    if fmt is StatusFormat.json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
    else:
        typer.echo(result.note)
        if result.state and result.running:
            typer.echo(f"  pid {result.state.pid}, started {result.state.started}")
            typer.echo(f"  log in as {result.username} (password in {result.credentials_file})")
    raise typer.Exit(0 if result.running and result.healthy else 1)
