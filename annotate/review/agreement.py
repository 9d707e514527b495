"""Inter-annotator agreement (Label Studio's Community edition has none).

Input: the annotations `sitrep annotate pull` wrote, one schema document per annotation
(`datasets/label-studio/<project>/annotations/<document id>/<annotation id>.json`), grouped
by document; ground-truth annotations (adjudicated) are left out. For every document with
two or more annotators:

- spans: per label (record kind) and annotator pair, F1 of exact and of overlapping spans
  (one-to-one matching, as in `sitrep annotate eval`);
- categorical attributes (event type, actor type, location type, figure qualifier, realis
  of events and figures): Krippendorff's alpha, nominal, from the `krippendorff` package;
  the units are the spans any annotator marked, the value an annotator gives a unit is the
  attribute of their record with exactly that span (missing when they have none);
- figure intervals: for figures both annotators marked with the same span, how often
  (low, best, high) agree;
- relations: every reference and role of the layout as a triple (source record, label,
  target record), records matched by a shared span; F1 per pair.

Everything is reported per annotator pair, per label and for the project as a whole.
"""

from __future__ import annotations

import html
import itertools
import math
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import krippendorff
import numpy as np
import orjson

from sitrep.annotate.labelstudio import team
from sitrep.annotate.labelstudio.labelconfig import Layout, layout
from sitrep.annotate.prelabel.evaluate import match_spans

Json = dict[str, Any]
Span = tuple[int, int]
ATTRIBUTES: tuple[tuple[str, str], ...] = (
    ("events", "type"),
    ("events", "realis"),
    ("actors", "type"),
    ("locations", "type"),
    ("figures", "qualifier"),
    ("figures", "realis"),
)


@dataclass
class Annotation:
    document: str
    annotator: str
    doc: Json
    annotation_id: int | None = None


def load_annotations(folder: Path, leave_out: Collection[str] = ()) -> list[Annotation]:
    """Every pulled annotation under `folder` (not the ground truth), but those of the
    annotators in `leave_out` (the team's reviewers: an adjudicator's merged draft is not
    a third annotator)."""
    out = []
    for path in sorted(folder.rglob("*.json")):
        try:
            doc = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            continue
        prov = doc.get("provenance") or {}
        origin = prov.get("label_studio") or {}
        if origin.get("ground_truth"):
            continue
        annotator = (prov.get("annotators") or ["unknown"])[0]
        if annotator in leave_out:
            continue
        ids = origin.get("annotation_ids") or [None]
        out.append(Annotation(doc["document"]["id"], annotator, doc, ids[0]))
    return out


def group(annotations: Iterable[Annotation]) -> dict[str, dict[str, Annotation]]:
    """document id -> annotator -> their latest annotation; only documents with 2+."""
    by_doc: dict[str, dict[str, Annotation]] = {}
    for ann in annotations:
        mine = by_doc.setdefault(ann.document, {})
        have = mine.get(ann.annotator)
        if have is None or (ann.annotation_id or 0) > (have.annotation_id or 0):
            mine[ann.annotator] = ann
    return {d: a for d, a in by_doc.items() if len(a) >= 2}


def _spans(doc: Json, kind: str) -> list[Span]:
    return sorted({(s["start"], s["end"]) for r in doc.get(kind, []) for s in r["spans"]})


def _f1(hits: int, total: int) -> float | None:
    """F1 of two annotators: twice the matches over both counts (None when both are 0)."""
    return round(2 * hits / total, 4) if total else None


@dataclass
class PairCounts:
    a: int = 0
    b: int = 0
    exact: int = 0
    overlap: int = 0

    def scores(self) -> Json:
        total = self.a + self.b
        return {
            "spans": [self.a, self.b],
            "exact_f1": _f1(self.exact, total),
            "overlap_f1": _f1(self.overlap, total),
        }


