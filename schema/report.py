"""Validation reports: every problem found, each with a stable code and a location.

Bad data is collected, never raised: a `Report` holds one `Issue` per problem with
the file, a JSON pointer into it, the rule code, and what was expected and found.
The CLI renders a report as text, JSON or GitHub Actions annotations, and exits with
`report.exit_code`.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Code(StrEnum):
    """Stable rule codes. Never renumber or reuse one: CI scripts match on them."""

    # reading files
    PATH_MISSING = "path.missing"
    PATH_EMPTY = "path.empty"
    PATH_UNREADABLE = "path.unreadable"
    PATH_SPECIAL = "path.special"
    FILE_UNREADABLE = "file.unreadable"
    FILE_ENCODING = "file.encoding"
    FILE_EMPTY = "file.empty"
    FILE_JSON = "file.json"
    FILE_TOO_LARGE = "file.too_large"
    FILE_DUPLICATE_KEY = "file.duplicate_key"
    # source documents (seeds/)
    SOURCE_METADATA = "source.metadata"
    SOURCE_DUPLICATE = "source.duplicate_id"
    # JSON Schema keywords
    SCHEMA_REQUIRED = "schema.required"
    SCHEMA_TYPE = "schema.type"
    SCHEMA_ENUM = "schema.enum"
    SCHEMA_CONST = "schema.const"
    SCHEMA_PATTERN = "schema.pattern"
    SCHEMA_FORMAT = "schema.format"
    SCHEMA_ADDITIONAL = "schema.additional_property"
    SCHEMA_RANGE = "schema.range"
    SCHEMA_LENGTH = "schema.length"
    SCHEMA_UNIQUE = "schema.unique_items"
    SCHEMA_OTHER = "schema.other"
    # rules JSON Schema cannot express
    VERSION_MAJOR = "version.major"
    TEXT_HASH = "text.sha256"
    SPAN_ORDER = "span.order"
    SPAN_BOUNDS = "span.bounds"
    SPAN_TEXT = "span.text"
    ID_DUPLICATE = "id.duplicate"
    REF_UNRESOLVED = "ref.unresolved"
    REF_CYCLE = "ref.cycle"
    FIGURE_INTERVAL = "figure.interval"
    FIGURE_QUALIFIER = "figure.qualifier"
    FIGURE_VAGUE = "figure.vague"
    FIGURE_PART_UNIT = "figure.part_of_unit"
    FIGURE_PART_INTERVAL = "figure.part_of_interval"
    DATE_ORDER = "date.order"
    DATE_PRECISION = "date.precision"
    PARTICIPANT_DUPLICATE = "event.duplicate_participant"
    # across documents (datasets/entities/clusters.json)
    CLUSTER_UNKNOWN = "cluster.unknown"
    CLUSTER_DOCUMENTS = "cluster.documents"
    QUANTITY_UNKNOWN = "quantity.unknown"
    QUANTITY_MEASURE = "quantity.measure"
    QUANTITY_EVENT_CLUSTER = "quantity.event_cluster"
    CLUSTERS_SCHEMA = "clusters.schema"
    CLUSTERS_DUPLICATE = "clusters.duplicate_id"
    CLUSTERS_UNKNOWN_CLUSTER = "clusters.unknown_cluster"
    CLUSTERS_MISSING = "clusters.missing"
    # tables (sitrep.validate)
    TABLE_ORPHAN = "table.orphan"
    TABLE_COLUMNS = "table.columns"
    TABLE_READ = "table.read"
    # the registry of actors and places, and the records' links to it
    REGISTRY_MISSING = "registry.missing"
    REGISTRY_READ = "registry.read"
    REGISTRY_SCHEMA = "registry.schema"
    REGISTRY_DUPLICATE = "registry.duplicate_id"
    REGISTRY_ORDER = "registry.order"
    REGISTRY_FORMAT = "registry.format"
    REGISTRY_ALIAS = "registry.alias"
    ENTITY_UNKNOWN = "entity.unknown"
    ENTITY_KIND = "entity.kind"
    ENTITY_TYPE = "entity.type"


CODE_HELP: dict[Code, str] = {
    Code.PATH_MISSING: "a path given on the command line does not exist",
    Code.PATH_EMPTY: "a folder holds no *.json file",
    Code.PATH_UNREADABLE: "a folder cannot be listed (permissions): its files were not read",
    Code.PATH_SPECIAL: "a FIFO, socket, device or linked folder where a file was expected "
    "(never opened, never followed)",
    Code.FILE_UNREADABLE: "a file cannot be read",
    Code.FILE_ENCODING: "a file is not UTF-8, or starts with a byte-order mark",
    Code.FILE_EMPTY: "a file is empty",
    Code.FILE_JSON: "a file is not valid JSON (or nests deeper than the parser allows)",
    Code.FILE_TOO_LARGE: "a document is larger than the schema's maximum document size "
    "(refused before it is parsed)",
    Code.FILE_DUPLICATE_KEY: "an object names the same property twice",
    Code.SOURCE_METADATA: "a source document lacks required metadata",
    Code.SOURCE_DUPLICATE: "two source documents share an id",
    Code.SCHEMA_REQUIRED: "a required property is missing",
    Code.SCHEMA_TYPE: "a value has the wrong JSON type",
    Code.SCHEMA_ENUM: "a value is not in the schema's vocabulary",
    Code.SCHEMA_CONST: "a value differs from the one the schema fixes",
    Code.SCHEMA_PATTERN: "a string does not match its pattern (ids, references, codes)",
    Code.SCHEMA_FORMAT: "a date, date-time or URI is malformed",
    Code.SCHEMA_ADDITIONAL: "a property the schema does not define",
    Code.SCHEMA_RANGE: "a number is out of its range",
    Code.SCHEMA_LENGTH: "a string or list is too short or too long",
    Code.SCHEMA_UNIQUE: "a list repeats an item",
    Code.SCHEMA_OTHER: "any other JSON Schema keyword",
    Code.VERSION_MAJOR: "the document's schema_version has another major version",
    Code.TEXT_HASH: "text_sha256 is not the sha256 of the text",
    Code.SPAN_ORDER: "a span's start is not before its end",
    Code.SPAN_BOUNDS: "a span ends past the end of the text",
    Code.SPAN_TEXT: "a span's quoted text differs from the text slice",
    Code.ID_DUPLICATE: "two records of a document share an id",
    Code.REF_UNRESOLVED: "a reference names no record of the right kind",
    Code.REF_CYCLE: "affiliated_with, parent or part_of links form a cycle",
    Code.FIGURE_INTERVAL: "a figure breaks low <= best <= high",
    Code.FIGURE_QUALIFIER: "a figure's low/best/high do not have its qualifier's shape",
    Code.FIGURE_VAGUE: "a vague figure's interval differs from the codebook's",
    Code.FIGURE_PART_UNIT: "a part_of figure has another unit than its whole",
    Code.FIGURE_PART_INTERVAL: "a part_of figure is larger than its whole",
    Code.DATE_ORDER: "a date interval ends before it starts",
    Code.DATE_PRECISION: "a date interval's ends and precision disagree",
    Code.PARTICIPANT_DUPLICATE: "an event lists the same actor in the same role twice",
    Code.CLUSTER_UNKNOWN: "an event's cluster is not an event cluster of the clusters file",
    Code.CLUSTER_DOCUMENTS: "an event cluster's documents are not exactly the documents "
    "whose events carry it (a listed document missing from the dataset only when the whole "
    "dataset is checked)",
    Code.QUANTITY_UNKNOWN: "a figure's quantity is not a quantity of the clusters file",
    Code.QUANTITY_MEASURE: "a figure's counted or unit differs from its quantity's",
    Code.QUANTITY_EVENT_CLUSTER: "a figure's event belongs to another event cluster than "
    "its quantity's (when both are set)",
    Code.CLUSTERS_SCHEMA: "the clusters file breaks schema/clusters.schema.json",
    Code.CLUSTERS_DUPLICATE: "the clusters file defines an event cluster or quantity id twice",
    Code.CLUSTERS_UNKNOWN_CLUSTER: "a quantity of the clusters file is about an event "
    "cluster the file does not define",
    Code.CLUSTERS_MISSING: "a document names event clusters or quantities but no clusters "
    "file was found",
    Code.TABLE_ORPHAN: "a span or link row belongs to no record",
    Code.TABLE_COLUMNS: "a table lacks a column the schema defines, or has one it does not",
    Code.TABLE_READ: "a document the JSON Schema accepts cannot be read into the tables",
    Code.REGISTRY_MISSING: "a document's records link to registry entities but no registry "
    "was found (datasets/entities/registry.json of the dataset, or --registry PATH)",
    Code.REGISTRY_READ: "the registry file cannot be read or is not JSON",
    Code.REGISTRY_SCHEMA: "the registry breaks schema/registry.schema.json",
    Code.REGISTRY_DUPLICATE: "two registry entities share an id",
    Code.REGISTRY_ORDER: "registry entities are not sorted by id",
    Code.REGISTRY_FORMAT: "the registry is not written as tools/build_registry.py writes it "
    "(2-space indentation, trailing newline)",
    Code.REGISTRY_ALIAS: "a registry name or alias is the name of another entity of the same "
    "kind and country (shared descriptive aliases are allowed)",
    Code.ENTITY_UNKNOWN: "a record's entity is not in the registry",
    Code.ENTITY_KIND: "an actor points at a location entity, or a location at an actor entity",
    Code.ENTITY_TYPE: "a record's type differs from its entity's type (type `other` matches "
    "any entity of its kind)",
}

# --- bounded, printable values -------------------------------------------------------

SHOWN = 200  # characters of a quoted value
LIMITS = {"file": 1000, "pointer": 400, "message": 600, "expected": 400, "found": 400}
_DEPTH = 8  # nesting shown before "..."


def cut(text: str, limit: int = SHOWN) -> str:
    """`text`, or its first `limit` characters and how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text):,} characters)"


