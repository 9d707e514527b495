"""Who made what a pull releases: every hand behind a ground truth, their notes and their
per-region comments.

Label Studio records one author per annotation. A ground truth is often more: the
adjudicator's merge of several annotators' records, or an annotator's annotation that a
reviewer starred. When a pull converts a task, it credits the released document with:

1. every annotator whose records it holds (a record of theirs with the same kind and the
   same spans as one in the ground truth), after the ground truth's own author, in
   `provenance.annotators`, and their annotation ids in `label_studio.annotation_ids`;
2. the adjudicator (`provenance.adjudicator`): the ground truth's author, when it holds
   records of other annotators;
3. the notes of those annotators and every per-region comment (Label Studio keeps them
   as `meta.text` on a result) in `provenance.notes`, each line saying whose it is and,
   for a comment, which words of the text it is about.
"""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]
KINDS = ("actors", "locations", "events", "figures")


def comments(results: Any, author: str | None) -> list[str]:
    """The per-region comments of one annotation, one line each."""
    out: list[str] = []
    seen: set[tuple[str, str]] = set()
    for item in results if isinstance(results, list) else []:
        if not isinstance(item, dict):
            continue
        meta = item.get("meta")
        texts = meta.get("text") if isinstance(meta, dict) else None
        if not isinstance(texts, list):
            continue
        raw = item.get("value")
        value: Json = raw if isinstance(raw, dict) else {}
        quote = value["text"] if isinstance(value.get("text"), str) else ""
        for text in texts:
            if isinstance(text, str) and text.strip() and (quote, text) not in seen:
                seen.add((quote, text))
                on = f' on "{quote}"' if quote else ""
                out.append(f"{author or 'unknown'}{on}: {text.strip()}")
    return out


def _keys(doc: Json) -> set[tuple[str, frozenset[tuple[int, int]]]]:
    return {
        (kind, frozenset((s["start"], s["end"]) for s in record.get("spans") or []))
        for kind in KINDS
        for record in doc.get(kind) or []
    }


def credit(truth: Json, others: list[tuple[int, str | None, Json]], lines: list[str]) -> Json:
    """`truth` (a converted ground truth, changed in place and returned) credited with
    the annotators of `others` ((annotation id, annotator, converted document)) whose
    records it holds, the adjudicator, and `lines` of notes and comments."""
    prov = truth["provenance"]
    author = prov["annotators"][0]
    held = _keys(truth)
    # other annotators only: an author's own older annotation of the task is not a hand
    hands = [
        (aid, who, doc) for aid, who, doc in others if who and who != author and _keys(doc) & held
    ]
    names = list(dict.fromkeys([author, *(who for _, who, _ in hands)]))
    prov["annotators"] = names
    origin = prov.get("label_studio")
    if origin is not None:
        ids = [*origin["annotation_ids"], *(aid for aid, _, _ in hands)]
        origin["annotation_ids"] = list(dict.fromkeys(ids))
    if any(who != author for _, who, _ in hands):
        prov["adjudicator"] = author
    notes = [prov["notes"]] if prov.get("notes") else []
    notes += [
        f"{who}: {doc['provenance']['notes']}"
        for _, who, doc in hands
        if who != author and doc["provenance"].get("notes")
    ]
    notes += lines
    prov["notes"] = "\n".join(notes) if notes else None
    return truth
