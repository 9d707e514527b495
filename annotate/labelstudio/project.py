"""`sitrep annotate push`: the Label Studio project, its labeling config, and its tasks.

The project is found by title (created when missing). Its labeling config is generated
from the schema, checked by the server's validator, and its version and sha256 are
recorded in the project description, which every pull reads back. The codebook is the
project's instructions.

Tasks are keyed by document id and text sha256: pushing twice never duplicates a task,
and a document whose text changed under an existing id is refused. Annotation files can
go along as annotations (optionally marked ground truth) and as predictions with a model
version; each is converted to Label Studio results and converted back before anything
is sent, so only results that round-trip to the same document reach the server.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import markdown_it

from sitrep import paths
from sitrep.annotate.labelstudio import candidates, convert, labelconfig
from sitrep.annotate.labelstudio.client import Client
from sitrep.annotate.labelstudio.convert import Problem
from sitrep.annotate.labelstudio.defaults import CHUNK, DEFAULT_TITLE
from sitrep.annotate.labelstudio.guide import CODEBOOK_TITLE, render_guide
from sitrep.annotate.labelstudio.server import ConnectionFailed, Reason
from sitrep.errors import ConfigError, SitrepError
from sitrep.fileio import write_atomic
from sitrep.schema import documents
from sitrep.schema.validation import parse_raw, read_raw, validate_document
from sitrep.validate.registry import Found, open_registry

Json = dict[str, Any]
SETTINGS = "project.json"  # per project in the dataset: {"overlap": N}
Progress = Callable[[int, int], None]


class ProjectError(SitrepError):
    """The project cannot be used as it is (missing, config drifted, refused update)."""


@dataclass(frozen=True)
class Project:
    id: int
    title: str
    label_config: str
    description: str
    url: str = ""  # the Label Studio it lives on, for links to its tasks
    tasks: int | None = None  # how many tasks it had when it was read (a pull's total)

    @cached_property
    def config_sha256(self) -> str:
        return labelconfig.config_sha256(self.label_config)


@dataclass
class PushReport:
    project: Project | None = None
    project_url: str = ""
    created: bool = False
    config_updated: bool = False
    tasks_created: int = 0
    tasks_existing: int = 0
    candidates_updated: int = 0  # existing tasks whose registry candidates changed
    annotations_added: int = 0
    annotations_existing: int = 0
    predictions_added: int = 0
    predictions_existing: int = 0
    overlap: int = 1
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "project"


def project_dir(title: str, root: Path | None = None) -> Path:
    """Where the dataset keeps what belongs to project `title`: its settings, the exports
    and the per-annotator annotations pulled from it."""
    return (root or paths.project_root()) / "datasets" / "label-studio" / slug(title)


# --- overlap: how many annotators see each task -------------------------------------------


def settings_file(title: str, root: Path | None = None) -> Path:
    return project_dir(title, root) / SETTINGS


def read_settings(file: Path) -> Json:
    if not file.is_file():
        return {}
    try:
        body = json.loads(file.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ConfigError(f"{file}: not JSON ({exc}); fix or remove it") from None
    if not isinstance(body, dict):
        raise ConfigError(f"{file}: expected a JSON object of project settings")
    return body


def set_overlap(client: Client, project: Project, overlap: int | None, file: Path) -> int:
    """The number of annotators each task goes to: `overlap` when given (and then kept in
    the dataset's project settings `file`), else the kept one, else 1. Label Studio counts
    a task as labeled after `maximum_annotations` annotations and, with
    `show_overlap_first`, serves tasks that still need one before fresh ones, so every
    annotator asking for the next task gets the same task until N have done it."""
    settings = read_settings(file)
    asked = overlap is not None
    if overlap is None:
        overlap = int(settings.get("overlap", 1))
    if overlap < 1:
        raise ConfigError(f"overlap must be at least 1 annotator per task; found {overlap}")
    wanted = {
        "maximum_annotations": overlap,
        "show_overlap_first": overlap > 1,
        "overlap_cohort_percentage": 100,
    }
    current = client.get(f"/api/projects/{project.id}/")
    changes = {k: v for k, v in wanted.items() if current.get(k) != v}
    if changes:
        client.patch(f"/api/projects/{project.id}/", changes)
    if asked and settings.get("overlap") != overlap:
        file.parent.mkdir(parents=True, exist_ok=True)
        body = {**settings, "overlap": overlap}
        write_atomic(file, json.dumps(body, indent=2, sort_keys=True) + "\n")
    return overlap


def seed_gold(root: Path | None = None) -> Json | None:
    """The seed article's gold annotation (the guide's worked examples), if there is one."""
    for path in sorted(paths.annotations_dir(root).glob("seed-*.json")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict):
            return doc
    return None


def instructions() -> str:
    """The project's instructions: the annotator guide, then the full codebook folded
    below it (Label Studio shows them on request, not on every task; it strips `id`
    attributes, so the guide names the folded section instead of linking to an anchor)."""
    md = markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table")
    guide = md.render(render_guide(labelconfig.layout(), seed_gold()))
    codebook = md.render(paths.codebook_file().read_text(encoding="utf-8"))
    return f"{guide}<details><summary>{CODEBOOK_TITLE}</summary>{codebook}</details>"


def wanted_config() -> str:
    return labelconfig.render().strip()


def find_project(client: Client, title: str) -> Project | None:
    found = [p for p in client.pages("/api/projects/", page_size=100) if p.get("title") == title]
    if len(found) > 1:
        ids = ", ".join(str(p["id"]) for p in found)
        raise ProjectError(
            f"{len(found)} Label Studio projects are titled {title!r} (ids {ids}): rename all "
            "but one, or choose another with --project"
        )
    return _project(found[0], client.url) if found else None


def _project(body: Json, url: str = "") -> Project:
    return Project(
        int(body["id"]),
        str(body["title"]),
        str(body.get("label_config") or ""),
        str(body.get("description") or ""),
        url,
        body["task_number"] if isinstance(body.get("task_number"), int) else None,
    )


def validate_config(client: Client, config: str) -> None:
    try:
        client.post("/api/projects/validate/", {"label_config": config})
    except ConnectionFailed as exc:
        if exc.reason is Reason.refused:
            raise ProjectError(
                f"Label Studio refuses the generated labeling config: {exc}"
            ) from exc
        raise


def ensure_project(client: Client, title: str) -> tuple[Project, bool, bool]:
    """The project, created or updated to the current config: (project, created, updated)."""
    config = wanted_config()
    lay = labelconfig.layout()
    validate_config(client, config)
    wanted = {
        "title": title,
        "label_config": config,
        "description": labelconfig.description(lay, config),
        "expert_instruction": instructions(),
        "show_instruction": False,
    }
    project = find_project(client, title)
    if project is None:
        return _project(client.post("/api/projects/", wanted), client.url), True, False
    current = client.get(f"/api/projects/{project.id}/")
    changes = {k: v for k, v in wanted.items() if current.get(k) != v}
    if not changes:
        return project, False, False
    try:
        body = client.patch(f"/api/projects/{project.id}/", changes)
    except ConnectionFailed as exc:
        if exc.reason is Reason.refused:
            raise ProjectError(
                f"Label Studio refused to update project {project.id}'s labeling config: "
                f"{exc.detail}. Existing annotations use labels or controls the new config "
                "drops; pull them, fix or delete them in Label Studio, and push again."
            ) from exc
        raise
    return _project(body, client.url), False, "label_config" in changes


def check_config(project: Project) -> None:
    """Refuse a project whose labeling config is not the one sitrep generated."""
    lay = labelconfig.layout()
    recorded = labelconfig.recorded(project.description)
    actual = labelconfig.config_sha256(project.label_config.strip())
    if recorded is None:
        raise ProjectError(
            f"project {project.id} ({project.title!r}) has no sitrep config record in its "
            "description: it was not made by `sitrep annotate push`, or the description was "
            "edited; run push to bring it under sitrep"
        )
    version, sha = recorded
    if actual != sha:
        raise ProjectError(
            f"project {project.id}: the labeling config was changed in Label Studio after sitrep "
            f"pushed it (recorded sha256 {sha[:12]}..., now {actual[:12]}...); annotations "
            "may use labels sitrep does not know. Run `sitrep annotate push` to restore it."
        )
    wanted = labelconfig.config_sha256(wanted_config())
    if version != lay.version or sha != wanted:
        raise ProjectError(
            f"project {project.id} uses labeling config {version}, this sitrep generates "
            f"{lay.version} (sha256 {wanted[:12]}...): run `sitrep annotate push` to update it"
        )


# --- documents and annotation files ---------------------------------------------------------


def read_sources(paths_: Iterable[Path]) -> tuple[list[Json], list[Problem]]:
    """`document` objects from seed folders, article .txt files and JSONL collections."""
    docs: list[Json] = []
    problems: list[Problem] = []
    for path in paths_:
        found, report = documents.scan_sources(path) if path.is_dir() else documents.scan_file(path)
        problems.extend(Problem.from_issue(issue) for issue in report.issues)
        docs.extend(d.as_document() for d in found)
    return docs, problems


def read_annotations(paths_: Iterable[Path]) -> tuple[list[Json], list[Problem]]:
    """Valid schema documents from files and folders (every invalid one is a problem)."""
    docs: list[Json] = []
    problems: list[Problem] = []
    files: list[Path] = []
    for path in paths_:
        files.extend(sorted(path.rglob("*.json")) if path.is_dir() else [path])
    for file in files:
        raw, issue = read_raw(file)
        doc, issue = (None, issue) if raw is None else parse_raw(raw, str(file))
        issues = [issue] if issue else validate_document(doc, str(file))
        if issues or doc is None:
            problems.extend(Problem.from_issue(i) for i in issues)
            continue
        docs.append(doc)
    return docs, problems


def results_for(
    doc: Json, *, as_prediction: bool, registry: Found | None = None
) -> tuple[list[Json] | None, list[Problem]]:
    """Label Studio results for one valid document, checked by converting them back (and
    its registry links against `registry`, when given)."""
    doc_id = doc["document"]["id"]
    if not as_prediction:
        machine = [
            r["id"]
            for kind in labelconfig.layout().kinds
            for r in doc[kind.kind]
            if (r.get("provenance") or {}).get("method", "manual") != "manual"
        ]
        if machine:
            return None, [
                Problem(
                    "not-human",
                    "records made by a model cannot be imported as a human "
                    "annotation: push them as predictions (--predictions)",
                    document=doc_id,
                    found=", ".join(machine[:5]),
                )
            ]
    text = convert.TaskText.of(doc["document"]["text"])
    results = convert.to_results(doc, text=text)
    back, problems = convert.from_results(
        doc["document"],
        text,
        results,
        convert.Origin(),
        validate=False,
        registry=registry,
    )
    if problems:
        return None, [
            Problem(p.rule, p.message, region=p.region, document=doc_id) for p in problems
        ]
    stripped = _content(convert.canonical(doc), keep_record_provenance=False)
    if back is None or _content(back, keep_record_provenance=False) != stripped:
        return None, [
            Problem(
                "not-representable",
                "this document does not survive the conversion to Label Studio results unchanged",
                document=doc_id,
            )
        ]
    return results, []


def _content(doc: Json, *, keep_record_provenance: bool = True) -> Json:
    """A document without its provenance or schema version (what annotators decide, not
    who, when, or which patch of the schema a converter wrote it under: every version of
    one major reads the same document the same way)."""
    out = {k: v for k, v in doc.items() if k not in ("provenance", "schema_version")}
    if not keep_record_provenance:
        for kind in labelconfig.layout().kinds:
            out[kind.kind] = [
                {k: v for k, v in r.items() if k != "provenance"} for r in doc.get(kind.kind, [])
            ]
    return out


def same_content(a: Json, b: Json) -> bool:
    return _content(a) == _content(b)


def proposal_results(document: Json, entries: dict[str, Any]) -> tuple[list[Json], float | None]:
    """Label Studio results for what the pre-annotator proposes in one document: complete,
    schema-valid records (`propose.proposed_document`) an annotator can accept as they
    are, each region with its record's score; and the prediction's score (their mean)."""
    from sitrep.annotate.prelabel import propose as propose_mod

    doc = propose_mod.proposed_document(document, entries)
    scores: dict[str, float] = {}
    for kind in labelconfig.layout().kinds:
        for record in doc[kind.kind]:
            for index in range(len(record["spans"])):
                scores[convert.region_id(record["id"], index)] = record["provenance"]["score"]
    results = convert.to_results(doc)
    for item in results:
        item.pop("origin", None)  # the server marks what an annotator accepts
        if item.get("from_name") == labelconfig.LABELS and item.get("id") in scores:
            item["score"] = scores[item["id"]]
    score = round(sum(scores.values()) / len(scores), 4) if scores else None
    return results, score


def _score(doc: Json) -> float | None:
    scores = [
        r["provenance"]["score"]
        for kind in labelconfig.layout().kinds
        for r in doc[kind.kind]
        if isinstance((r.get("provenance") or {}).get("score"), int | float)
    ]
    return round(sum(scores) / len(scores), 6) if scores else None


# --- push ----------------------------------------------------------------------------------


def push(
    client: Client,
    *,
    sources: list[Path],
    annotations: list[Path] | None = None,
    ground_truth: bool = False,
    predictions: list[Path] | None = None,
    model_version: str | None = None,
    propose: bool = False,
    title: str = DEFAULT_TITLE,
    chunk: int = CHUNK,
    progress: Progress | None = None,
    overlap: int | None = None,
    root: Path | None = None,
) -> PushReport:
    report = PushReport()
    if predictions and not model_version:
        raise ConfigError("--predictions needs --model-version (for instance figures@0.1)")
    client.whoami()
    docs, problems = read_sources(sources)
    report.problems.extend(problems)
    notes, problems = read_annotations(annotations or [])
    report.problems.extend(problems)
    guesses, problems = read_annotations(predictions or [])
    report.problems.extend(problems)

    registry = open_registry([root or paths.project_root()])  # none: links not checked
    report.problems.extend(Problem.from_issue(issue) for issue in registry.issues)
    checked = registry if registry.path is not None else None
    project, report.created, report.config_updated = ensure_project(client, title)
    report.project = project
    report.project_url = f"{client.url}/projects/{project.id}/"
    report.overlap = set_overlap(client, project, overlap, settings_file(title, root))

    wanted: dict[str, Json] = {}
    for doc in [*docs, *(n["document"] for n in notes), *(g["document"] for g in guesses)]:
        have = wanted.setdefault(doc["id"], doc)
        if have["text_sha256"] != doc["text_sha256"]:
            report.problems.append(
                Problem(
                    "text-differs",
                    "two inputs give this document id different texts",
                    document=doc["id"],
                    expected=have["text_sha256"],
                    found=doc["text_sha256"],
                )
            )
    extra_ann: dict[str, list[Json]] = {}
    for doc in notes:
        results, problems = results_for(doc, as_prediction=False, registry=checked)
        report.problems.extend(problems)
        if results is not None:
            extra_ann.setdefault(doc["document"]["id"], []).append(
                {"result": results, "ground_truth": ground_truth, "was_cancelled": False}
            )
    extra_pred: dict[str, list[Json]] = {}
    for doc in guesses:
        results, problems = results_for(doc, as_prediction=True, registry=checked)
        report.problems.extend(problems)
        if results is not None:
            extra_pred.setdefault(doc["document"]["id"], []).append(
                {"result": results, "model_version": model_version, "score": _score(doc)}
            )

    if propose:
        from sitrep.annotate.prelabel import propose as propose_mod

        entries = propose_mod.gazetteer([paths.annotations_dir()])
        version = f"{propose_mod.MODEL}@{propose_mod.VERSION}"
        for doc_id, document in wanted.items():
            results, score = proposal_results(document, entries)
            if results:
                extra_pred.setdefault(doc_id, []).append(
                    {"result": results, "model_version": version, "score": score}
                )

    index = candidates.Index.of(candidates.entries(registry.registry or {}))
    pushed_with: dict[str, list[Json]] = {}
    for doc in [*notes, *guesses]:
        pushed_with.setdefault(doc["document"]["id"], []).append(doc)
    existing = existing_tasks(client, project.id)
    new_tasks: list[Json] = []
    for doc_id, document in wanted.items():
        task = existing.get(doc_id)
        options = candidates.task_options(document, index, pushed_with.get(doc_id, []))
        if task is None:
            new_tasks.append(
                {
                    "data": {**convert.task_data(document), **options},
                    "annotations": extra_ann.get(doc_id, []),
                    "predictions": extra_pred.get(doc_id, []),
                }
            )
            continue
        report.tasks_existing += 1
        sha = (task.get("data", {}).get(convert.DOC_KEY) or {}).get("text_sha256")
        if sha != document["text_sha256"]:
            report.problems.append(
                Problem(
                    "text-changed",
                    "Label Studio already has this document with another text; "
                    "a changed text needs a new document id (its spans would no longer match)",
                    task=task["id"],
                    document=doc_id,
                    expected=str(sha),
                    found=document["text_sha256"],
                )
            )
            continue
        _update_options(client, task, options, report)
        _add_to_existing(
            client, task, extra_ann.get(doc_id, []), extra_pred.get(doc_id, []), report
        )
    total = len(new_tasks)
    done = 0
    for start in range(0, total, chunk):
        part = new_tasks[start : start + chunk]
        body = client.post(f"/api/projects/{project.id}/import", part)
        created = int(body.get("task_count", 0))
        if created != len(part):
            raise ProjectError(
                f"project {project.id}: Label Studio created {created} of {len(part)} tasks "
                "in one import; see its log"
            )
        report.tasks_created += created
        report.annotations_added += int(body.get("annotation_count", 0))
        report.predictions_added += int(body.get("prediction_count", 0))
        done += len(part)
        if progress:
            progress(done, total)
    return report


def existing_tasks(client: Client, project_id: int) -> dict[str, Json]:
    """The project's tasks by document id (without annotations)."""
    out: dict[str, Json] = {}
    for task in client.pages("/api/tasks/", key="tasks", project=project_id, fields="task_only"):
        doc_id = (task.get("data", {}).get(convert.DOC_KEY) or {}).get("id")
        if isinstance(doc_id, str):
            out[doc_id] = task
    return out


