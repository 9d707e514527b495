"""Source documents: the one loader for everything in `seeds/`.

Two layouts are read:

* `articles/NAME.txt` with `articles/NAME.meta.json` beside it: one text, byte for byte
  as received, and its metadata;
* `*/NAME.jsonl` with `source.json` in the same folder: one story a line (`id`, `url`,
  `title`, `published`, `text`, ...), and the metadata shared by the whole collection
  (publisher, licence, credit, id prefix).

Every problem (encoding, missing metadata, a duplicate id) is collected into a report
with the file and line; `load_sources` raises `SourceError` listing all of them. Files
are found and opened as `sitrep.schema.files` does for annotations: a folder that cannot
be listed, a FIFO, socket or device, a file or line over the size limit and JSON nested
too deeply are each an issue, never a hang or a traceback.
"""

from __future__ import annotations

import hashlib
import stat
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from sitrep.errors import SourceError
from sitrep.schema import spec
from sitrep.schema.files import read_bytes, read_lines, walk
from sitrep.schema.report import Code, Issue, Report

META_FIELDS = (
    "id",
    "title",
    "url",
    "publisher",
    "author",
    "section",
    "published",
    "language",
    "retrieved",
    "license",
    "credit",
    "notes",
)
OPTIONAL_META = ("license_id", "source")  # schema 1.1.0; absent means null
REQUIRED_VALUES = ("id", "language", "retrieved")
STORY_REQUIRED = ("id", "url", "title", "published", "text")
COLLECTION_REQUIRED = ("id_prefix", "publisher", "language", "retrieved", "license", "credit")


@dataclass(frozen=True)
class SourceDocument:
    """One source text with its metadata, as the annotation `document` object needs it."""

    id: str
    title: str | None
    url: str | None
    publisher: str | None
    author: str | None
    section: str | None
    published: str | None
    language: str
    retrieved: str
    license: str | None
    credit: str | None
    notes: str | None
    text: str
    origin: str
    license_id: str | None = None  # the licence as the schema's TextLicense value
    source: str | None = None  # where sitrep obtained the text

    @property
    def text_sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def as_document(self) -> dict[str, Any]:
        """The `document` object of an annotation file."""
        data = asdict(self)
        data.pop("origin")
        data["text_sha256"] = self.text_sha256
        return data


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _decode(raw: bytes, where: str, report: Report) -> str | None:
    if raw.startswith(b"\xef\xbb\xbf"):
        report.issues.append(
            Issue(
                Code.FILE_ENCODING,
                where,
                "",
                "starts with a byte-order mark; save as UTF-8 without BOM",
                "UTF-8 without BOM",
                "BOM",
            )
        )
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        report.issues.append(
            Issue(
                Code.FILE_ENCODING,
                where,
                "",
                f"not valid UTF-8 at byte {exc.start}",
                "UTF-8",
                f"byte 0x{raw[exc.start]:02x}",
            )
        )
        return None


def _read_bytes(path: Path, report: Report) -> bytes | None:
    """The bytes of a metadata or text file (regular files only, size-limited)."""
    raw, issue = read_bytes(path)
    if issue is not None:
        report.issues.append(issue)
    return raw


