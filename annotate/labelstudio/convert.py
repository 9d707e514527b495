"""Schema documents <-> Label Studio tasks and annotation results, losslessly.

Both directions read the same `Layout` (labelconfig.py). Going out, every span becomes a
`labels` region, every attribute a per-region result on the record's first region (the
required ones on every mention, as the interface asks them of each), every further
mention a `same_as` relation to the first, every reference a relation. Coming back, results are joined on (annotation, region id),
relations on from_id/to_id, offsets converted from the browser's UTF-16 code units to
code points, and every problem is reported with the task, annotation and region it is in.

Line ends: browsers show `\\r\\n` as one line break, so the text Label Studio gets has
`\\r\\n` replaced by `\\n`; the task keeps where each `\\r` was, and offsets are mapped
through that, so spans come back on the original text.
"""

from __future__ import annotations

import copy
import math
import re
from bisect import bisect_left
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from typing import Any

from sitrep.annotate.labelstudio.labelconfig import (
    LABELS,
    NO_ENTITY,
    NOTES,
    SAME_AS,
    TEXT,
    Attribute,
    Kind,
    Layout,
    layout,
)
from sitrep.annotate.labelstudio.offsets import OffsetMap
from sitrep.schema.documents import text_sha256
from sitrep.schema.validation import validate_document
from sitrep.validate.registry import Found, entity_issues

Json = dict[str, Any]
DOC_KEY = "document"  # task data key holding the document metadata (without the text)
CR_KEY = "crlf"  # task data key: shown-text positions of line breaks that were \r\n
LONE_CR_KEY = "cr"  # task data key: shown-text positions of line breaks that were a lone \r
DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ]00:00(?::00(?:\.0+)?)?(?:Z|[+-]00:?00)?)?$")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one task or annotation, located as precisely as possible."""

    rule: str
    message: str
    task: int | None = None
    annotation: int | None = None
    region: str | None = None
    document: str | None = None
    expected: str = ""
    found: str = ""
    annotator: str | None = None
    quote: str | None = None  # the text of the region(s), as the annotator sees it
    link: str | None = None  # where to open the task in Label Studio

    def where(self) -> str:
        parts = []
        if self.task is not None:
            parts.append(f"task {self.task}")
        if self.document:
            parts.append(f"(document {self.document})")
        if self.annotation is not None:
            parts.append(f"annotation {self.annotation}")
        if self.annotator:
            parts.append(f"by {self.annotator}")
        if self.region:
            parts.append(f"region {self.region}")
        if self.quote:
            parts.append(self.quote)
        return " ".join(parts) or "push"

    def __str__(self) -> str:
        tail = ""
        if self.expected or self.found:
            tail = f" (expected {self.expected or '-'}; found {self.found or '-'})"
        link = f" <{self.link}>" if self.link else ""
        return f"{self.where()}: [{self.rule}] {self.message}{tail}{link}"

    def to_dict(self) -> Json:
        return asdict(self)

    @classmethod
    def from_issue(cls, issue: Any) -> Problem:
        """A validator `Issue` of a file, as a problem that names the file and pointer."""
        where = f"{issue.file} {issue.pointer}" if issue.pointer else issue.file
        return cls(
            str(issue.code), f"{where}: {issue.message}", expected=issue.expected, found=issue.found
        )


# --- text and offsets ------------------------------------------------------------------


