"""Per-document rules that JSON Schema cannot express.

Each rule reads one parsed document and yields `Issue`s. The rules are written to
run on any JSON value (a document that also fails the JSON Schema still gets every
rule that can be checked), so they read fields defensively and skip what is not
there: the JSON Schema layer reports the missing parts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

from sitrep.schema import spec
from sitrep.schema.report import Code, Issue, preview

Json = dict[str, Any]
RECORD_KINDS = ("actors", "locations", "events", "figures")
# (record kind, field, kind the reference must point to)
SINGLE_REFS = (
    ("actors", "affiliated_with", "actors"),
    ("locations", "parent", "locations"),
    ("events", "reported_by", "actors"),
    ("figures", "event", "events"),
    ("figures", "part_of", "figures"),
    ("figures", "claimed_by", "actors"),
)
# (record kind, list field, item field, kind the reference must point to)
LIST_REFS = (
    ("events", "participants", "actor", "actors"),
    ("events", "locations", "location", "locations"),
)
CYCLE_FIELDS = (("actors", "affiliated_with"), ("locations", "parent"), ("figures", "part_of"))


class Context:
    """What the rules share about one document: its file name and indexes."""

    def __init__(self, doc: Json, file: str) -> None:
        self.doc = doc
        self.file = file
        self.records = {kind: _records(doc, kind) for kind in RECORD_KINDS}
        self.ids = {
            kind: {r["id"] for _, r in recs if isinstance(r.get("id"), str)}
            for kind, recs in self.records.items()
        }

    def issue(
        self, code: Code, pointer: str, message: str, expected: Any = "", found: Any = ""
    ) -> Issue:
        return Issue(code, self.file, pointer, message, _show(expected), _show(found))


def _show(value: Any) -> str:
    return value if isinstance(value, str) else preview(value)


def _records(doc: Json, kind: str) -> list[tuple[int, Json]]:
    items = doc.get(kind)
    if not isinstance(items, list):
        return []
    return [(i, r) for i, r in enumerate(items) if isinstance(r, dict)]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


# --- the rules ---------------------------------------------------------------------


def check_version(ctx: Context) -> Iterator[Issue]:
    found = ctx.doc.get("schema_version")
    head = found.split(".", 1)[0] if isinstance(found, str) else ""
    if not (head.isascii() and head.isdigit()):
        return
    current = spec.schema_version()
    if spec.major(found) != spec.major(current):
        yield ctx.issue(
            Code.VERSION_MAJOR,
            "/schema_version",
            "the document was written for another major version of the schema; migrate it",
            f"{spec.major(current)}.x.y",
            found,
        )


def _text(ctx: Context) -> str | None:
    document = ctx.doc.get("document")
    text = document.get("text") if isinstance(document, dict) else None
    return text if isinstance(text, str) else None


def check_text_hash(ctx: Context) -> Iterator[Issue]:
    document = ctx.doc.get("document")
    text = _text(ctx)
    if text is None or not isinstance(document, dict):
        return
    claimed = document.get("text_sha256")
    actual = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if isinstance(claimed, str) and claimed != actual:
        yield ctx.issue(
            Code.TEXT_HASH,
            "/document/text_sha256",
            "text_sha256 does not match the text: the text was edited after hashing",
            actual,
            claimed,
        )


def check_spans(ctx: Context) -> Iterator[Issue]:
    text = _text(ctx)
    size = len(text) if text is not None else None
    limit = -1 if size is None else size
    for kind, records in ctx.records.items():
        for i, record in records:
            spans = record.get("spans")
            if not isinstance(spans, list):
                continue
            for j, span in enumerate(spans):
                if not isinstance(span, dict):
                    continue
                # Most spans are good: check those inline, build no pointer, call nothing.
                start, end = span.get("start"), span.get("end")
                if (
                    text is not None
                    and type(start) is int
                    and type(end) is int
                    and 0 <= start < end <= limit
                    and text[start:end] == span.get("text")
                ):
                    continue
                yield from _check_span(ctx, f"/{kind}/{i}/spans/{j}", span, text, size)


def _check_span(
    ctx: Context, ptr: str, span: Json, text: str | None, size: int | None
) -> Iterator[Issue]:
    start, end = span.get("start"), span.get("end")
    if type(start) is not int or type(end) is not int or start < 0:
        return
    if start >= end:
        yield ctx.issue(
            Code.SPAN_ORDER, ptr, "span start must be before its end", f"start < {end}", start
        )
        return
    if size is not None and end > size:
        yield ctx.issue(
            Code.SPAN_BOUNDS, ptr + "/end", "span ends past the end of the text", f"<= {size}", end
        )
        return
    quoted = span.get("text")
    if text is not None and isinstance(quoted, str) and text[start:end] != quoted:
        yield ctx.issue(
            Code.SPAN_TEXT,
            ptr + "/text",
            f"quoted text differs from text[{start}:{end}]",
            text[start:end],
            quoted,
        )


def check_unique_ids(ctx: Context) -> Iterator[Issue]:
    seen: dict[str, tuple[str, int]] = {}
    for kind, records in ctx.records.items():
        for i, record in records:
            rid = record.get("id")
            if not isinstance(rid, str):
                continue
            if rid in seen:
                first = "/{}/{}/id".format(*seen[rid])
                yield ctx.issue(
                    Code.ID_DUPLICATE,
                    f"/{kind}/{i}/id",
                    f"id already used at {first}",
                    "a unique id",
                    rid,
                )
            else:
                seen[rid] = (kind, i)


def check_references(ctx: Context) -> Iterator[Issue]:
    # A pointer is built only for a reference that does not resolve: most do.
    for kind, name, target in SINGLE_REFS:
        ids = ctx.ids[target]
        for i, record in ctx.records[kind]:
            ref = record.get(name)
            if isinstance(ref, str) and ref not in ids:
                yield _unresolved(ctx, f"/{kind}/{i}/{name}", ref, target)
    for kind, name, item, target in LIST_REFS:
        ids = ctx.ids[target]
        for i, record in ctx.records[kind]:
            entries = record.get(name)
            for j, entry in enumerate(entries if isinstance(entries, list) else []):
                ref = entry.get(item) if isinstance(entry, dict) else None
                if isinstance(ref, str) and ref not in ids:
                    yield _unresolved(ctx, f"/{kind}/{i}/{name}/{j}/{item}", ref, target)


def _unresolved(ctx: Context, ptr: str, ref: str, target: str) -> Issue:
    return ctx.issue(
        Code.REF_UNRESOLVED,
        ptr,
        f"reference to an unknown {target[:-1]}",
        f"the id of one of the document's {target}",
        ref,
    )


def check_cycles(ctx: Context) -> Iterator[Issue]:
    for kind, name in CYCLE_FIELDS:
        links = {
            r["id"]: (i, r.get(name))
            for i, r in ctx.records[kind]
            if isinstance(r.get("id"), str) and isinstance(r.get(name), str)
        }
        reported: set[str] = set()
        for start in links:
            path = [start]
            node = links[start][1]
            while node in links and node not in path:
                path.append(node)
                node = links[node][1]
            if node == start and not reported.intersection(path):
                reported.update(path)
                i = links[start][0]
                loop = " -> ".join([*path, start])
                yield ctx.issue(
                    Code.REF_CYCLE,
                    f"/{kind}/{i}/{name}",
                    f"{name} links form a cycle: {loop}",
                    "no cycle",
                    loop,
                )


def _bound(values: tuple[float | None, ...]) -> float | None:
    return next((v for v in values if v is not None), None)


# Read once per process: the table comes from the (cached) schema.
_vague_intervals = cache(spec.vague_intervals)


def check_figures(ctx: Context) -> Iterator[Issue]:
    vague = _vague_intervals()
    by_id = {r["id"]: r for _, r in ctx.records["figures"] if isinstance(r.get("id"), str)}
    for i, fig in ctx.records["figures"]:
        ptr = f"/figures/{i}"
        low, best, high = (_number(fig.get(k)) for k in ("low", "best", "high"))
        yield from _check_order(ctx, ptr, low, best, high)
        if all(
            fig.get(k) is None or _number(fig.get(k)) is not None for k in ("low", "best", "high")
        ):
            yield from _check_qualifier(ctx, ptr, fig.get("qualifier"), low, best, high)
        yield from _check_vague(ctx, ptr, fig, low, high, vague)
        whole = by_id.get(fig.get("part_of")) if isinstance(fig.get("part_of"), str) else None
        if whole is not None and whole is not fig:
            yield from _check_part_of(ctx, ptr, fig, whole)


def _check_order(
    ctx: Context, ptr: str, low: float | None, best: float | None, high: float | None
) -> Iterator[Issue]:
    for (a_name, a), (b_name, b) in (
        (("low", low), ("best", best)),
        (("best", best), ("high", high)),
        (("low", low), ("high", high)),
    ):
        if a is not None and b is not None and a > b:
            yield ctx.issue(
                Code.FIGURE_INTERVAL,
                f"{ptr}/{b_name}",
                f"{a_name} must not exceed {b_name}",
                f">= {a}",
                b,
            )
            return


# qualifier -> (fields that must be set, fields that must be null)
QUALIFIER_SHAPES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "exact": (("low", "best", "high"), ()),
    "approximately": (("best",), ("low", "high")),
    "at_least": (("low",), ("best", "high")),
    "more_than": (("low",), ("best", "high")),
    "up_to": (("high",), ("low", "best")),
    "at_most": (("high",), ("low", "best")),
    "less_than": (("high",), ("low", "best")),
    "range": (("low", "high"), ()),
    "vague": (("low", "high"), ("best",)),
}


def _check_qualifier(
    ctx: Context,
    ptr: str,
    qualifier: Any,
    low: float | None,
    best: float | None,
    high: float | None,
) -> Iterator[Issue]:
    shape = QUALIFIER_SHAPES.get(qualifier) if isinstance(qualifier, str) else None
    if shape is None:
        return
    values = {"low": low, "best": best, "high": high}
    required, empty = shape
    for name in required:
        if values[name] is None:
            yield ctx.issue(
                Code.FIGURE_QUALIFIER,
                f"{ptr}/{name}",
                f"a figure qualified '{qualifier}' needs {name}",
                "a number",
                None,
            )
    for name in empty:
        if values[name] is not None:
            yield ctx.issue(
                Code.FIGURE_QUALIFIER,
                f"{ptr}/{name}",
                f"a figure qualified '{qualifier}' leaves {name} null (see the codebook)",
                None,
                values[name],
            )
    if qualifier == "exact" and None not in (low, best, high) and not low == best == high:
        yield ctx.issue(
            Code.FIGURE_QUALIFIER,
            ptr,
            "an exact figure has low = best = high",
            "equal values",
            [low, best, high],
        )
    if qualifier == "range" and low is not None and high is not None and low == high:
        yield ctx.issue(
            Code.FIGURE_QUALIFIER, f"{ptr}/high", "a range has low < high", f"> {low}", high
        )


def _check_vague(
    ctx: Context,
    ptr: str,
    fig: Json,
    low: float | None,
    high: float | None,
    table: dict[str, tuple[float, float]],
) -> Iterator[Issue]:
    term, qualifier = fig.get("vague_term"), fig.get("qualifier")
    if term is not None and qualifier != "vague":
        yield ctx.issue(
            Code.FIGURE_VAGUE,
            f"{ptr}/vague_term",
            "vague_term is only set when the qualifier is 'vague'",
            None,
            term,
        )
    known = qualifier == "vague" and isinstance(term, str) and term in table
    if known and low is not None and high is not None and (low, high) != table[term]:
        yield ctx.issue(
            Code.FIGURE_VAGUE,
            ptr,
            f"'{term}' maps to the codebook interval",
            list(table[term]),
            [low, high],
        )


def _check_part_of(ctx: Context, ptr: str, part: Json, whole: Json) -> Iterator[Issue]:
    if part.get("unit") != whole.get("unit"):
        yield ctx.issue(
            Code.FIGURE_PART_UNIT,
            f"{ptr}/unit",
            f"a part has the unit of its whole ({whole.get('id')})",
            whole.get("unit"),
            part.get("unit"),
        )
        return
    p = tuple(_number(part.get(k)) for k in ("low", "best", "high"))
    w = tuple(_number(whole.get(k)) for k in ("low", "best", "high"))
    part_low, whole_high = _bound(p[:2]), _bound(w[:0:-1])  # (low, best), (high, best)
    if part_low is not None and whole_high is not None and part_low > whole_high:
        yield ctx.issue(
            Code.FIGURE_PART_INTERVAL,
            ptr,
            f"the part is larger than its whole ({whole.get('id')})",
            f"<= {whole_high}",
            part_low,
        )
    elif p[1] is not None and w[1] is not None and p[1] > w[1]:
        yield ctx.issue(
            Code.FIGURE_PART_INTERVAL,
            f"{ptr}/best",
            f"the part's best value exceeds its whole's ({whole.get('id')})",
            f"<= {w[1]}",
            p[1],
        )


def check_events(ctx: Context) -> Iterator[Issue]:
    for i, event in ctx.records["events"]:
        ptr = f"/events/{i}"
        date = event.get("date")
        if isinstance(date, dict):
            yield from _check_date(ctx, f"{ptr}/date", date)
        seen = set()
        participants = event.get("participants")
        for j, p in enumerate(participants if isinstance(participants, list) else []):
            key = (p.get("actor"), p.get("role")) if isinstance(p, dict) else None
            if key is None or not all(isinstance(v, str) for v in key):
                continue
            if key in seen:
                yield ctx.issue(
                    Code.PARTICIPANT_DUPLICATE,
                    f"{ptr}/participants/{j}",
                    "the same actor appears twice in the same role",
                    "each (actor, role) once",
                    list(key),
                )
            seen.add(key)


def _check_date(ctx: Context, ptr: str, date: Json) -> Iterator[Issue]:
    start, end, precision = date.get("start"), date.get("end"), date.get("precision")
    known = [v for v in (start, end) if isinstance(v, str)]
    if len(known) == 1:
        yield ctx.issue(
            Code.DATE_PRECISION,
            ptr,
            "a date interval has both ends or neither",
            "start and end both set or both null",
            {"start": start, "end": end},
        )
    elif not known and precision not in (None, "unknown"):
        yield ctx.issue(
            Code.DATE_PRECISION,
            f"{ptr}/precision",
            "a date without start and end has precision 'unknown'",
            "unknown",
            precision,
        )
    elif len(known) == 2 and precision == "unknown":
        yield ctx.issue(
            Code.DATE_PRECISION,
            f"{ptr}/precision",
            "a resolved date says how precise it is",
            "day, week, month or year",
            precision,
        )
    if len(known) == 2 and start > end:  # ISO dates compare as strings
        yield ctx.issue(
            Code.DATE_ORDER,
            f"{ptr}/end",
            "the date interval ends before it starts",
            f">= {start}",
            end,
        )


RULES: tuple[Callable[[Context], Iterator[Issue]], ...] = (
    check_version,
    check_text_hash,
    check_spans,
    check_unique_ids,
    check_references,
    check_cycles,
    check_figures,
    check_events,
)


def check_rules(doc: Any, file: str) -> list[Issue]:
    """Every rule-level issue of one parsed document."""
    if not isinstance(doc, dict):
        return []
    ctx = Context(doc, file)
    return [issue for rule in RULES for issue in rule(ctx)]
