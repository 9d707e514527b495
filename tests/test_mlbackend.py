"""The pre-annotator as a Label Studio ML backend: the protocol over real HTTP on
127.0.0.1, then registered on the real Label Studio of the test session, which asks it
for predictions for newly imported tasks."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests_support import LS, REPO, executable

from sitrep.annotate.labelstudio import convert, mlbackend, server
from sitrep.annotate.labelstudio import project as proj
from sitrep.annotate.labelstudio.convert import Problem
from sitrep.annotate.prelabel import propose as propose_mod
from sitrep.schema.documents import text_sha256

Json = dict[str, Any]
TEXT = (
    "Officials in Sudan said more than 1,200 people were killed, including 300 children."
    "\r\nAbout 5,000 fled. 😀 Dozens remain missing, the ministry said."
)


def _document(text: str = TEXT, doc_id: str = "doc-ml-1") -> Json:
    return {"id": doc_id, "title": "A test story", "text": text, "text_sha256": text_sha256(text)}


class Running:
    def __init__(self, backend: mlbackend.Backend, log: list[str]) -> None:
        self.backend, self.log = backend, log

    def call(self, method: str, path: str, body: bytes | None = None) -> tuple[int, Any]:
        request = urllib.request.Request(self.backend.url + path, data=body, method=method)
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def post(self, path: str, body: Any) -> tuple[int, Any]:
        return self.call("POST", path, json.dumps(body).encode("utf-8"))


@pytest.fixture
def running() -> Iterator[Running]:
    log: list[str] = []
    backend = mlbackend.make_backend(mlbackend.Predictor(log=log.append), port=0)
    mlbackend.serve_in_thread(backend)
    try:
        yield Running(backend, log)
    finally:
        backend.shutdown()
        backend.server_close()


def _same(a: list[Json], b: list[Json]) -> bool:
    def key(items: list[Json]) -> list[str]:
        return sorted(json.dumps(i, sort_keys=True) for i in items)

    return key(a) == key(b)


def test_health_and_setup_answer_as_label_studio_expects(running: Running) -> None:
    assert running.backend.server_address[0] == "127.0.0.1"
    status, body = running.call("GET", "/health")
    assert status == 200 and body["status"] == "UP"
    status, body = running.post(
        "/setup", {"project": "1.1", "schema": "<View/>", "access_token": "s3cret-token"}
    )
    assert (status, body) == (200, {"model_version": mlbackend.model_version()})
    assert body["model_version"] == f"{propose_mod.MODEL}@{propose_mod.VERSION}"
    assert running.post("/webhook", {"action": "TASKS_CREATED"}) == (200, {})
    assert not any("s3cret-token" in line for line in running.log)  # bodies are never logged


def test_predict_answers_one_prediction_per_task_in_order(running: Running) -> None:
    document = _document()
    plain = "Police said 12 people were hurt."
    changed = convert.task_data(_document(doc_id="doc-ml-2"))
    changed["text"] = changed["text"].replace("5,000", "6,000")  # edited in Label Studio
    tasks = [
        {"id": 11, "data": convert.task_data(document)},
        {"id": 12, "data": {"text": plain}},
        {"id": 13, "data": changed},
    ]
    status, body = running.post("/predict", {"tasks": tasks, "project": "1.1"})
    assert status == 200
    first, second, third = body["results"]
    expected, score = proj.proposal_results(document, {})
    assert _same(first["result"], expected) and first["score"] == score
    assert first["model_version"] == mlbackend.model_version()
    labelled = {r["value"]["text"] for r in first["result"] if r["type"] == "labels"}
    assert {"more than 1,200", "300", "About 5,000", "Dozens"} <= labelled
    assert any(r["type"] == "relation" for r in first["result"])  # claimed_by / part_of
    assert "12" in {r["value"]["text"] for r in second["result"] if r["type"] == "labels"}
    assert third["result"] == [] and third["score"] == 0.0
    [line] = [line for line in running.log if "[ml-backend.task]" in line]
    assert line.startswith("ml-backend: task 13: [ml-backend.task] no proposals for this task")
    assert "text_sha256" in line


def test_bad_requests_get_a_json_error(running: Running) -> None:
    assert running.call("POST", "/predict", b"{not json")[0] == 400
    status, body = running.post("/predict", {"task": []})
    assert status == 400 and "tasks" in body["error"]
    assert running.call("GET", "/nope")[0] == 404
    request = urllib.request.Request(running.backend.url + "/predict", method="POST")
    request.add_header("Content-Length", str(mlbackend.MAX_BODY + 1))
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    assert caught.value.code == 413


def test_a_taken_port_is_named() -> None:
    first = mlbackend.make_backend(mlbackend.Predictor(), port=0)
    try:
        with pytest.raises(mlbackend.PortTaken, match=str(first.server_address[1])):
            mlbackend.make_backend(mlbackend.Predictor(), port=first.server_address[1])
    finally:
        first.server_close()


def _predictions(client: Any, task: int) -> list[Json]:
    return list(client.get("/api/predictions/", task=task))


@pytest.mark.label_studio
def test_label_studio_gets_predictions_for_new_tasks(ls: LS, running: Running) -> None:
    client = ls.client()
    title = f"ml-{uuid.uuid4().hex[:8]}"
    project, _, _ = proj.ensure_project(client, title)
    connected = mlbackend.connect(client, title, running.backend.url)
    assert (connected.project, connected.state, connected.created) == (
        project.id,
        "Connected",
        True,
    )
    again = mlbackend.connect(client, title, running.backend.url)
    assert (again.backend, again.created) == (connected.backend, False)
    assert client.get(f"/api/projects/{project.id}/")["evaluate_predictions_automatically"]

    documents = [_document(), _document("Police said 12 people were hurt.", "doc-ml-3")]
    imported = client.post(
        f"/api/projects/{project.id}/import", [{"data": convert.task_data(d)} for d in documents]
    )
    assert imported["task_count"] == 2
    ids = sorted(t["id"] for t in client.pages("/api/tasks/", key="tasks", project=project.id))
    # listing the tasks in the Data Manager asks the backend for the tasks without one
    for task_id, document in zip(ids, documents, strict=True):
        [prediction] = _predictions(client, task_id)
        expected, score = proj.proposal_results(document, {})
        assert prediction["model_version"] == mlbackend.model_version()
        assert _same(prediction["result"], expected)
        assert prediction["score"] == pytest.approx(score)
    assert any("POST /predict" in line for line in running.log)


@pytest.mark.label_studio
def test_retrieve_predictions_and_opening_a_task_ask_the_backend(ls: LS, running: Running) -> None:
    client = ls.client()
    title = f"ml-{uuid.uuid4().hex[:8]}"
    project, _, _ = proj.ensure_project(client, title)
    mlbackend.connect(client, title, running.backend.url, predict_on_open=False)
    client.post(
        f"/api/projects/{project.id}/import",
        [{"data": convert.task_data(_document(doc_id=f"doc-ml-{n}"))} for n in (4, 5)],
    )
    first, second = sorted(
        t["id"] for t in client.pages("/api/tasks/", key="tasks", project=project.id)
    )
    assert _predictions(client, first) == [] and _predictions(client, second) == []
    done = client.post(
        "/api/dm/actions",
        {"selectedItems": {"all": False, "included": [first]}},
        id="retrieve_tasks_predictions",
        project=project.id,
    )
    assert done["processed_items"] == 1
    assert len(_predictions(client, first)) == 1 and _predictions(client, second) == []
    client.patch(f"/api/projects/{project.id}/", {"evaluate_predictions_automatically": True})
    client.get(f"/api/tasks/{second}")  # what the labeling interface does when it opens it
    [prediction] = _predictions(client, second)
    assert prediction["model_version"] == mlbackend.model_version()
    assert any(r["type"] == "labels" for r in prediction["result"])


def test_problem_shape_is_the_shared_one() -> None:
    problem, _ = mlbackend.Predictor(log=lambda _: None).predict([{"id": 5, "data": {}}])
    assert problem[0]["result"] == []
    _, problems = mlbackend.Predictor(log=lambda _: None).predict([{"id": 5, "data": {}}])
    assert isinstance(problems[0], Problem) and problems[0].task == 5
    assert problems[0].rule == "ml-backend.task" and problems[0].found == "no data"


def test_only_loopback_leaves_the_ssrf_block_list() -> None:
    """The embedded server's block list is Label Studio's own without 127.0.0.0/8: read
    from the installed label-studio, so an upgrade that adds a subnet fails here."""
    found = executable()
    if found is None:
        pytest.skip("label-studio is not installed: run `make setup-ls`")
    [io] = (found.resolve().parent.parent / "lib").glob(
        "python*/site-packages/label_studio/core/utils/io.py"
    )
    block = io.read_text(encoding="utf-8").split("default_banned_subnets = [", 1)[1]
    theirs = re.findall(r"'([0-9a-f.:]+/\d+)'", block.split("]", 1)[0])
    assert len(theirs) >= 30 and "127.0.0.0/8" in theirs
    assert list(server.BANNED_BUT_LOOPBACK) == [s for s in theirs if s != "127.0.0.0/8"]
    env = server.QUIET_ENV
    assert env["LABEL_STUDIO_USE_DEFAULT_BANNED_SUBNETS"] == "false"
    assert env["LABEL_STUDIO_USER_ADDITIONAL_BANNED_SUBNETS"].split(",") == list(
        server.BANNED_BUT_LOOPBACK
    )


@pytest.mark.label_studio
def test_the_command_serves_and_connects_until_ctrl_c(ls: LS) -> None:
    client = ls.client()
    title = f"ml-{uuid.uuid4().hex[:8]}"
    project, _, _ = proj.ensure_project(client, title)
    env = dict(os.environ, LABEL_STUDIO_URL=ls.url, LABEL_STUDIO_API_KEY=ls.creds.token)
    command = [str(Path(sys.executable).parent / "sitrep"), "annotate", "ml-backend"]
    process = subprocess.Popen(
        [
            *command,
            "--port",
            "0",
            "--connect",
            "--project",
            title,
            "--gazetteer",
            str(REPO / "datasets" / "annotations"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        url = re.search(r"at (http://127\.0\.0\.1:\d+),", first)
        assert url, first + process.stderr.read() if process.poll() is not None else first
        connected = process.stdout.readline()
        assert f"registered on project {project.id} ({title!r})" in connected
        assert connected.rstrip().endswith(": Connected")
        [backend] = client.get("/api/ml/", project=project.id)
        assert backend["url"] == url.group(1) and backend["title"] == mlbackend.TITLE
    finally:
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=30)
    assert process.returncode == 0, errors
    assert ls.creds.token not in errors  # the project owner's token is never logged


def test_the_command_names_a_taken_port_and_exits_2() -> None:
    taken = mlbackend.make_backend(mlbackend.Predictor(), port=0)
    port = taken.server_address[1]
    command = [str(Path(sys.executable).parent / "sitrep"), "annotate", "ml-backend"]
    gazetteer = str(REPO / "datasets" / "annotations")
    try:
        done = subprocess.run(
            [*command, "--port", str(port), "--gazetteer", gazetteer],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        taken.server_close()
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "pick another --port" in done.stderr