def _pieces(value: Any, depth: int = 0) -> Iterator[str]:
    """JSON text of `value`, lazily: a caller that stops early never pays for the rest."""
    if isinstance(value, str):
        yield json.dumps(value[: SHOWN + 1], ensure_ascii=False)
    elif isinstance(value, bool) or value is None or isinstance(value, float):
        yield json.dumps(value)
    elif isinstance(value, int):
        yield str(value) if value.bit_length() < 256 else f"<{value.bit_length()}-bit integer>"
    elif isinstance(value, dict | list) and depth >= _DEPTH:
        yield "{...}" if isinstance(value, dict) else "[...]"
    elif isinstance(value, dict):
        yield "{"
        for i, (key, item) in enumerate(value.items()):
            yield (", " if i else "") + json.dumps(str(key)[:SHOWN], ensure_ascii=False) + ": "
            yield from _pieces(item, depth + 1)
        yield "}"
    elif isinstance(value, list):
        yield "["
        for i, item in enumerate(value):
            yield ", " if i else ""
            yield from _pieces(item, depth + 1)
        yield "]"
    else:
        yield json.dumps(str(value)[: SHOWN + 1], ensure_ascii=False)


def _size(value: Any) -> str:
    if isinstance(value, str):
        return f"{len(value):,} characters"
    if isinstance(value, list):
        return f"an array of {len(value):,} items"
    if isinstance(value, dict):
        return f"an object of {len(value):,} properties"
    return "cut"