@dataclass
class Report:
    documents: int = 0
    annotators: list[str] = field(default_factory=list)
    spans: dict[str, dict[str, PairCounts]] = field(default_factory=dict)
    alpha: dict[str, Json] = field(default_factory=dict)
    intervals: dict[str, list[int]] = field(default_factory=dict)  # pair -> [matched, agree]
    relations: dict[str, list[int]] = field(default_factory=dict)  # pair -> [a, b, hits]

    def summary(self) -> Json:
        def mean(values: Iterable[float | None]) -> float | None:
            kept = [v for v in values if v is not None]
            return round(sum(kept) / len(kept), 4) if kept else None

        span_f1 = {
            label: {
                "exact_f1": mean(p.scores()["exact_f1"] for p in pairs.values()),
                "overlap_f1": mean(p.scores()["overlap_f1"] for p in pairs.values()),
            }
            for label, pairs in self.spans.items()
        }
        matched = sum(v[0] for v in self.intervals.values())
        agree = sum(v[1] for v in self.intervals.values())
        rel_total = sum(v[0] + v[1] for v in self.relations.values())
        rel_hits = sum(v[2] for v in self.relations.values())
        return {
            "documents": self.documents,
            "annotators": len(self.annotators),
            "span_f1": span_f1,
            "alpha": {k: v["all"] for k, v in self.alpha.items()},
            "figure_interval_agreement": round(agree / matched, 4) if matched else None,
            "relation_f1": _f1(rel_hits, rel_total),
        }

    def to_dict(self) -> Json:
        return {
            "summary": self.summary(),
            "annotators": self.annotators,
            "spans": {
                label: {pair: c.scores() for pair, c in pairs.items()}
                for label, pairs in self.spans.items()
            },
            "alpha": self.alpha,
            "figure_intervals": {
                pair: {"matched": m, "agree": a, "rate": round(a / m, 4) if m else None}
                for pair, (m, a) in self.intervals.items()
            },
            "relations": {
                pair: {"relations": [a, b], "f1": _f1(h, a + b)}
                for pair, (a, b, h) in self.relations.items()
            },
        }


def _pair(a: str, b: str) -> str:
    return f"{a} | {b}"


def _triples(doc: Json, lay: Layout) -> list[tuple[frozenset[Span], str, frozenset[Span]]]:
    spans = {
        r["id"]: frozenset((s["start"], s["end"]) for s in r["spans"])
        for kind in lay.kinds
        for r in doc.get(kind.kind, [])
    }
    out = []
    for kind in lay.kinds:
        for r in doc.get(kind.kind, []):
            for ref in kind.references:
                target = r.get(ref.field)
                if target in spans:
                    out.append((spans[r["id"]], ref.label, spans[target]))
            for roles in kind.role_lists:
                for item in r.get(roles.field, []):
                    target = item.get(roles.ref_key)
                    if target in spans:
                        out.append((spans[r["id"]], str(item.get(roles.role_key)), spans[target]))
    return out


def _relation_hits(a: list[Any], b: list[Any]) -> int:
    used: set[int] = set()
    hits = 0
    for source, label, target in a:
        for n, (s2, l2, t2) in enumerate(b):
            if n not in used and label == l2 and source & s2 and target & t2:
                used.add(n)
                hits += 1
                break
    return hits


def _alpha(matrix: list[list[float]]) -> float | None:
    data = np.array(matrix, dtype=float)
    pairable = (~np.isnan(data)).sum(axis=0) >= 2
    if pairable.sum() < 1 or len(np.unique(data[:, pairable][~np.isnan(data[:, pairable])])) < 2:
        # alpha is undefined with no pairable unit; with a single value everyone agrees
        return 1.0 if pairable.sum() else None
    value = float(
        krippendorff.alpha(reliability_data=data[:, pairable], level_of_measurement="nominal")
    )
    return None if math.isnan(value) else round(value, 4)


def agreement(annotations: Iterable[Annotation], lay: Layout | None = None) -> Report:
    lay = lay or layout()
    docs = group(annotations)
    report = Report(documents=len(docs))
    report.annotators = sorted({a for per in docs.values() for a in per})
    units: dict[tuple[str, str], list[tuple[str, str, Span]]] = {k: [] for k in ATTRIBUTES}
    values: dict[tuple[str, str], dict[str, dict[tuple[str, str, Span], Any]]] = {
        k: {} for k in ATTRIBUTES
    }
    for doc_id, per in sorted(docs.items()):
        for kind in lay.kinds:
            for (name_a, a), (name_b, b) in itertools.combinations(sorted(per.items()), 2):
                sa, sb = _spans(a.doc, kind.kind), _spans(b.doc, kind.kind)
                exact, overlap = match_spans(sa, sb)
                counts = report.spans.setdefault(kind.label, {}).setdefault(
                    _pair(name_a, name_b), PairCounts()
                )
                counts.a += len(sa)
                counts.b += len(sb)
                counts.exact += len(exact)
                counts.overlap += len(overlap)
        for key in ATTRIBUTES:
            kind_name, attr = key
            seen: set[Span] = set()
            for name, ann in per.items():
                for r in ann.doc.get(kind_name, []):
                    for s in r["spans"]:
                        span = (s["start"], s["end"])
                        values[key].setdefault(name, {})[(doc_id, kind_name, span)] = r.get(attr)
                        seen.add(span)
            units[key].extend((doc_id, kind_name, span) for span in sorted(seen))
        for (name_a, a), (name_b, b) in itertools.combinations(sorted(per.items()), 2):
            fa = {
                (f["spans"][0]["start"], f["spans"][0]["end"]): f for f in a.doc.get("figures", [])
            }
            fb = {
                (f["spans"][0]["start"], f["spans"][0]["end"]): f for f in b.doc.get("figures", [])
            }
            both = set(fa) & set(fb)
            same = sum(all(fa[s][k] == fb[s][k] for k in ("low", "best", "high")) for s in both)
            entry = report.intervals.setdefault(_pair(name_a, name_b), [0, 0])
            entry[0] += len(both)
            entry[1] += same
            ta, tb = _triples(a.doc, lay), _triples(b.doc, lay)
            rel = report.relations.setdefault(_pair(name_a, name_b), [0, 0, 0])
            rel[0] += len(ta)
            rel[1] += len(tb)
            rel[2] += _relation_hits(ta, tb)
    for key in ATTRIBUTES:
        name = f"{key[0]}.{key[1]}"
        codes: dict[Any, float] = {}

        def matrix(
            names: list[str], key: tuple[str, str] = key, codes: dict[Any, float] = codes
        ) -> list[list[float]]:
            def code(value: Any) -> float:
                if value is None:
                    return math.nan
                return codes.setdefault(value, float(len(codes)))

            return [[code(values[key].get(n, {}).get(unit)) for unit in units[key]] for n in names]

        alpha: Json = {"units": len(units[key]), "all": None, "pairs": {}}
        if units[key]:
            alpha["all"] = _alpha(matrix(report.annotators))
            for one, other in itertools.combinations(report.annotators, 2):
                alpha["pairs"][_pair(one, other)] = _alpha(matrix([one, other]))
        report.alpha[name] = alpha
    return report