@dataclass(frozen=True)
class TaskText:
    """A document text as sitrep holds it (`original`) and as Label Studio shows it.

    Browsers read `\r\n` and a lone `\r` as one `\n`; the shown text does the same, and
    remembers where, so the original comes back exactly."""

    original: str
    cr: tuple[int, ...] = ()  # shown-text positions of the \n of every \r\n
    lone: tuple[int, ...] = ()  # shown-text positions of the \n that was a lone \r

    @classmethod
    def of(cls, original: str) -> TaskText:
        if "\r" not in original:
            return cls(original)
        cr: list[int] = []
        lone: list[int] = []
        shown_at = 0
        i = 0
        while i < len(original):
            if original[i] == "\r":
                if original[i + 1 : i + 2] == "\n":
                    cr.append(shown_at)
                    i += 1
                else:
                    lone.append(shown_at)
            i += 1
            shown_at += 1
        return cls(original, tuple(cr), tuple(lone))

    @classmethod
    def from_task(cls, shown: str, cr: list[int] | None, lone: list[int] | None = None) -> TaskText:
        if not cr and not lone:
            return cls(shown)
        chars = list(shown)
        for pos in lone or ():
            chars[pos] = "\r"
        for pos in sorted(cr or (), reverse=True):
            chars.insert(pos, "\r")
        return cls("".join(chars), tuple(cr or ()), tuple(lone or ()))

    @cached_property
    def shown(self) -> str:
        if not self.cr and not self.lone:
            return self.original
        return self.original.replace("\r\n", "\n").replace("\r", "\n")

    @cached_property
    def _removed(self) -> tuple[int, ...]:  # original positions of the removed \r
        return tuple(pos + n for n, pos in enumerate(self.cr))

    @cached_property
    def utf16(self) -> OffsetMap:
        return OffsetMap(self.shown)

    def to_shown(self, index: int) -> int:
        return index - bisect_left(self._removed, index)

    def to_original(self, index: int) -> int:
        return index + bisect_left(self.cr, index)

    def to_ls(self, start: int, end: int) -> tuple[int, int, str]:
        """Code-point span of the original -> (UTF-16 start, end, shown text)."""
        s, e = self.to_shown(start), self.to_shown(end)
        return self.utf16.to_utf16(s), self.utf16.to_utf16(e), self.shown[s:e]

    def from_ls(self, start: int, end: int) -> tuple[int, int, str]:
        """UTF-16 span of the shown text -> (code-point start, end, shown text)."""
        s, e = self.utf16.from_utf16(start), self.utf16.from_utf16(end)
        return self.to_original(s), self.to_original(e), self.shown[s:e]


def task_data(document: Json, lay: Layout | None = None) -> Json:
    """The task data Label Studio gets for one `document` object. Every registry control
    gets an empty list of candidates (push fills them in): Label Studio refuses to import
    a task without a key its config reads."""
    lay = lay or layout()
    text = TaskText.of(document["text"])
    meta = {k: v for k, v in document.items() if k != "text"}
    data: Json = {TEXT: text.shown, DOC_KEY: meta}
    for kind in lay.kinds:
        data.update({a.options: [] for a in kind.attributes if a.options})
    if text.cr:
        data[CR_KEY] = list(text.cr)
    if text.lone:
        data[LONE_CR_KEY] = list(text.lone)
    return data


def document_of(data: Json) -> tuple[Json, TaskText]:
    """The `document` object (text restored) and its TaskText, from task data."""
    meta = data.get(DOC_KEY)
    shown = data.get(TEXT)
    if not isinstance(meta, dict) or not isinstance(shown, str):
        raise ValueError(f"task data has no {DOC_KEY!r} object or no {TEXT!r} string")
    text = TaskText.from_task(shown, data.get(CR_KEY), data.get(LONE_CR_KEY))
    document = {k: v for k, v in meta.items() if k != "text_sha256"}
    document["text"] = text.original
    document["text_sha256"] = meta.get("text_sha256")
    if text_sha256(text.original) != meta.get("text_sha256"):
        raise ValueError(
            f"the task text does not match its text_sha256 ({meta.get('text_sha256')}): "
            "it was changed in Label Studio"
        )
    return document, text


# --- schema document -> results -------------------------------------------------------


def canonical(doc: Json, lay: Layout | None = None) -> Json:
    """`doc` with every optional record property the schema lets be null written out as
    null. Absent and null mean the same (unknown); Label Studio cannot tell them apart, so
    a pull always writes this form, and the round trip holds for it."""
    lay = lay or layout()
    out = copy.deepcopy(doc)
    for kind in lay.kinds:
        for record in out.get(kind.kind, []):
            for attr in kind.attributes:
                top = attr.path[0]
                if len(attr.path) == 1:
                    record.setdefault(top, [] if attr.many else None)
                elif top not in record:
                    record[top] = None
                elif isinstance(record[top], dict):
                    record[top].setdefault(attr.path[1], [] if attr.many else None)
            for ref in kind.references:
                record.setdefault(ref.field, None)
            for roles in kind.role_lists:
                record.setdefault(roles.field, [])
    return out


def region_id(record_id: str, index: int) -> str:
    return f"{record_id}_{index}"


