"""Shared fixtures: one small, complete, valid annotation document built in code.

Every invalid document in the test suite is this one with one thing changed, so a test
names exactly the rule it breaks. Span offsets are computed with `text.index`, so they
count code points the way the schema says (the text has non-ASCII characters before
most spans: an offset computed in bytes or UTF-16 units would be caught).
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from tests_support import LS, NET_HOOK, STRAY, executable, free_port

from sitrep.annotate.labelstudio import server
from sitrep.schema import documents, spec
from sitrep.testing import postgres

Json = dict[str, Any]

TEXT = (
    "The U.S. military’s Central Command (CENTCOM) said its forces moved 150 ISIS detainees "
    "from the al-Shaddadi prison in Hasakah, Syria, to Iraq on January 20, 2026. "
    "Of the 150, 81 were Iraqi citizens. "
    "Up to 7,000 detainees could be transferred in the coming months. "
    "A spokesman for the Syrian Democratic Forces said the group’s fighters guard camps "
    "holding nationals of more than 70 countries, and that dozens of guards were deployed "
    "at the prison that week. Officials put the number of fighters held in the camps at "
    "between 8,000 and 10,000."
)


def span(phrase: str, within: str | None = None, text: str = TEXT) -> Json:
    """The span of `phrase` in `text` (its first occurrence inside `within`, if given)."""
    offset = text.index(within) + within.index(phrase) if within else text.index(phrase)
    return {"start": offset, "end": offset + len(phrase), "text": phrase}


def _actors() -> list[Json]:
    return [
        {
            "id": "act-centcom",
            "name": "U.S. Central Command",
            "aliases": ["Central Command", "CENTCOM"],
            "type": "state_armed_forces",
            "country": "USA",
            "wikidata": "Q1049241",
            "affiliated_with": None,
            "spans": [span("Central Command"), span("CENTCOM")],
        },
        {
            "id": "act-isis",
            "name": "Islamic State",
            "aliases": ["ISIS"],
            "type": "non_state_armed_group",
            "country": None,
            "affiliated_with": None,
            "spans": [span("ISIS")],
        },
        {
            "id": "act-sdf",
            "name": "Syrian Democratic Forces",
            "aliases": [],
            "type": "non_state_armed_group",
            "country": "SYR",
            "affiliated_with": None,
            "spans": [span("Syrian Democratic Forces")],
            "provenance": {
                "method": "proposed_accepted",
                "annotator": "ann-1",
                "model": "gliner-multi",
                "model_version": "2.1",
                "score": 0.93,
            },
        },
        {
            "id": "act-sdf-spokesman",
            "name": "SDF spokesman",
            "aliases": [],
            "type": "person",
            "country": "SYR",
            "affiliated_with": "act-sdf",
            "spans": [span("A spokesman")],
            "provenance": {"method": "manual", "annotator": "ann-1"},
        },
    ]


def _locations() -> list[Json]:
    return [
        {
            "id": "loc-syria",
            "name": "Syria",
            "type": "country",
            "country": "SYR",
            "parent": None,
            "spans": [span("Syria", within="Hasakah, Syria")],
        },
        {
            "id": "loc-hasakah",
            "name": "Al-Hasakah",
            "type": "city_or_town",
            "country": "SYR",
            "parent": "loc-syria",
            "coordinates": {"lat": 36.5, "lon": 40.75, "precision": 2},
            "wikidata": None,
            "spans": [span("Hasakah")],
        },
        {
            "id": "loc-shaddadi-prison",
            "name": "al-Shaddadi prison",
            "type": "facility",
            "country": "SYR",
            "parent": "loc-hasakah",
            "coordinates": None,
            "spans": [span("al-Shaddadi prison"), span("the prison", within="at the prison")],
        },
        {
            "id": "loc-iraq",
            "name": "Iraq",
            "type": "country",
            "country": "IRQ",
            "parent": None,
            "spans": [span("Iraq", within="to Iraq")],
        },
    ]


def _events() -> list[Json]:
    return [
        {
            "id": "evt-transfer",
            "type": "detainee_transfer",
            "participants": [
                {"actor": "act-centcom", "role": "agent"},
                {"actor": "act-isis", "role": "target"},
            ],
            "locations": [
                {"location": "loc-shaddadi-prison", "role": "origin"},
                {"location": "loc-iraq", "role": "destination"},
            ],
            "date": {
                "start": "2026-01-20",
                "end": "2026-01-20",
                "precision": "day",
                "expression": "on January 20, 2026",
            },
            "realis": "actual",
            "reported_by": "act-centcom",
            "spans": [span("moved")],
        },
        {
            "id": "evt-planned-transfer",
            "type": "detainee_transfer",
            "participants": [],
            "locations": [{"location": "loc-iraq", "role": "destination"}],
            "date": {
                "start": "2026-01-21",
                "end": "2026-04-30",
                "precision": "month",
                "expression": "in the coming months",
            },
            "realis": "possible",
            "reported_by": None,
            "spans": [span("could be transferred")],
        },
        {
            "id": "evt-deployment",
            "type": "deployment",
            "participants": [
                {"actor": "act-sdf", "role": "agent"},
                {"actor": "act-sdf-spokesman", "role": "party"},
            ],
            "locations": [{"location": "loc-shaddadi-prison", "role": "site"}],
            "date": {"start": None, "end": None, "precision": "unknown", "expression": "that week"},
            "realis": "actual",
            "reported_by": "act-sdf-spokesman",
            "spans": [span("deployed")],
        },
    ]


def _figures() -> list[Json]:
    low, high = spec.vague_intervals()["dozens"]
    return [
        {
            "id": "fig-transferred",
            "counted": "people_transferred",
            "description": "ISIS detainees",
            "unit": "person",
            "low": 150,
            "best": 150,
            "high": 150,
            "qualifier": "exact",
            "vague_term": None,
            "realis": "actual",
            "event": "evt-transfer",
            "part_of": None,
            "claimed_by": "act-centcom",
            "spans": [span("150 ISIS detainees")],
        },
        {
            "id": "fig-iraqi",
            "counted": "people_transferred",
            "description": "Iraqi citizens among the transferred",
            "unit": "person",
            "low": 81,
            "best": 81,
            "high": 81,
            "qualifier": "exact",
            "realis": "actual",
            "event": "evt-transfer",
            "part_of": "fig-transferred",
            "claimed_by": "act-centcom",
            "spans": [span("81 were Iraqi citizens")],
        },
        {
            "id": "fig-planned",
            "counted": "people_transferred",
            "unit": "person",
            "low": None,
            "best": None,
            "high": 7000,
            "qualifier": "up_to",
            "realis": "possible",
            "event": "evt-planned-transfer",
            "part_of": None,
            "claimed_by": None,
            "spans": [span("Up to 7,000 detainees")],
        },
        {
            "id": "fig-countries",
            "counted": "countries",
            "unit": "country",
            "low": 71,
            "best": None,
            "high": None,
            "qualifier": "more_than",
            "realis": "actual",
            "event": None,
            "part_of": None,
            "claimed_by": "act-sdf-spokesman",
            "spans": [span("more than 70 countries")],
        },
        {
            "id": "fig-guards",
            "counted": "people_other",
            "description": "guards",
            "unit": "person",
            "low": low,
            "best": None,
            "high": high,
            "qualifier": "vague",
            "vague_term": "dozens",
            "realis": "actual",
            "event": "evt-deployment",
            "part_of": None,
            "claimed_by": "act-sdf-spokesman",
            "spans": [span("dozens of guards")],
            "provenance": {
                "method": "proposed_edited",
                "annotator": "ann-2",
                "model": "figure-tagger",
                "model_version": "0.4.0",
                "score": None,
            },
        },
        {
            "id": "fig-camp-fighters",
            "counted": "people_detained",
            "description": "fighters held in the camps",
            "unit": "person",
            "low": 8000,
            "best": None,
            "high": 10000,
            "qualifier": "range",
            "realis": "actual",
            "event": None,
            "part_of": None,
            "claimed_by": None,
            "spans": [span("between 8,000 and 10,000")],
        },
    ]


def build_valid_doc() -> Json:
    """A small document with every kind of record, valid against schema and rules."""
    return {
        "schema_version": spec.schema_version(),
        "document": {
            "id": "test-centcom-transfer",
            "title": "CENTCOM moves ISIS detainees to Iraq",
            "url": "https://example.org/news/centcom-transfer",
            "publisher": "Example News",
            "author": None,
            "section": "Middle East",
            "published": "2026-01-21",
            "language": "en",
            "retrieved": "2026-01-22",
            "license": None,
            "credit": None,
            "notes": "Written for the test suite.",
            "text": TEXT,
            "text_sha256": documents.text_sha256(TEXT),
        },
        "actors": _actors(),
        "locations": _locations(),
        "events": _events(),
        "figures": _figures(),
        "provenance": {
            "annotators": ["ann-1", "ann-2"],
            "created": "2026-01-22T09:30:00Z",
            "updated": None,
            "label_studio": {
                "project_id": 1,
                "task_id": 7,
                "annotation_ids": [11, 12],
                "config_sha256": None,
                "ground_truth": True,
            },
            "notes": None,
        },
    }


_VALID_DOC = build_valid_doc()


@pytest.fixture
def valid_doc() -> Json:
    """A fresh deep copy of the valid document; mutate it freely."""
    return copy.deepcopy(_VALID_DOC)


def write_json(path: Path, value: Any) -> Path:
    """Write `value` as UTF-8 JSON to `path` (parents created) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


