"""`sitrep annotate ...`: the Label Studio server annotators work in. Each command calls one
function of `sitrep.annotate.labelstudio.server` and renders its result."""

from __future__ import annotations

import json
import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sitrep import paths
from sitrep.annotate.labelstudio import defaults

# Only what `sitrep annotate --help` needs is imported here: each command imports the
# Label Studio modules it calls (HTTP client, converters, the pre-annotator).
if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

    from sitrep.annotate.labelstudio import server
    from sitrep.annotate.labelstudio.client import Client
    from sitrep.annotate.labelstudio.convert import Problem

annotate_app = typer.Typer(
    help="Label Studio for annotators: the local server, pushing tasks, pulling annotations.",
    no_args_is_help=True,
)


class _LazyConsole:
    """A rich Console made on first use (importing rich costs start-up time)."""

    def __init__(self, stderr: bool) -> None:
        self.stderr = stderr
        self.console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        if self.console is None:
            from rich.console import Console

            self.console = Console(stderr=self.stderr, highlight=False, soft_wrap=True)
        return getattr(self.console, name)


out: Console = _LazyConsole(stderr=False)  # type: ignore[assignment]
err: Console = _LazyConsole(stderr=True)  # type: ignore[assignment]

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


class ProposeFormat(StrEnum):
    json = "json"
    jsonl = "jsonl"