def _lookup(record: Json, path: tuple[str, ...]) -> Any:
    value: Any = record
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _attribute_value(attr: Attribute, value: Any) -> tuple[str, Json]:
    if attr.tag == "Choices":
        return "choices", {"choices": [str(value)]}
    if attr.tag == "Number":
        return "number", {"number": value}
    if attr.tag == "DateTime":
        return "datetime", {"datetime": value}
    return "textarea", {"text": list(value) if attr.many else [value]}


def to_results(doc: Json, lay: Layout | None = None, text: TaskText | None = None) -> list[Json]:
    """The annotation result list of one schema document, as an annotator's would be."""
    lay = lay or layout()
    text = text or TaskText.of(doc["document"]["text"])
    out: list[Json] = []
    ties: list[Json] = []
    first: dict[tuple[str, str], str] = {}
    for kind in lay.kinds:
        for record in doc.get(kind.kind, []):
            for index, span in enumerate(record["spans"]):
                rid = region_id(record["id"], index)
                start, end, shown = text.to_ls(span["start"], span["end"])
                where = {"start": start, "end": end}
                base = {"id": rid, "to_name": TEXT, "origin": "manual"}
                out.append(
                    {
                        **base,
                        "from_name": LABELS,
                        "type": "labels",
                        "value": {**where, "text": shown, "labels": [kind.label]},
                    }
                )
                if index:  # a further mention: tied to the first by a same_as relation
                    ties.append(_relation(rid, first[kind.kind, record["id"]], SAME_AS))
                else:
                    out.append(
                        {
                            **base,
                            "from_name": kind.id_control,
                            "type": "textarea",
                            "value": {**where, "text": [record["id"]]},
                        }
                    )
                    first[kind.kind, record["id"]] = rid
                for attr in kind.attributes:
                    value = _lookup(record, attr.path)
                    if value is None or (attr.many and not value):
                        continue
                    if index and not attr.required:
                        continue  # the interface asks every mention for required fields
                    kind_name, payload = _attribute_value(attr, value)
                    out.append(
                        {
                            **base,
                            "from_name": attr.control,
                            "type": kind_name,
                            "value": {**where, **payload},
                        }
                    )
    for kind in lay.kinds:
        for record in doc.get(kind.kind, []):
            source = first[kind.kind, record["id"]]
            for ref in kind.references:
                target = record.get(ref.field)
                if target is not None:
                    out.append(_relation(source, first[ref.target, target], ref.label))
            for roles in kind.role_lists:
                for item in record.get(roles.field, []):
                    target = first[roles.target, item[roles.ref_key]]
                    out.append(_relation(source, target, item[roles.role_key]))
    out.extend(ties)
    notes = (doc.get("provenance") or {}).get("notes")
    if notes is not None:
        out.append(
            {
                "id": NOTES,
                "from_name": NOTES,
                "to_name": TEXT,
                "type": "textarea",
                "origin": "manual",
                "value": {"text": [notes]},
            }
        )
    return out


def _relation(source: str, target: str, label: str) -> Json:
    return {
        "type": "relation",
        "from_id": source,
        "to_id": target,
        "direction": "right",
        "labels": [label],
    }


# --- results -> schema document -------------------------------------------------------


@dataclass
class _Region:
    id: str
    kind: Kind
    start: int
    end: int
    quote: str
    origin: str
    attributes: dict[str, tuple[Any, str]] = field(default_factory=dict)  # control -> value, origin


@dataclass
class Origin:
    """Who made an annotation, for the document's provenance."""

    project_id: int | None = None
    task_id: int | None = None
    annotation_id: int | None = None
    annotator: str | None = None
    created: str | None = None
    updated: str | None = None
    ground_truth: bool = False
    config_sha256: str | None = None
    model: str | None = None
    model_version: str | None = None
    score: float | None = None
    server_url: str | None = None  # Label Studio's address, for links to the task

    @property
    def link(self) -> str | None:
        if self.server_url is None or self.project_id is None or self.task_id is None:
            return None
        return f"{self.server_url.rstrip('/')}/projects/{self.project_id}/data?task={self.task_id}"