def preview(value: Any, limit: int = SHOWN) -> str:
    """`value` as JSON, at most `limit` characters and then its size; a 500 MB array
    costs no more to show than a short one."""
    shown, size = [], 0
    for piece in _pieces(value):
        shown.append(piece)
        size += len(piece)
        if size > limit:
            return f"{''.join(shown)[:limit]}... ({_size(value)})"
    return "".join(shown)


_SURROGATE = re.compile("[\ud800-\udfff]")
# Characters that move the cursor, recolour or reorder a terminal line: C0 and C1
# controls, DEL, line and paragraph separators, and the bidirectional overrides.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _byte(match: re.Match[str]) -> str:
    code = ord(match.group())
    # Undecodable bytes of a file name come back as U+DC80..U+DCFF (surrogateescape).
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def utf8(text: str) -> str:
    """`text` without lone surrogates (the undecodable bytes of a file name become
    `\\xNN`), so it always encodes as UTF-8."""
    return _SURROGATE.sub(_byte, text) if _SURROGATE.search(text) else text


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def printable(text: str, *, newlines: bool = False) -> str:
    """`text` for one line of a terminal: valid UTF-8, control characters escaped (line
    breaks kept when `newlines`, for formats that escape them their own way)."""
    text = utf8(text)
    if newlines:
        return _CONTROL.sub(lambda m: m.group() if m.group() in "\r\n" else _escape(m), text)
    return _CONTROL.sub(_escape, text)


@dataclass(frozen=True)
class Issue:
    """One problem: where it is, which rule it breaks, what was expected and found."""

    code: Code
    file: str
    pointer: str
    message: str
    expected: str = ""
    found: str = ""

    def __post_init__(self) -> None:
        # Bounded whatever the data: a 2 MB value gives a short line that says its size.
        for name, limit in LIMITS.items():
            value = getattr(self, name)
            if len(value) > limit:
                object.__setattr__(self, name, cut(value, limit))

    def to_dict(self) -> dict[str, str]:
        """The issue as JSON-ready text: always valid UTF-8, whatever the file names hold."""
        data = {k: utf8(v) for k, v in asdict(self).items()}
        data["code"] = str(self.code)
        return data


