"""Event clusters and quantities across documents (`datasets/entities/clusters.json`).

1. An event cluster (`ec-...`) is one real-world event, whichever documents report it;
   a quantity (`q-...`) is one thing counted about one event cluster (its death toll,
   the hostages taken), with the `counted` and `unit` every figure of it must have.
2. Membership lives in the annotation files, not here: `events[].cluster` and
   `figures[].quantity` name these ids (schema 1.2.0).
3. `load_clusters` reads the file and reports what is wrong with it (`clusters.*`: the
   JSON Schema `schema/clusters.schema.json`, a repeated id, a quantity about an
   unknown cluster) as issues, never as exceptions; `check_links` is the per-document
   rule (`cluster.*`, `quantity.*`) that the table layer
   (`sitrep.validate.cluster_rules`) repeats in bulk with the same report.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from sitrep import paths
from sitrep.schema import spec
from sitrep.schema.files import read_raw
from sitrep.schema.report import Code, Issue

Json = dict[str, Any]
SCHEMA_FILE = "clusters.schema.json"
SHARED_REF = "sitrep.schema.json#/$defs/"
RELATIVE = Path("datasets") / "entities" / "clusters.json"
MISSING_EXPECTED = (
    f"a clusters file: {RELATIVE} in the dataset that holds the files, or --clusters PATH"
)


@dataclass(frozen=True)
class EventCluster:
    """One real-world event reported across documents."""

    id: str
    name: str
    description: str
    documents: tuple[str, ...]


@dataclass(frozen=True)
class Quantity:
    """One thing counted about one event cluster (or about none: a share, a ranking)."""

    id: str
    event_cluster: str | None
    counted: str
    unit: str
    description: str


@dataclass(frozen=True)
class Clusters:
    """The clusters file as read: its path (as issues name it) and its entries by id."""

    path: str
    event_clusters: dict[str, EventCluster] = field(default_factory=dict)
    quantities: dict[str, Quantity] = field(default_factory=dict)


@dataclass(frozen=True)
class ClustersFound:
    """Which clusters file a check uses (path None: none found), what it holds, and its
    problems."""

    path: Path | None = None
    clusters: Clusters | None = None
    issues: tuple[Issue, ...] = ()


def find_clusters(sources: list[Path], explicit: Path | None = None) -> Path | None:
    """The clusters file a check of `sources` uses, found the way the registry is
    (`sitrep.validate.registry.find_registry`): `explicit`, else
    datasets/entities/clusters.json of the nearest folder holding the files, else of the
    project; None when there is none."""
    if explicit is not None:
        return explicit
    for path in sources:
        start = path.resolve() if path.is_dir() else path.resolve().parent
        for folder in (start, *start.parents):
            if (folder / RELATIVE).is_file():
                return folder / RELATIVE
    fallback = paths.project_root() / RELATIVE
    return fallback if fallback.is_file() else None


def open_clusters(sources: list[Path], explicit: Path | None = None) -> ClustersFound:
    """`find_clusters`, then `load_clusters` on what it found."""
    path = find_clusters(sources, explicit)
    if path is None:
        return ClustersFound()
    clusters, issues = load_clusters(path)
    return ClustersFound(path, clusters, tuple(issues))


def clusters_schema_file() -> Path:
    return paths.schema_dir() / SCHEMA_FILE


@cache
def clusters_schema() -> Json:
    """The clusters file's JSON Schema with the annotation schema's definitions it
    names (id patterns, the counted and unit vocabularies) copied in, flattened as the
    document validators run them (`spec.validation_schema`): a value outside a
    vocabulary is reported as "is not one of ...", as in a document, not as the
    internals of a failed oneOf."""
    raw = json.loads(clusters_schema_file().read_text(encoding="utf-8"))
    text = json.dumps(raw)
    shared = spec.validation_schema()["$defs"]
    wanted = {name for name in shared if f'"{SHARED_REF}{name}"' in text}
    out: Json = spec.local_refs(raw, SHARED_REF)
    out["$defs"] = {**out["$defs"], **{n: copy.deepcopy(shared[n]) for n in sorted(wanted)}}
    return out


def _schema_issues(data: Any, name: str) -> list[Issue]:
    from sitrep.schema.validation import RustEngine

    found = RustEngine(clusters_schema()).issues(data, name)
    return [
        Issue(Code.CLUSTERS_SCHEMA, i.file, i.pointer, i.message, i.expected, i.found)
        for i in found
    ]


def _duplicates(data: Json, name: str) -> list[Issue]:
    out = []
    for kind in ("event_clusters", "quantities"):
        first: dict[str, int] = {}
        for index, entry in enumerate(data.get(kind) or []):
            ident = entry.get("id") if isinstance(entry, dict) else None
            if not isinstance(ident, str):
                continue
            if ident in first:
                out.append(
                    Issue(
                        Code.CLUSTERS_DUPLICATE,
                        name,
                        f"/{kind}/{index}/id",
                        f"id already used by /{kind}/{first[ident]}",
                        "an id used once",
                        ident,
                    )
                )
            else:
                first[ident] = index
    return out


def _unknown_clusters(data: Json, name: str, known: set[str]) -> list[Issue]:
    out = []
    for index, entry in enumerate(data.get("quantities") or []):
        target = entry.get("event_cluster") if isinstance(entry, dict) else None
        if isinstance(target, str) and target not in known:
            out.append(
                Issue(
                    Code.CLUSTERS_UNKNOWN_CLUSTER,
                    name,
                    f"/quantities/{index}/event_cluster",
                    "a quantity about an event cluster the file does not define",
                    "the id of one of the file's event_clusters, or null",
                    target,
                )
            )
    return out


def _entries(data: Json, path: str) -> Clusters:
    def text(entry: Json, key: str) -> str:
        value = entry.get(key)
        return value if isinstance(value, str) else ""

    clusters, quantities = {}, {}
    for e in data.get("event_clusters") or []:
        if isinstance(e, dict) and isinstance(e.get("id"), str) and e["id"] not in clusters:
            docs = tuple(d for d in e.get("documents") or [] if isinstance(d, str))
            clusters[e["id"]] = EventCluster(e["id"], text(e, "name"), text(e, "description"), docs)
    for q in data.get("quantities") or []:
        if isinstance(q, dict) and isinstance(q.get("id"), str) and q["id"] not in quantities:
            target = q.get("event_cluster") if isinstance(q.get("event_cluster"), str) else None
            quantities[q["id"]] = Quantity(
                q["id"], target, text(q, "counted"), text(q, "unit"), text(q, "description")
            )
    return Clusters(path, clusters, quantities)


def load_clusters(path: Path, name: str | None = None) -> tuple[Clusters | None, list[Issue]]:
    """The clusters file at `path` and every problem with it (issues name it `name`,
    default the path). A file that cannot be read, parsed or used at all (not an
    object) gives None and its one problem: the links are then not checked, rather
    than each reported as unknown."""
    from sitrep.schema.validation import parse_raw

    label = name or str(path)
    raw, issue = read_raw(path, label)
    if raw is None:
        return None, [issue] if issue else []
    data, issue = parse_raw(raw, label)
    if issue is not None:
        return None, [issue]
    if not isinstance(data, dict):
        return None, _schema_issues(data, label)
    loaded = _entries(data, label)
    issues = _schema_issues(data, label) + _duplicates(data, label)
    issues += _unknown_clusters(data, label, set(loaded.event_clusters))
    return loaded, issues


# --- the per-document rule ------------------------------------------------------------


def _records(doc: Json, kind: str) -> list[tuple[int, Json]]:
    items = doc.get(kind)
    if not isinstance(items, list):
        return []
    return [(i, r) for i, r in enumerate(items) if isinstance(r, dict)]


def unknown_cluster(file: str, pointer: str, found: str, clusters: Clusters) -> Issue:
    return Issue(
        Code.CLUSTER_UNKNOWN,
        file,
        pointer,
        "the event names an event cluster the clusters file does not define",
        f"the id of an event cluster in {clusters.path}",
        found,
    )


def unknown_quantity(file: str, pointer: str, found: str, clusters: Clusters) -> Issue:
    return Issue(
        Code.QUANTITY_UNKNOWN,
        file,
        pointer,
        "the figure names a quantity the clusters file does not define",
        f"the id of a quantity in {clusters.path}",
        found,
    )


def measure_message(field_name: str, quantity: str) -> str:
    return f"the figure's {field_name} differs from the {field_name} of its quantity {quantity}"


def cluster_message(event: str, quantity: str) -> str:
    return (
        f"the figure's event {event} belongs to another event cluster than its "
        f"quantity {quantity} is about"
    )


@cache
def _patterns() -> dict[str, re.Pattern[str]]:
    """The id patterns of the annotation schema: a value that breaks its pattern is the
    JSON Schema's problem (`schema.pattern`), not also an unknown id."""
    defs = spec.load_schema()["$defs"]
    return {
        "cluster": re.compile(defs["EventClusterId"]["pattern"]),
        "quantity": re.compile(defs["QuantityId"]["pattern"]),
    }


