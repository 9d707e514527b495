"""`sitrep annotate adjudicate`: one ground truth per task from several annotators.

Label Studio's Community edition has no review workflow, so sitrep merges. For every task
with two or more (not cancelled) annotations and no ground truth yet:

1. Records of the same kind are the same record when they share a span, whoever made them
   and whatever id they gave it.
2. A record is kept when more than half of the annotators have it; on a tie, when the
   first annotator in the tie-break order who annotated the task has it.
3. Its content (every field, references compared by the records they point at, not by
   id) is the version most annotators gave; a tie goes to the tie-break order.
4. Where all annotators agree nothing is listed; everything else is a conflict, listed
   per task with each annotator's version and the decision taken.

The merged document is validated and written back to Label Studio as a new annotation
marked ground truth (`--rule majority`), or, for tasks with conflicts, as a draft for the
adjudicator to finish in Label Studio (`--draft`): they submit it, star it as ground
truth, and the next pull releases it. No annotator's annotation is changed or deleted.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from sitrep.annotate.labelstudio import convert
from sitrep.annotate.labelstudio.client import Client
from sitrep.annotate.labelstudio.convert import Problem
from sitrep.annotate.labelstudio.defaults import DEFAULT_TITLE
from sitrep.annotate.labelstudio.labelconfig import Kind, Layout, layout
from sitrep.annotate.labelstudio.project import (
    ProjectError,
    check_config,
    find_project,
)
from sitrep.annotate.labelstudio.pull import PullReport, convert_task, export_snapshot
from sitrep.schema.validation import validate_document

Json = dict[str, Any]


@dataclass
class Conflict:
    task: int | None
    document: str
    kind: str
    record: str  # the quoted text of the record's first span
    about: str  # "presence" or the fields that differ
    versions: dict[str, Any]  # annotator -> their version (or None: does not have it)
    decision: str

    def __str__(self) -> str:
        shown = "; ".join(f"{who}: {_short(v)}" for who, v in self.versions.items())
        return (
            f"task {self.task} (document {self.document}) {self.kind} {self.record!r}: "
            f"{self.about} differs ({shown}) -> {self.decision}"
        )


def _short(value: Any) -> str:
    text = "absent" if value is None else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 120 else text[:117] + "..."


@dataclass
class TaskResult:
    task: int | None
    document: str
    annotators: list[str]
    records: int = 0
    agreed: int = 0
    conflicts: list[Conflict] = field(default_factory=list)
    written: str = ""  # "ground_truth" | "draft" | "" (nothing written)
    annotation_id: int | None = None


@dataclass
class AdjudicationReport:
    tasks: list[TaskResult] = field(default_factory=list)
    skipped_with_ground_truth: int = 0
    single_annotator: int = 0
    problems: list[Problem] = field(default_factory=list)
    export_file: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> Json:
        return {
            "tasks": [
                {
                    "task": t.task,
                    "document": t.document,
                    "annotators": t.annotators,
                    "records": t.records,
                    "agreed": t.agreed,
                    "written": t.written,
                    "annotation_id": t.annotation_id,
                    "conflicts": [c.__dict__ for c in t.conflicts],
                }
                for t in self.tasks
            ],
            "skipped_with_ground_truth": self.skipped_with_ground_truth,
            "single_annotator": self.single_annotator,
            "problems": [p.to_dict() for p in self.problems],
        }


# --- merging ---------------------------------------------------------------------------------


def _spans(record: Json) -> set[tuple[int, int]]:
    return {(s["start"], s["end"]) for s in record["spans"]}


def _clusters(kind: Kind, docs: dict[str, Json]) -> list[dict[str, Json]]:
    """Records of one kind across annotators: [{annotator: record}], by first span."""
    clusters: list[tuple[set[tuple[int, int]], dict[str, Json]]] = []
    for who, doc in docs.items():
        for record in doc.get(kind.kind, []):
            spans = _spans(record)
            home = next((c for c in clusters if c[0] & spans and who not in c[1]), None)
            if home is None:
                clusters.append((set(spans), {who: record}))
            else:
                home[0].update(spans)
                home[1][who] = record
    clusters.sort(key=lambda c: min(c[0]))
    return [members for _, members in clusters]


def _normal(record: Json, kind: Kind, where: dict[tuple[str, str], int], who: str) -> Json:
    """A record with its id dropped and references replaced by cluster numbers."""
    out = {k: v for k, v in record.items() if k not in ("id", "provenance")}
    for ref in kind.references:
        target = record.get(ref.field)
        out[ref.field] = None if target is None else where.get((who, target), f"? {target}")
    for roles in kind.role_lists:
        out[roles.field] = [
            {**item, roles.ref_key: where.get((who, item[roles.ref_key]), "?")}
            for item in record.get(roles.field, [])
        ]
    return out


def merge(
    docs: dict[str, Json], order: list[str], lay: Layout | None = None, task: int | None = None
) -> tuple[Json, list[Conflict], int, int]:
    """(merged document, conflicts, records kept, records all annotators agreed on)."""
    lay = lay or layout()
    annotators = sorted(docs, key=lambda a: (order.index(a) if a in order else len(order), a))
    first = next(iter(docs.values()))
    document = first["document"]
    per_kind = {kind.kind: _clusters(kind, docs) for kind in lay.kinds}
    lead = annotators[0]  # records keep the order the first annotator in the order gave them
    for kind in lay.kinds:
        position = {r["id"]: n for n, r in enumerate(docs[lead].get(kind.kind, []))}

        def order_key(members: dict[str, Json], position: dict[str, int] = position) -> Any:
            if lead in members:
                return (0, position[members[lead]["id"]], 0)
            return (1, min(min(_spans(r)) for r in members.values()))

        per_kind[kind.kind].sort(key=order_key)
    where: dict[tuple[str, str], int] = {}
    number = 0
    for kind in lay.kinds:
        for members in per_kind[kind.kind]:
            for who, record in members.items():
                where[who, record["id"]] = number
            number += 1
    conflicts: list[Conflict] = []
    chosen: dict[int, tuple[str, Json, Kind]] = {}
    agreed = 0
    number = 0
    n = len(annotators)
    for kind in lay.kinds:
        for members in per_kind[kind.kind]:
            label = next(iter(members.values()))["spans"][0]["text"]
            have = [a for a in annotators if a in members]
            keep = len(have) * 2 > n or (len(have) * 2 == n and annotators[0] in members)
            if len(have) != n:
                conflicts.append(
                    Conflict(
                        task,
                        document["id"],
                        kind.label,
                        label,
                        "presence",
                        {a: ("present" if a in members else None) for a in annotators},
                        "kept (majority)"
                        if keep and len(have) * 2 > n
                        else "kept (tie-break order)"
                        if keep
                        else "dropped",
                    )
                )
            if not keep:
                number += 1
                continue
            versions = {a: _normal(members[a], kind, where, a) for a in have}
            counted: list[tuple[int, int, str]] = []
            for a in have:
                votes = sum(versions[b] == versions[a] for b in have)
                counted.append((-votes, annotators.index(a), a))
            winner = min(counted)[2]
            differing = sorted(
                {k for a in have for k in versions[a] if versions[a][k] != versions[winner].get(k)}
            )
            if differing:
                conflicts.append(
                    Conflict(
                        task,
                        document["id"],
                        kind.label,
                        label,
                        ", ".join(differing),
                        {a: {k: members[a].get(k) for k in differing} for a in have},
                        f"{winner}'s version ({-min(counted)[0]} of {len(have)})",
                    )
                )
            elif len(have) == n:
                agreed += 1
            chosen[number] = (winner, members[winner], kind)
            number += 1
    ids: dict[int, str] = {}
    used: set[str] = set()
    for num, (_, record, _) in chosen.items():
        rid, k = record["id"], 2
        while rid in used:
            rid, k = f"{record['id']}-{k}", k + 1
        used.add(rid)
        ids[num] = rid
    merged: Json = {"schema_version": first["schema_version"], "document": document}
    for kind in lay.kinds:
        merged[kind.kind] = []
    for num, (who, record, kind) in chosen.items():
        out = {k: v for k, v in record.items() if k != "provenance"}
        out["id"] = ids[num]
        for ref in kind.references:
            target = record.get(ref.field)
            out[ref.field] = None if target is None else ids.get(where.get((who, target), -1))
        for roles in kind.role_lists:
            out[roles.field] = [
                {**item, roles.ref_key: ids[where[(who, item[roles.ref_key])]]}
                for item in record.get(roles.field, [])
                if where.get((who, item[roles.ref_key])) in ids
            ]
        merged[kind.kind].append(out)
    merged["provenance"] = {
        "annotators": annotators,
        "created": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "updated": None,
        "label_studio": None,
        "notes": (
            f"Adjudicated by sitrep: majority of {n} annotators, ties to the order "
            f"{', '.join(annotators)}; {len(conflicts)} conflict(s)."
        ),
    }
    return merged, conflicts, len(chosen), agreed


# --- against the server ----------------------------------------------------------------------


def adjudicate(
    client: Client,
    *,
    title: str = DEFAULT_TITLE,
    order: list[str] | None = None,
    draft: bool = False,
    dry_run: bool = False,
    keep_export: Path | None = None,
    leave_out: Collection[str] = (),
) -> AdjudicationReport:
    """Adjudicate every task with two or more annotators (see the module doc); the
    annotations of `leave_out` (the team's reviewers) are not votes."""
    report = AdjudicationReport()
    client.whoami()
    project = find_project(client, title)
    if project is None:
        raise ProjectError(f"Label Studio at {client.url} has no project titled {title!r}")
    check_config(project)
    with tempfile.TemporaryDirectory(prefix="sitrep-adjudicate-") as tmp:
        folder = keep_export or Path(tmp)
        export_file, _ = export_snapshot(client, project, folder)
        report.export_file = export_file if keep_export else None
        tasks = orjson.loads(export_file.read_bytes())
    lay = layout()
    for task in tasks:
        live = [a for a in task.get("annotations") or [] if not a.get("was_cancelled")]
        if any(a.get("ground_truth") for a in live):
            report.skipped_with_ground_truth += 1
            continue
        if len(live) < 2:
            report.single_annotator += 1
            continue
        part = PullReport()
        pulled = convert_task({**task, "annotations": live}, project, part)
        report.problems.extend(part.problems)
        if part.problems:
            continue  # never adjudicate from annotations that do not convert
        docs: dict[str, Json] = {}
        for one in sorted(pulled, key=lambda p: p.annotation_id):
            doc = one.doc
            who = doc["provenance"]["annotators"][0]
            if who not in leave_out:
                docs[who] = doc  # an annotator's latest
        if len(docs) < 2:
            report.single_annotator += 1
            continue
        merged, conflicts, records, agreed = merge(docs, order or [], lay, task.get("id"))
        result = TaskResult(
            task.get("id"), merged["document"]["id"], list(docs), records, agreed, conflicts
        )
        report.tasks.append(result)
        issues = validate_document(merged, f"task {task.get('id')}")
        if issues:
            report.problems.extend(
                Problem(
                    str(i.code),
                    f"the merged document is invalid: {i.message} at {i.pointer}",
                    task=task.get("id"),
                    document=result.document,
                    expected=i.expected,
                    found=i.found,
                )
                for i in issues
            )
            continue
        if dry_run:
            continue
        results = convert.to_results(merged)
        if draft and conflicts:
            body = client.post(
                f"/api/tasks/{task['id']}/drafts", {"result": results, "lead_time": 0}
            )
            result.written, result.annotation_id = "draft", body.get("id")
        else:
            body = client.post(
                f"/api/tasks/{task['id']}/annotations/",
                {"result": results, "ground_truth": True, "lead_time": 0},
            )
            result.written, result.annotation_id = "ground_truth", body.get("id")
    return report
