"""`sitrep annotate pull`: annotations from Label Studio into the dataset, losslessly.

1. The project's labeling config must be the one sitrep pushed (version + sha256 in the
   project description) and the one this sitrep generates; otherwise nothing is read.
2. An export snapshot (the native JSON route that scales) is created with every kind of
   annotation asked for explicitly (usual, ground truth, skipped), polled until ready and
   downloaded to a temporary file; only a complete download is kept, under
   `datasets/label-studio/<project>/exports/` as the audit trail (gzip, the newest few),
   and the snapshot is deleted on the server.
3. The export is read one task at a time (`export`) and converted in bounded batches in
   worker processes. Every task's annotations are converted (cancelled ones counted and
   left out) and validated (registry links against the dataset's registry as `sitrep
   validate` checks them: `entity.unknown`, `entity.kind`, `entity.type`),
   and every hand is credited (`credit`). Each valid annotation is
   written to `datasets/label-studio/<project>/annotations/<document id>/<annotation
   id>.json` with its annotator and timestamps; a task's ground-truth annotation is also
   written to `datasets/annotations/<document id>.json`, the released file.
4. The pulled folder then mirrors the project (`mirror`): files of annotations gone from
   Label Studio or whose latest version is invalid move to the audit folder, and the
   released file follows the star; each with a line in the report.
5. A bad task never blocks the good ones: every problem is reported with task, annotation
   and region, and the pull exits non-zero. Files are written atomically, and a released
   file that sitrep did not write from this task is never replaced unless asked.
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import gzip
import hashlib
import multiprocessing as mp
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from sitrep import paths
from sitrep.annotate.labelstudio import convert, credit, export, mirror, team
from sitrep.annotate.labelstudio.client import Client
from sitrep.annotate.labelstudio.convert import Origin, Problem
from sitrep.annotate.labelstudio.defaults import DEFAULT_TITLE, EXPORT_TIMEOUT, KEEP_EXPORTS
from sitrep.annotate.labelstudio.mirror import Moved, StarChange, TaskSeen
from sitrep.annotate.labelstudio.project import (  # noqa: F401 (project_dir, slug: re-exported)
    Project,
    ProjectError,
    check_config,
    find_project,
    project_dir,
    same_content,
    slug,
)
from sitrep.errors import OutputError
from sitrep.fileio import BatchWriter, write_atomic
from sitrep.validate.registry import Found, open_registry

Json = dict[str, Any]

POLL = 0.5


@dataclass
class PullReport:
    project: Project | None = None
    export_file: Path | None = None
    export_bytes: int = 0
    tasks: int = 0
    annotations: int = 0
    cancelled: int = 0
    converted: int = 0
    written: list[Path] = field(default_factory=list)
    unchanged: int = 0
    released: list[Path] = field(default_factory=list)
    released_unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    moved: list[Moved] = field(default_factory=list)  # taken out to the audit folder
    star_changes: list[StarChange] = field(default_factory=list)
    annotators: list[str] = field(default_factory=list)  # everyone with a live annotation
    outsiders: list[str] = field(default_factory=list)  # annotators not on the team roster
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> Json:
        return {
            "project": None
            if self.project is None
            else {"id": self.project.id, "title": self.project.title},
            "export_file": str(self.export_file) if self.export_file else None,
            "export_bytes": self.export_bytes,
            "tasks": self.tasks,
            "annotations": self.annotations,
            "cancelled": self.cancelled,
            "converted": self.converted,
            "written": [str(p) for p in self.written],
            "unchanged": self.unchanged,
            "released": [str(p) for p in self.released],
            "released_unchanged": self.released_unchanged,
            "problems": [p.to_dict() for p in self.problems],
            "moved": [m.to_dict() for m in self.moved],
            "star_changes": [c.to_dict() for c in self.star_changes],
            "outsiders": self.outsiders,
            "timings": self.timings,
        }


# --- export --------------------------------------------------------------------------------


def export_snapshot(
    client: Client,
    project: Project,
    folder: Path,
    timeout: float = EXPORT_TIMEOUT,
    *,
    keep_on_server: bool = True,
) -> tuple[Path, int]:
    """Create, await and download a JSON export snapshot into `folder` (verbatim); with
    `keep_on_server` false, the snapshot is deleted from the server once downloaded."""
    body = {
        "title": f"sitrep pull {datetime.now(UTC).isoformat(timespec='seconds')}",
        "task_filter_options": {"only_with_annotations": False},
        "annotation_filter_options": {"usual": True, "ground_truth": True, "skipped": True},
        "serialization_options": {
            "annotations__completed_by": {"only_id": False},
            "predictions": {"only_id": False},
            "drafts": {"only_id": True},
        },
    }
    # Without a task queue, Label Studio builds the snapshot inside this request.
    export = client.call("POST", f"/api/projects/{project.id}/exports/", body=body, timeout=timeout)
    export_id = export["id"]
    deadline = time.monotonic() + timeout
    while export.get("status") not in ("completed", "failed"):
        if time.monotonic() > deadline:
            raise ProjectError(
                f"project {project.id}: export snapshot {export_id} not ready after "
                f"{timeout:.0f} s (status {export.get('status')!r})"
            )
        time.sleep(POLL)
        export = client.get(f"/api/projects/{project.id}/exports/{export_id}")
    if export["status"] == "failed":
        raise ProjectError(f"project {project.id}: Label Studio failed export snapshot {export_id}")
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = folder / f"export-{stamp}-project-{project.id}-snapshot-{export_id}.json"
    size = client.download(
        f"/api/projects/{project.id}/exports/{export_id}/download", target, exportType="JSON"
    )
    if not keep_on_server:
        client.call("DELETE", f"/api/projects/{project.id}/exports/{export_id}")
    md5 = export.get("md5")
    if md5:
        digest = _md5(target)
        if digest != md5:
            target.unlink()
            raise ProjectError(
                f"project {project.id}: export snapshot {export_id} arrived altered (md5 "
                f"{digest}, the server says {md5}); nothing was kept"
            )
    return target, size


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def keep_exports(folder: Path, export_file: Path, keep: int) -> Path:
    """Compress the export just read (gzip; a tenth of the size) and keep only the newest
    `keep` exports of the folder (the one just made always)."""
    packed = export_file.with_name(export_file.name + ".gz")
    tmp = packed.with_name(f".{packed.name}.part")
    with open(export_file, "rb") as source, gzip.open(tmp, "wb", compresslevel=6) as out:
        shutil.copyfileobj(source, out, 1 << 20)
    os.replace(tmp, packed)
    export_file.unlink()
    kept = sorted(folder.glob("export-*.json*"), key=lambda p: p.name, reverse=True)
    for old in kept[max(keep, 1) :]:
        if old != packed:
            old.unlink()
    return packed


# --- conversion ----------------------------------------------------------------------------


def _email(who: Any, people: dict[int, str] | None = None) -> str | None:
    """The annotator's e-mail. Label Studio shows a removed member as "Deleted": the
    team roster (`people`: user id -> e-mail) keeps their work attributed."""
    if isinstance(who, dict):
        uid, email = who.get("id"), who.get("email")
        if (
            people
            and isinstance(uid, int)
            and uid in people
            and email in (None, "", team.HIDDEN_EMAIL)
        ):
            return people[uid]
        return str(email or uid)
    if people and isinstance(who, int) and who in people:
        return people[who]
    return None if who is None else str(who)


def _model(annotation: Json, predictions: list[Any]) -> tuple[str | None, str | None, float | None]:
    pred = annotation.get("prediction")
    if not isinstance(pred, dict) or not pred:
        pid = annotation.get("parent_prediction")
        pred = next((p for p in predictions if isinstance(p, dict) and p.get("id") == pid), None)
    if not isinstance(pred, dict) or not pred.get("model_version"):
        return None, None, None
    version = str(pred["model_version"])
    model, _, number = version.partition("@")
    score = pred.get("score")
    return model, (number or version), (float(score) if isinstance(score, int | float) else None)


@dataclass(frozen=True)
class Pulled:
    """One converted annotation, as the bytes that will be written."""

    task_id: int | None
    annotation_id: int
    ground_truth: bool
    document_id: str
    payload: bytes
    link: str | None = None  # where to open the task

    @property
    def doc(self) -> Json:
        return orjson.loads(self.payload)  # type: ignore[no-any-return]


def convert_task(
    task: Json,
    project: Project,
    report: PullReport,
    people: dict[int, str] | None = None,
    registry: Found | None = None,
) -> list[Pulled]:
    """Every valid, not cancelled annotation of one task, converted; its registry links
    checked against `registry` when given."""
    task_id = task.get("id")
    try:
        document, text = convert.document_of(task.get("data") or {})
    except (ValueError, TypeError) as exc:
        _bad_task(task, project, report, str(exc), people)
        return []
    out = []
    for annotation in task.get("annotations") or []:
        report.annotations += 1
        if annotation.get("was_cancelled"):
            report.cancelled += 1
            continue
        model, version, score = _model(annotation, task.get("predictions") or [])
        origin = Origin(
            project_id=project.id,
            task_id=task_id,
            annotation_id=annotation.get("id"),
            annotator=_email(annotation.get("completed_by"), people),
            created=annotation.get("created_at"),
            updated=annotation.get("updated_at"),
            ground_truth=bool(annotation.get("ground_truth")),
            config_sha256=project.config_sha256,
            model=model,
            model_version=version,
            score=score,
            server_url=project.url or None,
        )
        doc, problems = convert.from_results(
            document, text, annotation.get("result"), origin, registry=registry
        )
        report.problems.extend(problems)
        if doc is not None:
            report.converted += 1
            out.append(
                Pulled(
                    task_id,
                    int(annotation["id"]),
                    bool(annotation.get("ground_truth")),
                    document["id"],
                    dump(doc),
                    task_link(project, task_id),
                )
            )
    return out


def _bad_task(
    task: Json, project: Project, report: PullReport, why: str, people: dict[int, str] | None
) -> None:
    """A task whose data cannot be read: named with its document and every annotation it
    drops (counted, like any other annotation)."""
    task_id = task.get("id")
    meta = (task.get("data") or {}).get(convert.DOC_KEY)
    document = meta.get("id") if isinstance(meta, dict) else None
    dropped = [a for a in task.get("annotations") or [] if not a.get("was_cancelled")]
    report.annotations += len(task.get("annotations") or [])
    report.cancelled += len(task.get("annotations") or []) - len(dropped)
    listed = ", ".join(f"{a.get('id')} by {_email(a.get('completed_by'), people)}" for a in dropped)
    report.problems.append(
        Problem(
            "bad-task",
            f"{why}; its {len(dropped)} annotation(s) are not pulled"
            + (f" ({listed})" if listed else ""),
            task=task_id,
            document=document if isinstance(document, str) else None,
            link=task_link(project, task_id),
        )
    )


def credited(
    task: Json, pulled: list[Pulled], people: dict[int, str] | None = None
) -> list[Pulled]:
    """The task's converted annotations with every hand credited (`credit`): each keeps
    its own per-region comments in its notes; the ground truth also names the annotators
    whose records it holds, the adjudicator, and their notes and comments."""
    raw = {a.get("id"): a for a in task.get("annotations") or [] if isinstance(a, dict)}
    authors = {
        one.annotation_id: _email(raw.get(one.annotation_id, {}).get("completed_by"), people)
        or "unknown"
        for one in pulled
    }
    lines = {
        aid: credit.comments(raw[aid].get("result"), who)
        for aid, who in authors.items()
        if aid in raw
    }
    merged = len(pulled) > 1 and any(one.ground_truth for one in pulled)
    if not merged and not any(lines.values()):
        return pulled  # nothing to credit: the common case re-reads no payload
    docs = {one.annotation_id: one.doc for one in pulled}
    out = []
    for one in pulled:
        doc = docs[one.annotation_id]
        if one.ground_truth:
            others = [
                (aid, d["provenance"]["annotators"][0], d)
                for aid, d in docs.items()
                if aid != one.annotation_id
            ]
            extra = [
                *lines.get(one.annotation_id, []),
                *(line for aid, _, _ in others for line in lines.get(aid, [])),
            ]
            doc = credit.credit(doc, others, extra)
        elif lines.get(one.annotation_id):
            notes = [doc["provenance"].get("notes") or "", *lines[one.annotation_id]]
            doc["provenance"]["notes"] = "\n".join(n for n in notes if n)
        else:
            out.append(one)
            continue
        out.append(dataclasses.replace(one, payload=dump(doc)))
    return out


def seen_of(task: Json, pulled: list[Pulled], people: dict[int, str] | None = None) -> TaskSeen:
    """What the mirror needs to know of one task: its live annotations, which converted,
    which one is starred."""
    meta = (task.get("data") or {}).get(convert.DOC_KEY)
    document = meta.get("id") if isinstance(meta, dict) else None
    seen = TaskSeen(task.get("id"), document if isinstance(document, str) else None)
    for annotation in task.get("annotations") or []:
        if annotation.get("was_cancelled") or not isinstance(annotation.get("id"), int):
            continue
        seen.live[annotation["id"]] = _email(annotation.get("completed_by"), people)
        if isinstance(annotation.get("updated_at"), str):
            seen.updated[annotation["id"]] = annotation["updated_at"]
        if annotation.get("ground_truth"):
            seen.ground_truth = annotation["id"]
    seen.valid = {one.annotation_id for one in pulled}
    return seen


def task_link(project: Project, task_id: Any) -> str | None:
    """Where an annotator opens a task: http://host/projects/P/data?task=T."""
    if not project.url or not isinstance(task_id, int):
        return None
    return f"{project.url.rstrip('/')}/projects/{project.id}/data?task={task_id}"


