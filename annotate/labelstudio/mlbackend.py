"""The pre-annotator as a Label Studio ML backend, and its registration on a project.

Label Studio 1.23 calls an ML backend over HTTP (`label_studio/ml/api_connector.py` and
`ml/models.py` in the label-studio package):

1. `GET /health` answers `{"status": "UP"}`: when a backend is added, and before every
   prediction run (Label Studio waits 1 s).
2. `POST /setup` gets `{project, schema, hostname, access_token, extra_params}` and answers
   `{"model_version": ...}`: the version Label Studio stamps on the predictions and uses to
   skip tasks that already have one (3 s). `access_token` is the project owner's API
   token: it is never logged, kept or used here.
3. `POST /predict` gets `{tasks, project, label_config, params}` and answers
   `{"results": [...]}`, one prediction per task in the same order, each
   `{"result", "score", "model_version"}`. The results come from
   `project.proposal_results`, the same conversion `sitrep annotate push --propose` uses.
4. `POST /webhook` (Label Studio subscribes it to project events when a backend is
   added): accepted and ignored. Any other path is a JSON 404.

A task pushed by sitrep carries its `document` metadata, so its text is restored exactly
(`\\r\\n` included) and checked against its sha256; a task imported in the interface has
only its `text`. A task that cannot be read gets an empty prediction and a line on the
log naming the task, the rule, what was expected and found; the other tasks still get
theirs. The server binds 127.0.0.1 and reads at most `MAX_BODY` bytes per request.

Label Studio refuses ML backends on loopback and private addresses (SSRF protection)
unless `ML_BLOCK_LOCAL_IP` is off: the embedded server (`server.py`) turns it off, for
ML backends only.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sitrep.annotate.labelstudio import convert
from sitrep.annotate.labelstudio.client import Client
from sitrep.annotate.labelstudio.convert import Problem
from sitrep.annotate.labelstudio.defaults import ML_BACKEND_PORT
from sitrep.annotate.labelstudio.labelconfig import TEXT
from sitrep.annotate.labelstudio.project import ProjectError, find_project, proposal_results
from sitrep.annotate.labelstudio.server import ConnectionFailed, Reason
from sitrep.annotate.prelabel import propose as propose_mod
from sitrep.errors import ConfigError
from sitrep.schema.documents import text_sha256

Json = dict[str, Any]
HOST = "127.0.0.1"
MAX_BODY = 64 << 20  # bytes: a predict request for a few hundred long articles
TITLE = "sitrep pre-annotator"
Log = Callable[[str], None]


def model_version() -> str:
    """The version stamped on every prediction: the same as `push --propose` uses, so a
    task that already has the pushed proposals is not predicted again."""
    return f"{propose_mod.MODEL}@{propose_mod.VERSION}"


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# --- predictions ---------------------------------------------------------------------


def task_document(task: Json) -> Json:
    """The `document` object a task holds: sitrep's (text restored, hash checked) or, for
    a task imported in the interface, one made of its text. Raises ValueError."""
    data = task.get("data")
    if not isinstance(data, dict):
        raise ValueError("the task has no data object")
    if convert.DOC_KEY in data:
        document, _ = convert.document_of(data)
        return document
    text = data.get(TEXT)
    if not isinstance(text, str):
        raise ValueError(f"the task data has no {TEXT!r} string")
    return {"id": f"task-{task.get('id')}", "text": text, "text_sha256": text_sha256(text)}


@dataclass
class Predictor:
    """The pre-annotator with its gazetteer, answering for a list of tasks."""

    entries: dict[str, Any] = field(default_factory=dict)
    version: str = field(default_factory=model_version)
    log: Log = _stderr

    def predict_one(self, task: Json) -> tuple[Json, Problem | None]:
        """One task's prediction (empty when the task cannot be read) and its problem."""
        try:
            results, score = proposal_results(task_document(task), self.entries)
        except ValueError as exc:
            problem = Problem(
                "ml-backend.task",
                f"no proposals for this task: {exc}",
                task=task.get("id") if isinstance(task.get("id"), int) else None,
                expected=f"task data with a {TEXT!r} string (and sitrep's document metadata)",
                found=", ".join(sorted(task.get("data") or {})) or "no data",
            )
            return {"result": [], "score": 0.0, "model_version": self.version}, problem
        return {"result": results, "score": score, "model_version": self.version}, None

    def predict(self, tasks: list[Json]) -> tuple[list[Json], list[Problem]]:
        """A prediction per task, in order, and the problems of the tasks that gave none."""
        out, problems = [], []
        for task in tasks:
            prediction, problem = self.predict_one(task if isinstance(task, dict) else {})
            out.append(prediction)
            if problem is not None:
                problems.append(problem)
                self.log(f"ml-backend: {problem}")
        return out, problems


# --- the HTTP server -------------------------------------------------------------------


