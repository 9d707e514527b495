"""Turn a hand-written annotation sheet into a dataset file, offsets computed, never typed.

    .venv/bin/python tools/gold_from_phrases.py datasets/sheets/voa-8010779.json
    .venv/bin/python tools/gold_from_phrases.py --out /tmp/second datasets/sheets/second-reading/*.json

An annotator reads the story and writes a sheet (datasets/sheets/<doc>.json): every
figure as the exact phrase of the text and, when the phrase occurs more than once, which
occurrence ("n", 1-based), or the phrase inside a longer one ("within": "368-7"); every actor and location with the phrases that mention it
("Kenya" = every whole-word occurrence not inside a longer mention already taken;
"Kenya#2" = only the second occurrence). This script finds the phrases in the source
text (Python string offsets, i.e. code points), checks that each is found and unambiguous,
and writes datasets/annotations/<doc>.json in the schema's shape (`--out DIR` writes to
another folder: a second, independent reading of the same stories, for agreement, is
built outside the dataset). It refuses to overwrite a file it did not write (one whose
provenance lacks the sheet marker).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from sitrep.schema.documents import new_annotation, scan_sources

ROOT = Path(__file__).resolve().parents[1]
MARK = "Offsets computed from the exact phrases of datasets/sheets/"
FIGURE_KEYS = (
    "counted", "description", "unit", "currency", "low", "best", "high", "qualifier",
    "vague_term", "realis", "event", "part_of", "claimed_by", "quantity",
)  # fmt: skip


class SheetError(Exception):
    """A phrase of the sheet is missing from, or ambiguous in, the text."""


def occurrences(text: str, phrase: str) -> list[tuple[int, int]]:
    # whole words: not inside a longer word, hyphenated compound or number ("16" of "16.5")
    pattern = re.compile(r"(?<![\w-])(?<!\d[.,])" + re.escape(phrase) + r"(?![\w-]|[.,]\d)")
    return [(m.start(), m.end()) for m in pattern.finditer(text)]


def _pick(text: str, phrase: str, n: int | None, where: str) -> tuple[int, int]:
    found = occurrences(text, phrase)
    if not found:
        raise SheetError(f"{where}: phrase {phrase!r} not in the text")
    if n is None and len(found) > 1:
        raise SheetError(f"{where}: phrase {phrase!r} occurs {len(found)} times; give n")
    index = (n or 1) - 1
    if index >= len(found):
        raise SheetError(f"{where}: phrase {phrase!r} occurs {len(found)} times, not {n}")
    return found[index]


def _span(text: str, start: int, end: int) -> dict[str, Any]:
    return {"start": start, "end": end, "text": text[start:end]}


def mention_spans(
    text: str, records: list[dict[str, Any]], taken: list[tuple[int, int]]
) -> dict[str, list[tuple[int, int]]]:
    """Record id -> its spans; longer phrases first, an occurrence taken once."""
    wanted = []
    for record in records:
        for mention in record["mentions"]:
            phrase, _, nth = mention.partition("#")
            wanted.append((len(phrase), record["id"], phrase, int(nth) if nth else None))
    out: dict[str, list[tuple[int, int]]] = {r["id"]: [] for r in records}
    for _, rid, phrase, nth in sorted(wanted, key=lambda w: -w[0]):
        if nth is not None:
            spans = [_pick(text, phrase, nth, f"{rid}")]
        else:
            spans = [
                (s, e)
                for s, e in occurrences(text, phrase)
                if not any(a < e and s < b for a, b in taken)
            ]
            if not spans:
                raise SheetError(f"{rid}: mention {phrase!r} not found (or all taken)")
        taken.extend(spans)
        out[rid].extend(spans)
    return {rid: sorted(spans) for rid, spans in out.items()}


def build(sheet: dict[str, Any], source: Any) -> dict[str, Any]:
    text = source.text
    taken: list[tuple[int, int]] = []
    figures = []
    for fig in sheet["figures"]:
        if "within" in fig:  # "368" of "368-7": the phrase inside a unique longer one
            outer, _ = _pick(text, fig["within"], fig.get("n"), fig["id"])
            start = text.index(fig["phrase"], outer)
            end = start + len(fig["phrase"])
        else:
            start, end = _pick(text, fig["phrase"], fig.get("n"), fig["id"])
        figures.append(
            {"id": fig["id"], **{k: fig.get(k) for k in FIGURE_KEYS}}
            | {"spans": [_span(text, start, end)]}
        )
    actor_spans = mention_spans(text, sheet["actors"], taken)
    location_spans = mention_spans(text, sheet["locations"], taken)
    actors = [
        {
            "id": a["id"],
            "name": a["name"],
            "aliases": a.get("aliases", []),
            "type": a["type"],
            "country": a.get("country"),
            "wikidata": None,
            "entity": a.get("entity"),
            "affiliated_with": a.get("affiliated_with"),
            "spans": [_span(text, s, e) for s, e in actor_spans[a["id"]]],
        }
        for a in sheet["actors"]
    ]
    locations = [
        {
            "id": p["id"],
            "name": p["name"],
            "type": p["type"],
            "country": p.get("country"),
            "parent": p.get("parent"),
            "coordinates": None,
            "wikidata": None,
            "entity": p.get("entity"),
            "spans": [_span(text, s, e) for s, e in location_spans[p["id"]]],
        }
        for p in sheet["locations"]
    ]
    doc = new_annotation(source, sheet["annotators"], sheet["created"])
    doc.update(actors=actors, locations=locations, figures=figures)
    doc["provenance"] |= {
        "updated": None,
        "notes": f"{sheet['notes']} {MARK}{sheet['document']}.json.",
        # a sheet lists every figure, actor and location of its text (not its events)
        "coverage": sheet.get("coverage", ["actors", "locations", "figures"]),
    }
    return doc


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("sheets", nargs="+", help="annotation sheets (JSON)")
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "datasets" / "annotations",
        help="folder of the annotation files written (default: datasets/annotations)",
    )
    args = parser.parse_args(argv)
    if not args.out.is_dir():
        print(f"{args.out}: [out.missing] expected an existing folder", file=sys.stderr)
        return 2
    sources, _ = scan_sources(ROOT / "seeds")
    by_id = {s.id: s for s in sources}
    status = 0
    for name in args.sheets:
        sheet = json.loads(Path(name).read_text(encoding="utf-8"))
        out = args.out / f"{sheet['document']}.json"
        if out.exists() and MARK not in json.loads(out.read_text(encoding="utf-8"))[
            "provenance"
        ].get("notes", ""):
            print(f"{out}: not written by this script; left alone", file=sys.stderr)
            status = 1
            continue
        try:
            doc = build(sheet, by_id[sheet["document"]])
        except SheetError as err:
            print(f"{name}: {err}", file=sys.stderr)
            status = 1
            continue
        tmp = out.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        tmp.replace(out)
        shown = out.relative_to(ROOT) if out.is_relative_to(ROOT) else out
        print(f"{shown}: {len(doc['figures'])} figures")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