# --- check: the problems of the latest annotations, nothing written ---------------------------


@dataclass
class CheckReport:
    project: Project | None = None
    annotator: str | None = None
    tasks: int = 0
    checked: int = 0  # latest annotations converted
    clean: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> Json:
        return {
            "project": None
            if self.project is None
            else {"id": self.project.id, "title": self.project.title},
            "annotator": self.annotator,
            "tasks": self.tasks,
            "checked": self.checked,
            "clean": self.clean,
            "problems": [p.to_dict() for p in self.problems],
        }


def latest_annotations(task: Json, annotator: str | None = None) -> list[Json]:
    """Per annotator, the annotation of `task` updated last (cancelled ones left out);
    only `annotator`'s when given."""
    latest: dict[str | None, Json] = {}
    for annotation in task.get("annotations") or []:
        who = _email(annotation.get("completed_by"))
        if annotation.get("was_cancelled") or (annotator is not None and who != annotator):
            continue
        stamp = str(annotation.get("updated_at") or annotation.get("created_at") or "")
        have = latest.get(who)
        if have is None or stamp >= str(have.get("updated_at") or have.get("created_at") or ""):
            latest[who] = annotation
    return list(latest.values())


def check(
    client: Client,
    *,
    title: str = DEFAULT_TITLE,
    annotator: str | None = None,
    timeout: float = EXPORT_TIMEOUT,
) -> CheckReport:
    """Convert and validate the latest annotation of every annotator (or of `annotator`)
    exactly as a pull would, and report every problem; nothing is written, and the export
    snapshot is removed from the server and from disk afterwards."""
    report = CheckReport(annotator=annotator)
    client.whoami()
    project = find_project(client, title)
    if project is None:
        raise ProjectError(
            f"Label Studio at {client.url} has no project titled {title!r}: "
            "create it with `sitrep annotate push`"
        )
    report.project = project
    check_config(project)
    part = PullReport()
    registry = _registry(paths.project_root(), part)
    with tempfile.TemporaryDirectory(prefix="sitrep-check-") as tmp:
        export_file, _ = export_snapshot(client, project, Path(tmp), timeout, keep_on_server=False)
        tasks = orjson.loads(export_file.read_bytes())
    if not isinstance(tasks, list):
        raise OutputError(f"project {project.id}: the export is not a list of tasks")
    for task in tasks:
        latest = latest_annotations(task, annotator)
        if not latest:
            continue
        report.tasks += 1
        report.checked += len(latest)
        report.clean += len(
            convert_task({**task, "annotations": latest}, project, part, None, registry)
        )
    report.problems = part.problems
    return report