class _Collector:
    def __init__(self, origin: Origin, document_id: str | None) -> None:
        self.origin = origin
        self.document_id = document_id
        self.problems: list[Problem] = []
        self.quotes: dict[str, str] = {}  # region id -> its text

    def quote(self, region: str | None) -> str | None:
        """The text of a region ("CENTCOM"), or of both ends of a relation."""
        if region is None:
            return None
        ends = region.split("->") if "->" in region else [region]
        texts = [self.quotes.get(end) for end in ends]
        if not any(texts):
            return None
        return " -> ".join(f'"{_short(t)}"' if t else "?" for t in texts)

    def add(
        self,
        rule: str,
        message: str,
        region: str | None = None,
        expected: Any = "",
        found: Any = "",
    ) -> None:
        self.problems.append(
            Problem(
                rule,
                message,
                self.origin.task_id,
                self.origin.annotation_id,
                region,
                self.document_id,
                _show(expected),
                _show(found),
                self.origin.annotator,
                self.quote(region),
                self.origin.link,
            )
        )


def _a(noun: str) -> str:
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _show(value: Any) -> str:
    if value == "" or value is None:
        return "" if value == "" else "null"
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 200 else text[:200] + "..."


def from_results(
    document: Json,
    text: TaskText,
    results: Any,
    origin: Origin,
    lay: Layout | None = None,
    *,
    validate: bool = True,
    registry: Found | None = None,
) -> tuple[Json | None, list[Problem]]:
    """The schema document of one annotation, or None and every problem found.
    `registry`: when given, every registry link is checked against it as `sitrep validate`
    checks it (`entity.unknown`, `entity.kind`, `entity.type`, `registry.missing`)."""
    lay = lay or layout()
    col = _Collector(origin, document.get("id"))
    if not isinstance(results, list):
        col.add("bad-result", "the annotation result is not a list", found=type(results).__name__)
        return None, col.problems
    regions, attributes, relations, notes = _index(results, lay, text, col)
    col.quotes = {rid: region.quote for rid, region in regions.items()}
    col.problems = [  # found while indexing, before every region's text was known
        p if p.quote else replace(p, quote=col.quote(p.region)) for p in col.problems
    ]
    for (rid, control), (value, result_origin) in attributes.items():
        region = regions.get(rid)
        kind, _ = lay.controls[control]
        if region is None:
            col.add("attribute-without-span", f"{control} refers to no labelled span", rid)
        elif region.kind is not kind:
            col.add(
                "attribute-of-wrong-kind",
                f"{control} belongs to {kind.label} regions, not {region.kind.label}",
                rid,
                kind.label,
                region.kind.label,
            )
        else:
            region.attributes[control] = (value, result_origin)
    ties, relations = _ties(relations, regions, col)
    records = _records(regions, ties, lay, col)
    _relations(relations, regions, records, lay, col)
    if col.problems:
        return None, col.problems
    doc = _document(document, records, lay, origin, notes)
    issues = validate_document(doc, f"task {origin.task_id}") if validate else []
    if registry is not None:
        issues += entity_issues(doc, f"task {origin.task_id}", registry)
    for issue in issues:
        col.add(
            str(issue.code),
            f"{issue.message} at {issue.pointer}",
            _region_at(doc, records, lay, issue.pointer),
            issue.expected,
            issue.found,
        )
    return (None if col.problems else doc), col.problems


def _region_at(doc: Json, records: dict[str, _Record], lay: Layout, pointer: str) -> str | None:
    """The first region of the record a JSON pointer (/figures/3/realis) points into."""
    parts = pointer.split("/")
    if len(parts) < 3 or not parts[2].isdigit() or parts[1] not in {k.kind for k in lay.kinds}:
        return None
    listed = doc.get(parts[1]) or []
    index = int(parts[2])
    record = records.get(listed[index]["id"]) if index < len(listed) else None
    return record.regions[0].id if record and record.regions else None


