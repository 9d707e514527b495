"""What linking reads: the actor and location records of annotation files, each with
its file and JSON pointer, and the entities of the registry (through the registry's own
loader, `sitrep.validate.registry`)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sitrep.annotate.link.problems import LinkCode, LinkError, LinkProblem
from sitrep.schema.files import read_bytes
from sitrep.validate.registry import Entity, RegistryError, load_registry

KINDS = {"actors": "actor", "locations": "location"}


@dataclass(frozen=True)
class Record:
    """One actor or location of a document."""

    file: Path
    pointer: str  # e.g. /actors/3
    id: str
    kind: str  # actor | location
    name: str
    aliases: tuple[str, ...]
    type: str | None
    country: str | None
    entity: str | None
    has_entity_field: bool
    document: str

    @property
    def key(self) -> tuple[str, str]:
        return (str(self.file), self.id)


def annotation_files(targets: Iterable[Path]) -> list[Path]:
    """The *.json files named, and those directly inside the folders named, sorted."""
    files: list[Path] = []
    for target in targets:
        if target.is_dir():
            files += sorted(p for p in target.glob("*.json") if not p.name.startswith("."))
        else:
            files.append(target)
    return list(dict.fromkeys(files))


def _read_json(path: Path, code: LinkCode) -> Any:
    """The parsed file; never opens a FIFO, socket or device, nor reads past the
    schema's maximum document size (`sitrep.schema.files.read_bytes`)."""
    payload, issue = read_bytes(path)
    if issue is not None or payload is None:
        found = f"{issue.code}: {issue.found or issue.message}" if issue else "nothing"
        raise LinkError([LinkProblem(str(path), "", code, "a readable regular file", found)])
    try:
        return json.loads(payload)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise LinkError([LinkProblem(str(path), "", code, "UTF-8 JSON", str(exc))]) from exc


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def document_records(path: Path, doc: Any) -> list[Record]:
    """The actor and location records of one parsed document."""
    if not isinstance(doc, dict):
        raise LinkError(
            [
                LinkProblem(
                    str(path), "", LinkCode.FILE_UNREADABLE, "a JSON object", type(doc).__name__
                )
            ]
        )
    meta = doc.get("document")
    document = str(meta.get("id")) if isinstance(meta, dict) else path.stem
    found = []
    for field, kind in KINDS.items():
        items = doc.get(field)
        for i, item in enumerate(items if isinstance(items, list) else []):
            if (
                not isinstance(item, dict)
                or not _text(item.get("id"))
                or not _text(item.get("name"))
            ):
                continue  # `sitrep validate` reports malformed records; linking skips them
            aliases = item.get("aliases")
            found.append(
                Record(
                    file=path,
                    pointer=f"/{field}/{i}",
                    id=item["id"],
                    kind=kind,
                    name=item["name"],
                    aliases=tuple(a for a in aliases if _text(a))
                    if isinstance(aliases, list)
                    else (),
                    type=_text(item.get("type")),
                    country=_text(item.get("country")),
                    entity=_text(item.get("entity")),
                    has_entity_field="entity" in item,
                    document=document,
                )
            )
    return found


def read_records(files: Iterable[Path]) -> list[Record]:
    """Every actor and location record of `files`; an unreadable file stops linking."""
    records: list[Record] = []
    for path in files:
        records += document_records(path, _read_json(path, LinkCode.FILE_UNREADABLE))
    return records


def read_registry(path: Path) -> dict[str, Entity]:
    """The registry's entities by id, read by `sitrep.validate.registry.load_registry`
    (its schema and rules); each of its problems becomes a link problem."""
    try:
        return load_registry(path).entities
    except RegistryError as exc:
        raise LinkError(
            [
                LinkProblem(i.file, i.pointer, i.code, i.expected or i.message, i.found)
                for i in exc.issues
            ]
        ) from exc