@pytest.fixture
def write_doc(tmp_path: Path) -> Callable[..., Path]:
    """`write_doc(doc, name="doc.json")` writes a document under tmp_path."""

    def write(doc: Any, name: str = "doc.json") -> Path:
        return write_json(tmp_path / name, doc)

    return write


@pytest.fixture(scope="session")
def ls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LS]:
    """A real Label Studio for the whole session, from `.venv-ls` (`make setup-ls`)."""
    found = executable()
    if found is None:
        why = "label-studio is not installed: run `make setup-ls` (or set SITREP_LABEL_STUDIO)"
        if os.environ.get("CI"):  # a green CI must not hide a missing install step
            pytest.fail(why)
        pytest.skip(why)
    with _session_server(tmp_path_factory, "", found) as started:
        yield started


@contextmanager
def _session_server(
    tmp_path_factory: pytest.TempPathFactory,
    suffix: str,
    found: Path,
    database_url: str | None = None,
    password: str | None = None,
    timeout: float = 300,
) -> Iterator[LS]:
    """A Label Studio for the session, with the network hook that logs its connections,
    on a port of its own (several test sessions on one machine would race for 8080)."""
    root = tmp_path_factory.mktemp(f"root{suffix}")
    hook = tmp_path_factory.mktemp(f"nethook{suffix}")
    (hook / "sitecustomize.py").write_text(NET_HOOK, encoding="utf-8")
    data_dir = server.default_data_dir(root)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PYTHONPATH", str(hook))
        mp.setenv("SITREP_TEST_NET_LOG", str(hook / "connections.jsonl"))
        mp.setenv("LABEL_STUDIO_API_KEY", STRAY)
        if password is not None:
            mp.setenv("PGPASSWORD", password)  # read once, by the server's start
        started = server.serve(
            data_dir, port=free_port(), timeout=timeout, executable=found, database_url=database_url
        )
    try:
        yield LS(root, data_dir, started, hook / "connections.jsonl")
    finally:
        server.stop(data_dir)


@pytest.fixture(scope="session")
def ls_postgresql(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LS]:
    """A second real Label Studio for the session, on a throw-away PostgreSQL server (the
    team's production database; `make setup-postgres`). Team and mirror tests run on both."""
    found = executable()
    gone = postgres.missing()
    if found is None or gone:
        why = "label-studio or PostgreSQL is not installed: run `make setup-ls setup-postgres`"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    with postgres.throwaway() as pg:
        url = pg.create("labelstudio")
        with _session_server(
            tmp_path_factory, "-pg", found, url, pg.password, timeout=400
        ) as started:
            yield started