def _index(
    results: list[Any], lay: Layout, text: TaskText, col: _Collector
) -> tuple[dict[str, _Region], dict[tuple[str, str], tuple[Any, str]], list[Json], str | None]:
    by_label = lay.by_label
    controls = lay.controls
    regions: dict[str, _Region] = {}
    attributes: dict[tuple[str, str], tuple[Any, str]] = {}
    relations: list[Json] = []
    notes: str | None = None
    for item in results:
        if not isinstance(item, dict):
            col.add("bad-result", "a result is not an object", found=item)
            continue
        rid = item.get("id")
        rid = rid if isinstance(rid, str) else None
        if item.get("type") == "relation":
            relations.append(item)
            continue
        name = item.get("from_name")
        value = item.get("value")
        if not isinstance(value, dict):
            col.add("bad-result", f"result {name!r} has no value object", rid)
            continue
        if name == NOTES:
            notes = _single_text(value, col, rid, NOTES)
            continue
        if name != LABELS and name not in controls:
            col.add(
                "unknown-control",
                f"no control named {name!r} in the labeling config",
                rid,
                "a control of the config",
                name,
            )
            continue
        if item.get("to_name") != TEXT:
            col.add(
                "unknown-control",
                f"{name} points at {item.get('to_name')!r}",
                rid,
                TEXT,
                item.get("to_name"),
            )
            continue
        if rid is None:
            col.add("bad-result", f"result {name} has no region id", None)
            continue
        if name == LABELS:
            span = _span(value, text, col, rid)
            labels = value.get("labels")
            if not isinstance(labels, list) or len(labels) != 1:
                col.add(
                    "label-count", "a region must have exactly one label", rid, "1 label", labels
                )
                continue
            if labels[0] not in by_label:
                col.add(
                    "unknown-label",
                    f"label {labels[0]!r} is not in the labeling config",
                    rid,
                    sorted(by_label),
                    labels[0],
                )
                continue
            if rid in regions:
                col.add("duplicate-region", "two labelled spans share this region id", rid)
                continue
            if span is not None:
                regions[rid] = _Region(
                    rid,
                    by_label[labels[0]],
                    span[0],
                    span[1],
                    text.original[span[0] : span[1]],
                    str(item.get("origin") or "manual"),
                )
            continue
        kind, attr = controls[name]
        if (rid, name) in attributes:
            col.add("duplicate-attribute", f"{name} is set twice on this region", rid)
            continue
        parsed = _parse(attr, kind, value, col, rid, name)
        if parsed is not _MISSING:
            attributes[rid, name] = (parsed, str(item.get("origin") or "manual"))
    return regions, attributes, relations, notes


_MISSING = object()


def _span(value: Json, text: TaskText, col: _Collector, rid: str) -> tuple[int, int] | None:
    start, end = value.get("start"), value.get("end")
    if not (isinstance(start, int) and isinstance(end, int)) or isinstance(start, bool):
        col.add(
            "bad-offsets", "start and end must be integers", rid, "integers", f"{start!r}, {end!r}"
        )
        return None
    if not 0 <= start < end <= text.utf16.utf16_length:
        col.add(
            "bad-offsets",
            "the span is outside the text or empty",
            rid,
            f"0 <= start < end <= {text.utf16.utf16_length}",
            f"{start}..{end}",
        )
        return None
    try:
        s, e, shown = text.from_ls(start, end)
    except ValueError as exc:
        col.add("bad-offsets", str(exc), rid)
        return None
    quoted = value.get("text")
    if isinstance(quoted, str) and quoted != shown:
        col.add(
            "quote-mismatch", "the quoted text is not the text at these offsets", rid, shown, quoted
        )
        return None
    return s, e


def _single_text(value: Json, col: _Collector, rid: str | None, name: str) -> str | None:
    texts = value.get("text")
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        col.add("bad-value", f"{name} must hold a list of strings", rid, "[text]", texts)
        return None
    if len(texts) != 1:
        col.add("bad-value", f"{name} takes one value", rid, "1 entry", len(texts))
        return None
    return str(texts[0])


def _parse(
    attr: Attribute | None, kind: Kind, value: Json, col: _Collector, rid: str, name: str
) -> Any:
    if attr is None or attr.tag == "TextArea":
        if attr is not None and attr.many:
            texts = value.get("text")
            if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
                col.add(
                    "bad-value", f"{name} must hold a list of strings", rid, "[text, ...]", texts
                )
                return _MISSING
            return list(texts)
        text = _single_text(value, col, rid, name)
        if text is None:
            return _MISSING
        if attr is None:  # the record id
            text = text.strip()
            if not re.match(kind.id_pattern, text):
                col.add(
                    "bad-record-id", f"{name} is not a {kind.label} id", rid, kind.id_pattern, text
                )
                return _MISSING
        return text
    if attr.options:
        return _entity(value, col, rid, name)
    if attr.tag == "Choices":
        choices = value.get("choices")
        allowed = attr.allowed
        if not isinstance(choices, list) or len(choices) != 1:
            col.add("bad-value", f"{name} takes exactly one choice", rid, "1 choice", choices)
            return _MISSING
        if choices[0] not in allowed:
            col.add(
                "unknown-choice",
                f"{choices[0]!r} is not a choice of {name}",
                rid,
                list(allowed),
                choices[0],
            )
            return _MISSING
        return allowed[choices[0]]
    if attr.tag == "Number":
        number = value.get("number")
        if (
            isinstance(number, bool)
            or not isinstance(number, int | float)
            or not math.isfinite(number)
        ):
            col.add("bad-number", f"{name} is not a number", rid, "a finite number", number)
            return _MISSING
        if isinstance(number, float) and number.is_integer() and attr.integer:
            number = int(number)
        if attr.integer and not isinstance(number, int):
            col.add("bad-number", f"{name} must be a whole number", rid, "an integer", number)
            return _MISSING
        return number
    stamp = value.get("datetime")
    match = DATE.match(stamp) if isinstance(stamp, str) else None
    if match is None:
        col.add("bad-date", f"{name} is not a date", rid, "YYYY-MM-DD", stamp)
        return _MISSING
    return match.group(1)