FormatOption = Annotated[StatusFormat, typer.Option("--format", "-f", help="Output: text or json.")]


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
    ] = defaults.HEALTH_TIMEOUT,
    show_credentials: Annotated[
        bool,
        typer.Option("--show-credentials", help="Also print the admin password and API token."),
    ] = False,
    foreground: Annotated[
        bool,
        typer.Option("--foreground", help="Stay attached; Ctrl-C stops the server."),
    ] = False,
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            help="Keep Label Studio's data in PostgreSQL (postgresql://USER@HOST:PORT/NAME; the "
            "password comes from PGPASSWORD or ~/.pgpass, never the command line). The data "
            "folder remembers it. Default: SQLite in the data folder.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Start the local Label Studio (SQLite or PostgreSQL, bound to 127.0.0.1) and wait until it is
    healthy. The first run creates an admin account and API token, stored with mode 0600
    in the data folder and never printed unless --show-credentials is given. Does nothing
    but report when it is already running. Needs `make setup-ls` once.

    Example: sitrep annotate serve --port 8080
    Example: sitrep annotate serve --database postgresql://sitrep@127.0.0.1:5432/labelstudio
    """
    from sitrep.annotate.labelstudio import server

    ticker = _Ticker()
    if ticker.status is not None:
        ticker.status.start()
    try:
        started = server.serve(
            data_dir, port=port, timeout=timeout, progress=ticker, database_url=database
        )
    finally:
        if ticker.status is not None:
            ticker.status.stop()
    _print_started(started, show_credentials)
    if foreground:
        _stay_attached(started.state, data_dir)


def _print_started(started: server.Started, show_credentials: bool) -> None:
    from sitrep.annotate.labelstudio import server

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
    from sitrep.annotate.labelstudio import server

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
    ] = defaults.STOP_GRACE,
) -> None:
    """Stop the Label Studio that `sitrep annotate serve` started (only that process, after
    checking its PID still is that server). Annotations stay in the data folder.

    Example: sitrep annotate stop
    """
    from sitrep.annotate.labelstudio import server

    typer.echo(server.stop(data_dir, grace=grace).note)


@annotate_app.command("status")
def status(
    data_dir: DataDir = None,
    fmt: FormatOption = StatusFormat.text,
) -> None:
    """Say whether the local Label Studio is running, where, and whether /health answers.
    Exit status 0 when it is running and healthy, 1 otherwise.

    Example: sitrep annotate status --format json
    """
    from sitrep.annotate.labelstudio import server

    result = server.status(data_dir)
    if fmt is StatusFormat.json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
    else:
        typer.echo(result.note)
        if result.state and result.running:
            typer.echo(f"  pid {result.state.pid}, started {result.state.started}")
            typer.echo(f"  log in as {result.username} (password in {result.credentials_file})")
    raise typer.Exit(0 if result.running and result.healthy else 1)


# --- push and pull ------------------------------------------------------------------------

ProjectTitle = Annotated[str, typer.Option("--project", help="Title of the Label Studio project.")]
GazetteerOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--gazetteer",
        help="Annotation files or folders whose actors and locations are looked for "
        "(default: datasets/annotations).",
        show_default=False,
    ),
]

IncludeReviewers = Annotated[
    bool,
    typer.Option(
        "--include-reviewers",
        help="Count the annotations of the team's reviewers too (by default an adjudicator's "
        "drafts and merges are not an annotator's).",
    ),
]


def _left_out(include_reviewers: bool) -> set[str]:
    from sitrep.annotate.labelstudio import team

    return set() if include_reviewers else team.reviewers()


def _client() -> Client:
    from sitrep.annotate.labelstudio import server
    from sitrep.annotate.labelstudio.client import Client

    conn = server.connection()
    return Client(conn)


def _print_problems(problems: list[Problem], limit: int = 200) -> None:
    for problem in problems[:limit]:
        err.print(f"  {problem}", markup=False)
    if len(problems) > limit:
        err.print(f"  ... and {len(problems) - limit} more (use --format json for all)")


class _Bar:
    """A progress bar on a terminal, a line per step in a log."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.progress: Progress | None = None
        self.task: Any = None

    def __enter__(self) -> _Bar:
        if err.is_terminal:
            from rich.progress import Progress

            self.progress = Progress(console=err, transient=True)
            self.progress.start()
            self.task = self.progress.add_task(self.what, total=None)
        return self

    def __call__(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress.update(self.task, completed=done, total=total)
        else:
            err.print(f"{self.what}: {done} of {total}")

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()


@annotate_app.command("push")
def push(
    sources: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Source documents: folders (like seeds/), article .txt files with their "
            ".meta.json, or .jsonl collections. Default: seeds/.",
            show_default=False,
        ),
    ] = None,
    annotations: Annotated[
        list[Path] | None,
        typer.Option("--annotations", help="Annotation files or folders to import as annotations."),
    ] = None,
    ground_truth: Annotated[
        bool, typer.Option("--ground-truth", help="Mark the imported annotations as ground truth.")
    ] = False,
    predictions: Annotated[
        list[Path] | None,
        typer.Option("--predictions", help="Annotation files or folders to import as predictions."),
    ] = None,
    model_version: Annotated[
        str | None,
        typer.Option("--model-version", help="Model version of the predictions (model@version)."),
    ] = None,
    with_proposals: Annotated[
        bool,
        typer.Option(
            "--propose",
            help="Also send the pre-annotator's proposals for every document as predictions.",
        ),
    ] = False,
    project: ProjectTitle = defaults.DEFAULT_TITLE,
    chunk: Annotated[int, typer.Option(help="Tasks per import request.", min=1)] = defaults.CHUNK,
    overlap: Annotated[
        int | None,
        typer.Option(
            help="Annotators per task (Label Studio's maximum_annotations; above 1, tasks "
            "still short of annotators are served first). Kept in "
            "datasets/label-studio/<project>/project.json; default: the kept value, else 1.",
            min=1,
            show_default=False,
        ),
    ] = None,
) -> None:
    """Create or update the Label Studio project and import documents as tasks.

    The labeling config is generated from the schema and checked by the server; the
    codebook becomes the project's instructions. Tasks are keyed by document id and text
    sha256: pushing again adds only what is new, and a changed text under an existing id
    is refused. Annotations and predictions are converted and checked before they are
    sent. --propose adds the pre-annotator's proposals as predictions (never as
    annotations). Exit status 1 when anything was refused (the rest is still pushed).

    Example: sitrep annotate push seeds --annotations datasets/annotations --ground-truth
    Example: sitrep annotate push --overlap 2
    """
    from sitrep.annotate.labelstudio import project as project_mod

    with _Bar("importing tasks") as bar:
        result = project_mod.push(
            _client(),
            sources=sources or [paths.seeds_dir()],
            annotations=annotations,
            ground_truth=ground_truth,
            predictions=predictions,
            model_version=model_version,
            propose=with_proposals,
            title=project,
            chunk=chunk,
            progress=bar,
            overlap=overlap,
        )
    assert result.project is not None
    state = "created" if result.created else ("updated" if result.config_updated else "up to date")
    typer.echo(
        f"project {result.project.id} ({result.project.title!r}, config {state}): {result.project_url}"
    )
    typer.echo(f"  each task goes to {result.overlap} annotator(s)")
    if result.candidates_updated:
        typer.echo(f"  registry candidates refreshed on {result.candidates_updated} task(s)")
    typer.echo(
        f"  tasks: {result.tasks_created} created, {result.tasks_existing} already there; "
        f"annotations: {result.annotations_added} added, {result.annotations_existing} already there; "
        f"predictions: {result.predictions_added} added, {result.predictions_existing} already there"
    )
    if result.problems:
        err.print(f"{len(result.problems)} problem(s); those documents were not pushed:")
        _print_problems(result.problems)
        raise typer.Exit(1)


