"""Validating annotation documents: JSON Schema, then the per-document rules.

`validate_document` checks one parsed document; `validate_paths` checks files one
document at a time with this layer only (folders are searched for `*.json` and
`*.jsonl`), never writes, and returns one `Report` with every problem in every file.
`sitrep validate` runs `sitrep.validate.dataset.load_dataset`, which uses the JSON Schema
check from here and adds the table layer, where the same rules run vectorised.

Two JSON Schema engines sit behind the same API: jsonschema-rs (the default, fast)
and the Python `jsonschema` package (the reference, used by the benchmark). Both run
the same schema from `spec.validation_schema()` with format checks on.
"""

from __future__ import annotations

import datetime
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal, Protocol

import orjson

from sitrep.schema import spec
from sitrep.schema.report import Code, Issue, Report
from sitrep.schema.rules import RECORD_KINDS, check_rules

Engine = Literal["rust", "python"]

KEYWORD_CODES = {
    "required": Code.SCHEMA_REQUIRED,
    "type": Code.SCHEMA_TYPE,
    "enum": Code.SCHEMA_ENUM,
    "const": Code.SCHEMA_CONST,
    "pattern": Code.SCHEMA_PATTERN,
    "format": Code.SCHEMA_FORMAT,
    "additionalProperties": Code.SCHEMA_ADDITIONAL,
    "minimum": Code.SCHEMA_RANGE,
    "maximum": Code.SCHEMA_RANGE,
    "exclusiveMinimum": Code.SCHEMA_RANGE,
    "exclusiveMaximum": Code.SCHEMA_RANGE,
    "minLength": Code.SCHEMA_LENGTH,
    "maxLength": Code.SCHEMA_LENGTH,
    "minItems": Code.SCHEMA_LENGTH,
    "maxItems": Code.SCHEMA_LENGTH,
    "uniqueItems": Code.SCHEMA_UNIQUE,
}


class _Engine(Protocol):
    def is_valid(self, doc: Any) -> bool: ...

    def issues(self, doc: Any, file: str) -> list[Issue]: ...


