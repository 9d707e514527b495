"""What a pull changes in the dataset so that it mirrors Label Studio, and the audit trail.

The pulled annotations (`datasets/label-studio/<project>/annotations/<doc>/<id>.json`)
must be exactly the live annotations of the project, because agreement and adjudication
read them; the released ground truth must follow the star. So after the export is read:

1. Every pulled file whose annotation is gone from Label Studio (deleted, cancelled, or its
   task deleted) is moved to the audit folder and reported with its annotator.
2. Every pulled file whose annotation's latest version does not convert (the problem is
   reported as usual) is moved to the audit folder too: an older version must not be
   counted as what the annotator now says.
3. A ground truth that moved to another annotation (Label Studio keeps one star per task)
   is reported with both annotations, their annotators and when they changed; the released
   file follows the new star and the previous one is kept in the audit folder. A star
   removed takes the released file to the audit folder, when sitrep released it from that
   task; a file sitrep did not write is never touched.

The audit folder is `datasets/label-studio/<project>/audit/<UTC time of the pull>/`, with
the same relative paths. Nothing is deleted; nothing moves without a line in the report.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

Json = dict[str, Any]
AUDIT = "audit"


@dataclass
class TaskSeen:
    """What the export says about one task, whatever converted."""

    task_id: int | None
    document_id: str | None
    live: dict[int, str | None] = field(default_factory=dict)  # annotation id -> annotator
    valid: set[int] = field(default_factory=set)  # annotations that converted
    ground_truth: int | None = None  # the starred, not cancelled annotation
    updated: dict[int, str] = field(default_factory=dict)  # annotation id -> updated_at


@dataclass(frozen=True)
class Moved:
    """One file a pull took out of the dataset, and why."""

    path: Path
    to: Path
    reason: str
    annotation: int | None
    annotator: str | None
    document: str | None

    def __str__(self) -> str:
        who = f" by {self.annotator}" if self.annotator else ""
        what = f"annotation {self.annotation}{who}" if self.annotation else "released file"
        return f"{self.document}: {what}: {self.reason}; moved to {self.to}"

    def to_dict(self) -> Json:
        return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}


@dataclass(frozen=True)
class StarChange:
    """The ground truth of a task moved from one annotation to another (or away)."""

    task: int | None
    document: str
    before: int | None
    before_by: str | None
    after: int | None
    after_by: str | None
    updated: str | None

    def __str__(self) -> str:
        was = f"annotation {self.before} by {self.before_by}" if self.before else "none"
        now = f"annotation {self.after} by {self.after_by}" if self.after else "none (unstarred)"
        when = f" (updated {self.updated})" if self.updated else ""
        return f"task {self.task} ({self.document}): ground truth {was} -> {now}{when}"

    def to_dict(self) -> Json:
        return asdict(self)


def audit_dir(folder: Path, stamp: datetime | None = None) -> Path:
    when = (stamp or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return folder / AUDIT / when


def _recorded(path: Path) -> tuple[Json, list[int], str | None]:
    """(label_studio origin, annotation ids, first annotator) of a pulled or released
    file, read once; empty when it cannot be read."""
    try:
        doc = orjson.loads(path.read_bytes())
        prov = doc.get("provenance") or {}
        origin = prov.get("label_studio") or {}
        return (
            origin,
            list(origin.get("annotation_ids") or []),
            (prov.get("annotators") or [None])[0],
        )
    except (OSError, orjson.JSONDecodeError, AttributeError):
        return {}, [], None


def move(path: Path, base: Path, audit: Path) -> Path:
    """Move `path` (under `base`) to the same relative place under `audit`."""
    target = audit / path.relative_to(base)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(path, target)
    return target


def stale_annotations(folder: Path, seen: list[TaskSeen]) -> list[tuple[Path, str]]:
    """Pulled files to take out: (file, reason)."""
    live: dict[str, dict[int, bool]] = {}
    for task in seen:
        if task.document_id is not None:
            mine = live.setdefault(task.document_id, {})
            for annotation in task.live:
                mine[annotation] = annotation in task.valid
    out: list[tuple[Path, str]] = []
    root = folder / "annotations"
    if not root.is_dir():
        return out
    for path in sorted(root.glob("*/*.json")):
        document, stem = path.parent.name, path.stem
        if not stem.isdigit():
            continue  # not a file a pull wrote
        state = live.get(document, {}).get(int(stem))
        if state is None:
            gone = (
                "its task is no longer in the project"
                if document not in live
                else ("deleted or cancelled in Label Studio")
            )
            out.append((path, gone))
        elif state is False:
            out.append((path, "its latest version in Label Studio is invalid (see the problems)"))
    return out


def star_change(task: TaskSeen, released_dir: Path, project_id: int) -> StarChange | None:
    """How the ground truth of `task` moved since its released file was written, if it
    did. Only a released file that a pull of this task wrote counts; a new star that does
    not convert changes nothing yet (its problems are reported and the file is kept)."""
    if task.document_id is None:
        return None
    target = released_dir / f"{task.document_id}.json"
    if not target.is_file():
        return None
    origin, before_ids, before_by = _recorded(target)
    if origin.get("project_id") != project_id or origin.get("task_id") != task.task_id:
        return None  # not released from this task: never ours to change
    before = before_ids[0] if before_ids else None
    after = task.ground_truth
    if after == before or (after is not None and after not in task.valid):
        return None
    after_by = task.live.get(after) if after is not None else None
    # Label Studio keeps no time for the star itself; (un)starring saves the annotation,
    # so its updated_at is when it happened
    when = task.updated.get(after if after is not None else before or -1)
    return StarChange(task.task_id, task.document_id, before, before_by, after, after_by, when)


def annotation_of(path: Path) -> tuple[int | None, str | None]:
    _, ids, who = _recorded(path)
    return (ids[0] if ids else None), who
