"""What several test files share about the real Label Studio started for the session.

The `ls` fixture (conftest.py) starts it once; `LS` says where it is and how to talk to it.
A `sitecustomize` audit hook, put on the server's PYTHONPATH by the fixture only, records
every outgoing connection and name lookup, so tests can show the server talks to nothing
but loopback.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from sitrep.annotate.labelstudio import server
from sitrep.annotate.labelstudio.client import Client
from sitrep.testing.postgres import free_port  # noqa: F401  (tests import it from here)

REPO = Path(__file__).resolve().parents[1]
REGISTRY = REPO / "datasets" / "entities" / "registry.json"
STRAY = "stray-client-token-must-not-reach-the-server"


def copy_registry(root: Path) -> Path:
    """Give the dataset checkout `root` (a SITREP_HOME sandbox) the registry the gold's
    records link to: a checkout whose records link entities but that holds no registry
    is `registry.missing` to `sitrep validate` and to a release build. The clusters file
    the gold's events and figures name comes along (else `clusters.missing`)."""
    target = root / "datasets" / "entities" / REGISTRY.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(REGISTRY, target)
    shutil.copy(REGISTRY.with_name("clusters.json"), target.with_name("clusters.json"))
    return target


NET_HOOK = """
import json, os, sys
_LOG = os.environ.get("SITREP_TEST_NET_LOG")

def _record(event, value):
    with open(_LOG, "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"event": event, "value": value}) + "\\n")

def _hook(event, args):
    if event == "socket.connect":
        _record(event, repr(args[1]))
    elif event == "socket.getaddrinfo":
        _record(event, repr(args[0]))

if _LOG:
    _record("loaded", sys.executable)
    sys.addaudithook(_hook)
"""


def executable() -> Path | None:
    try:
        return server.find_executable(REPO)
    except server.LabelStudioNotInstalled:
        return None


@dataclass
class LS:
    root: Path
    data_dir: Path
    started: server.Started
    net_log: Path

    @property
    def state(self) -> server.ServerState:
        state = server.read_state(self.data_dir)
        assert state is not None
        return state

    @property
    def creds(self) -> server.Credentials:
        return self.started.credentials

    @property
    def url(self) -> str:
        return self.state.url

    @property
    def conn(self) -> server.Connection:
        return server.Connection(self.url, self.creds.token, "test session")

    def client(self, **options: float) -> Client:
        return Client(self.conn, **options)  # type: ignore[arg-type]


def strip_record_provenance(doc: dict) -> dict:
    """`doc` as an annotator makes it by hand: no record says a model proposed it."""
    for kind in ("actors", "locations", "events", "figures"):
        for record in doc.get(kind, []):
            record.pop("provenance", None)
    return doc


def insert_text(doc: dict, position: int, piece: str) -> dict:
    """Insert `piece` into the document text at `position` (moved out of any span it
    would fall inside), shifting every span after it; the hash follows."""
    import hashlib

    text = doc["document"]["text"]
    spans = [
        s
        for kind in ("actors", "locations", "events", "figures")
        for r in doc.get(kind, [])
        for s in r["spans"]
    ]
    for s in spans:
        if s["start"] < position < s["end"]:
            position = s["end"]
    for s in spans:
        if s["start"] >= position:
            s["start"] += len(piece)
            s["end"] += len(piece)
    text = text[:position] + piece + text[position:]
    doc["document"]["text"] = text
    doc["document"]["text_sha256"] = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return doc


def outside_connections(ls: LS) -> list[dict]:
    """Every connection or name lookup the server made that was not to loopback."""
    import json

    records = [json.loads(line) for line in ls.net_log.read_text().splitlines()]
    assert records and records[0]["event"] == "loaded", "the audit hook did not load"
    return [
        r
        for r in records[1:]
        if not any(
            loopback in r["value"]
            for loopback in ("'127.0.0.1'", "'localhost'", "'::1'", "'/", "'\\x00")
        )
    ]


def login_token(url: str, email: str, password: str) -> str:
    """What a person does in the browser: log in with e-mail and password; then the API
    token Label Studio shows them under Account & Settings."""
    import http.cookiejar
    import json
    import re
    import urllib.parse
    import urllib.request

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(jar)
    )
    login = f"{url}/user/login/"
    with opener.open(login, timeout=30) as page:
        html = page.read().decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert csrf, "the login page has no form"
    form = {"csrfmiddlewaretoken": csrf.group(1), "email": email, "password": password}
    request = urllib.request.Request(
        login, data=urllib.parse.urlencode(form).encode(), headers={"Referer": login}
    )
    with opener.open(request, timeout=60) as answer:
        assert "/user/login" not in answer.url, f"login of {email} failed"
    with opener.open(f"{url}/api/current-user/token", timeout=30) as answer:
        return str(json.loads(answer.read())["token"])


def person(url: str, email: str, password: str) -> Client:
    """A client acting as `email`, with the token they got by logging in."""
    return Client(server.Connection(url, login_token(url, email, password), email))
