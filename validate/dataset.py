"""The dataset as a whole, checked in two layers and in chunks.

Layer one, per document: JSON Schema (jsonschema-rs). A document that fails it also gets
the per-document rules (`sitrep.schema.rules`) and the duplicate-key check, so its report
is complete, and stays out of the tables. Layer two, per table: the documents that passed
go into Polars tables a chunk at a time, where Pandera and the vectorised rules
(`sitrep.validate.checks`) check every rule in bulk. Chunks keep memory flat; layer one
runs in worker processes when there is enough work to share.

A chunk the table reader refuses (Arrow refuses a repeated key, which orjson resolves
silently) is read again one document at a time: each document it still refuses gets the
per-document layer's report instead (duplicate keys, rules, or `table.read` naming the
file and line), and the rest of the chunk goes on. A document id used by two files is
reported, and both documents are still checked in full: the table checks group by file.

`load_dataset` is what `sitrep validate` and `sitrep release build` run.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import polars as pl

from sitrep.schema.clusters import ClustersFound, check_links, open_clusters
from sitrep.schema.files import duplicate_key_issues
from sitrep.schema.report import Code, Issue, Report, reading_order, unique_issues
from sitrep.schema.rules import RECORD_KINDS, check_rules
from sitrep.schema.validation import Engine, Source, count_records, engine, iter_sources, parse_raw
from sitrep.validate.checks import copy_key, drop_documents, validate_tables
from sitrep.validate.cluster_rules import check_clusters
from sitrep.validate.entity_rules import check_entities
from sitrep.validate.registry import Found, entity_issues, open_registry
from sitrep.validate.small import duplicate_document
from sitrep.validate.tables import DOC_ID, DOCUMENTS, FILE, SPANS, build_tables, read_ndjson

CHUNK = 2_000  # documents per chunk: a few hundred MB of tables at most
PARALLEL_FROM = 4_000  # below this many documents, worker start-up costs more than it saves

OnTables = Callable[[dict[str, pl.DataFrame]], None]
OnIssues = Callable[[list[Issue]], None]


@dataclass
class Checked:
    """Layer one's verdict on a chunk: the documents that passed, and every issue."""

    names: list[str] = field(default_factory=list)
    raws: list[bytes] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    tables: dict[str, pl.DataFrame] | None = None
    documents: int = 0  # documents read (files, or lines of *.jsonl files)


def check_sources(
    sources: list[Source],
    engine_name: Engine = "rust",
    found: Found | None = None,
    clusters: ClustersFound | None = None,
) -> Checked:
    """JSON Schema for each document; the per-document rules only for those that fail."""
    out = Checked(documents=len(sources))
    checker = engine(engine_name)
    for source in sources:
        doc, issue = parse_raw(source.raw, source.name)
        if issue is not None:
            out.issues.append(issue)
            continue
        if checker.is_valid(doc):
            out.names.append(source.name)
            # raw line breaks in JSON are whitespace (breaks inside strings are escaped):
            # flattening them makes the document one NDJSON line for the Polars reader
            out.raws.append(source.raw.replace(b"\r", b" ").replace(b"\n", b" "))
        else:  # counted here; valid documents are counted from their tables
            count_records(doc, out.counts)
            schema_issues = checker.issues(doc, source.name)
            out.issues += _per_document(source, doc, schema_issues, found, clusters)
    return out


def _per_document(
    source: Source,
    doc: object,
    schema_issues: list[Issue],
    found: Found | None = None,
    clusters: ClustersFound | None = None,
) -> list[Issue]:
    """The per-document layer's report on a document kept out of the tables."""
    return (
        duplicate_key_issues(source.raw, source.name, doc)
        + entity_issues(doc, source.name, found or Found(None, None))
        + schema_issues
        + check_rules(doc, source.name)
        + check_links(doc, source.name, clusters)
    )


# What the table reader raises on a document it cannot take (Arrow: ArrowInvalid, a
# ValueError; Polars: ComputeError and friends). Anything else is a bug and propagates.
READ_ERRORS: tuple[type[BaseException], ...] = (ValueError, pl.exceptions.PolarsError)


def _tables(names: list[str], raws: list[bytes]) -> dict[str, pl.DataFrame]:
    return build_tables(read_ndjson(b"\n".join(raws), names))