@dataclass
class Report:
    """The outcome of checking some files: every issue, and what was checked."""

    issues: list[Issue] = field(default_factory=list)
    files_checked: int = 0  # the documents' files (and .jsonl lines) checked
    counts: Counter[str] = field(default_factory=Counter)
    # the registry and clusters files the documents were checked against, when they have
    # problems: reported like any file, but not counted among the documents' files
    support_files: set[str] = field(default_factory=set)

    @property
    def valid(self) -> bool:
        return not self.issues

    @property
    def exit_code(self) -> int:
        return 0 if self.valid else 1

    @property
    def files_invalid(self) -> int:
        """The documents' files with a problem (at most `files_checked`)."""
        return len({i.file for i in self.issues} - self.support_files)

    def extend(self, issues: Iterable[Issue]) -> None:
        self.issues.extend(issues)

    def to_dict(self) -> dict[str, object]:
        return {
            "valid": self.valid,
            "files_checked": self.files_checked,
            "files_invalid": self.files_invalid,
            "counts": dict(sorted(self.counts.items())),
            "issues": [i.to_dict() for i in self.issues],
        }


def _natural(text: str) -> tuple[tuple[int, int | str], ...]:
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", text) if p)


def reading_order(issue: Issue) -> tuple[object, ...]:
    """By file, then by place in the document (/figures/2 before /figures/10)."""
    return (_natural(issue.file), _natural(issue.pointer), str(issue.code))


def unique_issues(issues: Iterable[Issue]) -> list[Issue]:
    """Issues in order, each (code, file, pointer) once: a duplicate document id inside
    one chunk is seen by the table checks and by the cross-chunk bookkeeping."""
    seen: set[tuple[str, str, str]] = set()
    out = []
    for issue in issues:
        key = (str(issue.code), issue.file, issue.pointer)
        if key not in seen:
            seen.add(key)
            out.append(issue)
    return out


def _describe(issue: Issue) -> str:
    detail = []
    if issue.expected:
        detail.append(f"expected {issue.expected}")
    if issue.found:
        detail.append(f"found {issue.found}")
    tail = f" ({'; '.join(detail)})" if detail else ""
    return f"{issue.message}{tail}"


def render_text(report: Report) -> str:
    """One line per issue and a summary; nothing in the data can start a line of its own
    or reach the terminal as a control sequence."""
    lines = [
        printable(f"{i.file}:{i.pointer or '/'}: [{i.code}] {_describe(i)}") for i in report.issues
    ]
    if report.valid:
        lines.append(f"OK: {report.files_checked} file(s) valid")
    else:
        support = sorted(report.support_files & {i.file for i in report.issues})
        also = f" and in {', '.join(support)}" if support else ""
        lines.append(
            f"FAILED: {len(report.issues)} problem(s) in {report.files_invalid} of "
            f"{report.files_checked} file(s){also}"
        )
    return "\n".join(lines)


def render_json(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False)


def _gh_escape(value: str, *, prop: bool = False) -> str:
    value = (
        printable(value, newlines=True)
        .replace("%", "%25")
        .replace("\r", "%0D")
        .replace("\n", "%0A")
    )
    if prop:
        value = value.replace(":", "%3A").replace(",", "%2C")
    return value


def render_github(report: Report) -> str:
    """GitHub Actions workflow commands: one `::error` line per issue."""
    lines = [
        f"::error file={_gh_escape(i.file, prop=True)},title={_gh_escape(str(i.code), prop=True)}"
        f"::{_gh_escape((i.pointer or '/') + ': ' + _describe(i))}"
        for i in report.issues
    ]
    if report.valid:
        lines.append(f"::notice title=sitrep validate::{report.files_checked} file(s) valid")
    return "\n".join(lines)


def issue_line(issue: Issue) -> str:
    """One issue as a JSON Lines record (`"kind": "issue"`)."""
    return json.dumps({"kind": "issue", **issue.to_dict()}, ensure_ascii=False)


def summary_line(report: Report) -> str:
    """The report without its issues, as the last JSON Lines record (`"kind": "summary"`)."""
    data = report.to_dict()
    data["issues"] = len(report.issues)
    return json.dumps({"kind": "summary", **data}, ensure_ascii=False)


def render_jsonl(report: Report) -> str:
    """One line per issue, then the summary: what `--format jsonl` streams."""
    return "\n".join([*map(issue_line, report.issues), summary_line(report)])


RENDERERS = {
    "text": render_text,
    "json": render_json,
    "github": render_github,
    "jsonl": render_jsonl,
}
