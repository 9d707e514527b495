"""Push, annotate, pull against the real Label Studio started for the session.

Annotations are created through the API the way the browser creates them (one POST per
annotation, results as an annotator's), then pulled through an export snapshot. Nothing
on this path is mocked; the fault tests put a small proxy or a silent socket in front.
"""

from __future__ import annotations

import copy
import gzip
import http.server
import json
import shutil
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests_support import (
    LS,
    REPO,
    copy_registry,
    free_port,
    insert_text,
    strip_record_provenance,
)
from typer.testing import CliRunner

from sitrep.annotate.labelstudio import convert, labelconfig
from sitrep.annotate.labelstudio import project as proj
from sitrep.annotate.labelstudio import pull as pull_mod
from sitrep.annotate.labelstudio.client import Client
from sitrep.annotate.labelstudio.server import Connection, ConnectionFailed, Reason
from sitrep.annotate_cli import annotate_app
from sitrep.schema.validation import validate_document
from sitrep.testing.synthetic import generate_document

pytestmark = pytest.mark.label_studio

GOLD_ID = "seed-8128c0eee969d3a6"
GOLD = REPO / "datasets" / "annotations" / f"{GOLD_ID}.json"


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ls: LS) -> Path:
    """A dataset checkout: the seed article and the gold, pointed at the test server."""
    (tmp_path / "seeds" / "articles").mkdir(parents=True)
    for file in (REPO / "seeds" / "articles").iterdir():
        shutil.copy(file, tmp_path / "seeds" / "articles" / file.name)
    (tmp_path / "datasets" / "annotations").mkdir(parents=True)
    shutil.copy(GOLD, tmp_path / "datasets" / "annotations" / GOLD.name)
    copy_registry(tmp_path)
    monkeypatch.setenv("SITREP_HOME", str(tmp_path))
    monkeypatch.setenv("LABEL_STUDIO_URL", ls.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", ls.creds.token)
    return tmp_path


@pytest.fixture
def title() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


def _push_gold(ls: LS, root: Path, title: str) -> proj.PushReport:
    return proj.push(
        ls.client(),
        sources=[root / "seeds"],
        annotations=[root / "datasets" / "annotations"],
        ground_truth=True,
        title=title,
    )


def _tasks(client: Client, project_id: int) -> dict[str, dict[str, Any]]:
    return proj.existing_tasks(client, project_id)


def _annotate(client: Client, task_id: int, results: list[Any], **extra: Any) -> int:
    body = client.post(f"/api/tasks/{task_id}/annotations/", {"result": results, **extra})
    return int(body["id"])


def _new_task(client: Client, project_id: int, doc: dict[str, Any]) -> int:
    body = client.post(
        f"/api/projects/{project_id}/import",
        [{"data": convert.task_data(doc["document"])}],
        return_task_ids="true",
    )
    return int(body["task_ids"][0])


# --- push ---------------------------------------------------------------------------------


def test_push_creates_the_project_from_the_schema_and_never_duplicates(
    ls: LS, root: Path, title: str
) -> None:
    first = _push_gold(ls, root, title)
    assert first.ok, [str(p) for p in first.problems]
    assert first.created and first.tasks_created == 1 and first.annotations_added == 1
    client = ls.client()
    body = client.get(f"/api/projects/{first.project.id}/")
    assert body["label_config"].strip() == labelconfig.render().strip()
    assert labelconfig.recorded(body["description"]) == (
        labelconfig.layout().version,
        labelconfig.config_sha256(labelconfig.render().strip()),
    )
    guide = body["expert_instruction"]
    assert guide.startswith("<h1>Annotating for sitrep") and "up to 7,000" in guide
    assert guide.index("<details><summary>The full codebook") > guide.index("Worked examples")
    assert "<h3>Qualifier</h3>" in guide[guide.index("<details") :]  # the codebook, folded
    assert body["show_instruction"] is False  # on request, not on every task

    again = _push_gold(ls, root, title)
    assert again.ok and not again.created and not again.config_updated
    assert (again.tasks_created, again.tasks_existing) == (0, 1)
    assert (again.annotations_added, again.annotations_existing) == (0, 1)
    tasks = _tasks(client, first.project.id)
    assert list(tasks) == [GOLD_ID]
    annotations = client.get(f"/api/tasks/{tasks[GOLD_ID]['id']}/annotations/")
    assert len(annotations) == 1 and annotations[0]["ground_truth"] is True


def test_a_changed_text_for_a_known_document_is_refused(ls: LS, root: Path, title: str) -> None:
    assert _push_gold(ls, root, title).ok
    txt = next((root / "seeds" / "articles").glob("*.txt"))
    txt.write_text(
        txt.read_text(encoding="utf-8").replace("CENTCOM", "CENTCON", 1), encoding="utf-8"
    )
    result = CliRunner().invoke(annotate_app, ["push", str(root / "seeds"), "--project", title])
    assert result.exit_code == 1
    assert "text-changed" in result.output and GOLD_ID in result.output
    client = ls.client()
    task = _tasks(client, result_project(client, title))[GOLD_ID]
    gold = json.loads(GOLD.read_text(encoding="utf-8"))
    assert task["data"]["text"] == gold["document"]["text"]


def result_project(client: Client, title: str) -> int:
    found = proj.find_project(client, title)
    assert found is not None
    return found.id


def test_invalid_annotations_never_reach_the_server(ls: LS, root: Path, title: str) -> None:
    bad = json.loads(GOLD.read_text(encoding="utf-8"))
    bad["figures"][0]["qualifier"] = "roughly"
    folder = root / "incoming"
    folder.mkdir()
    (folder / "bad.json").write_text(json.dumps(bad), encoding="utf-8")
    report = proj.push(ls.client(), sources=[root / "seeds"], annotations=[folder], title=title)
    assert not report.ok
    assert any("bad.json" in p.message for p in report.problems)
    client = ls.client()
    task = _tasks(client, report.project.id)[GOLD_ID]
    assert client.get(f"/api/tasks/{task['id']}/annotations/") == []


def test_predictions_go_in_with_their_model_version(ls: LS, root: Path, title: str) -> None:
    report = proj.push(
        ls.client(),
        sources=[root / "seeds"],
        predictions=[root / "datasets" / "annotations"],
        model_version="gold-copy@1",
        title=title,
    )
    assert report.ok and report.predictions_added == 1
    again = proj.push(
        ls.client(),
        sources=[root / "seeds"],
        predictions=[root / "datasets" / "annotations"],
        model_version="gold-copy@1",
        title=title,
    )
    assert again.predictions_added == 0 and again.predictions_existing == 1
    client = ls.client()
    task = _tasks(client, report.project.id)[GOLD_ID]
    predictions = client.get("/api/predictions/", task=task["id"])
    assert [p["model_version"] for p in predictions] == ["gold-copy@1"]
    assert client.get(f"/api/tasks/{task['id']}/annotations/") == []


# --- pull ---------------------------------------------------------------------------------


def test_pull_keeps_the_raw_export_and_releases_the_ground_truth(
    ls: LS, root: Path, title: str
) -> None:
    released = root / "datasets" / "annotations" / GOLD.name
    before = released.read_bytes()
    _push_gold(ls, root, title)
    report = pull_mod.pull(ls.client(), title=title, root=root)
    assert report.ok, [str(p) for p in report.problems]
    assert (report.tasks, report.annotations, report.converted) == (1, 1, 1)
    assert report.released_unchanged == 1 and released.read_bytes() == before
    raw = json.loads(gzip.decompress(report.export_file.read_bytes()))
    assert raw[0]["annotations"][0]["ground_truth"] is True
    assert report.export_file.parent == root / "datasets" / "label-studio" / title / "exports"
    [kept] = report.written
    pulled = json.loads(kept.read_text(encoding="utf-8"))
    gold = json.loads(before)
    assert {k: v for k, v in pulled.items() if k != "provenance"} == {
        k: v for k, v in gold.items() if k != "provenance"
    }
    assert validate_document(pulled) == []
    origin = pulled["provenance"]["label_studio"]
    assert origin["ground_truth"] is True and origin["task_id"] == raw[0]["id"]
    assert pulled["provenance"]["annotators"] == [ls.creds.email]

    second = pull_mod.pull(ls.client(), title=title, root=root)
    assert second.ok and second.unchanged == 1 and not second.written


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seeds=st.lists(st.integers(0, 100_000), min_size=1, max_size=3, unique=True),
    inserts=st.lists(
        st.tuples(st.integers(0, 4000), st.sampled_from(["😀", "𝔄", "\r\n", "🇸🇾 ", "\r\n\r\n"])),
        max_size=6,
    ),
)
def test_round_trip_through_the_server_gives_the_identical_document(
    ls: LS,
    tmp_path_factory: pytest.TempPathFactory,
    seeds: list[int],
    inserts: list[tuple[int, str]],
) -> None:
    root = tmp_path_factory.mktemp("rt")
    title = f"rt-{uuid.uuid4().hex[:10]}"
    client = ls.client()
    project, _, _ = proj.ensure_project(client, title)
    docs = {}
    for seed in seeds:
        doc = strip_record_provenance(generate_document(seed, 0))
        doc["document"]["id"] = f"rt-{seed}"
        for position, piece in inserts:
            insert_text(doc, min(position, len(doc["document"]["text"])), piece)
        task_id = _new_task(client, project.id, doc)
        annotation_id = _annotate(client, task_id, convert.to_results(doc))
        docs[annotation_id] = doc
    report = pull_mod.pull(client, title=title, root=root)
    assert report.ok, [str(p) for p in report.problems]
    assert report.converted == len(docs)
    for path in report.written:
        pulled = json.loads(path.read_text(encoding="utf-8"))
        original = docs[int(path.stem)]
        assert pulled["document"] == original["document"]
        assert proj._content(pulled) == proj._content(convert.canonical(original))