def _update_options(client: Client, task: Json, options: Json, report: PushReport) -> None:
    """Give an existing task the candidates the registry offers now (tasks pushed before
    the registry, or before it grew, carry none or fewer); its text stays as it was."""
    data = task.get("data") or {}
    if all((data.get(key) or []) == value for key, value in options.items()):
        return
    client.patch(f"/api/tasks/{task['id']}/", {"data": {**data, **options}})
    report.candidates_updated += 1


def _add_to_existing(
    client: Client, task: Json, annotations: list[Json], predictions: list[Json], report: PushReport
) -> None:
    if annotations:
        have = client.get(f"/api/tasks/{task['id']}/annotations/")
        for ann in annotations:
            if any(
                _same_results(ann["result"], h.get("result"))
                and bool(h.get("ground_truth")) == ann["ground_truth"]
                for h in have
            ):
                report.annotations_existing += 1
                continue
            client.post(f"/api/tasks/{task['id']}/annotations/", ann)
            report.annotations_added += 1
    if predictions:
        have = client.get("/api/predictions/", task=task["id"])
        have = have.get("results", []) if isinstance(have, dict) else have
        for pred in predictions:
            if any(
                h.get("model_version") == pred["model_version"]
                and _same_results(pred["result"], h.get("result"))
                for h in have
            ):
                report.predictions_existing += 1
                continue
            client.post("/api/predictions/", {**pred, "task": task["id"]})
            report.predictions_added += 1


def _same_results(a: Any, b: Any) -> bool:
    def key(items: Any) -> list[str]:
        if not isinstance(items, list):
            return []
        clean = [
            {k: v for k, v in i.items() if k not in ("origin", "score")}
            for i in items
            if isinstance(i, dict)
        ]
        return sorted(json.dumps(i, sort_keys=True) for i in clean)

    return key(a) == key(b)