def pointer(parts: Iterable[Any]) -> str:
    """RFC 6901 JSON pointer from path parts."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 120 else text[:117] + "..."


def _expected(keyword: str, value: Any) -> str:
    if keyword == "required":
        return f"property {value!r}"
    if keyword == "additionalProperties":
        return "only the properties the schema defines"
    if keyword == "enum":
        shown = [v for v in value if v is not None]
        names = ", ".join(map(str, shown[:12])) + (", ..." if len(shown) > 12 else "")
        return f"one of: {names}" + (" or null" if None in value else "")
    return f"{keyword} {_show(value)}"


def _found(keyword: str, instance: Any, value: Any) -> str:
    if keyword == "required":
        return "no such property"
    if keyword == "additionalProperties":
        return ", ".join(map(repr, value)) if isinstance(value, list) else _show(value)
    return _show(instance)


def _rust_leaves(errors: Iterable[Any]) -> Iterator[Any]:
    """The errors, each anyOf error replaced by the errors of the branch that reached
    deepest into the instance (for a nullable object: the object branch, not `null`)."""
    for err in errors:
        branches = (
            getattr(err.kind, "context", None) if type(err.kind).__name__ == "AnyOf" else None
        )
        if branches:
            yield from _rust_leaves(
                max(branches, key=lambda b: max((len(e.instance_path) for e in b), default=-1))
            )
        else:
            yield err


def _python_leaves(errors: Iterable[Any]) -> Iterator[Any]:
    """As `_rust_leaves`, for the Python engine (branch errors are grouped by branch index)."""
    for err in errors:
        if err.validator == "anyOf" and err.context:
            branches: dict[Any, list[Any]] = {}
            for sub in err.context:
                branches.setdefault(sub.relative_schema_path[0], []).append(sub)
            yield from _python_leaves(
                max(branches.values(), key=lambda b: max(len(e.absolute_path) for e in b))
            )
        else:
            yield err


class RustEngine:
    """jsonschema-rs: compiled once, validates a document in microseconds."""

    def __init__(self, schema: dict[str, Any]) -> None:
        import jsonschema_rs

        self._validator = jsonschema_rs.validator_for(schema, validate_formats=True)

    def is_valid(self, doc: Any) -> bool:
        return bool(self._validator.is_valid(doc))

    def issues(self, doc: Any, file: str) -> list[Issue]:
        out = []
        for err in _rust_leaves(self._validator.iter_errors(doc)):
            keyword = str(err.schema_path[-1]) if err.schema_path else ""
            value = getattr(err.kind, "value", None)
            ptr = pointer(err.instance_path)
            if keyword == "required":
                ptr = f"{ptr}/{value}"
            out.append(
                Issue(
                    KEYWORD_CODES.get(keyword, Code.SCHEMA_OTHER),
                    file,
                    ptr,
                    err.message,
                    _expected(keyword, value),
                    _found(keyword, err.instance, value),
                )
            )
        return out


_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s]*")


def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.fullmatch(value):
        return False
    date, _, rest = value.upper().partition("T")
    datetime.date.fromisoformat(date)
    datetime.time.fromisoformat(rest[:8])
    offset = rest[8:].lstrip(".0123456789")
    return offset == "Z" or (int(offset[1:3]) < 24 and int(offset[4:6]) < 60)


def _is_uri(value: object) -> bool:
    return not isinstance(value, str) or bool(_URI.fullmatch(value))


def _python_format_checker(base: Any) -> Any:
    """The draft's format checker plus 'date-time' and 'uri', which `jsonschema` only
    checks when optional packages are installed (the Rust engine always does)."""
    import jsonschema

    checker = jsonschema.FormatChecker(base.checkers)
    checker.checks("date-time", raises=ValueError)(_is_date_time)
    checker.checks("uri")(_is_uri)
    return checker


class PythonEngine:
    """The Python `jsonschema` package: the reference implementation."""

    def __init__(self, schema: dict[str, Any]) -> None:
        import jsonschema

        cls = jsonschema.Draft202012Validator
        self._validator = cls(schema, format_checker=_python_format_checker(cls.FORMAT_CHECKER))

    def is_valid(self, doc: Any) -> bool:
        return bool(self._validator.is_valid(doc))

    def issues(self, doc: Any, file: str) -> list[Issue]:
        out = []
        for err in _python_leaves(self._validator.iter_errors(doc)):
            keyword = str(err.validator)
            value = err.validator_value
            ptr = pointer(err.absolute_path)
            if keyword == "required":
                missing = [
                    k for k in value if isinstance(err.instance, dict) and k not in err.instance
                ]
                value = next((k for k in missing if err.message.startswith(repr(k))), value)
                ptr = f"{ptr}/{value}"
            if keyword == "additionalProperties" and isinstance(err.instance, dict):
                allowed = err.schema.get("properties", {})
                value = [k for k in err.instance if k not in allowed]
            out.append(
                Issue(
                    KEYWORD_CODES.get(keyword, Code.SCHEMA_OTHER),
                    file,
                    ptr,
                    err.message,
                    _expected(keyword, value),
                    _found(keyword, err.instance, value),
                )
            )
        return out


@cache
def engine(name: Engine = "rust") -> _Engine:
    """The JSON Schema engine `name`, compiled once per process."""
    schema = spec.validation_schema()
    return RustEngine(schema) if name == "rust" else PythonEngine(schema)


def validate_document(
    doc: Any, file: str = "<document>", *, engine_name: Engine = "rust"
) -> list[Issue]:
    """Every issue of one parsed document: JSON Schema first, then the rules."""
    checker = engine(engine_name)
    issues = [] if checker.is_valid(doc) else checker.issues(doc, file)
    issues.extend(check_rules(doc, file))
    return issues


# --- files -------------------------------------------------------------------------


@dataclass(frozen=True)
class Loaded:
    """A file read and parsed, or the issue that stopped it."""

    path: Path
    doc: Any = None
    issue: Issue | None = None


def read_raw(path: Path, label: str | None = None) -> tuple[bytes | None, Issue | None]:
    """The bytes of one file, or the issue that stops it (unreadable, empty, BOM)."""
    name = label or str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        reason = f"cannot read the file: {exc.strerror or exc}"
        return None, Issue(
            Code.FILE_UNREADABLE, name, "", reason, "a readable file", type(exc).__name__
        )
    if not raw.strip():
        return None, Issue(
            Code.FILE_EMPTY, name, "", "the file is empty", "a JSON document", f"{len(raw)} byte(s)"
        )
    if raw.startswith(b"\xef\xbb\xbf"):
        reason = "the file starts with a byte-order mark; save it as UTF-8 without BOM"
        return None, Issue(
            Code.FILE_ENCODING, name, "", reason, "UTF-8 without BOM", "BOM EF BB BF"
        )
    return raw, None


def parse_raw(raw: bytes, name: str) -> tuple[Any, Issue | None]:
    """One JSON document from UTF-8 bytes (strict: no NaN or Infinity), or its issue."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        found = f"byte 0x{raw[exc.start]:02x}"
        return None, Issue(
            Code.FILE_ENCODING, name, "", f"not valid UTF-8 at byte {exc.start}", "UTF-8", found
        )
    try:
        return orjson.loads(raw), None
    except orjson.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        return None, Issue(
            Code.FILE_JSON,
            name,
            "",
            f"invalid JSON at {where}: {exc.msg}",
            "a JSON document",
            exc.msg,
        )