def _entity(value: Json, col: _Collector, rid: str, name: str) -> Any:
    """A registry choice: an entity id, or None for NO_ENTITY. Annotations made under
    config +ls2, where the id was typed into a TextArea, still read."""
    picked = value.get("choices", value.get("text"))
    if not isinstance(picked, list) or len(picked) != 1 or not isinstance(picked[0], str):
        col.add("bad-value", f"{name} takes exactly one entity", rid, "1 choice", picked)
        return _MISSING
    entity = picked[0].strip()
    return None if entity in (NO_ENTITY, "") else entity


@dataclass
class _Record:
    id: str
    kind: Kind
    regions: list[_Region]
    values: dict[str, Any] = field(default_factory=dict)
    links: dict[str, Any] = field(default_factory=dict)


def _ties(
    relations: list[Json], regions: dict[str, _Region], col: _Collector
) -> tuple[list[tuple[str, str]], list[Json]]:
    """Split the relations into ties (same_as, or unlabelled between two regions of one
    kind: two mentions of one record) and the rest (references and roles)."""
    ties: list[tuple[str, str]] = []
    rest: list[Json] = []
    for rel in relations:
        source, target = rel.get("from_id"), rel.get("to_id")
        labels = rel.get("labels") or []
        ends = (regions.get(str(source)), regions.get(str(target)))
        same_kind = ends[0] is not None and ends[1] is not None and ends[0].kind is ends[1].kind
        if SAME_AS not in labels and (labels or not same_kind):
            rest.append(rel)
            continue
        where = f"{source}->{target}"
        if ends[0] is None or ends[1] is None:
            rest.append(rel)  # reported as dangling
        elif len(labels) > 1:
            col.add(
                "contradictory-tie",
                f"{SAME_AS} makes both one record, so it cannot also be {', '.join(labels)}",
                where,
                SAME_AS,
                labels,
            )
        elif not same_kind:
            col.add(
                "tie-kinds",
                f"{SAME_AS} ties mentions of one record, but these are "
                f"{_a(ends[0].kind.label)} and {_a(ends[1].kind.label)}",
                where,
                "two regions with the same label",
                f"{ends[0].kind.label} -> {ends[1].kind.label}",
            )
        else:
            ties.append((str(source), str(target)))
    return ties, rest


def _groups(regions: dict[str, _Region], ties: list[tuple[str, str]]) -> list[list[_Region]]:
    """Regions that are one record: tied by a relation or carrying the same id."""
    parent = {rid: rid for rid in regions}

    def find(rid: str) -> str:
        while parent[rid] != rid:
            parent[rid] = parent[parent[rid]]
            rid = parent[rid]
        return rid

    by_id: dict[str, str] = {}
    for region in regions.values():
        value = region.attributes.get(region.kind.id_control, (None, ""))[0]
        if value:
            other = by_id.setdefault(value, region.id)
            parent[find(region.id)] = find(other)
    for a, b in ties:
        parent[find(b)] = find(a)
    groups: dict[str, list[_Region]] = {}
    for region in regions.values():
        groups.setdefault(find(region.id), []).append(region)
    return list(groups.values())