@annotate_app.command("pull")
def pull(
    project: ProjectTitle = defaults.DEFAULT_TITLE,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Let a task's ground truth replace a released file sitrep did not write from it.",
        ),
    ] = False,
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait for Label Studio's export snapshot.")
    ] = defaults.EXPORT_TIMEOUT,
    fmt: FormatOption = StatusFormat.text,
    keep: Annotated[
        int,
        typer.Option(
            help="Exports kept (gzip) in the project's exports folder; the newest always.", min=1
        ),
    ] = defaults.KEEP_EXPORTS,
) -> None:
    """Export every annotation of the project and write it into datasets/.

    The raw export is kept (gzip, the newest --keep of them) under
    datasets/label-studio/<project>/exports/ and removed from the server. Each annotation
    (cancelled ones excepted) is converted, validated and written to
    datasets/label-studio/<project>/annotations/<document id>/<annotation id>.json; a
    task's ground-truth annotation is released as datasets/annotations/<document id>.json.
    The pulled folder mirrors Label Studio: files of deleted or cancelled annotations, and
    of annotations whose latest version is invalid, move to the project's audit/ folder; a
    ground truth that moved is reported and the released file follows the star. Every
    problem is reported with task, annotation and region; exit status 1 if any.

    Example: sitrep annotate pull --project sitrep
    """
    from sitrep.annotate.labelstudio import pull as pull_mod

    with _Bar("writing documents") as bar:
        result = pull_mod.pull(
            _client(), title=project, replace=replace, timeout=timeout, progress=bar, keep=keep
        )
    if fmt is StatusFormat.json:
        typer.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        assert result.project is not None
        typer.echo(
            f"project {result.project.id} ({result.project.title!r}): {result.tasks} tasks, "
            f"{result.annotations} annotations ({result.cancelled} cancelled, left out), "
            f"{result.converted} converted"
        )
        if result.export_file:
            typer.echo(
                f"  raw export kept: {_shown(result.export_file)} ({result.export_bytes} bytes)"
            )
        typer.echo(f"  annotations written: {len(result.written)}, unchanged: {result.unchanged}")
        typer.echo(
            f"  released (ground truth): {len(result.released)} written, "
            f"{result.released_unchanged} unchanged"
        )
        for path in result.released:
            typer.echo(f"    {_shown(path)}")
        for change in result.star_changes:
            typer.echo(f"  ground truth changed: {change}")
        for moved in result.moved:
            typer.echo(f"  moved to audit: {moved}")
        if result.outsiders:
            typer.echo(f"  not on the team roster: {', '.join(result.outsiders)}")
    if result.problems:
        err.print(f"{len(result.problems)} problem(s); those annotations were not written:")
        _print_problems(result.problems)
        raise typer.Exit(1)


@annotate_app.command("check")
def check(
    annotator: Annotated[
        str | None,
        typer.Option(
            "--annotator",
            help="Only this annotator's annotations (their e-mail in Label Studio).",
            show_default=False,
        ),
    ] = None,
    project: ProjectTitle = defaults.DEFAULT_TITLE,
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait for Label Studio's export snapshot.")
    ] = defaults.EXPORT_TIMEOUT,
    fmt: FormatOption = StatusFormat.text,
) -> None:
    """List the problems a pull would find in the latest annotations, without writing
    anything: for each task, each annotator's annotation updated last (or only yours with
    --annotator) is converted and validated as `pull` does. Every problem names the task,
    annotation, annotator, region, its text and the link that opens the task. Run it
    before calling it a day; exit status 1 when there is anything to fix.

    Example: sitrep annotate check --annotator ann1@example.org
    """
    from sitrep.annotate.labelstudio import pull as pull_mod

    result = pull_mod.check(_client(), title=project, annotator=annotator, timeout=timeout)
    if fmt is StatusFormat.json:
        typer.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        assert result.project is not None
        who = annotator or "every annotator"
        typer.echo(
            f"project {result.project.id} ({result.project.title!r}), {who}: "
            f"{result.checked} latest annotation(s) in {result.tasks} task(s), "
            f"{result.clean} clean"
        )
        if result.problems:
            typer.echo(f"{len(result.problems)} problem(s) to fix in Label Studio:")
            for problem in result.problems:
                typer.echo(f"  {problem}")
    raise typer.Exit(0 if result.ok else 1)