def read_document(path: Path, label: str | None = None) -> Loaded:
    """Read and parse one annotation file; problems become an issue, never an exception."""
    raw, issue = read_raw(path, label)
    if raw is None:
        return Loaded(path, issue=issue)
    doc, issue = parse_raw(raw, label or str(path))
    return Loaded(path, doc=doc, issue=issue)


def find_files(paths: Iterable[Path]) -> Iterator[tuple[Path | None, Issue | None]]:
    """Each file to check (folders searched for *.json, sorted), or the issue of a path
    that gives none."""
    for path in paths:
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*.json*")
                if p.suffix in (".json", ".jsonl")
                and (p.is_file() or (p.is_symlink() and not p.exists()))
            )
            if not found:
                yield (
                    None,
                    Issue(
                        Code.PATH_EMPTY,
                        str(path),
                        "",
                        "the folder holds no *.json or *.jsonl annotation file",
                        "one or more *.json files",
                        "none",
                    ),
                )
            for p in found:
                yield p, None
        elif path.exists():
            yield path, None
        else:
            yield (
                None,
                Issue(
                    Code.PATH_MISSING,
                    str(path),
                    "",
                    "no such file or folder",
                    "an existing path",
                    "nothing",
                ),
            )


@dataclass(frozen=True)
class Source:
    """One document's bytes and the name its issues carry (`file`, or `file:line` for a
    line of a JSON Lines bundle)."""

    name: str
    raw: bytes


def iter_sources(paths: Iterable[Path]) -> Iterator[Source | Issue]:
    """Every document under `paths`: each *.json file, each line of each *.jsonl file;
    or the issue of a path, file or line that gives none."""
    for path, issue in find_files(paths):
        if issue is not None or path is None:
            yield issue  # type: ignore[misc]
            continue
        raw, issue = read_raw(path)
        if raw is None:
            yield issue  # type: ignore[misc]
        elif path.suffix == ".jsonl":
            for number, line in enumerate(raw.split(b"\n"), start=1):
                if line.strip():
                    yield Source(f"{path}:{number}", line)
        else:
            yield Source(str(path), raw)


def count_records(doc: Any, counts: Counter[str]) -> None:
    if not isinstance(doc, dict):
        return
    counts["documents"] += 1
    for kind in RECORD_KINDS:
        records = doc.get(kind)
        if isinstance(records, list):
            counts[kind] += len(records)
            counts["spans"] += sum(
                len(r.get("spans") or ()) for r in records if isinstance(r, dict)
            )


def validate_paths(paths: Iterable[Path], *, engine_name: Engine = "rust") -> Report:
    """Check every annotation file under `paths`; collect every problem."""
    report = Report()
    for path, issue in find_files(paths):
        if issue is not None:
            report.issues.append(issue)
            continue
        assert path is not None
        report.files_checked += 1
        loaded = read_document(path)
        if loaded.issue is not None:
            report.issues.append(loaded.issue)
            continue
        report.extend(validate_document(loaded.doc, str(path), engine_name=engine_name))
        count_records(loaded.doc, report.counts)
    return report