@cache
def _vocabulary(name: str) -> frozenset[str]:
    return frozenset(str(v) for v in spec.enum_values(name))


def _an_id(kind: str, value: str) -> bool:
    return bool(_patterns()[kind].match(value))


def _figure_issues(
    file: str, index: int, fig: Json, q: Quantity, event_cluster: dict[str, str]
) -> list[Issue]:
    out = []
    for name, vocabulary in (("counted", "Counted"), ("unit", "Unit")):
        value = fig.get(name)
        if not isinstance(value, str) or value not in _vocabulary(vocabulary):
            continue  # not a value of the vocabulary: the JSON Schema's problem
        if getattr(q, name) not in _vocabulary(vocabulary):
            continue  # the quantity's own value is wrong: clusters.schema says so
        if value != getattr(q, name):
            out.append(
                Issue(
                    Code.QUANTITY_MEASURE,
                    file,
                    f"/figures/{index}/{name}",
                    measure_message(name, q.id),
                    getattr(q, name),
                    value,
                )
            )
    event = fig.get("event")
    found = event_cluster.get(event) if isinstance(event, str) else None
    if q.event_cluster is not None and found is not None and found != q.event_cluster:
        out.append(
            Issue(
                Code.QUANTITY_EVENT_CLUSTER,
                file,
                f"/figures/{index}/quantity",
                cluster_message(str(event), q.id),
                q.event_cluster,
                found,
            )
        )
    return out