def test_bad_tasks_are_named_and_never_block_the_good_ones(ls: LS, root: Path, title: str) -> None:
    client = ls.client()
    project, _, _ = proj.ensure_project(client, title)
    good = strip_record_provenance(generate_document(5, 0))
    good["document"]["id"] = "good-one"
    good_task = _new_task(client, project.id, good)
    _annotate(client, good_task, convert.to_results(good))
    bad_ids = {}
    for n, breaker in enumerate((_unknown_label, _dangling_relation, _orphan_attribute)):
        doc = strip_record_provenance(generate_document(6 + n, 0))
        doc["document"]["id"] = f"bad-{n}"
        results = convert.to_results(doc)
        region = breaker(results)
        task_id = _new_task(client, project.id, doc)
        bad_ids[task_id] = (_annotate(client, task_id, results), region)
    hand_made = root / "datasets" / "annotations" / GOLD.name
    before = hand_made.read_bytes()

    result = CliRunner().invoke(annotate_app, ["pull", "--project", title, "--format", "json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["converted"] == 1
    assert [Path(p).parent.name for p in report["written"]] == ["good-one"]
    by_task = {p["task"]: p for p in report["problems"]}
    assert set(by_task) == set(bad_ids)
    for task_id, (annotation_id, region) in bad_ids.items():
        assert by_task[task_id]["annotation"] == annotation_id
        assert region in by_task[task_id]["region"]
    rules = {p["rule"] for p in report["problems"]}
    assert rules == {"unknown-label", "dangling-relation", "attribute-without-span"}
    assert hand_made.read_bytes() == before

    steps: list[tuple[int, int]] = []  # the progress bar knows the total from the start
    pull_mod.pull(client, title=title, root=root, progress=lambda d, t: steps.append((d, t)))
    assert steps[-1] == (4, 4) and {total for _, total in steps} == {4}


def _unknown_label(results: list[dict[str, Any]]) -> str:
    region = next(r for r in results if r["from_name"] == "label")
    region["value"]["labels"] = ["Weapon"]
    return region["id"]


def _dangling_relation(results: list[dict[str, Any]]) -> str:
    relation = next(r for r in results if r["type"] == "relation")
    relation["to_id"] = "gone_0"
    return "gone_0"


def _orphan_attribute(results: list[dict[str, Any]]) -> str:
    extra = copy.deepcopy(
        next(
            r for r in results if r["from_name"] == "figure_low" or r["from_name"] == "figure_best"
        )
    )
    extra["id"] = "orphan_0"
    results.append(extra)
    return "orphan_0"


def test_several_annotators_are_kept_and_cancelled_ones_left_out(
    ls: LS, root: Path, title: str
) -> None:
    client = ls.client()
    project, _, _ = proj.ensure_project(client, title)
    doc = strip_record_provenance(generate_document(9, 0))
    task_id = _new_task(client, project.id, doc)
    results = convert.to_results(doc)
    first = _annotate(client, task_id, results)
    edited = copy.deepcopy(results)
    next(r for r in edited if r["from_name"] == "figure_realis")["value"]["choices"] = ["possible"]
    second = _annotate(client, task_id, edited)
    _annotate(client, task_id, [], was_cancelled=True)
    report = pull_mod.pull(client, title=title, root=root)
    assert report.ok, [str(p) for p in report.problems]
    assert (report.annotations, report.cancelled, report.converted) == (3, 1, 2)
    assert sorted(int(p.stem) for p in report.written) == sorted([first, second])
    assert not report.released  # nothing is released before adjudication
    assert not (root / "datasets" / "annotations" / f"{doc['document']['id']}.json").exists()

    client.patch(f"/api/annotations/{first}/", {"ground_truth": True})
    once = pull_mod.pull(client, title=title, root=root)
    assert once.ok and len(once.released) == 1
    released = json.loads(once.released[0].read_text(encoding="utf-8"))
    assert released["provenance"]["label_studio"]["annotation_ids"] == [first]
    # Label Studio keeps one ground truth per task; the adjudicator's change of mind is
    # released over the file the previous pull wrote for this task.
    client.patch(f"/api/annotations/{second}/", {"ground_truth": True})
    again = pull_mod.pull(client, title=title, root=root)
    assert again.ok and again.released == once.released
    released = json.loads(again.released[0].read_text(encoding="utf-8"))
    assert released["provenance"]["label_studio"]["annotation_ids"] == [second]
    assert sorted(int(p.stem) for p in (again.written[0].parent).iterdir()) == sorted(
        [first, second]
    )


def test_two_ground_truths_in_one_export_release_nothing(tmp_path: Path) -> None:
    doc = strip_record_provenance(generate_document(4, 0))
    doc["provenance"]["label_studio"] = {"project_id": 1, "task_id": 7}
    pulled = [
        pull_mod.Pulled(7, n, True, doc["document"]["id"], pull_mod.dump(doc)) for n in (1, 2)
    ]
    report = pull_mod.PullReport()
    pull_mod.write_task(pulled, tmp_path / "ls", tmp_path / "released", report, False)
    assert [p.rule for p in report.problems] == ["several-ground-truths"]
    assert "1, 2" in report.problems[0].message and report.problems[0].task == 7
    assert not (tmp_path / "released").exists()
    assert len(report.written) == 2


def test_a_config_changed_in_label_studio_stops_the_pull(ls: LS, root: Path, title: str) -> None:
    _push_gold(ls, root, title)
    client = ls.client()
    project = proj.find_project(client, title)
    drifted = project.label_config.replace(
        '<Label value="Figure"',
        '<Label value="Weapon" background="#000000"/>\n    <Label value="Figure"',
    )
    client.patch(f"/api/projects/{project.id}/", {"label_config": drifted})
    with pytest.raises(proj.ProjectError, match="changed in Label Studio"):
        pull_mod.pull(client, title=title, root=root)
    assert not (root / "datasets" / "label-studio").exists()
    fixed = _push_gold(ls, root, title)
    assert fixed.config_updated
    assert pull_mod.pull(client, title=title, root=root).ok


# --- faults -------------------------------------------------------------------------------


def _quick(seconds: float, call: Any) -> ConnectionFailed:
    start = time.monotonic()
    with pytest.raises(ConnectionFailed) as caught:
        call()
    assert time.monotonic() - start < seconds
    return caught.value


def test_a_server_that_is_down_is_named_within_seconds(root: Path, title: str) -> None:
    client = Client(Connection(f"http://127.0.0.1:{free_port()}", "x" * 40))
    failure = _quick(5, lambda: pull_mod.pull(client, title=title, root=root))
    assert failure.reason is Reason.server_down
    assert not (root / "datasets" / "label-studio").exists()


def test_a_wrong_token_and_a_wrong_url_are_named(ls: LS, root: Path, title: str) -> None:
    wrong_token = Client(Connection(ls.url, "0" * 40))
    assert _quick(5, lambda: pull_mod.pull(wrong_token, title=title, root=root)).reason is (
        Reason.wrong_token
    )
    wrong_url = Client(Connection(f"{ls.url}/not-label-studio", ls.creds.token))
    assert _quick(
        5, lambda: proj.push(wrong_url, sources=[root / "seeds"], title=title)
    ).reason is (Reason.wrong_url)


def test_a_server_that_never_answers_times_out(root: Path, title: str) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        client = Client(Connection(f"http://127.0.0.1:{port}", "x" * 40), timeout=1.0)
        failure = _quick(5, lambda: pull_mod.pull(client, title=title, root=root))
    assert failure.reason is Reason.timeout


class _FaultyProxy:
    """Forwards to the real server; answers 500 to the first `failures` export downloads."""

    def __init__(self, target: str, failures: int) -> None:
        self.target = target
        self.failures = failures
        self.seen = 0
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                if "/exports/" in self.path and "/download" in self.path:
                    proxy.seen += 1
                    if proxy.seen <= proxy.failures:
                        self.send_response(500)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in ("host", "content-length")
                }
                request = urllib.request.Request(
                    proxy.target + self.path, data=body, headers=headers, method=self.command
                )
                try:
                    response = urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
                        request, timeout=60
                    )
                except urllib.error.HTTPError as exc:
                    response = exc
                payload = response.read()
                self.send_response(
                    response.status if hasattr(response, "status") else response.code
                )
                for key, value in response.headers.items():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_DELETE = _forward

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def faulty(ls: LS) -> Iterator[Any]:
    proxies: list[_FaultyProxy] = []

    def make(failures: int) -> _FaultyProxy:
        proxies.append(_FaultyProxy(ls.url, failures))
        return proxies[-1]

    yield make
    for p in proxies:
        p.close()


