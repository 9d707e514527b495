"""Applying links in place: the `entity` value of a record changes from null to an id,
and every other byte of the annotation file stays as it was (indentation, key order,
escapes: the files are written by several tools in more than one style).

The file's text is scanned once for where each record's `entity` value lies; the new
values are spliced in, the result is parsed back and compared with the document as it
should now be, and only then is the file replaced, atomically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sitrep.annotate.link.records import KINDS
from sitrep.fileio import write_atomic

_DECODER = json.JSONDecoder()
_scanstring: Any = getattr(json.decoder, "scanstring")  # noqa: B009 (the C scanner; typeshed omits it)
_SPACE = " \t\n\r"


def _ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in _SPACE:
        i += 1
    return i


def _members(text: str, i: int) -> Any:
    """(key, value start, value end) of the object starting at `i`, then its end."""
    i = _ws(text, i + 1)
    while text[i] != "}":
        key, i = _scanstring(text, i + 1)
        i = _ws(text, _ws(text, i) + 1)  # past the colon
        _, end = _DECODER.raw_decode(text, i)
        yield key, i, end
        i = _ws(text, end)
        if text[i] == ",":
            i = _ws(text, i + 1)


def _elements(text: str, i: int) -> Any:
    """(value start, value end) of each item of the array starting at `i`."""
    i = _ws(text, i + 1)
    while text[i] != "]":
        _, end = _DECODER.raw_decode(text, i)
        yield i, end
        i = _ws(text, end)
        if text[i] == ",":
            i = _ws(text, i + 1)


def entity_spans(text: str) -> dict[str, tuple[int, int]]:
    """Where the `entity` value of each actor and location lies in `text`, by the
    record's JSON pointer (`/actors/3`)."""
    spans: dict[str, tuple[int, int]] = {}
    for key, start, _ in _members(text, _ws(text, 0)):
        if key not in KINDS or text[start] != "[":
            continue
        for n, (item, _end) in enumerate(_elements(text, start)):
            if text[item] != "{":
                continue
            for field, value, value_end in _members(text, item):
                if field == "entity":
                    spans[f"/{key}/{n}"] = (value, value_end)
    return spans


def linked_text(text: str, links: dict[str, str]) -> str:
    """`text` with the null `entity` of each record in `links` (pointer -> entity id)
    set; a value that is not null is never replaced (KeyError/ValueError otherwise)."""
    spans = entity_spans(text)
    out = text
    for pointer in sorted(links, key=lambda p: spans[p][0], reverse=True):
        start, end = spans[pointer]
        if text[start:end] != "null":
            raise ValueError(f"{pointer}/entity is {text[start:end]}, not null")
        out = out[:start] + json.dumps(links[pointer]) + out[end:]
    expected = json.loads(text)
    for pointer, entity in links.items():
        _, field, n = pointer.split("/")
        expected[field][int(n)]["entity"] = entity
    if json.loads(out) != expected:  # the splice touched something else: never write it
        raise ValueError("the edited text does not parse back to the linked document")
    return out


def write_links(path: Path, links: dict[str, str]) -> None:
    """Set the entity of each record in `links` in the file at `path`, atomically."""
    raw = path.read_bytes()
    text = raw.decode("utf-8")
    write_atomic(path, linked_text(text, links), mode=path.stat().st_mode & 0o777)
