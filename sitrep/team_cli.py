"""`sitrep annotate team ...`, `backup` and `restore`: running Label Studio for a team.

Each command opens what it needs and calls the library function of the same name in
`sitrep.annotate.labelstudio.team` or `.backup`; library errors become CLI errors (exit 1
for a refused change, 2 for usage).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sitrep.annotate_cli import (
    DataDir,
    FormatOption,
    StatusFormat,
    _client,
    _shown,
    annotate_app,
    err,
    out,
)
from sitrep.errors import SitrepError

if TYPE_CHECKING:
    from sitrep.annotate.labelstudio import team as team_mod

team_app = typer.Typer(
    help="The annotation team: accounts made through Label Studio's sign-up, roles kept by sitrep.",
    no_args_is_help=True,
)
annotate_app.add_typer(team_app, name="team")

RosterFile = Annotated[
    Path | None,
    typer.Option(
        "--roster",
        help="The team roster (default: datasets/label-studio/team.json).",
        show_default=False,
    ),
]


@contextmanager
def _refused() -> Iterator[None]:
    """A change the server or the roster refuses: its reason, exit 1 (2 stays for usage)."""
    try:
        yield
    except SitrepError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(1) from None


def _roster(path: Path | None) -> team_mod.Roster:
    from sitrep.annotate.labelstudio import team

    return team.load_roster(path or team.roster_file())


@team_app.command("add")
def team_add(
    email: Annotated[str, typer.Argument(help="The person's e-mail address (their login).")],
    role: Annotated[
        str,
        typer.Option(
            help="annotator (counted in agreement) or reviewer (adjudicates; left out of agreement)."
        ),
    ] = "annotator",
    handover: Annotated[
        Path | None,
        typer.Option(
            "--handover",
            help="Make the account now, with a one-time password written only to this new file "
            "(mode 0600) to hand to the person. Default: print the invite link instead.",
            show_default=False,
        ),
    ] = None,
    roster: RosterFile = None,
) -> None:
    """Put a person on the team and give them a way into Label Studio.

    By default prints the organisation's invite link: the person signs up with their own
    password. With --handover FILE, sitrep signs the account up itself through the same page
    with a generated one-time password, written only to FILE (never printed, never kept).

    Example: sitrep annotate team add ann1@example.org --role annotator
    """
    from sitrep.annotate.labelstudio import team

    if role not in {r.value for r in team.Role}:
        raise typer.BadParameter(
            f"expected annotator or reviewer; found {role!r}", param_hint="--role"
        )
    with _refused():
        added = team.add(_client(), _roster(roster), email, team.Role(role), handover)
    typer.echo(f"{email} is on the team as {role}")
    if added.invite_url:
        typer.echo(
            f"  send them this sign-up link (it works for anyone who has it): {added.invite_url}"
        )
    elif added.handover:
        typer.echo(
            f"  account made; the one-time password is in {_shown(added.handover)} (mode 0600)"
        )
    else:
        typer.echo(f"  they already have an account (user {added.member.user_id})")


@team_app.command("list")
def team_list(roster: RosterFile = None, format: FormatOption = StatusFormat.text) -> None:
    """List the team with each member's state on the server (invited, active, removed), then
    the accounts nobody added.

    Example: sitrep annotate team list --format json
    """
    from sitrep.annotate.labelstudio import team

    with _refused():
        rows = team.members(_client(), _roster(roster))
    if format is StatusFormat.json:
        typer.echo(json.dumps([r.to_dict() for r in rows], indent=2))
        return
    from rich.table import Table

    table = Table(title="team", title_justify="left")
    for column in ("email", "role", "status", "user"):
        table.add_column(column)
    for r in rows:
        table.add_row(r.email, r.role, str(r.status), "" if r.user_id is None else str(r.user_id))
    out.print(table)


@team_app.command("remove")
def team_remove(
    email: Annotated[str, typer.Argument(help="The member to deactivate.")],
    roster: RosterFile = None,
) -> None:
    """Deactivate a member: they lose access to the projects, the invite link is renewed, and
    their annotations stay (and stay attributed to them). Nobody's work is deleted.

    Example: sitrep annotate team remove ann3@example.org
    """
    from sitrep.annotate.labelstudio import team

    with _refused():
        member = team.remove(_client(), _roster(roster), email)
    typer.echo(
        f"{email} removed (user {member.user_id}); their annotations stay; the invite link was renewed"
    )


@annotate_app.command("backup")
def backup(
    to: Annotated[
        Path, typer.Option("--to", help="Folder that receives the backup folder.")
    ] = Path("backups"),
    data_dir: DataDir = None,
) -> None:
    """Write a consistent backup of the local Label Studio (its database, by SQLite's online
    backup API or pg_dump, its media and its credentials) with checksums, while it runs.

    Example: sitrep annotate backup --to backups
    """
    from sitrep.annotate.labelstudio import backup as backup_mod
    from sitrep.annotate.labelstudio import server

    with _refused():
        made = backup_mod.backup(data_dir or server.default_data_dir(), to)
    files = made.manifest["files"]
    size = sum(f["bytes"] for f in files.values())
    typer.echo(
        f"wrote {_shown(made.path)}: {made.manifest['database']} database, {len(files)} files, {size:,} bytes"
    )
    typer.echo(f"  check it with: (cd {_shown(made.path)} && sha256sum -c SHA256SUMS)")


@annotate_app.command("restore")
def restore(
    backup_dir: Annotated[
        Path | None,
        typer.Argument(
            help="The backup folder (default: the newest under --from).", show_default=False
        ),
    ] = None,
    from_: Annotated[Path, typer.Option("--from", help="Where backups are kept.")] = Path(
        "backups"
    ),
    data_dir: DataDir = None,
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            help="For a PostgreSQL backup: an empty database to restore into "
            "(postgresql://USER@HOST:PORT/NAME; default: the one backed up).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Bring a fresh server back to a backup: checksums are verified first, and a data folder
    that already holds a server (or a database that is not empty) is refused untouched.
    Start it afterwards with `sitrep annotate serve`.

    Example: sitrep annotate restore backups/label-studio-20261202T150000Z
    """
    from sitrep.annotate.labelstudio import backup as backup_mod
    from sitrep.annotate.labelstudio import server

    target = data_dir or server.default_data_dir()
    with _refused():
        folder = backup_mod.require(backup_dir, from_)
        manifest = backup_mod.restore(folder, target, database)
    typer.echo(f"restored {_shown(folder)} ({manifest['created']}) into {_shown(target)}")
    typer.echo(
        "  start it with: sitrep annotate serve" + (f" --data-dir {target}" if data_dir else "")
    )
