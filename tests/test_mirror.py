"""Pulls mirror Label Studio: deletions, invalid edits, moved and removed stars, bad tasks,
removed members and kept exports, each reported, on the real server of the session."""

from __future__ import annotations

import copy
import gzip
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from tests_support import LS, strip_record_provenance
from typer.testing import CliRunner

from sitrep.annotate.labelstudio import convert, team
from sitrep.annotate.labelstudio import project as proj
from sitrep.annotate.labelstudio import pull as pull_mod
from sitrep.annotate.review import agreement as agr
from sitrep.cli import app
from sitrep.testing.synthetic import generate_document

pytestmark = pytest.mark.label_studio


@pytest.fixture(params=["sqlite", "postgresql"])
def ls(request: pytest.FixtureRequest, ls: LS) -> LS:
    """Every test here runs on the session's Label Studio (SQLite) and on one backed by
    PostgreSQL, the database a team runs it on."""
    return ls if request.param == "sqlite" else request.getfixturevalue("ls_postgresql")


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ls: LS) -> Path:
    (tmp_path / "datasets" / "annotations").mkdir(parents=True)
    (tmp_path / "seeds").mkdir()
    monkeypatch.setenv("SITREP_HOME", str(tmp_path))
    monkeypatch.setenv("LABEL_STUDIO_URL", ls.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", ls.creds.token)
    return tmp_path


@pytest.fixture
def task(ls: LS, root: Path) -> dict[str, Any]:
    """One task with two annotators' annotations (ann1, ann2 as Label Studio users)."""
    client = ls.client()
    title = f"mirror-{uuid.uuid4().hex[:8]}"
    project, _, _ = proj.ensure_project(client, title)
    doc = strip_record_provenance(generate_document(21, 0))
    task_id = int(
        client.post(
            f"/api/projects/{project.id}/import",
            [{"data": convert.task_data(doc["document"])}],
            return_task_ids="true",
        )["task_ids"][0]
    )
    users = []
    for name in ("ann1", "ann2"):
        email = f"{name}-{uuid.uuid4().hex[:6]}@example.org"
        body = client.post("/api/users/", {"email": email, "username": email})
        users.append((int(body["id"]), email))
    results = convert.to_results(doc)
    ids = [
        int(
            client.post(
                f"/api/tasks/{task_id}/annotations/", {"result": results, "completed_by": uid}
            )["id"]
        )
        for uid, _ in users
    ]
    return {
        "client": client,
        "title": title,
        "project": project,
        "task": task_id,
        "doc": doc,
        "ids": ids,
        "users": users,
        "folder": proj.project_dir(title, root),
    }


def _pull(t: dict[str, Any], root: Path, **options: Any) -> pull_mod.PullReport:
    return pull_mod.pull(t["client"], title=t["title"], root=root, **options)


def test_a_deleted_annotation_leaves_the_mirror_with_a_line_in_the_report(
    task: dict[str, Any], root: Path
) -> None:
    first = _pull(task, root)
    assert first.ok and len(first.written) == 2 and not first.moved
    gone = task["ids"][0]
    file = task["folder"] / "annotations" / task["doc"]["document"]["id"] / f"{gone}.json"
    task["client"].call("DELETE", f"/api/annotations/{gone}/")

    second = _pull(task, root)
    assert second.ok
    [moved] = second.moved
    assert (moved.annotation, moved.annotator) == (gone, task["users"][0][1])
    assert "deleted or cancelled" in moved.reason
    assert not file.exists() and moved.to.is_file() and "audit" in moved.to.parts
    counted = agr.load_annotations(task["folder"] / "annotations")
    assert [a.annotation_id for a in counted] == [task["ids"][1]]


def test_an_invalid_latest_version_takes_the_older_file_out(
    task: dict[str, Any], root: Path
) -> None:
    _pull(task, root)
    broken = copy.deepcopy(convert.to_results(task["doc"]))
    broken[0]["value"]["labels"] = ["NoSuchLabel"]
    task["client"].patch(f"/api/annotations/{task['ids'][1]}/", {"result": broken})

    report = _pull(task, root)
    assert not report.ok and any(p.annotation == task["ids"][1] for p in report.problems)
    [moved] = report.moved
    assert moved.annotation == task["ids"][1] and "invalid" in moved.reason
    kept = agr.load_annotations(task["folder"] / "annotations")
    assert [a.annotation_id for a in kept] == [task["ids"][0]]


def test_the_released_file_follows_the_star_and_every_change_is_reported(
    task: dict[str, Any], root: Path
) -> None:
    client, (a, b) = task["client"], task["ids"]
    released = root / "datasets" / "annotations" / f"{task['doc']['document']['id']}.json"
    client.patch(f"/api/annotations/{a}/", {"ground_truth": True})
    first = _pull(task, root)
    assert first.released == [released] and not first.star_changes

    client.patch(f"/api/annotations/{b}/", {"ground_truth": True})  # Label Studio unstars a
    moved = _pull(task, root)
    [change] = moved.star_changes
    assert (change.before, change.after) == (a, b)
    assert (change.before_by, change.after_by) == (task["users"][0][1], task["users"][1][1])
    assert change.updated == client.get(f"/api/annotations/{b}/")["updated_at"]  # when
    assert f"(updated {change.updated})" in str(change)
    now = json.loads(released.read_text())
    # the star's annotation first, then the other annotator whose records it holds
    assert now["provenance"]["label_studio"]["annotation_ids"] == [b, a]
    assert now["provenance"]["annotators"] == [task["users"][1][1], task["users"][0][1]]
    assert now["provenance"]["adjudicator"] == task["users"][1][1]
    [kept] = moved.moved
    assert json.loads(kept.to.read_text())["provenance"]["label_studio"]["annotation_ids"] == [a, b]

    client.patch(f"/api/annotations/{b}/", {"ground_truth": False})
    unstarred = _pull(task, root)
    [change] = unstarred.star_changes
    assert (change.before, change.after) == (b, None)
    assert change.updated == client.get(f"/api/annotations/{b}/")["updated_at"]
    assert not released.exists()
    assert unstarred.moved[0].to.is_file()

    quiet = _pull(task, root)
    assert not quiet.star_changes and not quiet.moved


def test_a_changed_task_text_names_the_document_and_what_it_drops(
    task: dict[str, Any], root: Path
) -> None:
    client = task["client"]
    data = client.get(f"/api/tasks/{task['task']}")["data"]
    data[convert.TEXT] = data[convert.TEXT] + " Edited in the database."
    client.patch(f"/api/tasks/{task['task']}", {"data": data})
    report = _pull(task, root)
    [problem] = report.problems
    assert problem.rule == "bad-task" and problem.document == task["doc"]["document"]["id"]
    for annotation in task["ids"]:
        assert str(annotation) in problem.message
    assert report.annotations == 2 and report.converted == 0


def test_a_removed_member_keeps_their_name_through_the_roster(
    task: dict[str, Any], root: Path
) -> None:
    uid, email = task["users"][0]
    roster = team.Roster(team.roster_file(root))
    roster.members.append(team.Member(email, team.Role.annotator, "2026-12-02T00:00:00Z", uid))
    roster.save()
    org = task["client"].whoami()["active_organization"]
    task["client"].call("DELETE", f"/api/organizations/{org}/memberships/{uid}/")
    report = _pull(task, root)
    assert email in report.annotators and "Deleted" not in report.annotators
    assert report.outsiders == [task["users"][1][1]]  # ann2 was never put on the team


def test_exports_are_kept_compressed_a_few_and_removed_from_the_server(
    task: dict[str, Any], root: Path
) -> None:
    client, pid = task["client"], task["project"].id
    reports = [_pull(task, root, keep=2) for _ in range(3)]
    kept = sorted((task["folder"] / "exports").iterdir())
    assert len(kept) == 2 and all(p.name.endswith(".json.gz") for p in kept)
    assert reports[-1].export_file in kept
    tasks = json.loads(gzip.decompress(reports[-1].export_file.read_bytes()))
    assert tasks[0]["id"] == task["task"]
    assert client.get(f"/api/projects/{pid}/exports/") == []


def test_the_cli_reports_moves_and_star_changes(task: dict[str, Any], root: Path) -> None:
    _pull(task, root)
    task["client"].call("DELETE", f"/api/annotations/{task['ids'][0]}/")
    result = CliRunner().invoke(app, ["annotate", "pull", "--project", task["title"]])
    assert result.exit_code == 0, result.output
    assert f"annotation {task['ids'][0]} by {task['users'][0][1]}" in result.output
    assert "moved to audit" in result.output