def _unreadable(
    name: str,
    raw: bytes,
    exc: BaseException,
    counts: Counter[str],
    found: Found | None = None,
    clusters: ClustersFound | None = None,
) -> list[Issue]:
    """The report on one schema-valid document the tables refuse (counted here, as
    the documents layer one keeps out of the tables are)."""
    doc, _ = parse_raw(raw, name)
    count_records(doc, counts)
    issues = _per_document(Source(name, raw), doc, [], found, clusters)
    if any(i.code is Code.FILE_DUPLICATE_KEY for i in issues):
        return issues
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    table_issue = Issue(
        Code.TABLE_READ,
        name,
        "",
        "the JSON Schema accepts the document but the table reader refuses it",
        "a document the tables can hold",
        reason,
    )
    return [table_issue, *issues]


def read_tables(
    names: list[str],
    raws: list[bytes],
    counts: Counter[str],
    found: Found | None = None,
    clusters: ClustersFound | None = None,
) -> tuple[dict[str, pl.DataFrame] | None, list[Issue]]:
    """The tables of documents that passed layer one; a chunk the reader refuses is read
    again one document at a time, so one bad document names itself and spoils nothing."""
    try:
        return _tables(names, raws), []
    except READ_ERRORS:
        pass
    kept_names, kept_raws, issues = [], [], []
    for name, raw in zip(names, raws, strict=True):
        try:
            _tables([name], [raw])
        except READ_ERRORS as exc:
            issues += _unreadable(name, raw, exc, counts, found, clusters)
            continue
        kept_names.append(name)
        kept_raws.append(raw)
    return (_tables(kept_names, kept_raws) if kept_raws else None), issues


@dataclass
class Dataset:
    """The report of both layers, and (when kept) the tables of the valid documents."""

    report: Report
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)
    registry: Found | None = None  # the registry the links were checked against
    clusters: ClustersFound | None = None  # the clusters file events and figures name


def _chunks(paths: Iterable[Path], report: Report, size: int) -> Iterator[list[Source]]:
    items = iter_sources(paths)
    while True:
        chunk = []
        for item in islice(items, size):
            if isinstance(item, Issue):
                report.issues.append(item)
            else:
                chunk.append(item)
        if not chunk:
            return
        yield chunk


class _Seen:
    """Documents met so far (id, and Label Studio annotation ids of a pulled annotation),
    to catch one document in two files across chunks."""

    def __init__(self) -> None:
        self.files: dict[str, str] = {}

    def duplicates(
        self, tables: dict[str, pl.DataFrame]
    ) -> tuple[dict[str, pl.DataFrame], list[Issue]]:
        """`tables` without the documents whose id an earlier file already used, and an
        issue for each of those."""
        issues, dropped = [], []
        rows = tables[DOCUMENTS].select(DOC_ID, FILE, copy_key()).iter_rows()
        for doc_id, name, key in rows:
            if key in self.files:
                issues.append(duplicate_document(name, self.files[key], doc_id))
                dropped.append((doc_id, name))
            else:
                self.files[key] = name
        if not dropped:
            return tables, issues
        gone = pl.DataFrame(dropped, schema={DOC_ID: pl.String, FILE: pl.String}, orient="row")
        return drop_documents(tables, gone), issues


def check_chunk(
    sources: list[Source],
    engine_name: Engine = "rust",
    found: Found | None = None,
    clusters: ClustersFound | None = None,
) -> Checked:
    """Both layers on one chunk: JSON Schema per document, then the tables of the
    documents that passed, with every table check and the links to the registry
    (`found`) and to the clusters file (`clusters`). Runs in a worker process."""
    found = found or Found(None, None)
    checked = check_sources(sources, engine_name, found, clusters)
    if checked.raws:
        checked.tables, issues = read_tables(
            checked.names, checked.raws, checked.counts, found, clusters
        )
        checked.issues += issues
        if checked.tables is not None:
            checked.issues += validate_tables(checked.tables)
            checked.issues += check_entities(checked.tables, found)
            checked.issues += check_clusters(checked.tables, clusters)
        checked.raws = []
    return checked


