"""`sitrep link`: the command calls `sitrep.annotate.link.linking.link` and prints its
summary; splink and DuckDB are imported only when it runs."""

from __future__ import annotations

import json
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from sitrep import paths


class LinkFormat(StrEnum):
    text = "text"
    json = "json"


def _shown(path: Path) -> Path:
    """`path` relative to the current folder when it lies below it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def default_registry() -> Path:
    return paths.project_root() / "datasets" / "entities" / "registry.json"


def default_review() -> Path:
    return paths.project_root() / "datasets" / "entities" / "link-proposals.json"


def link_command(
    targets: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Annotation files or folders (default: datasets/annotations).",
            show_default=False,
        ),
    ] = None,
    registry: Annotated[
        Path | None,
        typer.Option(
            help="The registry (default: datasets/entities/registry.json).", show_default=False
        ),
    ] = None,
    threshold: Annotated[
        float,
        typer.Option(
            min=0.0, max=1.0, help="Match probability at or above which --apply links a record."
        ),
    ] = 0.9,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="The review file (default: datasets/entities/link-proposals.json); its "
            "decisions are read before it is rewritten.",
            show_default=False,
        ),
    ] = None,
    apply: Annotated[
        bool,
        typer.Option(
            "--apply",
            help="Link the best candidates whose share reaches the threshold, and the decisions of the review file.",
        ),
    ] = False,
    fmt: Annotated[
        LinkFormat, typer.Option("--format", "-f", help="Summary as text or json.")
    ] = LinkFormat.text,
) -> None:
    """Propose registry entities for the actors and locations whose `entity` is null.

    A probabilistic record-linkage model (splink on DuckDB) compares each record's name
    with every entity's name and aliases, its type and its country; u is estimated by
    random sampling with a fixed seed, the m of type and country by EM. Every unlinked
    record goes to the review file with its candidates and match probabilities, and a
    `decision` for a person to fill in (an entity id, "new" or "none"). Nothing is
    linked without --apply; with it, each record's best candidate whose share (its
    probability given that the record is at most one of its candidates) is at or above
    --threshold is linked, and so are the decisions. A linked record is never
    changed; only the `entity` values of the annotation files change, each file written
    atomically. Exit status: 0 done, 1 a problem in the files (nothing written), 2 usage.

    Example: sitrep link datasets/annotations --threshold 0.9 --apply
    """
    from rich.console import Console

    from sitrep.annotate.link.linking import link
    from sitrep.annotate.link.problems import LinkError, MissingExtra

    try:
        with Console(stderr=True).status("linking with splink on DuckDB ..."):  # a TTY only
            result = link(
                targets or [paths.annotations_dir()],
                registry or default_registry(),
                out or default_review(),
                threshold=threshold,
                apply=apply,
            )
    except LinkError as exc:
        for problem in exc.problems:
            typer.echo(f"error: {problem.line()}", err=True)
        typer.echo("nothing was written", err=True)
        raise typer.Exit(1) from exc
    except MissingExtra as exc:  # printed plainly: "[link]" is not console markup
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if fmt is LinkFormat.json:
        typer.echo(json.dumps(asdict(result), indent=2))
        return
    typer.echo(
        f"engine: {result.engine} ({'; '.join(result.trained) or 'not run: nothing to link'})"
    )
    typer.echo(f"records seen: {result.seen} ({result.already} already linked)")
    if result.applied:
        typer.echo(f"linked: {result.linked} ({result.decided} by a decision in the review file)")
    else:
        typer.echo(
            f"linked: 0 ({result.certain} at or above {threshold}: run with --apply to link them)"
        )
    typer.echo(f"proposed for review: {result.review}")
    typer.echo(f"no candidate: {result.no_candidate}")
    typer.echo(f"review file: {_shown(Path(result.out))}")
