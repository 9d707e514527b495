"""The JSON Schema as data: loading it, and reading the vocabularies out of it.

The schema file is the single source of truth. Enumerations are written in it as
`oneOf` lists of `const` entries, each with a title, a description and, where they
apply, examples and mappings (`x-acled`, `x-plover`, `x-interval`, `x-shape`).
Everything else (the validators' schema, the codebook, table dtypes, the Label Studio
config) reads them from here, so no list of values is typed twice.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from sitrep import paths
from sitrep.errors import SchemaError

Json = dict[str, Any]


@dataclass(frozen=True)
class EnumValue:
    """One allowed value of an enumeration, with its documentation."""

    value: Any
    title: str
    description: str
    examples: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


@cache
def load_schema(path: Path | None = None) -> Json:
    """The schema document as written (cached; do not mutate)."""
    target = path or paths.schema_file()
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SchemaError(f"{target}: cannot load the JSON Schema: {exc}") from exc
    if not isinstance(data, dict) or "$defs" not in data:
        raise SchemaError(f"{target}: not a sitrep JSON Schema (no $defs)")
    return data


def schema_version(schema: Json | None = None) -> str:
    """The semver of the schema (`x-sitrep-version`)."""
    return str((schema or load_schema())["x-sitrep-version"])


def definition(name: str, schema: Json | None = None) -> Json:
    defs = (schema or load_schema())["$defs"]
    if name not in defs:
        raise SchemaError(f"the schema has no definition {name!r}")
    return defs[name]  # type: ignore[no-any-return]


def is_enumeration(node: Any) -> bool:
    """True for a `oneOf` whose every branch is a documented `const`."""
    return (
        isinstance(node, dict)
        and isinstance(node.get("oneOf"), list)
        and bool(node["oneOf"])
        and all(isinstance(b, dict) and "const" in b for b in node["oneOf"])
    )


def enum_entries(name: str, schema: Json | None = None) -> list[EnumValue]:
    """The documented values of enumeration `name`, in schema order."""
    node = definition(name, schema)
    if "enum" in node:
        return [EnumValue(v, str(v), "") for v in node["enum"]]
    if not is_enumeration(node):
        raise SchemaError(f"$defs/{name} is not an enumeration")
    out = []
    for branch in node["oneOf"]:
        extra = {k: v for k, v in branch.items() if k.startswith("x-")}
        out.append(
            EnumValue(
                value=branch["const"],
                title=branch.get("title", str(branch["const"])),
                description=branch.get("description", ""),
                examples=tuple(branch.get("examples", ())),
                extra=extra,
            )
        )
    return out


def enumeration_values(node: Json) -> list[Any]:
    """The values of an enumeration node (documented `oneOf` consts or a plain `enum`)."""
    if "enum" in node:
        return list(node["enum"])
    return [b["const"] for b in node["oneOf"]]


def enum_values(name: str, schema: Json | None = None) -> list[Any]:
    return [e.value for e in enum_entries(name, schema)]


def enumerations(schema: Json | None = None) -> dict[str, list[EnumValue]]:
    """Every enumeration in `$defs`, by definition name."""
    defs = (schema or load_schema())["$defs"]
    return {
        name: enum_entries(name, schema)
        for name, node in defs.items()
        if is_enumeration(node) or "enum" in node
    }


def vague_intervals(schema: Json | None = None) -> dict[str, tuple[float, float]]:
    """The codebook interval of every vague quantifier."""
    return {
        e.value: (e.extra["x-interval"][0], e.extra["x-interval"][1])
        for e in enum_entries("VagueTerm", schema)
    }


def local_refs(node: Any, prefix: str) -> Any:
    """`node` (a schema of another file) with every `$ref` that starts with `prefix` (a
    reference into the annotation schema's definitions) turned into a local
    `#/$defs/...` one, for a schema that copies those definitions in."""
    if isinstance(node, dict):
        out = {k: local_refs(v, prefix) for k, v in node.items()}
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(prefix):
            out["$ref"] = "#/$defs/" + ref.removeprefix(prefix)
        return out
    if isinstance(node, list):
        return [local_refs(v, prefix) for v in node]
    return node


def major(version: str) -> int:
    return int(version.split(".", 1)[0])


# --- the schema the validators run -------------------------------------------------


def _resolve(node: Json, defs: Json) -> Json:
    ref = node.get("$ref", "")
    if isinstance(ref, str) and ref.startswith("#/$defs/") and len(node) == 1:
        return _resolve(defs[ref.removeprefix("#/$defs/")], defs)
    return node


def _nullable(inner: Json) -> Json | None:
    """`inner`-or-null as one flat schema, when that is expressible without anyOf."""
    if "enum" in inner:
        rest = {k: v for k, v in inner.items() if k != "type"}
        return {**rest, "enum": [*inner["enum"], None]}
    if set(inner) <= {"type", "pattern", "description", "format", "minLength"} and isinstance(
        inner.get("type"), str
    ):
        return {**inner, "type": [inner["type"], "null"]}
    return None


def _flatten(node: Any, defs: Json) -> Any:
    if isinstance(node, list):
        return [_flatten(n, defs) for n in node]
    if not isinstance(node, dict):
        return node
    if is_enumeration(node):
        keep = {k: v for k, v in node.items() if k != "oneOf"}
        return {**keep, "enum": [b["const"] for b in node["oneOf"]]}
    branches = node.get("anyOf")
    if isinstance(branches, list) and len(branches) == 2 and {"type": "null"} in branches:
        other = branches[0] if branches[1] == {"type": "null"} else branches[1]
        flat = _nullable(_flatten(_resolve(other, defs), defs))
        if flat is not None:
            return {**{k: v for k, v in node.items() if k != "anyOf"}, **flat}
    return {k: _flatten(v, defs) for k, v in node.items()}


@cache
def validation_schema() -> Json:
    """The schema the validators run: documented enumerations become plain `enum`s and
    nullable references are inlined, so errors name the keyword that failed ("is not one
    of ...") instead of "not valid under any of the given schemas"."""
    source = copy.deepcopy(load_schema())
    defs = source["$defs"]
    flat_defs = {name: _flatten(node, defs) for name, node in defs.items()}
    flat = _flatten({k: v for k, v in source.items() if k != "$defs"}, defs)
    flat["$defs"] = flat_defs
    return flat  # type: ignore[no-any-return]