@annotate_app.command("propose")
def propose(
    files: Annotated[list[Path], typer.Argument(help="Plain-text files (UTF-8).")],
    gazetteer: GazetteerOption = None,
    figures_only: Annotated[
        bool, typer.Option("--figures-only", help="Only figures, no actors, locations, events.")
    ] = False,
    fmt: Annotated[
        ProposeFormat,
        typer.Option(
            "--format",
            "-f",
            help="Output: json (one array at the end) or jsonl (one line per file, printed "
            "as soon as the file is done: for many files).",
        ),
    ] = ProposeFormat.json,
) -> None:
    """Print what the pre-annotator proposes for plain-text files, as JSON or JSON Lines.

    One object per file: {"file", "model", "model_version", "proposals"}; each proposal has
    kind (figure, actor, location, event), start, end (code points) and text; figures add
    low / best / high, qualifier, vague_term, unit, counted, description, currency,
    realis, part_of (index of the whole), claimed_by (the claimant as the text names it),
    score and the rule that found it.

    Example: sitrep annotate propose stories/*.txt --figures-only --format jsonl
    """
    from sitrep.annotate.prelabel import propose as propose_mod

    entries = (
        {}
        if figures_only
        else propose_mod.gazetteer(
            gazetteer if gazetteer is not None else [paths.annotations_dir()]
        )
    )
    out = []
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            err.print(f"error: {file}: cannot read it as UTF-8 text ({exc})")
            raise typer.Exit(1) from None
        found = propose_mod.propose(text, entries)
        proposals = [{"kind": "figure", **f} for f in found["figures"]]
        if not figures_only:
            proposals += found["mentions"]
        proposals.sort(key=lambda p: (p["start"], p["end"]))
        entry = {
            "file": str(file),
            "model": found["model"],
            "model_version": found["model_version"],
            "proposals": proposals,
        }
        if fmt is ProposeFormat.jsonl:
            typer.echo(json.dumps(entry, ensure_ascii=False))
        else:
            out.append(entry)
    if fmt is ProposeFormat.json:
        typer.echo(json.dumps(out, indent=2, ensure_ascii=False))