def test_a_500_in_the_middle_of_a_pull_writes_nothing(
    ls: LS, root: Path, title: str, faulty: Any
) -> None:
    _push_gold(ls, root, title)
    proxy = faulty(failures=100)
    client = Client(Connection(proxy.url, ls.creds.token), backoff=0.05)
    failure = _quick(10, lambda: pull_mod.pull(client, title=title, root=root))
    assert failure.reason is Reason.server_error and "download" in str(failure)
    assert proxy.seen == 3  # retried: a GET that failed on the server side can be repeated
    exports = root / "datasets" / "label-studio" / title / "exports"
    assert not exports.exists() or list(exports.iterdir()) == []
    assert not (root / "datasets" / "label-studio" / title / "annotations").exists()


def test_a_passing_500_is_retried(ls: LS, root: Path, title: str, faulty: Any) -> None:
    _push_gold(ls, root, title)
    proxy = faulty(failures=1)
    client = Client(Connection(proxy.url, ls.creds.token), backoff=0.05)
    report = pull_mod.pull(client, title=title, root=root)
    assert report.ok and report.converted == 1 and proxy.seen == 2


def test_cli_push_then_pull(ls: LS, root: Path, title: str) -> None:
    runner = CliRunner()
    pushed = runner.invoke(
        annotate_app,
        [
            "push",
            "--project",
            title,
            "--annotations",
            str(root / "datasets" / "annotations"),
            "--ground-truth",
        ],
    )
    assert pushed.exit_code == 0, pushed.output
    assert "1 created" in pushed.output and "/projects/" in pushed.output
    pulled = runner.invoke(annotate_app, ["pull", "--project", title])
    assert pulled.exit_code == 0, pulled.output
    assert "1 unchanged" in pulled.output and "raw export kept" in pulled.output
    missing = runner.invoke(annotate_app, ["pull", "--project", "no-such-project"])
    assert missing.exit_code != 0


