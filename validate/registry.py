"""The registry of actors and places (datasets/entities/registry.json), and the rules that
tie annotation records to it.

1. `find_registry` decides which registry a check uses: the one given (`--registry
   PATH`); else the nearest `datasets/entities/registry.json` in a folder holding the
   files given or above them (the dataset they belong to); else the project root's.
2. `read_registry` reads it and collects every problem of the file itself as `registry.*`
   issues: not readable or not JSON, schema/registry.schema.json (whose vocabularies are
   the document schema's, resolved at run time), a repeated id, entities out of id order,
   a file not written as tools/build_registry.py writes it, and a name or alias that is
   the name of another entity of the same kind and country (descriptive aliases such as
   "the group" may be shared: only a clash with a canonical name is ambiguous).
   `load_registry` is the same for library callers: a `Registry`, or `RegistryError`.
3. `entity_issues` checks one document's links: `entity.unknown`, `entity.kind`,
   `entity.type` (a record of type `other` matches any entity of its kind: the annotator
   did not know the type; any other difference is a problem), and `registry.missing` once
   per document that links records when no registry was found. A link to an entity whose
   own record breaks the registry schema (a `kind` of neither vocabulary, say) is left to
   that `registry.schema` problem: its kind and type cannot be compared.
   `sitrep.validate.entity_rules` reports exactly the same on the tables.

Light to import: no Polars (the CLI's start-up imports this module only when it runs).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from sitrep.errors import SitrepError
from sitrep.paths import project_root, registry_schema_file
from sitrep.schema import spec
from sitrep.schema.files import read_bytes
from sitrep.schema.report import Code, Issue

RELATIVE = Path("datasets") / "entities" / "registry.json"
KIND_OF = {"actors": "actor", "locations": "location"}
ANY_TYPE = "other"  # a record of this type may point at any entity of its kind
DOCUMENT_SCHEMA = "urn:sitrep:schema:document#/$defs/"
MISSING_EXPECTED = f"a registry: {RELATIVE} in the dataset that holds the files, or --registry PATH"


class RegistryError(SitrepError):
    """The registry file cannot be read, or breaks its schema or rules."""

    def __init__(self, path: Path, issues: list[Issue]) -> None:
        lines = [f"{i.pointer or '/'}: {i.code}: {i.message}" for i in issues[:20]]
        more = f"\n... and {len(issues) - 20} more" if len(issues) > 20 else ""
        super().__init__(
            f"registry {path} has {len(issues)} problem(s):\n" + "\n".join(lines) + more
        )
        self.path = path
        self.issues = issues


@dataclass(frozen=True)
class Entity:
    """One real-world actor or place."""

    id: str
    kind: str
    name: str
    type: str
    aliases: tuple[str, ...] = ()
    country: str | None = None
    wikidata: str | None = None
    geonames: int | None = None
    lat: float | None = None
    lon: float | None = None
    iso_3166_2: str | None = None
    provenance: dict[str, Any] = field(default_factory=dict)


@dataclass
class Registry:
    """The registry file: its entities by id, and what it says about itself."""

    path: Path
    entities: dict[str, Entity]
    version: str = ""
    description: str = ""
    sources: list[dict[str, Any]] = field(default_factory=list)
    invalid: frozenset[str] = frozenset()  # ids of entities whose own record breaks the schema


@dataclass
class Found:
    """Which registry a check uses (None: none found), and the problems of that file."""

    path: Path | None
    registry: Registry | None
    issues: list[Issue] = field(default_factory=list)


# --- finding and reading ---------------------------------------------------------------


def find_registry(paths: list[Path], explicit: Path | None = None) -> Path | None:
    """The registry a check of `paths` uses (see the module's step 1)."""
    if explicit is not None:
        return explicit
    for path in paths:
        start = path.resolve() if path.is_dir() else path.resolve().parent
        for folder in (start, *start.parents):
            if (folder / RELATIVE).is_file():
                return folder / RELATIVE
    fallback = project_root() / RELATIVE
    return fallback if fallback.is_file() else None


def open_registry(paths: list[Path], explicit: Path | None = None) -> Found:
    """`find_registry`, then `read_registry` on what it found."""
    path = find_registry(paths, explicit)
    if path is None:
        return Found(None, None)
    registry, issues = read_registry(path)
    return Found(path, registry, issues)


def _issue(path: Path, code: Code, pointer: str, message: str, expected: str, found: str) -> Issue:
    return Issue(code, str(path), pointer, message, expected, found)


def read_registry(path: Path) -> tuple[Registry | None, list[Issue]]:
    """The registry at `path` (None when it cannot be read at all) and its problems."""
    payload, problem = read_bytes(path)  # never opens a FIFO or device, bounded in size
    try:
        if problem is not None:
            raise ValueError(problem.message)
        raw = (payload or b"").decode("utf-8")
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # JSON and UTF-8 errors are ValueErrors
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return None, [
            _issue(
                path,
                Code.REGISTRY_READ,
                "",
                "the registry cannot be read",
                "a UTF-8 JSON file written by tools/build_registry.py",
                reason,
            )
        ]
    issues = schema_issues(data, path)
    entities = data.get("entities") if isinstance(data, dict) else None
    rows = [e for e in entities if isinstance(e, dict)] if isinstance(entities, list) else []
    issues += _order_issues(rows, path) + _alias_issues(rows, path)
    if not issues and raw != json.dumps(data, indent=2, ensure_ascii=False) + "\n":
        issues.append(
            _issue(
                path,
                Code.REGISTRY_FORMAT,
                "",
                "the registry is not written as "
                "tools/build_registry.py writes it; run the tool to rewrite it",
                "2-space indentation, UTF-8 characters unescaped, a trailing newline",
                "another layout",
            )
        )
    registry = Registry(
        path,
        {e["id"]: _entity(e) for e in rows if _usable(e)},
        str(data.get("registry_version", "")) if isinstance(data, dict) else "",
        str(data.get("description", "")) if isinstance(data, dict) else "",
        list(data.get("sources") or []) if isinstance(data, dict) else [],
        _invalid_ids(rows, entities, issues),
    )
    return registry, issues


ENTITY_POINTER = re.compile(r"/entities/(\d+)(?:/|$)")


def _invalid_ids(rows: list[dict[str, Any]], entities: Any, issues: list[Issue]) -> frozenset[str]:
    """The ids of entities whose own record breaks the registry schema: links to them are
    left to that `registry.schema` problem (their kind or type cannot be trusted)."""
    if not isinstance(entities, list):
        return frozenset()
    out = set()
    for issue in issues:
        match = ENTITY_POINTER.match(issue.pointer)
        if issue.code is Code.REGISTRY_SCHEMA and match and int(match[1]) < len(entities):
            row = entities[int(match[1])]
            if isinstance(row, dict) and isinstance(row.get("id"), str):
                out.add(row["id"])
    return frozenset(out)


def load_registry(path: Path) -> Registry:
    """The registry at `path`; `RegistryError` listing every problem when it has any."""
    registry, issues = read_registry(Path(path))
    if registry is None or issues:
        raise RegistryError(Path(path), issues)
    return registry


def _usable(row: dict[str, Any]) -> bool:
    return all(isinstance(row.get(k), str) for k in ("id", "kind", "name", "type"))


def _field(row: dict[str, Any], name: str, kind: type[Any]) -> Any:
    """row[name] when it is a `kind`, else an empty `kind` (rows may break the schema)."""
    value = row.get(name)
    return value if isinstance(value, kind) else kind()


def _entity(row: dict[str, Any]) -> Entity:
    coords = _field(row, "coordinates", dict)
    aliases = _field(row, "aliases", list)
    return Entity(
        id=row["id"],
        kind=row["kind"],
        name=row["name"],
        type=row["type"],
        aliases=tuple(a for a in aliases if isinstance(a, str)),
        country=row.get("country"),
        wikidata=row.get("wikidata"),
        geonames=row.get("geonames"),
        lat=coords.get("lat"),
        lon=coords.get("lon"),
        iso_3166_2=row.get("iso_3166_2"),
        provenance=_field(row, "provenance", dict),
    )


# --- the file's own rules ----------------------------------------------------------------


@cache
def registry_schema() -> dict[str, Any]:
    """schema/registry.schema.json with the document schema's definitions it refers to
    resolved into it (the same flattened vocabularies the document validators run)."""
    own = json.loads(registry_schema_file().read_text(encoding="utf-8"))
    document_defs = spec.validation_schema()["$defs"]
    clash = set(own["$defs"]) & set(document_defs)
    if clash:
        raise SitrepError(f"registry schema definitions clash with the document's: {clash}")
    merged: dict[str, Any] = spec.local_refs(own, DOCUMENT_SCHEMA)
    merged["$defs"] = {**document_defs, **merged["$defs"]}
    return merged


def schema_issues(data: Any, path: Path) -> list[Issue]:
    """Every place `data` breaks the registry schema, as `registry.schema` issues."""
    from sitrep.schema.validation import RustEngine

    found = RustEngine(registry_schema()).issues(data, str(path))
    return [
        Issue(Code.REGISTRY_SCHEMA, i.file, i.pointer, i.message, i.expected, i.found)
        for i in found
    ]


def _order_issues(rows: list[dict[str, Any]], path: Path) -> list[Issue]:
    """registry.duplicate_id per repeated id; registry.order once, at the first entity out
    of order, saying how many are (a file in reverse order is one problem, not hundreds)."""
    issues, first = [], dict[str, int]()
    previous = ""
    unsorted: list[tuple[str, str, str]] = []  # (pointer, previous, id) of each out of order
    for index, row in enumerate(rows):
        entity_id = row.get("id")
        if not isinstance(entity_id, str):
            continue
        where = f"/entities/{index}/id"
        if entity_id in first:
            issues.append(
                _issue(
                    path,
                    Code.REGISTRY_DUPLICATE,
                    where,
                    "two entities share an id",
                    f"an id no other entity has (/entities/{first[entity_id]} has it)",
                    entity_id,
                )
            )
        elif entity_id < previous:
            unsorted.append((where, previous, entity_id))
        first.setdefault(entity_id, index)
        previous = max(previous, entity_id)
    if unsorted:
        where, before, entity_id = unsorted[0]
        others = f" ({len(unsorted)} entities are out of order)" if len(unsorted) > 1 else ""
        issues.append(
            _issue(
                path,
                Code.REGISTRY_ORDER,
                where,
                "entities must be sorted by id; run tools/build_registry.py to sort them" + others,
                f"an id after {before!r}",
                entity_id,
            )
        )
    return sorted(issues, key=lambda i: int(i.pointer.split("/")[2]))


def _fold(name: str) -> str:
    return " ".join(name.casefold().split())


def _alias_issues(rows: list[dict[str, Any]], path: Path) -> list[Issue]:
    names: dict[tuple[str, str, Any], list[tuple[int, str]]] = {}
    for index, row in enumerate(rows):
        if _usable(row):
            key = (row["kind"], _fold(row["name"]), row.get("country"))
            names.setdefault(key, []).append((index, row["id"]))
    issues = []
    for index, row in enumerate(rows):
        if not _usable(row):
            continue
        aliases = _field(row, "aliases", list)
        labelled = [("name", row["name"])] + [(f"aliases/{i}", a) for i, a in enumerate(aliases)]
        for where, label in labelled:
            if not isinstance(label, str):
                continue
            key = (row["kind"], _fold(label), row.get("country"))
            others = [o for i, o in names.get(key, []) if i != index and o != row["id"]]
            if others:
                issues.append(
                    _issue(
                        path,
                        Code.REGISTRY_ALIAS,
                        f"/entities/{index}/{where}",
                        f"{label!r} is also the name of {others[0]}, a {row['kind']} of the same "
                        "country: a reader could not tell them apart; merge them or rename one",
                        "a name no other entity of the same kind and country has",
                        f"{label} (the name of {others[0]})",
                    )
                )
    return issues


# --- documents' links ---------------------------------------------------------------------

ARTICLE = {"actor": "an", "location": "a"}


@cache
def vocabulary(kind: str) -> frozenset[str]:
    """The types a record of `kind` may have (the document schema's vocabulary): a type
    outside it is a schema problem, not also a link problem."""
    name = "ActorType" if kind == "actor" else "LocationType"
    return frozenset(spec.enum_values(name))


ENTITY_ID = re.compile(r"ent-[a-z0-9][a-z0-9-]{0,95}")


def _linked(doc: Any) -> list[tuple[str, int, dict[str, Any]]]:
    out: list[tuple[str, int, dict[str, Any]]] = []
    if not isinstance(doc, dict):
        return out
    for key in KIND_OF:
        records = doc.get(key)
        if not isinstance(records, list):
            continue
        for index, record in enumerate(records):
            entity = record.get("entity") if isinstance(record, dict) else None
            if isinstance(entity, str) and ENTITY_ID.fullmatch(entity):
                out.append((key, index, record))
    return out


def missing_issue(file: str, pointer: str) -> Issue:
    """The issue of a document whose records link to a registry that was not found."""
    return Issue(
        Code.REGISTRY_MISSING,
        file,
        pointer,
        "the document's records link to registry entities, but no registry was found",
        MISSING_EXPECTED,
        "no registry",
    )


def entity_issues(doc: Any, file: str, found: Found) -> list[Issue]:
    """Every problem of one document's links to the registry (see the module's step 3)."""
    linked = _linked(doc)
    if not linked:
        return []
    if found.path is None:
        key, index, _ = linked[0]
        return [missing_issue(file, f"/{key}/{index}/entity")]
    if found.registry is None:
        return []  # unreadable: reported once as registry.read
    issues = []
    for key, index, record in linked:
        issue = link_issue(file, f"/{key}/{index}/entity", KIND_OF[key], record, found.registry)
        if issue is not None:
            issues.append(issue)
    return issues


def link_issue(
    file: str, pointer: str, kind: str, record: dict[str, Any], registry: Registry
) -> Issue | None:
    entity_id = record["entity"]
    if entity_id in registry.invalid:
        return None  # the entity's own record is invalid: reported as registry.schema
    entity = registry.entities.get(entity_id)
    if entity is None:
        return Issue(
            Code.ENTITY_UNKNOWN,
            file,
            pointer,
            f"{entity_id} is not in the registry "
            f"{registry.path.name}; add it there (tools/build_registry.py) or fix the id",
            "an entity id of the registry",
            entity_id,
        )
    if entity.kind != kind:
        return Issue(
            Code.ENTITY_KIND,
            file,
            pointer,
            f"{ARTICLE[kind]} {kind} record points at "
            f"{entity_id}, {ARTICLE[entity.kind]} {entity.kind} entity ({entity.name})",
            f"{ARTICLE[kind]} {kind} entity",
            f"{entity.kind} entity",
        )
    record_type = record.get("type")
    if (
        isinstance(record_type, str)  # any other value is the JSON Schema's to report
        and record_type in vocabulary(kind)
        and record_type not in (entity.type, ANY_TYPE)
    ):
        return Issue(
            Code.ENTITY_TYPE,
            file,
            pointer.removesuffix("/entity") + "/type",
            f"the record's type differs from the type of {entity_id} ({entity.name}); "
            "change one of them",
            entity.type,
            record_type,
        )
    return None


# --- the codebook ------------------------------------------------------------------------------


def codebook_section() -> list[str]:
    """The codebook's section on the registry, from schema/registry.schema.json."""
    own = json.loads(registry_schema_file().read_text(encoding="utf-8"))
    entity = own["$defs"]["RegistryEntity"]
    required = set(entity["required"])
    lines = [
        "## Registry of actors and places",
        "",
        f"`{RELATIVE.as_posix()}` (schema `schema/registry.schema.json`): {own['description']}",
        "",
        "| field | required | meaning |",
        "|---|---|---|",
    ]
    for name, node in entity["properties"].items():
        ref = str(node.get("$ref") or "")
        refs = [str(b.get("$ref", "")) for b in node.get("anyOf", [])]
        named = next((r for r in [ref, *refs] if r), "")
        meaning = node.get("description") or (f"`{named.rsplit('/', 1)[-1]}`" if named else "")
        mark = "yes" if name in required else "no"
        lines.append(f"| `{name}` | {mark} | {meaning} |")
    lines += [
        "",
        "A record's `entity` must name an entity of the registry (`entity.unknown`) of its own",
        "kind (`entity.kind`: actors point at actors, locations at places) and of its type",
        f"(`entity.type`), except that a record typed `{ANY_TYPE}` matches any entity of its",
        'kind. Descriptive aliases ("the group") may be shared by several entities; a name or',
        "alias that is another entity's canonical name within the same kind and country is",
        "`registry.alias`.",
        "",
    ]
    return lines