def missing_issue(file: str, pointer: str) -> Issue:
    """The issue of a document that names clusters or quantities when no clusters file
    was found (once per document, at its first link)."""
    return Issue(
        Code.CLUSTERS_MISSING,
        file,
        pointer,
        "the document names event clusters or quantities, but no clusters file was found",
        MISSING_EXPECTED,
        "no clusters file",
    )


def _first_link(doc: Json) -> str | None:
    for kind, name in (("events", "cluster"), ("figures", "quantity")):
        for index, record in _records(doc, kind):
            if isinstance(record.get(name), str):
                return f"/{kind}/{index}/{name}"
    return None


def check_links(doc: Any, file: str, found: ClustersFound | None) -> list[Issue]:
    """The `cluster.*` and `quantity.*` issues of one parsed document, against the
    clusters file `found` (`clusters.missing` when none was found)."""
    if found is None or not isinstance(doc, dict):
        return []
    if found.clusters is None and found.path is not None:
        return []  # the file could not be read: reported once, as its own problem
    if found.clusters is None:
        first = _first_link(doc)
        return [] if first is None else [missing_issue(file, first)]
    clusters = found.clusters
    out: list[Issue] = []
    event_cluster: dict[str, str] = {}
    for index, event in _records(doc, "events"):
        target = event.get("cluster")
        if not isinstance(target, str) or not _an_id("cluster", target):
            continue
        if isinstance(event.get("id"), str):
            event_cluster.setdefault(event["id"], target)
        if target not in clusters.event_clusters:
            out.append(unknown_cluster(file, f"/events/{index}/cluster", target, clusters))
    for index, fig in _records(doc, "figures"):
        target = fig.get("quantity")
        if not isinstance(target, str) or not _an_id("quantity", target):
            continue
        if target not in clusters.quantities:
            out.append(unknown_quantity(file, f"/figures/{index}/quantity", target, clusters))
        else:
            out += _figure_issues(file, index, fig, clusters.quantities[target], event_cluster)
    return out


# --- the codebook ------------------------------------------------------------------------


def _table(node: Json) -> list[str]:
    required = set(node.get("required", []))
    lines = ["| field | required | meaning |", "|---|---|---|"]
    for name, prop in node["properties"].items():
        refs = [str(prop.get("$ref") or "")] + [
            str(b.get("$ref", "")) for b in prop.get("anyOf", [])
        ]
        named = next((r for r in refs if r), "")
        meaning = prop.get("description") or (f"`{named.rsplit('/', 1)[-1]}`" if named else "")
        lines.append(f"| `{name}` | {'yes' if name in required else 'no'} | {meaning} |")
    return lines


def codebook_section() -> list[str]:
    """The codebook's section on event clusters and quantities, from
    schema/clusters.schema.json."""
    own = json.loads(clusters_schema_file().read_text(encoding="utf-8"))
    return [
        "## Event clusters and quantities",
        "",
        f"`{RELATIVE.as_posix()}` (schema `schema/{SCHEMA_FILE}`): {own['description']}",
        "",
        "An event cluster (`event_clusters[]`):",
        "",
        *_table(own["$defs"]["EventCluster"]),
        "",
        "A quantity (`quantities[]`):",
        "",
        *_table(own["$defs"]["Quantity"]),
        "",
        "An event's `cluster` must be an event cluster of the file (`cluster.unknown`); a",
        "figure's `quantity` a quantity of it (`quantity.unknown`) whose `counted` and `unit`",
        "are the figure's (`quantity.measure`) and whose `event_cluster`, when it and the",
        "figure's event's cluster are both set, is that cluster (`quantity.event_cluster`).",
        "An event cluster must list every document checked whose events carry it",
        "(`cluster.documents`); `sitrep validate --complete` takes the documents checked as",
        "the dataset the file describes, so a cluster listing a document none of whose",
        "events carries it, or a document none of them is, is a problem too.",
        "The claims ledger (`sitrep claims`, the `claims` and `claim_summaries` release",
        "tables) has one row per figure with a quantity; its summaries follow the rules",
        "`latest-actual-per-claimant@1` and `range-across-claimants@1`.",
        "",
    ]