def test_the_main_job_loads_the_seed_project_and_checks_the_round_trip(ls: LS, root: Path) -> None:
    from sitrep.pipeline import annotation_step

    first = annotation_step(root, ls.data_dir)
    assert first.ok, first.problems
    assert first.already_running and first.url == ls.url
    assert first.round_trip == 1 and first.tasks_created + first.tasks_existing == 1
    again = annotation_step(root, ls.data_dir)
    assert again.ok and again.tasks_created == 0 and again.ground_truth_added == 0
    assert not (root / "datasets" / "label-studio").exists()  # the check pulled elsewhere


def test_a_hand_made_release_is_replaced_only_when_asked(ls: LS, root: Path, title: str) -> None:
    _push_gold(ls, root, title)
    client = ls.client()
    task = _tasks(client, result_project(client, title))[GOLD_ID]
    [annotation] = client.get(f"/api/tasks/{task['id']}/annotations/")
    edited = copy.deepcopy(annotation["result"])
    realis = next(
        r for r in edited if r["from_name"] == "figure_realis" and r["id"] == "fig-7000-scheduled_0"
    )
    realis["value"]["choices"] = ["possible"]
    client.patch(f"/api/annotations/{annotation['id']}/", {"result": edited})
    released = root / "datasets" / "annotations" / GOLD.name
    before = released.read_bytes()

    kept = pull_mod.pull(client, title=title, root=root)
    assert [p.rule for p in kept.problems] == ["not-overwritten"]
    assert str(released) in kept.problems[0].message
    assert released.read_bytes() == before
    pending = json.loads(kept.written[0].read_text(encoding="utf-8"))
    assert next(f for f in pending["figures"] if f["id"] == "fig-7000-scheduled")["realis"] == (
        "possible"
    )

    replaced = pull_mod.pull(client, title=title, root=root, replace=True)
    assert replaced.ok and replaced.released == [released]
    now = json.loads(released.read_text(encoding="utf-8"))
    assert (
        next(f for f in now["figures"] if f["id"] == "fig-7000-scheduled")["realis"] == "possible"
    )
    # From now on the file is sitrep's: a later pull of this task may update it unasked.
    realis["value"]["choices"] = ["planned"]
    client.patch(f"/api/annotations/{annotation['id']}/", {"result": edited})
    again = pull_mod.pull(client, title=title, root=root)
    assert again.ok and again.released == [released]
    assert json.loads(released.read_bytes())["figures"] == json.loads(before)["figures"]


