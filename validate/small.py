"""What `sitrep validate` runs: the per-document path for small inputs, the tables for
large ones. Every rule runs on both paths, and both give the same report.

1. Up to `SMALL` documents are checked one at a time, without Polars or Pandera:
   JSON Schema (jsonschema-rs), then every per-document rule (`sitrep.schema.rules`),
   then one document id per file across all the documents. These are the rules the table
   layer re-checks in bulk (`sitrep.validate.table_rules` reports exactly what they
   report, which tests/test_table_rules.py and tests/test_small.py check); Pandera's
   models are derived from the same JSON Schema the documents have just passed.
2. More documents go to `sitrep.validate.dataset.load_dataset`, whose vectorised checks
   pay for importing Polars and Pandera (about two seconds) after a few thousand
   documents; below `SMALL` the per-document rules cost less than that import.
3. Either way, `on_issues` is handed each batch of new issues as soon as it is found
   (what `--format jsonl` streams), and the report holds them all in reading order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from sitrep.schema.clusters import ClustersFound, check_links, open_clusters
from sitrep.schema.files import duplicate_key_issues
from sitrep.schema.report import Code, Issue, Report, reading_order, unique_issues
from sitrep.schema.rules import check_rules
from sitrep.schema.validation import Engine, Source, count_records, engine, iter_sources, parse_raw
from sitrep.validate.registry import Found, entity_issues, open_registry

SMALL = 1_000  # documents: ~0.4 ms each by rule, against ~2 s to import Polars and Pandera

OnIssues = Callable[[list[Issue]], None]


def copy_key(doc: Any) -> str:
    """What makes two files copies of one document: the same document id and, for
    annotations pulled from Label Studio, the same annotation ids. A pull's per-annotator
    folder holds one file per annotation, so one document id in several files is expected
    there; the same annotation twice is still a copy."""
    origin = (doc.get("provenance") or {}).get("label_studio") or {}
    ids = origin.get("annotation_ids") if isinstance(origin, dict) else None
    if not ids or not isinstance(ids, list):
        return str(doc["document"]["id"])
    return f"{doc['document']['id']} #{','.join(str(i) for i in sorted(ids))}"


def duplicate_document(file: str, first: str, doc_id: str) -> Issue:
    """The issue of a document whose id (and Label Studio annotation) `first` already used."""
    return Issue(
        Code.ID_DUPLICATE,
        file,
        "/document/id",
        f"document id already used by {first}",
        "a document id used by one file only (or, for annotations pulled from Label "
        "Studio, by one file per annotation)",
        doc_id,
    )


def check_source(
    source: Source,
    counts: Counter[str],
    seen: dict[str, str],
    engine_name: Engine = "rust",
    found: Found | None = None,
    clusters: ClustersFound | None = None,
) -> list[Issue]:
    """Every issue of one document, as the two layers together report it: keys repeated
    inside an object, the JSON Schema and every per-document rule, the links to the
    registry (`found`) and to the clusters file (`clusters`), and a document id that an earlier file already used (reported,
    and the document still checked in full)."""
    doc, issue = parse_raw(source.raw, source.name)
    if issue is not None:
        return [issue]
    issues = duplicate_key_issues(source.raw, source.name, doc)
    issues += entity_issues(doc, source.name, found or Found(None, None))
    checker = engine(engine_name)
    if not checker.is_valid(doc):
        count_records(doc, counts)
        rules = check_rules(doc, source.name) + check_links(doc, source.name, clusters)
        return issues + checker.issues(doc, source.name) + rules
    doc_id, key = doc["document"]["id"], copy_key(doc)
    if key in seen:  # counted once, as the tables count it
        issues.append(duplicate_document(source.name, seen[key], doc_id))
    else:
        seen[key] = source.name
        count_records(doc, counts)
    return issues + check_rules(doc, source.name) + check_links(doc, source.name, clusters)


def check_small(
    items: Iterable[Source | Issue],
    *,
    engine_name: Engine = "rust",
    on_issues: OnIssues | None = None,
    registry: Found | None = None,
    clusters: ClustersFound | None = None,
) -> Report:
    """The report of the per-document path on `items` (documents, and the issues of
    paths that gave none), with the problems of the `registry` and `clusters` files
    first."""
    report, seen = Report(), dict[str, str]()
    registry = registry or Found(None, None)
    clusters = clusters or ClustersFound()
    report.support_files = {i.file for i in [*registry.issues, *clusters.issues]}
    for item in [*registry.issues, *clusters.issues, *items]:
        if isinstance(item, Issue):
            found = [item]
        else:
            report.files_checked += 1
            found = check_source(item, report.counts, seen, engine_name, registry, clusters)
        report.issues += found
        if on_issues is not None and found:
            on_issues(sorted(unique_issues(found), key=reading_order))
    report.issues = sorted(unique_issues(report.issues), key=reading_order)
    return report


def _peek(paths: list[Path], small: int) -> list[Source | Issue] | None:
    """Every document and path issue under `paths`, or None when there are more than
    `small` documents."""
    items: list[Source | Issue] = []
    documents = 0
    for item in iter_sources(paths):
        documents += isinstance(item, Source)
        if documents > small:
            return None
        items.append(item)
    return items


def check_paths(
    paths: Iterable[Path],
    *,
    engine_name: Engine = "rust",
    on_issues: OnIssues | None = None,
    small: int = SMALL,
    registry: Path | None = None,
    clusters: Path | None = None,
    complete: bool = False,
) -> Report:
    """Check every annotation document under `paths` (what `sitrep validate` runs): one
    at a time when there are at most `small`, as tables otherwise, with their links to
    the registry (`registry`, or the one `find_registry` finds) and to the event
    clusters and quantities (`clusters`, or the one `find_clusters` finds). Never
    writes."""
    paths = list(paths)
    items = _peek(paths, small)
    if items is not None:
        found = open_registry(paths, registry)
        linked = open_clusters(paths, clusters)
        report = check_small(
            items,
            engine_name=engine_name,
            on_issues=on_issues,
            registry=found,
            clusters=linked,
        )
        return with_cluster_documents(report, paths, linked, on_issues, complete)
    from sitrep.validate.dataset import load_dataset

    dataset = load_dataset(
        paths,
        engine_name=engine_name,
        keep_tables=False,
        on_issues=on_issues,
        registry=registry,
        clusters=clusters,
        complete=complete,
    )
    return dataset.report


def with_cluster_documents(
    report: Report,
    paths: list[Path],
    linked: ClustersFound,
    on_issues: OnIssues | None = None,
    complete: bool = False,
) -> Report:
    """`report` with the `cluster.documents` problems of the documents under `paths`
    (`sitrep.validate.cluster_documents`; `complete`: they are the whole dataset), in
    reading order."""
    from sitrep.validate.cluster_documents import check_documents

    found = check_documents(paths, linked, complete)
    if found:
        if on_issues is not None:
            on_issues(sorted(unique_issues(found), key=reading_order))
        report.issues = sorted(unique_issues([*report.issues, *found]), key=reading_order)
    return report
