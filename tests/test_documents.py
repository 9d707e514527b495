"""The seed loader: the real `seeds/` folder, and every problem it must report."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sitrep.errors import SourceError
from sitrep.schema import documents
from sitrep.schema.documents import (
    META_FIELDS,
    load_sources,
    new_annotation,
    scan_sources,
)
from sitrep.schema.report import Code, Report
from sitrep.schema.validation import Engine, validate_document

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
SEED_ARTICLE = SEEDS / "articles" / "000_8128c0eee969d3a6.txt"
CREATED = "2026-01-22T09:30:00Z"
Json = dict[str, Any]
Scan = tuple[list[documents.SourceDocument], Report]


def _codes(report: Report) -> list[tuple[str, str]]:
    return [(str(i.code), i.file) for i in report.issues]


def _meta(doc_id: str, **changes: Any) -> Json:
    meta: Json = dict.fromkeys(META_FIELDS)
    meta.update(id=doc_id, language="en", retrieved="2026-01-22", title=f"Title of {doc_id}")
    meta.update(changes)
    return meta


@pytest.fixture
def article(tmp_path: Path) -> Callable[..., Path]:
    """`article(name, text=..., meta=...)` writes articles/NAME.txt and its metadata."""

    def write(name: str, text: bytes = b"Some text \xe2\x80\x99 here.", meta: Any = None) -> Path:
        folder = tmp_path / "articles"
        folder.mkdir(exist_ok=True)
        txt = folder / f"{name}.txt"
        txt.write_bytes(text)
        if meta is not None:
            raw = meta if isinstance(meta, bytes) else json.dumps(meta).encode("utf-8")
            txt.with_suffix(".meta.json").write_bytes(raw)
        return txt

    return write


SHARED = {
    "id_prefix": "wire-",
    "publisher": "Wire",
    "language": "en",
    "retrieved": "2026-01-22",
    "license": "CC BY 4.0",
    "credit": "Wire service",
}


def _story(story_id: Any, **changes: Any) -> Json:
    story: Json = {
        "id": story_id,
        "url": f"https://example.org/{story_id}",
        "title": f"Story {story_id}",
        "published": "2025-03-14 20:30:26Z",
        "text": f"Text of story {story_id}.",
    }
    story.update(changes)
    return story


@pytest.fixture
def collection(tmp_path: Path) -> Callable[..., Path]:
    """`collection(lines, shared=SHARED)` writes wire/stories.jsonl (+ source.json)."""

    def write(lines: list[Any], shared: Json | None = SHARED) -> Path:
        folder = tmp_path / "wire"
        folder.mkdir(exist_ok=True)
        if shared is not None:
            (folder / "source.json").write_text(json.dumps(shared), encoding="utf-8")
        body = "\n".join(
            x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines
        )
        target = folder / "stories.jsonl"
        target.write_text(body + "\n", encoding="utf-8")
        return target

    return write


# --- the real seeds ------------------------------------------------------------------


@pytest.fixture(scope="module")
def seeds() -> Scan:
    return scan_sources(SEEDS)


def test_seeds_load_without_issues(seeds: Scan) -> None:
    docs, report = seeds
    assert report.issues == []
    assert len(docs) == 90
    assert report.counts["documents"] == 90
    assert report.files_checked == 2  # one article, one collection


def test_seed_ids_are_unique_and_prefixed(
    seeds: Scan,
) -> None:
    docs, _ = seeds
    ids = [d.id for d in docs]
    assert len(set(ids)) == len(ids)
    assert sum(i.startswith("voa-") for i in ids) == 89
    assert "seed-8128c0eee969d3a6" in ids


def test_seed_article_text_is_the_file_bytes(
    seeds: Scan,
) -> None:
    docs, _ = seeds
    seed = next(d for d in docs if d.id == "seed-8128c0eee969d3a6")
    raw = SEED_ARTICLE.read_bytes()
    assert seed.text == raw.decode("utf-8")
    assert seed.text_sha256 == documents.text_sha256(raw.decode("utf-8"))
    assert seed.url is None and seed.publisher is None and seed.published is None


def test_voa_stories_carry_the_collection_metadata(
    seeds: Scan,
) -> None:
    docs, _ = seeds
    voa = [d for d in docs if d.id.startswith("voa-")]
    assert {d.publisher for d in voa} == {"Voice of America"}
    assert {d.credit for d in voa} == {"Voice of America (voanews.com)"}
    assert all(d.url and d.url.startswith("https://www.voanews.com/") for d in voa)
    assert all(d.published and len(d.published) == 10 for d in voa)  # YYYY-MM-DD


@pytest.mark.parametrize("engine", ["rust", "python"])
def test_every_seed_makes_a_valid_empty_annotation(seeds: Scan, engine: Engine) -> None:
    docs, _ = seeds
    annotations = {d.id: new_annotation(d, ["ann-1"], CREATED) for d in docs}
    problems = {i: validate_document(a, i, engine_name=engine) for i, a in annotations.items()}
    assert {i: issues for i, issues in problems.items() if issues} == {}


def test_load_sources_returns_the_scanned_documents(
    seeds: Scan,
) -> None:
    assert load_sources(SEEDS) == seeds[0]


# --- articles ------------------------------------------------------------------------


def test_article_loads(tmp_path: Path, article: Callable[..., Path]) -> None:
    txt = article("a", meta=_meta("doc-a"))
    docs, report = scan_sources(tmp_path)
    assert report.valid
    assert [(d.id, d.text, d.origin) for d in docs] == [("doc-a", "Some text ’ here.", str(txt))]


def test_article_without_metadata(tmp_path: Path, article: Callable[..., Path]) -> None:
    txt = article("a")
    docs, report = scan_sources(tmp_path)
    assert docs == []
    assert _codes(report) == [(Code.SOURCE_METADATA, str(txt))]
    assert report.issues[0].expected == "a.meta.json"


@pytest.mark.parametrize(
    ("change", "missing"),
    [
        ({"retrieved": None}, "retrieved"),
        ({"language": ""}, "language"),
        ({"id": "   "}, "id"),
        ({"id": 5}, "id"),
    ],
    ids=["retrieved-null", "language-empty", "id-blank", "id-number"],
)
def test_article_required_value_missing(
    tmp_path: Path, article: Callable[..., Path], change: Json, missing: str
) -> None:
    txt = article("a", meta=_meta("doc-a", **change))
    docs, report = scan_sources(tmp_path)
    assert docs == []
    assert _codes(report) == [(Code.SOURCE_METADATA, str(txt.with_suffix(".meta.json")))]
    assert report.issues[0].found == f"missing: {missing}"


@pytest.mark.parametrize("key", META_FIELDS)
def test_article_metadata_key_absent(
    tmp_path: Path, article: Callable[..., Path], key: str
) -> None:
    meta = _meta("doc-a")
    del meta[key]
    txt = article("a", meta=meta)
    docs, report = scan_sources(tmp_path)
    assert docs == []
    assert _codes(report) == [(Code.SOURCE_METADATA, str(txt.with_suffix(".meta.json")))]
    assert key in report.issues[0].found.removeprefix("missing: ").split(", ")


def test_article_empty_text(tmp_path: Path, article: Callable[..., Path]) -> None:
    txt = article("a", text=b" \n", meta=_meta("doc-a"))
    _, report = scan_sources(tmp_path)
    assert _codes(report) == [(Code.SOURCE_METADATA, str(txt.with_suffix(".meta.json")))]
    assert report.issues[0].found == "missing: text"


@pytest.mark.parametrize(
    ("text", "meta_bom", "bad"),
    [
        (b"\xef\xbb\xbfText.", False, "txt"),
        (b"Caf\xe9 text.", False, "txt"),
        (b"Text.", True, "meta"),
    ],
    ids=["text-bom", "text-latin-1", "metadata-bom"],
)
def test_article_encoding(
    tmp_path: Path, article: Callable[..., Path], text: bytes, meta_bom: bool, bad: str
) -> None:
    meta = json.dumps(_meta("doc-a")).encode("utf-8")
    txt = article("a", text=text, meta=b"\xef\xbb\xbf" + meta if meta_bom else meta)
    docs, report = scan_sources(tmp_path)
    assert docs == []
    where = txt if bad == "txt" else txt.with_suffix(".meta.json")
    assert _codes(report) == [(Code.FILE_ENCODING, str(where))]


def test_article_metadata_invalid_json(tmp_path: Path, article: Callable[..., Path]) -> None:
    txt = article("a", meta=b'{"id": "doc-a",}')
    docs, report = scan_sources(tmp_path)
    assert docs == []
    assert _codes(report) == [(Code.FILE_JSON, str(txt.with_suffix(".meta.json")))]
    assert "line 1" in report.issues[0].message


def test_duplicate_id_across_two_articles(tmp_path: Path, article: Callable[..., Path]) -> None:
    first = article("a", meta=_meta("doc-x"))
    second = article("b", meta=_meta("doc-x"))
    docs, report = scan_sources(tmp_path)
    assert [d.origin for d in docs] == [str(first)]
    assert _codes(report) == [(Code.SOURCE_DUPLICATE, str(second))]
    assert str(first) in report.issues[0].message
    assert report.counts["documents"] == 1


def test_duplicate_id_across_article_and_collection(
    tmp_path: Path, article: Callable[..., Path], collection: Callable[..., Path]
) -> None:
    article("a", meta=_meta("wire-7"))
    jsonl = collection([_story("7")])
    docs, report = scan_sources(tmp_path)
    assert [d.id for d in docs] == ["wire-7"]
    assert _codes(report) == [(Code.SOURCE_DUPLICATE, f"{jsonl}:1")]


# --- collections ---------------------------------------------------------------------


def test_collection_loads(tmp_path: Path, collection: Callable[..., Path]) -> None:
    jsonl = collection([_story("1"), "", _story(2, author="A. Writer"), _story("AbC")])
    docs, report = scan_sources(tmp_path)
    assert report.valid
    assert [d.id for d in docs] == ["wire-1", "wire-2", "wire-abc"]
    assert [d.origin for d in docs] == [f"{jsonl}:1", f"{jsonl}:3", f"{jsonl}:4"]
    assert {d.published for d in docs} == {"2025-03-14"}
    assert docs[1].author == "A. Writer"
    assert docs[0].author is None


def test_collection_bad_lines_are_reported_with_file_and_line(
    tmp_path: Path, collection: Callable[..., Path]
) -> None:
    jsonl = collection(
        [
            _story("1"),
            '{"id": "2", "url": ',
            "[1, 2]",
            _story("4", url=""),
            _story("5", published="last Tuesday"),
            _story("6"),
        ]
    )
    docs, report = scan_sources(tmp_path)
    assert [d.id for d in docs] == ["wire-1", "wire-6"]
    assert _codes(report) == [
        (Code.FILE_JSON, f"{jsonl}:2"),
        (Code.FILE_JSON, f"{jsonl}:3"),
        (Code.SOURCE_METADATA, f"{jsonl}:4"),
        (Code.SOURCE_METADATA, f"{jsonl}:5"),
    ]
    assert report.issues[2].found == "missing: url"
    assert report.issues[3].found == "missing: published (not an ISO date)"


def test_collection_without_source_json(tmp_path: Path, collection: Callable[..., Path]) -> None:
    jsonl = collection([_story("1")], shared=None)
    docs, report = scan_sources(tmp_path)
    assert docs == []
    assert (Code.SOURCE_METADATA, str(jsonl.parent / "source.json")) in _codes(report)


def test_collection_without_source_json_is_one_issue(
    tmp_path: Path, collection: Callable[..., Path]
) -> None:
    jsonl = collection([_story("1")], shared=None)
    _, report = scan_sources(tmp_path)
    assert _codes(report) == [(Code.SOURCE_METADATA, str(jsonl.parent / "source.json"))]


def test_collection_with_incomplete_source_json(
    tmp_path: Path, collection: Callable[..., Path]
) -> None:
    shared = {k: v for k, v in SHARED.items() if k != "credit"}
    jsonl = collection([_story("1")], shared=shared)
    docs, report = scan_sources(tmp_path)
    assert docs == []
    assert _codes(report) == [(Code.SOURCE_METADATA, str(jsonl.parent / "source.json"))]


def test_collection_encoding(tmp_path: Path, collection: Callable[..., Path]) -> None:
    jsonl = collection([_story("1")])
    jsonl.write_bytes(b"\xef\xbb\xbf" + jsonl.read_bytes())
    docs, report = scan_sources(tmp_path)
    assert docs == []
    assert _codes(report) == [(Code.FILE_ENCODING, str(jsonl))]


def test_duplicate_id_within_a_collection(tmp_path: Path, collection: Callable[..., Path]) -> None:
    jsonl = collection([_story("1"), _story("2"), _story("1", title="Again")])
    docs, report = scan_sources(tmp_path)
    assert [d.title for d in docs] == ["Story 1", "Story 2"]
    assert _codes(report) == [(Code.SOURCE_DUPLICATE, f"{jsonl}:3")]


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"], ids=["LS", "PS", "NEL"])
def test_collection_text_with_unicode_line_separators(
    tmp_path: Path, collection: Callable[..., Path], separator: str
) -> None:
    collection([_story("1", text=f"First paragraph.{separator}Second.")])
    docs, report = scan_sources(tmp_path)
    assert report.issues == []
    assert [d.text for d in docs] == [f"First paragraph.{separator}Second."]


@pytest.fixture
def local_time_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """`local_time_zone(name)` makes `name` the process's local time zone for one test."""

    def use(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield use
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize(
    ("zone", "published"),
    [("Asia/Tokyo", "2025-03-14"), ("America/New_York", "2025-03-14 23:30:00")],
    ids=["date-only-east-of-utc", "naive-time-west-of-utc"],
)
def test_published_without_offset_keeps_its_date(
    tmp_path: Path,
    collection: Callable[..., Path],
    local_time_zone: Callable[[str], None],
    zone: str,
    published: str,
) -> None:
    local_time_zone(zone)
    collection([_story("1", published=published)])
    docs, report = scan_sources(tmp_path)
    assert report.valid
    assert [d.published for d in docs] == ["2025-03-14"]


def test_published_with_offset_is_converted_to_utc(
    tmp_path: Path, collection: Callable[..., Path]
) -> None:
    collection([_story("1", published="2025-03-14T23:30:00-05:00")])
    docs, _ = scan_sources(tmp_path)
    assert [d.published for d in docs] == ["2025-03-15"]


# --- the folder and the raising loader -----------------------------------------------


def test_missing_folder(tmp_path: Path) -> None:
    docs, report = scan_sources(tmp_path / "nope")
    assert docs == []
    assert _codes(report) == [(Code.PATH_MISSING, str(tmp_path / "nope"))]


def test_load_sources_raises_listing_every_problem(
    tmp_path: Path, article: Callable[..., Path], collection: Callable[..., Path]
) -> None:
    no_meta = article("a")
    article("b", meta=_meta("doc-b"))
    duplicate = article("c", meta=_meta("doc-b"))
    jsonl = collection([_story("1"), "not json"])
    with pytest.raises(SourceError) as caught:
        load_sources(tmp_path)
    message = str(caught.value)
    assert message.startswith(f"3 problem(s) in {tmp_path}:")
    for where, code in [
        (no_meta, Code.SOURCE_METADATA),
        (duplicate, Code.SOURCE_DUPLICATE),
        (f"{jsonl}:2", Code.FILE_JSON),
    ]:
        assert f"  {where}: [{code}] " in message
    assert len(message.splitlines()) == 4


def test_new_annotation_is_valid_and_empty(tmp_path: Path, article: Callable[..., Path]) -> None:
    article("a", meta=_meta("doc-a"))
    (source,) = load_sources(tmp_path)
    doc = new_annotation(source, ["ann-1"])
    assert validate_document(doc) == []
    assert doc["document"]["text_sha256"] == documents.text_sha256(source.text)
    assert [doc[k] for k in ("actors", "locations", "events", "figures")] == [[], [], [], []]
    assert doc["provenance"]["created"].endswith("Z")