def test_a_config_the_server_rejects_is_never_used(ls: LS) -> None:
    with pytest.raises(proj.ProjectError, match="refuses the generated labeling config"):
        proj.validate_config(ls.client(), "<View><Labels name='x' toName='nothing'></View>")


# --- check: problems named where an annotator can find them -------------------------------


def _refusals(results: list[dict[str, Any]]) -> dict[str, str]:
    """Break the gold results in every way item 6 names; rule -> the region it concerns."""
    actors = [r["id"] for r in results if r.get("from_name") == "actor_id"]
    figures = [r["id"] for r in results if r.get("from_name") == "figure_id"]
    events = [r["id"] for r in results if r.get("from_name") == "event_id"]
    results += [
        {"type": "relation", "from_id": actors[0], "to_id": actors[1]},  # contradictory tie
        {"type": "relation", "from_id": actors[0], "to_id": "gone_9", "labels": ["same_as"]},
        {"type": "relation", "from_id": events[0], "to_id": actors[2]},  # which role?
        {"type": "relation", "from_id": figures[0], "to_id": actors[0], "labels": ["same_as"]},
    ]
    return {
        "contradictory-tie": actors[1],
        "dangling-relation": f"{actors[0]}->gone_9",
        "relation-without-label": f"{events[0]}->{actors[2]}",
        "tie-kinds": f"{figures[0]}->{actors[0]}",
    }