@annotate_app.command("ml-backend")
def ml_backend(
    port: Annotated[
        int, typer.Option(help="TCP port (0: any free one).")
    ] = defaults.ML_BACKEND_PORT,
    host: Annotated[
        str, typer.Option(help="Address to bind; loopback unless you mean to share.")
    ] = "127.0.0.1",
    gazetteer: GazetteerOption = None,
    connect: Annotated[
        bool,
        typer.Option(
            "--connect",
            help="Also register it on the project of the configured Label Studio, which then "
            "asks it for predictions when a task without any is opened.",
        ),
    ] = False,
    project: ProjectTitle = defaults.DEFAULT_TITLE,
) -> None:
    """Serve the pre-annotator over Label Studio's ML backend protocol (/health, /setup,
    /predict) until Ctrl-C. Tasks created in the interface get proposals when they are
    opened, and "Retrieve predictions" in the Data Manager works. Predictions carry the
    same model version as `push --propose`. Without --connect, add it in the project's
    Settings > Model with the URL it prints.

    Example: sitrep annotate ml-backend --connect --project sitrep
    """
    from sitrep.annotate.labelstudio import mlbackend
    from sitrep.annotate.prelabel import propose as propose_mod

    sources = gazetteer if gazetteer is not None else [paths.annotations_dir()]
    predictor = mlbackend.Predictor(propose_mod.gazetteer(sources))
    backend = mlbackend.make_backend(predictor, host, port)
    typer.echo(
        f"ML backend (the pre-annotator) at {backend.url}, model version {predictor.version}"
    )
    thread = mlbackend.serve_in_thread(backend)
    try:
        if connect:
            done = mlbackend.connect(_client(), project, backend.url)
            how = "registered" if done.created else "already registered"
            typer.echo(
                f"  {how} on project {done.project} ({project!r}) as ML backend {done.backend}: "
                f"{done.state}"
            )
        typer.echo("  Ctrl-C stops it")
        while thread.is_alive():
            thread.join(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        backend.shutdown()
        backend.server_close()


@annotate_app.command("eval")
def evaluate(
    gold: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Gold annotation files or folders (default: datasets/annotations).",
            show_default=False,
        ),
    ] = None,
    splits: Annotated[
        Path | None,
        typer.Option(
            "--splits",
            help="Which documents are held out (default: datasets/splits.json).",
            show_default=False,
        ),
    ] = None,
    fmt: FormatOption = StatusFormat.text,
    check: Annotated[bool, typer.Option("--check", help="Exit 1 when a target is missed.")] = False,
) -> None:
    """Score the pre-annotator against gold annotations, the development set and the
    held-out set (datasets/splits.json) apart: span precision / recall / F1 (exact and
    overlapping) per label, and for matched figures the interval, number, qualifier,
    realis and claimant agreement. Targets: see `sitrep.annotate.prelabel.evaluate`.

    Example: sitrep annotate eval --check
    """
    from sitrep.annotate.labelstudio.project import read_annotations
    from sitrep.annotate.prelabel import evaluate as eval_mod

    sources = gold or [paths.annotations_dir()]
    docs, problems = read_annotations(sources)
    if problems:
        _print_problems(problems)
        raise typer.Exit(1)
    split_of = eval_mod.read_splits(splits or paths.project_root() / "datasets" / "splits.json")
    reports = eval_mod.evaluate_splits(docs, sources, split_of, timing_repeats=3)
    failed = [f"{name}: {f}" for name, r in reports.items() for f in r.failed_targets(name)]
    if fmt is StatusFormat.json:
        data = {"splits": {k: r.to_dict(k) for k, r in reports.items()}, "failed_targets": failed}
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        for name, report in reports.items():
            _print_eval(name, report)
        for line in failed:
            typer.echo(f"target missed: {line}")
    if check and failed:
        raise typer.Exit(1)


def _print_eval(name: str, report: Any) -> None:
    from rich.table import Table

    table = Table(
        title=f"{name}: proposals vs {report.documents} gold documents", title_justify="left"
    )
    columns = ("label", "gold", "proposed", "P exact", "R exact", "F1 exact")
    for column in (*columns, "P overlap", "R overlap", "F1 overlap"):
        table.add_column(column, justify="left" if column == "label" else "right")
    for label, score in report.labels.items():
        d = score.to_dict()
        e, o = d["exact_scores"], d["overlap_scores"]
        scores = (e["precision"], e["recall"], e["f1"], o["precision"], o["recall"], o["f1"])
        table.add_row(label, str(score.gold), str(score.proposed), *(f"{x:.3f}" for x in scores))
    out.print(table)
    s = report.summary()
    typer.echo(
        f"matched figures: {report.matched_figures}; interval {s['interval_exact_match']:.3f}; "
        f"number {s['number_match']:.3f}; qualifier {s['qualifier_exact_match']:.3f}; "
        f"realis {s['realis_match']:.3f}; claimant {s['claimant_match']:.3f}; "
        f"seed article {s['seed_figures_right']} right"
    )
    typer.echo(f"time: {report.seconds_per_1000:.2f} s per 1,000 documents")
    for miss in report.misses[:60]:
        typer.echo(f"  {miss.document} @{miss.start} {miss.kind}: {miss.text!r} {miss.detail}")


