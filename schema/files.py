"""Finding and reading annotation files so that no input can hang, crash or hide.

1. A folder is walked with `os.scandir`, never `rglob`: a subfolder that cannot be listed
   is an issue (`path.unreadable`), not a silent gap; a link to a folder is reported and
   not followed (no loops, no escaping the tree).
2. Every file is examined with `stat` before it is opened: a FIFO, socket or device is an
   issue (`path.special`) and is never opened, so nothing waits on a writer that never
   comes. Files are opened with `O_NONBLOCK` and checked again with `fstat`, so a file
   swapped for a FIFO in between cannot block either.
3. A file is refused by its size before a byte is parsed (`file.too_large`, the schema's
   `x-sitrep-max-document-bytes`); a `*.jsonl` bundle is streamed a line at a time and each
   line is held to the same limit, so memory stays bounded whatever the file holds.
4. The same file reached twice (a folder and one of its own files, two links) is read once.
5. Duplicate keys, which every JSON parser resolves silently and differently, are found
   by a second, key-preserving parse (`duplicate_keys`).
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import orjson

from sitrep.schema import spec
from sitrep.schema.report import Code, Issue

SUFFIXES = (".json", ".jsonl")
DEFAULT_MAX_BYTES = 16 * 1024 * 1024
_READ = 1 << 20


@cache
def max_document_bytes() -> int:
    """The largest document the schema allows, in bytes (`x-sitrep-max-document-bytes`)."""
    return int(spec.load_schema().get("x-sitrep-max-document-bytes", DEFAULT_MAX_BYTES))


# --- issues --------------------------------------------------------------------------


def _kind(mode: int) -> str | None:
    """What a non-regular file is, or None for a regular file."""
    for test, name in (
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISDIR, "a folder"),
    ):
        if test(mode):
            return name
    return None if stat.S_ISREG(mode) else "not a regular file"


def special(name: str, what: str) -> Issue:
    return Issue(
        Code.PATH_SPECIAL,
        name,
        "",
        f"{what}, not a regular file: it was not opened",
        "a regular file",
        what,
    )


def unreadable(name: str, exc: OSError, what: str = "file") -> Issue:
    code = Code.PATH_UNREADABLE if what == "folder" else Code.FILE_UNREADABLE
    return Issue(
        code,
        name,
        "",
        f"cannot read the {what}: {exc.strerror or exc}",
        f"a readable {what}",
        type(exc).__name__,
    )


def too_large(name: str, size: int, limit: int) -> Issue:
    return Issue(
        Code.FILE_TOO_LARGE,
        name,
        "",
        "the document is larger than the schema allows; it was not parsed "
        "(split it, or check it is the file you meant)",
        f"at most {limit:,} bytes",
        f"{size:,} bytes" if size > limit else f"more than {limit:,} bytes",
    )


def empty(name: str, size: int) -> Issue:
    return Issue(
        Code.FILE_EMPTY, name, "", "the file is empty", "a JSON document", f"{size} byte(s)"
    )


def bom(name: str) -> Issue:
    reason = "the file starts with a byte-order mark; save it as UTF-8 without BOM"
    return Issue(Code.FILE_ENCODING, name, "", reason, "UTF-8 without BOM", "BOM EF BB BF")


# --- finding -------------------------------------------------------------------------


def _linked_folder(path: Path) -> Issue:
    return special(str(path), "a link to a folder (not followed; pass the folder itself)")


def walk(folder: Path, suffixes: tuple[str, ...] = SUFFIXES) -> Iterator[Path | Issue]:
    """Every file under `folder` whose name ends in one of `suffixes`, sorted, and an
    issue for each subfolder that cannot be listed or link that points to a folder."""
    found: list[Path] = []
    pending = [folder]
    while pending:
        current = pending.pop()
        try:
            with os.scandir(current) as entries:
                listed = list(entries)
        except OSError as exc:
            yield unreadable(str(current), exc, "folder")
            continue
        for entry in listed:
            path = Path(entry.path)
            try:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(path)
                elif entry.is_symlink() and entry.is_dir():
                    yield _linked_folder(path)
                elif path.suffix in suffixes:
                    found.append(path)
            except OSError as exc:
                yield unreadable(str(path), exc)
    yield from sorted(found)


def _identity(path: Path) -> tuple[int, int] | Path:
    try:
        info = path.stat()
    except OSError:
        return path
    return info.st_dev, info.st_ino


def find_files(
    paths: Iterable[Path], suffixes: tuple[str, ...] = SUFFIXES
) -> Iterator[tuple[Path | None, Issue | None]]:
    """Each file to check, once, or the issue of a path that gives none. Folders are
    walked (`walk`); files are yielded as given and examined when they are read."""
    seen: set[tuple[int, int] | Path] = set()
    for path in paths:
        try:
            is_dir = stat.S_ISDIR(path.stat().st_mode)
        except FileNotFoundError:
            yield None, _missing(path)
            continue
        except OSError as exc:
            yield None, unreadable(str(path), exc)
            continue
        items: Iterable[Path | Issue] = walk(path, suffixes) if is_dir else [path]
        count = 0
        for item in items:
            if isinstance(item, Issue):
                count += 1
                yield None, item
                continue
            key = _identity(item)
            count += 1
            if key not in seen:
                seen.add(key)
                yield item, None
        if is_dir and not count:
            yield None, _nothing_in(path)


def _missing(path: Path) -> Issue:
    return Issue(
        Code.PATH_MISSING, str(path), "", "no such file or folder", "an existing path", "nothing"
    )


def _nothing_in(path: Path) -> Issue:
    return Issue(
        Code.PATH_EMPTY,
        str(path),
        "",
        "the folder holds no *.json or *.jsonl annotation file",
        "one or more *.json files",
        "none",
    )


# --- reading -------------------------------------------------------------------------


def open_regular(path: Path, name: str) -> tuple[int | None, int, Issue | None]:
    """(a descriptor open for reading, the file's size) or the issue that stops it. A
    FIFO, socket or device is never opened; a FIFO swapped in after the check opens
    without blocking (`O_NONBLOCK`) and is refused by `fstat`."""
    try:
        what = _kind(os.stat(path).st_mode)
        if what is not None:
            return None, 0, special(name, what)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        return None, 0, unreadable(name, exc)
    try:
        info = os.fstat(fd)
    except OSError as exc:
        os.close(fd)
        return None, 0, unreadable(name, exc)
    what = _kind(info.st_mode)
    if what is not None:
        os.close(fd)
        return None, 0, special(name, what)
    return fd, info.st_size, None


def _read_upto(fd: int, limit: int) -> bytes:
    """At most `limit` + 1 bytes (one more than allowed says the file grew past it)."""
    parts, size = [], 0
    while size <= limit:
        block = os.read(fd, min(_READ, limit + 1 - size))
        if not block:
            break
        parts.append(block)
        size += len(block)
    return b"".join(parts)


def read_bytes(
    path: Path, label: str | None = None, *, limit: int | None = None
) -> tuple[bytes | None, Issue | None]:
    """The bytes of one regular file of at most `limit` bytes (default: the schema's
    maximum document size), or the issue that stops it. Never reads more than `limit`
    + 1 bytes, never opens a FIFO, socket or device."""
    name = label or str(path)
    limit = max_document_bytes() if limit is None else limit
    fd, size, issue = open_regular(path, name)
    if fd is None:
        return None, issue
    try:
        if size > limit:
            return None, too_large(name, size, limit)
        raw = _read_upto(fd, limit)
    except OSError as exc:
        return None, unreadable(name, exc)
    finally:
        os.close(fd)
    if len(raw) > limit:
        return None, too_large(name, len(raw), limit)
    return raw, None


def read_raw(
    path: Path, label: str | None = None, *, limit: int | None = None
) -> tuple[bytes | None, Issue | None]:
    """The bytes of one document file, or the issue that stops it (see `read_bytes`;
    also empty, or a byte-order mark)."""
    name = label or str(path)
    raw, issue = read_bytes(path, label, limit=limit)
    if raw is None:
        return None, issue
    if not raw.strip():
        return None, empty(name, len(raw))
    if raw.startswith(b"\xef\xbb\xbf"):
        return None, bom(name)
    return raw, None


def _skip_line(handle: Any) -> None:
    """Read past the end of an over-long line without keeping it."""
    while True:
        block = handle.readline(_READ)
        if not block or block.endswith(b"\n"):
            return


def read_lines(path: Path, *, limit: int | None = None) -> Iterator[tuple[str, bytes] | Issue]:
    """(`file:line`, bytes) for each non-blank line of a JSON Lines file, streamed; an
    issue for the file, or for each line longer than `limit`."""
    limit = max_document_bytes() if limit is None else limit
    fd, _, issue = open_regular(path, str(path))
    if fd is None:
        yield issue  # type: ignore[misc]
        return
    lines = 0
    try:
        with os.fdopen(fd, "rb") as handle:
            for number, line in enumerate(iter(lambda: handle.readline(limit + 1), b""), 1):
                if number == 1 and line.startswith(b"\xef\xbb\xbf"):
                    yield bom(str(path))
                    return
                if len(line) > limit and not line.endswith(b"\n"):
                    _skip_line(handle)
                    yield too_large(f"{path}:{number}", len(line), limit)
                    lines += 1
                elif line.strip():
                    lines += 1
                    yield f"{path}:{number}", line
    except OSError as exc:
        yield unreadable(str(path), exc)
        return
    if not lines:
        yield empty(str(path), 0)


# --- duplicate keys ------------------------------------------------------------------


class _Object(dict[str, Any]):
    """An object that remembers the keys it was given more than once."""

    repeated: tuple[str, ...] = ()


def _pointer(parts: Iterable[Any]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def duplicate_keys(raw: bytes) -> list[str]:
    """The JSON pointer of every key an object of `raw` repeats. Values are not
    converted (numbers become their length): only keys matter, and only a document that
    has a repeated key is walked."""
    marked: list[_Object] = []

    def pairs(items: list[tuple[str, Any]]) -> _Object:
        obj = _Object(items)
        if len(obj) != len(items):
            keys = [k for k, _ in items]
            obj.repeated = tuple(k for i, k in enumerate(keys) if k in keys[:i])
            marked.append(obj)
        return obj

    try:
        tree = json.loads(
            raw, object_pairs_hook=pairs, parse_int=len, parse_float=len, parse_constant=len
        )
    except (ValueError, RecursionError):
        return []  # not JSON, or too deep: the JSON parse reports it
    return _repeated_pointers(tree) if marked else []


def _repeated_pointers(tree: Any) -> list[str]:
    out: list[str] = []
    stack: list[tuple[Any, tuple[Any, ...]]] = [(tree, ())]
    while stack:
        node, where = stack.pop()
        if isinstance(node, _Object):
            out += [_pointer((*where, k)) for k in dict.fromkeys(node.repeated)]
            stack += [(v, (*where, k)) for k, v in node.items()]
        elif isinstance(node, list):
            stack += [(v, (*where, i)) for i, v in enumerate(node)]
    return sorted(out)


def may_repeat_keys(raw: bytes, doc: Any) -> bool:
    """False only when `raw` surely repeats no key. Outside strings every colon ends a
    key; inside strings a colon is written as itself unless escaped as `\\u003a`. So
    when `raw` has no such escape, it holds as many colons as `doc` re-serialised exactly
    when it holds as many keys, and a repeated key is one that the parse dropped. A few
    microseconds, against a millisecond for the key-preserving parse."""
    if b"\\u003a" in raw or b"\\u003A" in raw:
        return True
    try:
        again = orjson.dumps(doc)
    except (TypeError, orjson.JSONEncodeError):
        return True
    return raw.count(b":") != again.count(b":")


def duplicate_key_issues(raw: bytes, name: str, doc: Any = None) -> list[Issue]:
    """An issue for each repeated key of `raw` (`doc`, its parse, makes it quick)."""
    if doc is not None and not may_repeat_keys(raw, doc):
        return []
    return [
        Issue(
            Code.FILE_DUPLICATE_KEY,
            name,
            ptr,
            "the object names this property more than once; parsers disagree on which "
            "value counts, so keep one",
            "each property once",
            "a repeated property",
        )
        for ptr in duplicate_keys(raw)
    ]


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
        if path is None:
            yield issue  # type: ignore[misc]
        elif path.suffix == ".jsonl":
            for item in read_lines(path):
                yield item if isinstance(item, Issue) else Source(*item)
        else:
            raw, issue = read_raw(path)
            yield issue if raw is None else Source(str(path), raw)  # type: ignore[misc]