def test_check_names_every_problem_of_the_latest_annotation_and_writes_nothing(
    ls: LS, root: Path, title: str
) -> None:
    client = ls.client()
    project, _, _ = proj.ensure_project(client, title)
    gold = json.loads(GOLD.read_text(encoding="utf-8"))
    task_id = _new_task(client, project.id, gold)
    _annotate(client, task_id, convert.to_results(gold))  # an earlier, clean annotation
    time.sleep(1.1)  # updated_at has one-second steps on SQLite
    results = convert.to_results(gold)
    expected = _refusals(results)
    annotation_id = _annotate(client, task_id, results)
    other = copy.deepcopy(gold)  # the same article once more, a required field left empty
    other["document"]["id"] = "seed-again"
    other_task = _new_task(client, project.id, other)
    other_results = convert.to_results(other)
    realis = next(r for r in other_results if r.get("from_name") == "figure_realis")
    other_results.remove(realis)
    _annotate(client, other_task, other_results)
    exports_before = client.get(f"/api/projects/{project.id}/exports/")

    runner = CliRunner()
    result = runner.invoke(
        annotate_app, ["check", "--project", title, "--annotator", ls.creds.email]
    )
    assert result.exit_code == 1, result.output
    link = f"{ls.url}/projects/{project.id}/data?task={task_id}"
    assert f"{link}" in result.output and ls.creds.email in result.output
    as_json = runner.invoke(
        annotate_app, ["check", "--project", title, "--annotator", ls.creds.email, "-f", "json"]
    )
    report = json.loads(as_json.stdout)
    assert report["checked"] == 2 and report["clean"] == 0  # only the latest annotations
    [missing] = [p for p in report["problems"] if p["task"] == other_task]
    assert missing["rule"] == "schema.enum" and missing["region"] == realis["id"]
    quote = next(
        r["value"]["text"]
        for r in other_results
        if r["id"] == realis["id"] and r["from_name"] == "label"
    )
    assert "realis" in missing["message"] and missing["quote"] == f'"{quote}"'
    found = {p["rule"]: p for p in report["problems"] if p["task"] == task_id}
    assert set(expected) <= set(found), sorted(found)
    quotes = {r["id"]: r["value"]["text"] for r in results if r.get("from_name") == "label"}
    for rule, region in expected.items():
        problem = found[rule]
        assert problem["task"] == task_id and problem["annotation"] == annotation_id, rule
        assert problem["annotator"] == ls.creds.email and problem["link"] == link, rule
        assert problem["region"] == region, rule
        first = region.split("->")[0]
        assert problem["quote"].startswith(f'"{quotes[first]}'), rule
    assert "agent" in found["relation-without-label"]["expected"]
    assert not (root / "datasets" / "label-studio").exists()  # nothing written
    assert client.get(f"/api/projects/{project.id}/exports/") == exports_before
    nobody = runner.invoke(annotate_app, ["check", "--project", title, "--annotator", "x@y.z"])
    assert nobody.exit_code == 0 and "0 latest annotation(s)" in nobody.output
