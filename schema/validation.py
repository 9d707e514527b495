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
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal, Protocol

import orjson

from sitrep.schema import spec
from sitrep.schema.files import Source, duplicate_key_issues, find_files, iter_sources, read_raw
from sitrep.schema.report import Code, Issue, Report, preview
from sitrep.schema.rules import RECORD_KINDS, check_rules

Engine = Literal["rust", "python"]

__all__ = [  # the files API is re-exported: callers read and find files through here
    "Engine",
    "Loaded",
    "Source",
    "check_source",
    "count_records",
    "engine",
    "find_files",
    "iter_sources",
    "parse_raw",
    "pointer",
    "read_document",
    "read_raw",
    "validate_document",
    "validate_paths",
]

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
    return preview(value)


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


@cache
def _format_patterns() -> dict[str, str]:
    """pattern -> format, for the strings whose pattern bounds their format (dates and
    date-times: no year 0000, no leap second, ...). Such a pattern is part of the format:
    it fails as `schema.format`, once per place, whichever engine finds it."""
    out: dict[str, str] = {}
    stack: list[Any] = [spec.validation_schema()]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("format"), str) and isinstance(node.get("pattern"), str):
                out[node["pattern"]] = node["format"]
                out[ecma_patterns(node)["pattern"]] = node["format"]  # as jsonschema-rs has it
            stack += node.values()
        elif isinstance(node, list):
            stack += node
    return out


def _keyword(keyword: str, value: Any) -> tuple[str, Any]:
    if keyword == "pattern" and isinstance(value, str) and value in _format_patterns():
        return "format", _format_patterns()[value]
    return keyword, value


def _once(issues: list[Issue]) -> list[Issue]:
    """Issues in order, each (code, pointer) once (a format and its bounding pattern)."""
    seen: set[tuple[Code, str]] = set()
    out = []
    for issue in issues:
        if (issue.code, issue.pointer) not in seen:
            seen.add((issue.code, issue.pointer))
            out.append(issue)
    return out


NEWLINE_GUARD = "$(?!\\n)"


def ecma_patterns(node: Any) -> Any:
    """`node` with each pattern's trailing-newline guard `$(?!\\n)` written as `$`. The
    guard is for Python's `re`, where `$` also matches before a final newline; in
    ECMA-262 (jsonschema-rs) and Rust `$` matches only at the very end, so the two mean
    the same there, and without the lookahead jsonschema-rs keeps its regexes on the fast,
    non-backtracking engine (every id and reference has a pattern)."""
    if isinstance(node, dict):
        out = {k: ecma_patterns(v) for k, v in node.items()}
        pattern = node.get("pattern")
        if isinstance(pattern, str) and pattern.endswith(NEWLINE_GUARD):
            out["pattern"] = pattern.removesuffix(NEWLINE_GUARD) + "$"
        return out
    if isinstance(node, list):
        return [ecma_patterns(v) for v in node]
    return node


class RustEngine:
    """jsonschema-rs: compiled once, validates a document in microseconds."""

    def __init__(self, schema: dict[str, Any]) -> None:
        import jsonschema_rs

        self._validator = jsonschema_rs.validator_for(ecma_patterns(schema), validate_formats=True)

    def is_valid(self, doc: Any) -> bool:
        return bool(self._validator.is_valid(doc))

    def issues(self, doc: Any, file: str) -> list[Issue]:
        out = []
        for err in _rust_leaves(self._validator.iter_errors(doc)):
            keyword = str(err.schema_path[-1]) if err.schema_path else ""
            keyword, value = _keyword(keyword, getattr(err.kind, "value", None))
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
        return _once(out)


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
            keyword, value = _keyword(str(err.validator), err.validator_value)
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
        return _once(out)


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


def parse_raw(raw: bytes, name: str) -> tuple[Any, Issue | None]:
    """One JSON document from UTF-8 bytes (strict: no NaN or Infinity, at most 1,024
    levels deep), or its issue."""
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


def count_records(doc: Any, counts: Counter[str]) -> None:
    """Add the documents, records and spans of `doc` to `counts`, whatever its shape."""
    if not isinstance(doc, dict):
        return
    counts["documents"] += 1
    for kind in RECORD_KINDS:
        records = doc.get(kind)
        if isinstance(records, list):
            counts[kind] += len(records)
            counts["spans"] += sum(
                len(spans)
                for r in records
                if isinstance(r, dict) and isinstance(spans := r.get("spans"), list)
            )


def check_source(source: Source, *, engine_name: Engine = "rust") -> tuple[Any, list[Issue]]:
    """The parsed document of `source` and every issue of it: JSON, duplicate keys,
    JSON Schema and rules."""
    doc, issue = parse_raw(source.raw, source.name)
    if issue is not None:
        return None, [issue]
    issues = duplicate_key_issues(source.raw, source.name, doc)
    return doc, issues + validate_document(doc, source.name, engine_name=engine_name)


def validate_paths(paths: Iterable[Path], *, engine_name: Engine = "rust") -> Report:
    """Check every annotation document under `paths` (each *.json file, each line of a
    *.jsonl file) with this layer only; collect every problem, never raise."""
    report = Report()
    for item in iter_sources(paths):
        if isinstance(item, Issue):
            report.issues.append(item)
            if item.code not in (Code.PATH_MISSING, Code.PATH_EMPTY, Code.PATH_UNREADABLE):
                report.files_checked += 1
            continue
        report.files_checked += 1
        doc, issues = check_source(item, engine_name=engine_name)
        report.extend(issues)
        count_records(doc, report.counts)
    return report