# --- writing -------------------------------------------------------------------------------


def dump(doc: Json) -> bytes:
    """A document as sitrep writes it: two-space indent, UTF-8, a final newline (the same
    bytes `json.dumps(doc, indent=2, ensure_ascii=False)` gives, faster)."""
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n"


def _read(path: Path) -> Json | None:
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _ids(doc: Json) -> list[Any]:
    return list(
        ((doc.get("provenance") or {}).get("label_studio") or {}).get("annotation_ids") or []
    )


def _written_by_us(existing: Json, doc: Json) -> bool:
    was = (existing.get("provenance") or {}).get("label_studio") or {}
    now = doc["provenance"]["label_studio"] or {}
    return was.get("project_id") == now.get("project_id") and was.get("task_id") == now.get(
        "task_id"
    )


def write_task(
    pulled: list[Pulled],
    folder: Path,
    released_dir: Path,
    report: PullReport,
    replace: bool,
    writer: BatchWriter | None = None,
) -> None:
    """Write one task's annotations, and release its ground truth (through `writer`
    when given, which makes them durable a batch at a time)."""

    def write(target: Path, payload: bytes) -> None:
        if writer is None:
            write_atomic(target, payload)
        else:
            writer.add(target, payload)

    for one in pulled:
        target = folder / "annotations" / one.document_id / f"{one.annotation_id}.json"
        if target.exists() and target.read_bytes() == one.payload:
            report.unchanged += 1
        else:
            write(target, one.payload)
            report.written.append(target)
    truths = [one for one in pulled if one.ground_truth]
    if len(truths) > 1:
        ids = ", ".join(str(one.annotation_id) for one in truths)
        report.problems.append(
            Problem(
                "several-ground-truths",
                f"annotations {ids} are all marked ground truth: keep one "
                "(adjudicate) before it can be released",
                task=truths[0].task_id,
                document=truths[0].document_id,
                link=truths[0].link,
            )
        )
        return
    if not truths:
        return
    one = truths[0]
    doc = one.doc
    target = released_dir / f"{one.document_id}.json"
    existing = _read(target) if target.exists() else None
    same_star = existing is None or not _written_by_us(existing, doc) or _ids(existing) == _ids(doc)
    if existing is not None and same_content(existing, doc) and same_star:
        report.released_unchanged += 1
        return
    if target.exists() and not replace and (existing is None or not _written_by_us(existing, doc)):
        report.problems.append(
            Problem(
                "not-overwritten",
                f"{target} exists and was not written by a pull of this task; "
                "it is left as it is (compare it with the pulled annotation under "
                f"{folder / 'annotations'}, or pull with --replace to release the ground truth)",
                task=one.task_id,
                annotation=one.annotation_id,
                document=one.document_id,
                link=one.link,
            )
        )
        return
    write(target, one.payload)
    report.released.append(target)