def _loads(text: str, where: str, report: Report, expected: str) -> Any:
    """Parsed JSON (strict, at most 1,024 levels deep), or None and an issue."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        report.issues.append(
            Issue(
                Code.FILE_JSON,
                where,
                "",
                f"invalid JSON at line {exc.lineno}: {exc.msg}",
                expected,
                exc.msg,
            )
        )
        return None


def _read_json(path: Path, report: Report) -> Any:
    raw = _read_bytes(path, report)
    text = None if raw is None else _decode(raw, str(path), report)
    return None if text is None else _loads(text, str(path), report, "JSON")


def _missing(data: dict[str, Any], keys: tuple[str, ...], *, values: bool) -> list[str]:
    if values:
        return [k for k in keys if not isinstance(data.get(k), str) or not data[k].strip()]
    return [k for k in keys if k not in data]


def _article(txt: Path, report: Report) -> SourceDocument | None:
    meta_path = txt.with_suffix(".meta.json")
    if not meta_path.exists():
        report.issues.append(
            Issue(
                Code.SOURCE_METADATA,
                str(txt),
                "",
                "no metadata file beside the text",
                f"{meta_path.name}",
                "nothing",
            )
        )
        return None
    meta = _read_json(meta_path, report)
    raw = _read_bytes(txt, report)
    text = None if raw is None else _decode(raw, str(txt), report)
    if not isinstance(meta, dict) or text is None:
        return None
    problems = _missing(meta, META_FIELDS, values=False) + _missing(
        meta, REQUIRED_VALUES, values=True
    )
    if not text.strip():
        problems.append("text")
    if problems:
        report.issues.append(
            Issue(
                Code.SOURCE_METADATA,
                str(meta_path),
                "",
                "required metadata is missing or empty (unknown values are written as null)",
                ", ".join(META_FIELDS),
                "missing: " + ", ".join(problems),
            )
        )
        return None
    extra: dict[str, Any] = {k: meta.get(k) for k in OPTIONAL_META}
    fields: dict[str, Any] = {k: meta[k] for k in META_FIELDS}
    return SourceDocument(**fields, text=text, origin=str(txt), **extra)


def _published_date(value: str) -> str | None:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed.astimezone(UTC) if parsed.tzinfo else parsed).date().isoformat()


def _collection(jsonl: Path, report: Report) -> list[SourceDocument]:
    source = jsonl.parent / "source.json"
    shared = _read_json(source, report) if source.exists() else None
    if not isinstance(shared, dict) or _missing(shared, COLLECTION_REQUIRED, values=True):
        report.issues.append(
            Issue(
                Code.SOURCE_METADATA,
                str(jsonl.parent / "source.json"),
                "",
                "a collection needs source.json with its shared metadata",
                ", ".join(COLLECTION_REQUIRED),
                "missing or incomplete",
            )
        )
        return []
    out = []
    for item in read_lines(jsonl):
        if isinstance(item, Issue):
            report.issues.append(item)
            continue
        where, raw = item
        line = _decode(raw, where, report)
        doc = _story(line, where, shared, report) if line is not None else None
        if doc is not None:
            out.append(doc)
    return out


def _story(line: str, where: str, shared: dict[str, Any], report: Report) -> SourceDocument | None:
    story = _loads(line, where, report, "one JSON object a line")
    if story is None:
        return None
    if not isinstance(story, dict):
        report.issues.append(
            Issue(
                Code.FILE_JSON,
                where,
                "",
                "a line must hold a JSON object",
                "object",
                type(story).__name__,
            )
        )
        return None
    story = {k: str(v) if k == "id" and isinstance(v, int) else v for k, v in story.items()}
    missing = _missing(story, STORY_REQUIRED, values=True)
    published = _published_date(story["published"]) if "published" not in missing else None
    if published is None and "published" not in missing:
        missing.append("published (not an ISO date)")
    if missing:
        report.issues.append(
            Issue(
                Code.SOURCE_METADATA,
                where,
                "",
                "required metadata is missing or invalid",
                ", ".join(STORY_REQUIRED),
                "missing: " + ", ".join(missing),
            )
        )
        return None
    return SourceDocument(
        id=shared["id_prefix"] + story["id"].lower(),
        title=story["title"],
        url=story["url"],
        publisher=shared["publisher"],
        author=story.get("author") or None,
        section=story.get("section") or None,
        published=published,
        language=shared["language"],
        retrieved=shared["retrieved"],
        license=shared["license"],
        credit=shared["credit"],
        notes=None,
        text=story["text"],
        origin=where,
        license_id=shared.get("license_id"),
        source=shared.get("source"),
    )


def _not_a_folder(path: Path) -> Issue:
    try:
        mode = path.stat().st_mode
    except OSError:
        return Issue(
            Code.PATH_MISSING,
            str(path),
            "",
            "no such folder",
            "a folder of source documents",
            "nothing",
        )
    what = "a file" if stat.S_ISREG(mode) else "a FIFO, socket or device"
    return Issue(
        Code.PATH_SPECIAL if what != "a file" else Code.PATH_MISSING,
        str(path),
        "",
        "not a folder (it was not opened)",
        "a folder of source documents",
        what,
    )


def scan_sources(folder: Path) -> tuple[list[SourceDocument], Report]:
    """Every source document under `folder`, and a report of every problem met."""
    report = Report()
    if not folder.is_dir():
        report.issues.append(_not_a_folder(folder))
        return [], report
    docs: list[SourceDocument] = []
    found = list(walk(folder, (".txt", ".jsonl")))
    report.issues += [f for f in found if isinstance(f, Issue)]
    files = [f for f in found if isinstance(f, Path)]
    for txt in (f for f in files if f.suffix == ".txt"):
        report.files_checked += 1
        doc = _article(txt, report)
        docs.extend([doc] if doc else [])
    for jsonl in (f for f in files if f.suffix == ".jsonl"):
        report.files_checked += 1
        docs.extend(_collection(jsonl, report))
    seen: dict[str, str] = {}
    unique = []
    for doc in docs:
        if doc.id in seen:
            report.issues.append(
                Issue(
                    Code.SOURCE_DUPLICATE,
                    doc.origin,
                    "",
                    f"document id {doc.id!r} is already used by {seen[doc.id]}",
                    "a unique id",
                    doc.id,
                )
            )
        else:
            seen[doc.id] = doc.origin
            unique.append(doc)
    report.counts["documents"] = len(unique)
    return unique, report


def load_sources(folder: Path) -> list[SourceDocument]:
    """Every source document under `folder`; raises `SourceError` listing all problems."""
    docs, report = scan_sources(folder)
    if not report.valid:
        lines = "\n".join(
            f"  {i.file}: [{i.code}] {i.message} (expected {i.expected}; found {i.found})"
            for i in report.issues
        )
        raise SourceError(f"{len(report.issues)} problem(s) in {folder}:\n{lines}")
    return docs


def new_annotation(
    source: SourceDocument, annotators: list[str], created: str | None = None
) -> dict[str, Any]:
    """An empty annotation document for `source`, valid against the schema."""
    return {
        "schema_version": spec.schema_version(),
        "document": source.as_document(),
        "actors": [],
        "locations": [],
        "events": [],
        "figures": [],
        "provenance": {
            "annotators": annotators,
            "created": created
            or datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
            "label_studio": None,
        },
    }


def scan_file(path: Path) -> tuple[list[SourceDocument], Report]:
    """The source documents of one file: an article (.txt with its .meta.json sidecar) or
    a collection (.jsonl with the source.json beside it)."""
    report = Report()
    report.files_checked += 1
    if path.suffix == ".jsonl":
        return _collection(path, report), report
    if path.suffix == ".txt":
        doc = _article(path, report)
        return ([doc] if doc else []), report
    report.issues.append(
        Issue(
            Code.PATH_MISSING,
            str(path),
            "",
            "not a source document file",
            "a folder, an article .txt or a collection .jsonl",
            path.suffix or "no suffix",
        )
    )
    return [], report