def _records(
    regions: dict[str, _Region], ties: list[tuple[str, str]], lay: Layout, col: _Collector
) -> dict[str, _Record]:
    records: dict[str, _Record] = {}
    groups = _groups(regions, ties)
    given = {
        str(r.attributes[r.kind.id_control][0])
        for r in regions.values()
        if r.kind.id_control in r.attributes
    }
    for group in groups:
        kind = group[0].kind
        ids = list(
            dict.fromkeys(
                r.attributes[r.kind.id_control][0]
                for r in group
                if r.kind.id_control in r.attributes
            )
        )
        if len(ids) > 1:
            second = next(
                r for r in group if r.attributes.get(r.kind.id_control, ("",))[0] == ids[1]
            )
            col.add(
                "contradictory-tie",
                f"these mentions are tied into one record but carry the ids {ids[0]} and {ids[1]}: "
                "remove the relation or one of the ids",
                second.id,
                ids[0],
                ids[1],
            )
            continue
        clash = next((r for r in group if r.kind is not kind), None)
        if clash is not None:
            col.add(
                "id-kind-clash",
                f"id {ids[0] if ids else '?'} is used by a {kind.label} and a {clash.kind.label}",
                clash.id,
            )
            continue
        rec_id = str(ids[0]) if ids else _made_id(kind, group[0], records, given)
        record = records[rec_id] = _Record(rec_id, kind, [])
        for region in group:
            record.regions.append(region)
            _merge_values(record, region, col)
    return records


def _merge_values(record: _Record, region: _Region, col: _Collector) -> None:
    for control, (value, _) in region.attributes.items():
        if control == record.kind.id_control:
            continue
        if control in record.values and record.values[control] != value:
            col.add(
                "conflicting-attribute",
                f"{control} differs between mentions of {record.id}",
                region.id,
                record.values[control],
                value,
            )
            continue
        record.values[control] = value


def _made_id(kind: Kind, region: _Region, records: dict[str, _Record], given: set[str]) -> str:
    """An id for a record nobody named: its prefix and the words of its first mention."""
    stem = re.sub(r"[^a-z0-9]+", "-", region.quote.lower()).strip("-")[:48].strip("-")
    stem = stem or re.sub(r"[^a-z0-9]+", "-", region.id.lower()).strip("-")[:48] or "region"
    candidate, n = f"{kind.prefix}-{stem}", 1
    while candidate in records or candidate in given:
        n += 1
        candidate = f"{kind.prefix}-{stem}-{n}"
    return candidate


def _relations(
    relations: list[Json],
    regions: dict[str, _Region],
    records: dict[str, _Record],
    lay: Layout,
    col: _Collector,
) -> None:
    owner = {r.id: rec for rec in records.values() for r in rec.regions}
    for rel in relations:
        source, target = rel.get("from_id"), rel.get("to_id")
        where = f"{source}->{target}"
        if source not in regions or target not in regions:
            missing = source if source not in regions else target
            col.add(
                "dangling-relation",
                f"the relation points at region {missing!r}, which is not a labelled span",
                where,
            )
            continue
        if source not in owner or target not in owner:
            continue  # the region itself was refused; that is reported already
        labels = rel.get("labels")
        direction = rel.get("direction", "right")
        if not isinstance(labels, list) or not labels:
            a, b = owner[source].kind.kind, owner[target].kind.kind
            fitting = list(dict.fromkeys([*lay.roles_between(a, b), *lay.roles_between(b, a)]))
            if len(fitting) != 1:
                col.add(
                    "relation-without-label",
                    f"a relation between {_a(owner[source].kind.label)} and "
                    f"{_a(owner[target].kind.label)} needs its role as a label",
                    where,
                    ", ".join(fitting) or "no role joins these kinds",
                    "no label",
                )
                continue
            labels = fitting
            direction = "bi"  # the kinds decide which end holds the reference
        for label in labels:
            meaning = lay.relations.get(label)
            if meaning is None:
                col.add(
                    "unknown-relation",
                    f"relation label {label!r} is not in the config",
                    where,
                    sorted(lay.relations),
                    label,
                )
                continue
            pairs = {
                "right": [(source, target)],
                "left": [(target, source)],
                "bi": [(source, target), (target, source)],
            }.get(direction)
            if pairs is None:
                col.add(
                    "bad-relation",
                    f"unknown direction {direction!r}",
                    where,
                    "right, left or bi",
                    direction,
                )
                continue
            fits = [
                (a, b)
                for a, b in pairs
                if owner[a].kind.kind == meaning.source and owner[b].kind.kind == meaning.target
            ]
            if len(fits) != 1:
                col.add(
                    "relation-kinds",
                    f"{label} goes from a {meaning.source} record to a {meaning.target} record",
                    where,
                    f"{meaning.source} -> {meaning.target}",
                    f"{owner[source].kind.kind} -> {owner[target].kind.kind} ({direction})",
                )
                continue
            a, b = fits[0]
            rec, other = owner[a], owner[b]
            if meaning.role_list is None:
                if meaning.field in rec.links and rec.links[meaning.field] != other.id:
                    col.add(
                        "conflicting-relation",
                        f"{rec.id} has two {label} relations",
                        where,
                        rec.links[meaning.field],
                        other.id,
                    )
                    continue
                rec.links[meaning.field] = other.id
            else:
                roles = meaning.role_list
                rec.links.setdefault(roles.field, []).append(
                    {roles.ref_key: other.id, roles.role_key: label}
                )