def pull(
    client: Client,
    *,
    title: str = DEFAULT_TITLE,
    root: Path | None = None,
    replace: bool = False,
    timeout: float = EXPORT_TIMEOUT,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
    keep: int = KEEP_EXPORTS,
) -> PullReport:
    """Export project `title`, convert and validate every annotation, write them (see the
    module docstring). `workers`: processes for the conversion (default: up to 4);
    `keep`: exports kept (compressed) in the project's exports folder."""
    report = PullReport()
    base = root or paths.project_root()
    account = client.whoami()
    project = find_project(client, title)
    if project is None:
        raise ProjectError(
            f"Label Studio at {client.url} has no project titled {title!r}: "
            "create it with `sitrep annotate push`"
        )
    report.project = project
    check_config(project)
    folder = project_dir(title, base)
    clock = time.perf_counter()
    export_file, report.export_bytes = export_snapshot(
        client, project, folder / "exports", timeout, keep_on_server=False
    )
    report.timings["export"] = time.perf_counter() - clock
    roster = team.load_roster(team.roster_file(base))
    people = {m.user_id: m.email for m in roster.members if m.user_id is not None}
    registry = _registry(base, report)
    try:
        process_export(
            export_file,
            project,
            folder,
            paths.annotations_dir(base),
            report,
            replace=replace,
            progress=progress,
            workers=workers,
            people=people,
            registry=registry,
        )
    finally:
        report.export_file = keep_exports(folder / "exports", export_file, keep)
    if roster.members:  # Community has no roles: say who annotated without being on the team
        known = {m.email for m in roster.members} | {account.get("email")}
        report.outsiders = sorted(a for a in report.annotators if a not in known)
    return report