class BadRequest(Exception):
    """A request this backend cannot answer (status and a message for the caller)."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


def _tasks(body: Any) -> list[Json]:
    tasks = body.get("tasks") if isinstance(body, dict) else None
    if not isinstance(tasks, list):
        raise BadRequest(HTTPStatus.BAD_REQUEST, 'expected {"tasks": [...]}')
    return tasks


class Handler(BaseHTTPRequestHandler):
    """Routes Label Studio's calls to the `Predictor` of the server."""

    server: Backend
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        path = self.path.split("?")[0].rstrip("/")
        if path in ("", "/health"):
            self._send(HTTPStatus.OK, self._status())
        elif path == "/versions":
            self._send(HTTPStatus.OK, {"versions": [self.server.predictor.version]})
        else:
            self._send(HTTPStatus.NOT_FOUND, {"error": f"no such path: {path or '/'}"})

    def do_POST(self) -> None:
        path = self.path.split("?")[0].rstrip("/")
        try:
            body = self._body()
            if path == "/predict":
                predictions, _ = self.server.predictor.predict(_tasks(body))
                self._send(HTTPStatus.OK, {"results": predictions})
            elif path == "/setup":
                self._send(HTTPStatus.OK, {"model_version": self.server.predictor.version})
            elif path in ("/webhook", "/validate"):
                self._send(HTTPStatus.OK, {})
            else:
                self._send(HTTPStatus.NOT_FOUND, {"error": f"no such path: {path}"})
        except BadRequest as exc:
            self._send(exc.status, {"error": str(exc)})

    def _status(self) -> Json:
        return {
            "status": "UP",
            "model_class": TITLE,
            "model_version": self.server.predictor.version,
        }

    def _body(self) -> Any:
        try:
            size = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise BadRequest(HTTPStatus.BAD_REQUEST, "Content-Length is not a number") from None
        if size > MAX_BODY:
            self.close_connection = True  # the unread body must not be taken for a request
            raise BadRequest(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"the request has {size} bytes; at most {MAX_BODY} are read: send fewer tasks",
            )
        raw = self.rfile.read(size) if size else b""
        try:
            return json.loads(raw) if raw else {}
        except ValueError as exc:
            raise BadRequest(HTTPStatus.BAD_REQUEST, f"the body is not JSON: {exc}") from None

    def _send(self, status: HTTPStatus, body: Json) -> None:
        raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:
        # the request line and status only: bodies (tokens, texts) are never logged
        self.server.predictor.log(f"ml-backend: {self.address_string()} {format % args}")


class Backend(ThreadingHTTPServer):
    """The ML backend's HTTP server (one thread per connection)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], predictor: Predictor) -> None:
        self.predictor = predictor
        super().__init__(address, Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        shown = host.decode() if isinstance(host, bytes) else host
        return f"http://{shown}:{port}"


class PortTaken(ConfigError):
    """The ML backend's address is in use or cannot be bound."""


def make_backend(predictor: Predictor, host: str = HOST, port: int = ML_BACKEND_PORT) -> Backend:
    """The backend's server, bound and listening (port 0: any free port)."""
    try:
        return Backend((host, port), predictor)
    except OSError as exc:
        raise PortTaken(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}): pick another --port"
        ) from exc


def serve_in_thread(backend: Backend) -> threading.Thread:
    thread = threading.Thread(target=backend.serve_forever, name="sitrep-ml-backend", daemon=True)
    thread.start()
    return thread


# --- registration on a project ---------------------------------------------------------


@dataclass
class Connected:
    """An ML backend registered on a project, as Label Studio reports it."""

    project: int
    backend: int
    url: str
    state: str
    created: bool


LOCAL_REFUSED = (
    "Label Studio refuses ML backends on loopback and private addresses (SSRF protection). "
    "The server `sitrep annotate serve` starts allows them: if it was started before this "
    "sitrep, run `sitrep annotate stop` and `sitrep annotate serve` again; a shared server "
    "needs LABEL_STUDIO_ML_BLOCK_LOCAL_IP=false in its environment"
)


def _explain(exc: ConnectionFailed, url: str) -> ConnectionFailed:
    detail = exc.detail
    if "HTTP 400" in detail and any(
        word in detail.lower() for word in ("ssrf", "local", "banned", "forbidden", "blocked")
    ):
        detail = f"{LOCAL_REFUSED} ({exc.detail})"
    elif "HTTP 400" in detail and "health check" in detail.lower():
        detail = (
            f"Label Studio cannot reach the ML backend at {url}: start it first "
            f"(`sitrep annotate ml-backend`) ({exc.detail})"
        )
    return ConnectionFailed(exc.reason, exc.url, detail)


def connect(client: Client, title: str, url: str, *, predict_on_open: bool = True) -> Connected:
    """Register the ML backend at `url` on the project `title` (or find it registered),
    and, with `predict_on_open`, let Label Studio ask it for predictions when a task
    without any is opened or listed (`evaluate_predictions_automatically`). The backend
    must be answering: Label Studio checks /health and /setup before it accepts it."""
    project = find_project(client, title)
    if project is None:
        raise ProjectError(f"no Label Studio project {title!r}: run `sitrep annotate push` first")
    # listing the project's backends has Label Studio check each one's /health and /setup
    known = client.get("/api/ml/", project=project.id)
    mine = [b for b in known or [] if str(b.get("url", "")).rstrip("/") == url.rstrip("/")]
    try:
        body = (
            mine[0]
            if mine
            else client.post(
                "/api/ml/",
                {"url": url, "project": project.id, "title": TITLE, "is_interactive": False},
            )
        )
    except ConnectionFailed as exc:
        raise _explain(exc, url) from exc
    client.patch(
        f"/api/projects/{project.id}/", {"evaluate_predictions_automatically": predict_on_open}
    )
    state = str(body.get("readable_state") or body.get("state") or "")
    if state not in ("Connected", "CO"):
        raise ConnectionFailed(
            Reason.refused,
            client.url,
            f"the ML backend at {url} was registered but its state is {state!r} "
            f"(expected Connected): {body.get('error_message') or 'see the Label Studio log'}",
        )
    return Connected(project.id, int(body["id"]), url, state, created=not mine)
