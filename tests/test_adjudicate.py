"""Several annotators on one task, on the real server: agreement, then adjudication into a
ground truth that the next pull releases, with nobody's annotation touched.

Annotators are real Label Studio users; their annotations go through the API with
`completed_by` set, as the browser would record them.
"""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from tests_support import LS, REPO
from typer.testing import CliRunner

from sitrep.annotate.labelstudio import convert
from sitrep.annotate.labelstudio import project as proj
from sitrep.annotate.labelstudio import pull as pull_mod
from sitrep.annotate.labelstudio.client import Client
from sitrep.annotate.review import adjudicate as adj
from sitrep.annotate.review import agreement as agr
from sitrep.annotate_cli import annotate_app

pytestmark = pytest.mark.label_studio
GOLD = REPO / "datasets" / "annotations" / "seed-8128c0eee969d3a6.json"


def _gold() -> dict[str, Any]:
    return json.loads(GOLD.read_text(encoding="utf-8"))


def _user(client: Client, name: str) -> tuple[int, str]:
    email = f"{name}-{uuid.uuid4().hex[:6]}@example.org"
    body = client.post("/api/users/", {"email": email, "username": email, "first_name": name})
    return int(body["id"]), email


def _figure(doc: dict[str, Any], fid: str) -> dict[str, Any]:
    return next(f for f in doc["figures"] if f["id"] == fid)