def _registry(root: Path, report: PullReport) -> Found | None:
    """The registry the links are checked against (the dataset's), its own problems the
    pull's too; None when the dataset has none (`sitrep validate` then reports every
    linked document as `registry.missing`)."""
    found = open_registry([root])
    report.problems.extend(Problem.from_issue(issue) for issue in found.issues)
    return found if found.path is not None else None


def process_export(
    export_file: Path,
    project: Project,
    folder: Path,
    released_dir: Path,
    report: PullReport,
    *,
    replace: bool = False,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
    people: dict[int, str] | None = None,
    stamp: datetime | None = None,
    registry: Found | None = None,
) -> None:
    """Convert, validate and write every annotation of a downloaded export, a task at a
    time (memory stays flat), then make the dataset mirror the project (`mirror`)."""
    clock = time.perf_counter()
    count = workers if workers is not None else min(4, os.cpu_count() or 1)
    if export_file.stat().st_size < SERIAL_BELOW_BYTES or "fork" not in mp.get_all_start_methods():
        count = 1
    audit = mirror.audit_dir(folder, stamp)
    seen: list[TaskSeen] = []
    writing = 0.0
    work = functools.partial(_convert_batch, project, people or {}, registry)
    chunks = export.batches(export.iter_tasks(export_file), BATCH)
    with BatchWriter() as writer:
        for results, part in export.bounded_map(work, chunks, count):
            mark = time.perf_counter()
            _merge(report, part)
            for pulled, task in results:
                report.tasks += 1
                seen.append(task)
                _follow_star(task, project, released_dir, audit, report)
                write_task(pulled, folder, released_dir, report, replace, writer)
            if progress:  # the project's task count, unless tasks came in since
                progress(report.tasks, max(project.tasks or 0, report.tasks))
            writing += time.perf_counter() - mark
        mark = time.perf_counter()
    writing += time.perf_counter() - mark
    report.timings["parse"] = 0.0  # streamed: parsing is part of the conversion now
    report.timings["convert"] = time.perf_counter() - clock - writing
    report.timings["write"] = writing
    report.annotators = sorted({who for t in seen for who in t.live.values() if who})
    for path, reason in mirror.stale_annotations(folder, seen):
        annotation, annotator = mirror.annotation_of(path)
        moved = mirror.move(path, folder, audit)
        report.moved.append(Moved(path, moved, reason, annotation, annotator, path.parent.name))