@annotate_app.command("agreement")
def agreement_cmd(
    project: ProjectTitle = defaults.DEFAULT_TITLE,
    folder: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="Pulled annotations (default: datasets/label-studio/<project>/annotations).",
            show_default=False,
        ),
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the full report as JSON here.")
    ] = None,
    chart: Annotated[
        Path | None,
        typer.Option(
            "--chart", help="Also write a one-page HTML chart here (no script, no network)."
        ),
    ] = None,
    include_reviewers: IncludeReviewers = False,
) -> None:
    """Inter-annotator agreement of the pulled annotations: span F1 (exact and overlap)
    per label, Krippendorff's alpha on event type, actor and location type, figure
    qualifier and realis, figure interval agreement and relation F1; per annotator pair
    and for the project. Run `sitrep annotate pull` first.

    Example: sitrep annotate agreement --chart agreement.html --json agreement.json
    """
    from rich.table import Table

    from sitrep.annotate.labelstudio.project import project_dir
    from sitrep.annotate.review import agreement as agreement_mod
    from sitrep.fileio import write_atomic

    source = folder or project_dir(project) / "annotations"
    if not source.is_dir():
        err.print(f"error: {source}: no pulled annotations (run `sitrep annotate pull`)")
        raise typer.Exit(1)
    report = agreement_mod.agreement(
        agreement_mod.load_annotations(source, _left_out(include_reviewers))
    )
    summary = report.summary()
    typer.echo(
        f"{report.documents} documents with 2+ annotators; annotators: "
        f"{', '.join(report.annotators) or 'none'}"
    )
    table = Table(title="agreement", title_justify="left")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for label, f1 in summary["span_f1"].items():
        table.add_row(f"{label} spans: exact F1", _fmt(f1["exact_f1"]))
        table.add_row(f"{label} spans: overlap F1", _fmt(f1["overlap_f1"]))
    for name, value in summary["alpha"].items():
        table.add_row(f"Krippendorff's alpha: {name}", _fmt(value))
    table.add_row("figure intervals agree", _fmt(summary["figure_interval_agreement"]))
    table.add_row("relations F1", _fmt(summary["relation_f1"]))
    out.print(table)
    if json_out:
        write_atomic(json_out, json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n")
        typer.echo(f"wrote {json_out}")
    if chart:
        write_atomic(chart, agreement_mod.render_html(report, f"Agreement: {project}"))
        typer.echo(f"wrote {chart}")


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


@annotate_app.command("adjudicate")
def adjudicate_cmd(
    project: ProjectTitle = defaults.DEFAULT_TITLE,
    order: Annotated[
        str | None,
        typer.Option("--order", help="Tie-break order: annotator e-mails, comma-separated."),
    ] = None,
    draft: Annotated[
        bool,
        typer.Option(
            "--draft",
            help="Tasks with conflicts get a merged draft for the adjudicator in Label Studio "
            "instead of a ground truth by rule.",
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List agreements and conflicts; write nothing.")
    ] = False,
    fmt: FormatOption = StatusFormat.text,
    include_reviewers: IncludeReviewers = False,
) -> None:
    """Merge the annotations of every task with two or more annotators and no ground
    truth: records all agree on are accepted, conflicts are listed per task and decided by
    majority with the tie-break order; the result goes back to Label Studio as a new
    ground-truth annotation (or, with --draft, as a draft for the adjudicator). The team's
    reviewers are not annotators here unless --include-reviewers. No annotator's work is
    changed or deleted; the next pull releases the ground truth.

    Example: sitrep annotate adjudicate --order ann1@example.org,ann2@example.org
    """
    from sitrep.annotate.review import adjudicate as adjudicate_mod

    result = adjudicate_mod.adjudicate(
        _client(),
        title=project,
        order=[o.strip() for o in (order or "").split(",") if o.strip()],
        draft=draft,
        dry_run=dry_run,
        leave_out=_left_out(include_reviewers),
    )
    if fmt is StatusFormat.json:
        typer.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        for task in result.tasks:
            typer.echo(
                f"task {task.task} ({task.document}): {len(task.annotators)} annotators, "
                f"{task.records} records, {task.agreed} agreed by all, "
                f"{len(task.conflicts)} conflict(s) -> {task.written or 'nothing written'}"
            )
            for conflict in task.conflicts:
                typer.echo(f"  {conflict}")
        typer.echo(
            f"{len(result.tasks)} task(s) adjudicated; {result.skipped_with_ground_truth} already "
            f"have a ground truth; {result.single_annotator} have fewer than 2 annotators"
        )
    if result.problems:
        err.print(f"{len(result.problems)} problem(s); those tasks were not adjudicated:")
        _print_problems(result.problems)
        raise typer.Exit(1)
