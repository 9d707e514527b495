"""`cluster.documents`: the `documents` an event cluster of clusters.json lists must be
exactly the documents whose events carry the cluster.

The rule, the same on the per-document and the table path (it runs once per check, after
either, on the documents the check was given):

1. For each document checked: every cluster its events carry must list the document (the
   problem is the document's, at its first event carrying the cluster). This needs only
   the documents given: validating one file never reports other documents. A document
   whose id breaks the schema's pattern is left to that problem (`schema.pattern`).
2. Only when the caller says the documents checked are the dataset the clusters file
   describes (`sitrep validate --complete`): every cluster that lists a document must be
   carried by one of its events, and a listed document id that none of them has is a
   problem (both the clusters file's, at the listing). Neither can be the default: a
   folder holding part of a dataset (a sandbox, a new batch) looks the same as the whole
   of it, and a file checked outside the dataset (a copy of a dataset document, an older
   version of it) is measured against the clusters file of the project around it, which
   does not describe it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sitrep.schema.clusters import ClustersFound
from sitrep.schema.report import Code, Issue
from sitrep.schema.spec import definition
from sitrep.schema.validation import Source, iter_sources, parse_raw


def _id_pattern() -> re.Pattern[str]:
    """The schema's pattern of a document id: a document whose id breaks it has that
    problem (`schema.pattern`) and is not measured against the clusters file (its id
    cannot be listed there; every cluster its events carry would be reported again)."""
    return re.compile(str(definition("DocumentId")["pattern"]))


def _listings(path: Path) -> list[tuple[int, str, list[str]]]:
    """(index, cluster id, listed document ids) of each event cluster of the file."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return []
    entries = data.get("event_clusters") if isinstance(data, dict) else None
    out = []
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            docs = entry.get("documents")
            listed = (
                [d if isinstance(d, str) else "" for d in docs] if isinstance(docs, list) else []
            )
            out.append((index, entry["id"], listed))
    return out


def _carried(doc: dict[str, Any]) -> dict[str, int]:
    """cluster id -> index of the first event that carries it."""
    out: dict[str, int] = {}
    events = doc.get("events")
    for index, event in enumerate(events if isinstance(events, list) else []):
        cluster = event.get("cluster") if isinstance(event, dict) else None
        if isinstance(cluster, str):
            out.setdefault(cluster, index)
    return out


def check_documents(
    paths: Iterable[Path], found: ClustersFound | None, complete: bool = False
) -> list[Issue]:
    """Every `cluster.documents` problem of the documents under `paths` (see above)."""
    if found is None or found.path is None or found.clusters is None:
        return []
    paths = list(paths)
    label = found.clusters.path
    listings = _listings(found.path)
    listed_by: dict[str, list[tuple[int, int, str]]] = {}
    for index, cluster, docs in listings:
        for position, name in enumerate(docs):
            listed_by.setdefault(name, []).append((index, position, cluster))
    seen: set[str] = set()
    issues: list[Issue] = []
    valid_id = _id_pattern()
    for item in iter_sources(paths):
        if not isinstance(item, Source):
            continue
        doc, problem = parse_raw(item.raw, item.name)
        meta = doc.get("document") if isinstance(doc, dict) and problem is None else None
        doc_id = meta.get("id") if isinstance(meta, dict) else None
        if not isinstance(doc, dict) or not isinstance(doc_id, str):
            continue
        if not valid_id.search(doc_id):
            continue
        seen.add(doc_id)
        carried = _carried(doc)
        listing = {cluster for _, _, cluster in listed_by.get(doc_id, [])}
        for cluster, event in carried.items():
            if cluster in found.clusters.event_clusters and cluster not in listing:
                issues.append(
                    Issue(
                        Code.CLUSTER_DOCUMENTS,
                        item.name,
                        f"/events/{event}/cluster",
                        f"the event cluster {cluster} does not list the document {doc_id} "
                        f"among its documents in {label}; add it there",
                        f"{doc_id} in the documents of {cluster}",
                        f"documents of {cluster} without {doc_id}",
                    )
                )
        for index, position, cluster in listed_by.get(doc_id, []) if complete else []:
            if cluster not in carried:
                issues.append(
                    Issue(
                        Code.CLUSTER_DOCUMENTS,
                        label,
                        f"/event_clusters/{index}/documents/{position}",
                        f"the event cluster {cluster} lists the document {doc_id} "
                        f"({item.name}), but none of its events carries {cluster}",
                        f"only documents whose events carry {cluster}",
                        doc_id,
                    )
                )
    if complete:
        for listed, places in listed_by.items():
            if listed in seen:
                continue
            for index, position, cluster in places:
                issues.append(
                    Issue(
                        Code.CLUSTER_DOCUMENTS,
                        label,
                        f"/event_clusters/{index}/documents/{position}",
                        f"the event cluster {cluster} lists the document {listed}, which "
                        "is not in the dataset (--complete: the documents checked)",
                        "the id of a document checked",
                        listed,
                    )
                )
    return issues