@pytest.fixture
def three(ls: LS, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A task on the seed article annotated by three annotators who disagree a little."""
    monkeypatch.setenv("LABEL_STUDIO_URL", ls.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", ls.creds.token)
    client = ls.client()
    title = f"adj-{uuid.uuid4().hex[:8]}"
    project, _, _ = proj.ensure_project(client, title)
    gold = _gold()
    task = client.post(
        f"/api/projects/{project.id}/import",
        [{"data": convert.task_data(gold["document"])}],
        return_task_ids="true",
    )["task_ids"][0]
    users = [_user(client, n) for n in ("ann1", "ann2", "ann3")]
    a = copy.deepcopy(gold)
    b = copy.deepcopy(gold)
    _figure(b, "fig-7000-scheduled")["realis"] = "possible"
    b["locations"] = [x for x in b["locations"] if x["id"] != "loc-turkey"]
    c = copy.deepcopy(gold)
    _figure(c, "fig-7000-scheduled")["realis"] = "possible"
    c["figures"].append(
        {
            **copy.deepcopy(_figure(c, "fig-150-transferred")),
            "id": "fig-extra",
            "spans": [{"start": 286, "end": 299, "text": "ISIS fighters"}],
        }
    )
    c["figures"][-1].update(counted="people_other", realis="actual")
    ids = []
    for (user_id, _), doc in zip(users, (a, b, c), strict=True):
        body = client.post(
            f"/api/tasks/{task}/annotations/",
            {"result": convert.to_results(doc), "completed_by": user_id},
        )
        ids.append(int(body["id"]))
    return {
        "client": client,
        "title": title,
        "task": task,
        "users": users,
        "ids": ids,
        "root": tmp_path,
        "gold": gold,
        "docs": (a, b, c),
    }


def test_each_annotator_is_recorded_and_agreement_is_measured(three: dict[str, Any]) -> None:
    client, title, root = three["client"], three["title"], three["root"]
    report = pull_mod.pull(client, title=title, root=root)
    assert report.ok, [str(p) for p in report.problems]
    emails = sorted(e for _, e in three["users"])
    pulled = sorted(
        json.loads(p.read_text())["provenance"]["annotators"][0] for p in report.written
    )
    assert pulled == emails
    folder = pull_mod.project_dir(title, root) / "annotations"
    result = agr.agreement(agr.load_annotations(folder))
    summary = result.summary()
    assert result.documents == 1 and result.annotators == emails
    assert summary["span_f1"]["Actor"]["exact_f1"] == 1.0
    assert summary["span_f1"]["Figure"]["exact_f1"] < 1.0  # ann3 added a figure
    assert summary["span_f1"]["Location"]["exact_f1"] < 1.0  # ann2 left one out
    assert summary["alpha"]["events.type"] == 1.0
    assert summary["alpha"]["figures.realis"] is not None
    assert summary["alpha"]["figures.realis"] < 1.0
    assert 0 < summary["figure_interval_agreement"] <= 1.0
    assert summary["relation_f1"] < 1.0
    pair = f"{emails[0]} | {emails[1]}"
    assert pair in result.to_dict()["spans"]["Figure"]

    chart, data = root / "agreement.html", root / "agreement.json"
    out = CliRunner().invoke(
        annotate_app,
        [
            "agreement",
            "--project",
            title,
            "--from",
            str(folder),
            "--chart",
            str(chart),
            "--json",
            str(data),
        ],
    )
    assert out.exit_code == 0, out.output
    assert "Krippendorff's alpha: figures.realis" in out.output
    page = chart.read_text(encoding="utf-8")
    assert (
        "<svg" in page
        and "<script" not in page
        and "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    )
    assert json.loads(data.read_text())["summary"]["documents"] == 1


def test_adjudication_writes_a_ground_truth_and_touches_nobody(three: dict[str, Any]) -> None:
    client, title, root, task = three["client"], three["title"], three["root"], three["task"]
    before = {a["id"]: a for a in client.get(f"/api/tasks/{task}/annotations/")}
    order = [e for _, e in three["users"]]
    report = adj.adjudicate(client, title=title, order=order)
    assert report.ok, [str(p) for p in report.problems]
    [done] = report.tasks
    assert done.written == "ground_truth" and len(done.annotators) == 3
    about = {(c.kind, c.record, c.about): c for c in done.conflicts}
    realis = about["Figure", "up to 7,000", "realis"]
    assert realis.decision.startswith(order[1])  # ann2 and ann3 agree: 2 of 3
    assert about["Location", "Turkey", "presence"].decision == "kept (majority)"
    assert about["Figure", "ISIS fighters", "presence"].decision == "dropped"
    after = {a["id"]: a for a in client.get(f"/api/tasks/{task}/annotations/")}
    for annotation_id, annotation in before.items():
        assert after[annotation_id]["result"] == annotation["result"]
        assert after[annotation_id]["ground_truth"] is False
    assert after[done.annotation_id]["ground_truth"] is True

    pulled = pull_mod.pull(client, title=title, root=root)
    assert pulled.ok, [str(p) for p in pulled.problems]
    [released] = pulled.released
    doc = json.loads(released.read_text(encoding="utf-8"))
    expected = copy.deepcopy(three["gold"])
    _figure(expected, "fig-7000-scheduled")["realis"] = "possible"
    assert {k: doc[k] for k in ("actors", "locations", "events", "figures")} == {
        k: expected[k] for k in ("actors", "locations", "events", "figures")
    }
    again = adj.adjudicate(client, title=title, order=order)
    assert again.tasks == [] and again.skipped_with_ground_truth == 1


def test_a_tie_goes_to_the_order_or_to_a_draft(three: dict[str, Any]) -> None:
    client, title, task = three["client"], three["title"], three["task"]
    client.call("DELETE", f"/api/annotations/{three['ids'][0]}/")  # ann2 and ann3 remain
    order = [three["users"][2][1], three["users"][1][1]]  # ann3 first
    dry = adj.adjudicate(client, title=title, order=order, dry_run=True)
    [done] = dry.tasks
    presence = {c.record: c.decision for c in done.conflicts if c.about == "presence"}
    assert presence["ISIS fighters"] == "kept (tie-break order)"  # ann3 has it
    assert presence["Turkey"] == "kept (tie-break order)"
    assert client.get(f"/api/tasks/{task}/annotations/")[0]["ground_truth"] is False
    drafted = CliRunner().invoke(
        annotate_app, ["adjudicate", "--project", title, "--draft", "--order", ",".join(order)]
    )
    assert drafted.exit_code == 0, drafted.output
    assert "-> draft" in drafted.output and "conflict(s)" in drafted.output
    assert not any(a["ground_truth"] for a in client.get(f"/api/tasks/{task}/annotations/"))
    drafts = client.get(f"/api/tasks/{task}/drafts")
    assert len(drafts) == 1 and drafts[0]["result"]


def test_merge_matches_records_by_span_not_by_id() -> None:
    gold = _gold()
    renamed = copy.deepcopy(gold)
    mapping = {
        r["id"]: r["id"] + "-x"
        for k in ("actors", "locations", "events", "figures")
        for r in renamed[k]
    }
    text = json.dumps(renamed)
    for old, new in sorted(mapping.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(f'"{old}"', f'"{new}"')
    merged, conflicts, records, agreed = adj.merge({"a": gold, "b": json.loads(text)}, ["a", "b"])
    assert conflicts == [] and records == agreed == 58
    assert merged["figures"] == gold["figures"] and merged["events"] == gold["events"]


def test_the_reviewer_is_not_an_annotator_unless_asked(three: dict[str, Any]) -> None:
    """ann3 is the team's reviewer: their annotation (a merged draft submitted without a
    star) is left out of agreement and adjudication, and counted again when asked."""
    from sitrep.annotate.labelstudio import team

    client, title, root = three["client"], three["title"], three["root"]
    reviewer = three["users"][2][1]
    roster = team.Roster(root / "datasets" / "label-studio" / team.ROSTER)
    roster.members.append(team.Member(reviewer, team.Role.reviewer, "2026-12-02T00:00:00Z"))
    roster.save()
    assert team.reviewers(roster.path) == {reviewer}
    pull_mod.pull(client, title=title, root=root)
    folder = pull_mod.project_dir(title, root) / "annotations"

    without = agr.agreement(agr.load_annotations(folder, team.reviewers(roster.path)))
    assert reviewer not in without.annotators and len(without.annotators) == 2
    assert len(agr.agreement(agr.load_annotations(folder)).annotators) == 3
    summary = agr.release_summary(root / "datasets" / "label-studio")(
        {three["gold"]["document"]["id"]}
    )
    assert summary == without.summary()

    dry = adj.adjudicate(client, title=title, dry_run=True, leave_out={reviewer})
    [task] = dry.tasks
    assert reviewer not in task.annotators and len(task.annotators) == 2