def _document(
    document: Json, records: dict[str, _Record], lay: Layout, origin: Origin, notes: str | None
) -> Json:
    doc: Json = {"schema_version": lay.schema_version, "document": document}
    for kind in lay.kinds:
        doc[kind.kind] = [
            _record(rec, kind, origin) for rec in records.values() if rec.kind is kind
        ]
    label_studio = None
    if origin.task_id is not None and origin.project_id is not None:
        label_studio = {
            "project_id": origin.project_id,
            "task_id": origin.task_id,
            "annotation_ids": [origin.annotation_id] if origin.annotation_id else [],
            "config_sha256": origin.config_sha256,
            "ground_truth": origin.ground_truth,
        }
    doc["provenance"] = {
        "annotators": [origin.annotator or "unknown"],
        "created": origin.created or "1970-01-01T00:00:00Z",
        "updated": origin.updated,
        "label_studio": label_studio,
        "notes": notes,
    }
    return doc


def _record(rec: _Record, kind: Kind, origin: Origin) -> Json:
    out: Json = {}
    by_control = kind.by_control
    values: dict[tuple[str, ...], Any] = {
        by_control[c].path: v for c, v in rec.values.items() if c in by_control
    }
    _fill_defaults(rec, kind, values)
    for prop, how, attrs in kind.plan:
        if how == "value":
            attr = attrs[0]
            out[prop] = values.get(attr.path, [] if attr.many else None)
        elif how == "id":
            out["id"] = rec.id
        elif how == "spans":
            out["spans"] = [{"start": r.start, "end": r.end, "text": r.quote} for r in rec.regions]
        elif how == "reference":
            out[prop] = rec.links.get(prop)
        elif how == "roles":
            out[prop] = rec.links.get(prop, [])
        elif how == "provenance":
            prov = _record_provenance(rec, origin)
            if prov is not None:
                out["provenance"] = prov
        else:
            out[prop] = _build(prop, attrs, values)
    return out


def _fill_defaults(rec: _Record, kind: Kind, values: dict[tuple[str, ...], Any]) -> None:
    """What the annotator may leave empty because the codebook names it: a required name
    is the text of the first mention; a required choice with an `unknown` value (a date's
    precision) is `unknown` while nothing else of its object (start, end) is set."""
    for attr in kind.attributes:
        if attr.path in values:
            continue
        if attr.from_quote and rec.regions:
            values[attr.path] = rec.regions[0].quote
        elif attr.default is not None:
            siblings = [
                a
                for a in kind.attributes
                if a.path[:-1] == attr.path[:-1] and a is not attr and a.tag != "TextArea"
            ]
            if not any(a.path in values for a in siblings):
                values[attr.path] = attr.default


def _build(prop: str, attrs: tuple[Attribute, ...], values: dict[tuple[str, ...], Any]) -> Any:
    """A nested object (`date`, `coordinates`): null when it is nullable and nothing of it
    was set, else every leaf (unset leaves null, for the schema to judge)."""
    group = attrs[0].group if attrs else ()
    if group == (prop,) and not any(a.path in values for a in attrs):
        return None
    return {a.path[1]: values.get(a.path, [] if a.many else None) for a in attrs}


def _record_provenance(rec: _Record, origin: Origin) -> Json | None:
    origins = {r.origin for r in rec.regions}
    origins |= {o for r in rec.regions for _, o in r.attributes.values()}
    if all(r.origin == "manual" for r in rec.regions):
        return None
    method = "proposed_accepted" if origins == {"prediction"} else "proposed_edited"
    return {
        "method": method,
        "annotator": origin.annotator,
        "model": origin.model or "unknown",
        "model_version": origin.model_version or "unknown",
        "score": origin.score,
    }