# --- the chart -----------------------------------------------------------------------------


def _bar(label: str, value: float | None, y: int, colour: str) -> str:
    width = 0 if value is None else max(0.0, min(1.0, value)) * 400
    shown = "n/a" if value is None else f"{value:.2f}"
    return (
        f'<text x="0" y="{y + 14}" font-size="13">{html.escape(label)}</text>'
        f'<rect x="230" y="{y}" width="400" height="18" fill="#eee"/>'
        f'<rect x="230" y="{y}" width="{width:.1f}" height="18" fill="{colour}"/>'
        f'<text x="640" y="{y + 14}" font-size="13">{shown}</text>'
    )


def render_html(report: Report, title: str) -> str:
    """A self-contained page (inline SVG, no script, no network) a project lead can read
    at a glance: bars for span F1 per label, alpha per attribute, intervals, relations,
    and a table per annotator pair."""
    s = report.summary()
    rows: list[tuple[str, float | None, str]] = []
    for label, f1 in s["span_f1"].items():
        rows.append((f"{label} spans, exact F1", f1["exact_f1"], "#1f77b4"))
        rows.append((f"{label} spans, overlap F1", f1["overlap_f1"], "#7fb3d5"))
    for name, value in s["alpha"].items():
        rows.append((f"alpha {name}", value, "#2ca02c"))
    rows.append(("figure intervals agree", s["figure_interval_agreement"], "#ff7f0e"))
    rows.append(("relations F1", s["relation_f1"], "#9467bd"))
    bars = "".join(
        _bar(label, value, 10 + 26 * n, colour) for n, (label, value, colour) in enumerate(rows)
    )
    height = 20 + 26 * len(rows)
    pairs = report.to_dict()
    table = ["<table><tr><th>pair</th><th>label</th><th>exact F1</th><th>overlap F1</th></tr>"]
    for label, per in pairs["spans"].items():
        for pair, scores in per.items():
            table.append(
                f"<tr><td>{html.escape(pair)}</td><td>{html.escape(label)}</td>"
                f"<td>{scores['exact_f1']}</td><td>{scores['overlap_f1']}</td></tr>"
            )
    table.append("</table>")
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:2px 10px;"
        "border-bottom:1px solid #ddd;text-align:left}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>"
        f"<p>{report.documents} documents with two or more annotators; annotators: "
        f"{html.escape(', '.join(report.annotators))}. Scores from 0 (no agreement) to 1.</p>"
        f'<svg xmlns="http://www.w3.org/2000/svg" width="700" height="{height}">{bars}</svg>'
        "<h2>Per annotator pair</h2>" + "".join(table) + "</body></html>\n"
    )


def release_summary(
    folder: Path, leave_out: Collection[str] | None = None
) -> Callable[[set[str]], dict[str, Any]]:
    """The agreement summary a release manifest records (`build_release(agreement=...)`):
    for the released documents, from the annotations pulled from Label Studio under
    `folder` (every project), without those of `leave_out` (default: the reviewers on the
    team roster `folder/team.json`); documents annotated once count 0."""
    if leave_out is None:
        leave_out = team.reviewers(folder / team.ROSTER)

    def summary(documents: set[str]) -> dict[str, Any]:
        pulled = []
        if folder.is_dir():
            for project in sorted(p for p in folder.iterdir() if (p / "annotations").is_dir()):
                pulled += [
                    a
                    for a in load_annotations(project / "annotations", leave_out)
                    if a.document in documents
                ]
        return agreement(pulled).summary()

    return summary
