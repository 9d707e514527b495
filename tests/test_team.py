"""A team on one Label Studio: accounts through the sign-up page, roles, overlap, removal.

Everything runs against the real server of the test session. People are played as a
browser would: they open the invite link or log in with the one-time password, and get
their API token from their account page; then they ask Label Studio for their next task.
"""

from __future__ import annotations

import json
import shutil
import stat
import uuid
from pathlib import Path
from typing import Any

import pytest
from tests_support import LS, REPO, person
from typer.testing import CliRunner

from sitrep.annotate.labelstudio import project as proj
from sitrep.annotate.labelstudio import team
from sitrep.annotate.labelstudio.client import Client
from sitrep.annotate.labelstudio.server import ConnectionFailed
from sitrep.cli import app

pytestmark = pytest.mark.label_studio

PASSWORD = "Annotator-pass-2026"


@pytest.fixture(params=["sqlite", "postgresql"])
def ls(request: pytest.FixtureRequest, ls: LS) -> LS:
    """Every test here runs on the session's Label Studio (SQLite) and on one backed by
    PostgreSQL, the database a team runs it on."""
    return ls if request.param == "sqlite" else request.getfixturevalue("ls_postgresql")


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ls: LS) -> Path:
    """A dataset checkout with three VOA stories to annotate, pointed at the test server."""
    (tmp_path / "seeds" / "voa").mkdir(parents=True)
    lines = (REPO / "seeds" / "voa" / "voa_stories.jsonl").read_text(encoding="utf-8").splitlines()
    (tmp_path / "seeds" / "voa" / "voa_stories.jsonl").write_text("\n".join(lines[:3]) + "\n")
    shutil.copy(REPO / "seeds" / "voa" / "source.json", tmp_path / "seeds" / "voa" / "source.json")
    (tmp_path / "datasets" / "annotations").mkdir(parents=True)
    monkeypatch.setenv("SITREP_HOME", str(tmp_path))
    monkeypatch.setenv("LABEL_STUDIO_URL", ls.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", ls.creds.token)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _email(who: str) -> str:
    return f"{who}-{uuid.uuid4().hex[:8]}@example.org"


def _cli(*args: str) -> Any:
    result = CliRunner().invoke(app, list(args))
    return result


def _join(ls: LS, root: Path, who: str, role: str = "annotator") -> tuple[str, Client]:
    """`team add` prints the invite link; the person signs up with it and logs in."""
    email = _email(who)
    result = _cli("annotate", "team", "add", email, "--role", role)
    assert result.exit_code == 0, result.output
    link = next(w for w in result.output.split() if "/user/signup/?token=" in w)
    team.sign_up(ls.url, link, email, PASSWORD)
    return email, person(ls.url, email, PASSWORD)


def test_accounts_come_from_the_sign_up_page_and_the_roster_keeps_roles(ls: LS, root: Path) -> None:
    email, client = _join(ls, root, "ann1")
    assert client.whoami()["email"] == email
    handover = root / "rev1.txt"
    reviewer = _email("rev1")
    result = _cli(
        "annotate", "team", "add", reviewer, "--role", "reviewer", "--handover", str(handover)
    )
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(handover.stat().st_mode) == 0o600
    password = handover.read_text().split("one-time password: ")[1].split()[0]
    assert password not in result.output  # never printed
    assert person(ls.url, reviewer, password).whoami()["email"] == reviewer

    roster = json.loads((root / "datasets" / "label-studio" / "team.json").read_text())
    assert {(m["email"], m["role"]) for m in roster["members"]} == {
        (email, "annotator"),
        (reviewer, "reviewer"),
    }
    assert "password" not in json.dumps(roster).lower()

    listed = {
        r["email"]: r
        for r in json.loads(_cli("annotate", "team", "list", "--format", "json").output)
    }
    assert listed[email]["status"] == listed[reviewer]["status"] == "active"
    assert listed[email]["user_id"] == client.whoami()["id"]


def test_an_account_nobody_added_is_named(ls: LS, root: Path) -> None:
    stranger = _email("stranger")
    team.sign_up(ls.url, team.invite_url(ls.client()), stranger, PASSWORD)
    rows = team.members(ls.client(), team.load_roster(team.roster_file()))
    assert [r.status for r in rows if r.email == stranger] == [team.Status.not_on_team]


def test_an_invited_person_is_listed_until_they_sign_up(ls: LS, root: Path) -> None:
    email = _email("later")
    assert _cli("annotate", "team", "add", email).exit_code == 0
    roster = team.load_roster(team.roster_file())
    assert [r.status for r in team.members(ls.client(), roster) if r.email == email] == [
        team.Status.invited
    ]
    team.sign_up(ls.url, team.invite_url(ls.client()), email, PASSWORD)
    assert [r.status for r in team.members(ls.client(), roster) if r.email == email] == [
        team.Status.active
    ]


def test_bad_requests_are_refused_with_the_reason(ls: LS, root: Path) -> None:
    assert "not an e-mail address" in _cli("annotate", "team", "add", "not-an-address").output
    email, _ = _join(ls, root, "twice")
    again = _cli("annotate", "team", "add", email)
    assert again.exit_code == 1 and "already on the team" in again.output
    wrong = _cli("annotate", "team", "add", _email("x"), "--role", "boss")
    assert wrong.exit_code == 2
    gone = _cli("annotate", "team", "remove", _email("nobody"))
    assert gone.exit_code == 1 and "not an active member" in gone.output


def _next(client: Client, project_id: int) -> int | None:
    try:
        body = client.get(f"/api/projects/{project_id}/next")
    except ConnectionFailed as exc:
        if "404" in exc.detail:
            return None
        raise
    return int(body["id"]) if body and "id" in body else None


def _submit(client: Client, task_id: int) -> None:
    client.post(f"/api/tasks/{task_id}/annotations/", {"result": [], "lead_time": 1.0})


def test_with_overlap_two_annotators_get_the_same_task_before_a_third(ls: LS, root: Path) -> None:
    people = [_join(ls, root, f"ann{n}")[1] for n in (1, 2, 3)]
    title = f"team-{uuid.uuid4().hex[:8]}"
    report = proj.push(ls.client(), sources=[root / "seeds"], title=title, overlap=2)
    assert report.overlap == 2 and report.tasks_created == 3
    settings = json.loads(proj.settings_file(title).read_text())
    assert settings == {"overlap": 2}
    pid = report.project.id
    project = ls.client().get(f"/api/projects/{pid}/")
    assert (project["maximum_annotations"], project["show_overlap_first"]) == (2, True)

    first = _next(people[0], pid)
    assert first is not None
    _submit(people[0], first)
    assert _next(people[1], pid) == first  # the task still short of an annotator comes first
    _submit(people[1], first)
    third = _next(people[2], pid)
    assert third is not None and third != first  # two annotations: it is done

    # the kept setting applies to a later push without the option
    again = proj.push(ls.client(), sources=[root / "seeds"], title=title)
    assert again.overlap == 2


def test_with_overlap_one_a_task_goes_to_one_annotator(ls: LS, root: Path) -> None:
    people = [_join(ls, root, f"solo{n}")[1] for n in (1, 2)]
    title = f"solo-{uuid.uuid4().hex[:8]}"
    pid = proj.push(ls.client(), sources=[root / "seeds"], title=title).project.id
    first = _next(people[0], pid)
    _submit(people[0], first)
    assert _next(people[1], pid) not in (None, first)


def test_removing_a_member_keeps_their_work_and_closes_the_door(ls: LS, root: Path) -> None:
    email, client = _join(ls, root, "leaver")
    title = f"leave-{uuid.uuid4().hex[:8]}"
    pid = proj.push(ls.client(), sources=[root / "seeds"], title=title).project.id
    task = _next(client, pid)
    _submit(client, task)
    old_link = team.invite_url(ls.client())

    result = _cli("annotate", "team", "remove", email)
    assert result.exit_code == 0, result.output

    annotations = ls.client().get(f"/api/tasks/{task}/annotations/")
    assert len(annotations) == 1  # nobody's work is deleted
    assert client.get("/api/projects/", page_size=100)["results"] == []  # no projects any more
    with pytest.raises(team.TeamError):
        team.sign_up(ls.url, old_link, _email("late"), PASSWORD)  # the old link is dead
    rows = {r.email: r for r in team.members(ls.client(), team.load_roster(team.roster_file()))}
    assert rows[email].status is team.Status.removed
    assert (
        team.load_roster(team.roster_file()).find(email).user_id == annotations[0]["completed_by"]
    )


def test_the_roster_file_must_be_a_roster(root: Path) -> None:
    file = team.roster_file()
    file.parent.mkdir(parents=True)
    file.write_text("[1, 2]")
    with pytest.raises(team.ConfigError, match="not a team roster"):
        team.load_roster(file)


def test_the_handover_file_is_never_overwritten(ls: LS, root: Path) -> None:
    handover = root / "exists.txt"
    handover.write_text("keep me")
    result = _cli("annotate", "team", "add", _email("h"), "--handover", str(handover))
    assert result.exit_code != 0
    assert result.exit_code == 1 and "never overwritten" in result.output
    assert handover.read_text() == "keep me"