def _follow_star(
    task: TaskSeen, project: Project, released_dir: Path, audit: Path, report: PullReport
) -> None:
    """Report a ground truth that moved and keep the previous released file in the audit
    folder (copied: the new one replaces it); a star removed takes the file there."""
    change = mirror.star_change(task, released_dir, project.id)
    if change is None:
        return
    report.star_changes.append(change)
    target = released_dir / f"{change.document}.json"
    kept = audit / "released" / target.name
    kept.parent.mkdir(parents=True, exist_ok=True)
    if change.after is None:
        os.replace(target, kept)
        reason = "the task has no ground truth any more (unstarred in Label Studio)"
    else:
        shutil.copy2(target, kept)
        reason = f"the ground truth moved to annotation {change.after} by {change.after_by}"
    report.moved.append(
        Moved(target, kept, reason, change.before, change.before_by, change.document)
    )


# --- conversion in parallel ------------------------------------------------------------------

SERIAL_BELOW_BYTES = 4 << 20  # smaller exports are converted in this process
BATCH = 50  # tasks per batch sent to a worker


def _merge(report: PullReport, part: PullReport) -> None:
    report.annotations += part.annotations
    report.cancelled += part.cancelled
    report.converted += part.converted
    report.problems.extend(part.problems)


def _convert_batch(
    project: Project,
    people: dict[int, str],
    registry: Found | None,
    tasks: list[Json],
) -> tuple[list[tuple[list[Pulled], TaskSeen]], PullReport]:
    """One batch of tasks, converted (in a worker process for large pulls). The cyclic
    garbage collector is paused: nothing made here forms a cycle."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        part = PullReport()
        out = []
        for task in tasks:
            pulled = credited(task, convert_task(task, project, part, people, registry), people)
            out.append((pulled, seen_of(task, pulled, people)))
        return out, part
    finally:
        if enabled:
            gc.enable()