class _Stream:
    """Hands each issue to `on_issues` once, as soon as a chunk has found it."""

    def __init__(self, report: Report, on_issues: OnIssues | None) -> None:
        self.report, self.on_issues = report, on_issues
        self.done = 0
        self.sent: set[tuple[str, str, str]] = set()

    def flush(self) -> None:
        if self.on_issues is None:
            return
        fresh = []
        for issue in unique_issues(self.report.issues[self.done :]):
            key = (str(issue.code), issue.file, issue.pointer)
            if key not in self.sent:
                self.sent.add(key)
                fresh.append(issue)
        self.done = len(self.report.issues)
        if fresh:
            self.on_issues(sorted(fresh, key=reading_order))


def _count(tables: dict[str, pl.DataFrame], counts: Counter[str]) -> None:
    counts["documents"] += tables["documents"].height
    for name in (*RECORD_KINDS, SPANS):
        counts[name] += tables[name].height


def _layer_one(
    chunks: Iterator[list[Source]],
    engine_name: Engine,
    workers: int,
    found: Found,
    clusters: ClustersFound,
) -> Iterator[Checked]:
    if workers <= 1:
        yield from (check_chunk(c, engine_name, found, clusters) for c in chunks)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pending = []
        for chunk in chunks:
            pending.append(pool.submit(check_chunk, chunk, engine_name, found, clusters))
            while len(pending) > workers:  # bounded read-ahead keeps memory flat
                yield pending.pop(0).result()
        for future in pending:
            yield future.result()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size if path.is_file() else 0
    except OSError:
        return 0


def _workers(paths: list[Path], requested: int | None) -> int:
    """Worker processes for layer one: one unless there is enough work to share. Only a
    guess from sizes: what cannot be listed or read here is reported by the real walk."""
    if requested is not None:
        return requested
    size = 0
    for path in paths:
        try:
            files = [path] if not path.is_dir() else path.rglob("*.json*")
            size += sum(_size(p) for p in files)
        except OSError:
            continue
    return min(os.cpu_count() or 1, 8) if size > PARALLEL_FROM * 20_000 else 1


def load_dataset(
    paths: Iterable[Path],
    *,
    engine_name: Engine = "rust",
    keep_tables: bool = True,
    on_tables: OnTables | None = None,
    on_issues: OnIssues | None = None,
    chunk_size: int = CHUNK,
    workers: int | None = None,
    registry: Path | None = None,
    clusters: Path | None = None,
    complete: bool = False,
) -> Dataset:
    """Check every annotation document under `paths` with both layers.

    `on_tables` receives each valid chunk's tables (with hidden columns) as they are
    built; `keep_tables=False` then keeps memory flat for datasets of any size.
    `on_issues` receives each chunk's new issues as soon as the chunk is checked (for
    streamed output); the report still holds them all, in reading order. Records' links
    are checked against `registry` (or the registry `find_registry` finds) and events'
    clusters and figures' quantities against `clusters` (or the file `find_clusters`
    finds); the problems of those two files come first. An event cluster's documents
    must be the documents checked whose events carry it (`cluster.documents`; with
    `complete`, the documents checked are the whole dataset, so a listed document none
    of them is is a problem too).
    """
    paths = list(paths)
    report, seen = Report(), _Seen()
    found = open_registry(paths, registry)
    report.issues += found.issues
    linked = open_clusters(paths, clusters)
    report.issues += linked.issues
    report.support_files = {i.file for i in [*found.issues, *linked.issues]}
    parts: dict[str, list[pl.DataFrame]] = {}
    stream = _Stream(report, on_issues)
    for checked in _layer_one(
        _chunks(paths, report, chunk_size), engine_name, _workers(paths, workers), found, linked
    ):
        report.files_checked += checked.documents
        report.counts.update(checked.counts)
        report.issues += checked.issues
        if checked.tables is not None:
            tables, issues = seen.duplicates(checked.tables)
            report.issues += issues
            _count(tables, report.counts)
            if on_tables is not None:
                on_tables(tables)
            if keep_tables:
                for name, frame in tables.items():
                    parts.setdefault(name, []).append(frame)
        stream.flush()
    stream.flush()
    from sitrep.validate.small import with_cluster_documents

    with_cluster_documents(report, paths, linked, on_issues, complete)
    report.issues = sorted(unique_issues(report.issues), key=reading_order)
    tables = {n: pl.concat(f) for n, f in parts.items()} if keep_tables else {}
    if keep_tables and not tables:
        tables = build_tables(read_ndjson(b"", []))
    return Dataset(report, tables, found, linked)
