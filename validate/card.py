"""The dataset card (`README.md` of a release) and the release notes, written from the
manifest: every figure on the card (documents, splits, provenance methods, coverage,
licences) is counted from the data when the release is built, never fixed text.

The card's YAML front matter is what the Hugging Face Hub reads: the licence of the
annotations and one config per table whose `data_files` follow the splits, plus one for
the registry's `entities` (not a table of documents, so not split: its one split is
named `registry`, never `train`, which would read as "entities of the training documents"),
and one each for the claims ledger and its summaries (one split, `ledger`: a claim is
compared with the claims of every source, whatever split its document is in).
"""

from __future__ import annotations

from typing import Any

CITATION_AUTHOR = "sitrep contributors"
TITLE = "sitrep: events, actors and figures reported in the news"
SIDE_TABLES = ("changes", "tombstones", "entities", "claims", "claim_summaries")
# table without splits -> the name of its one split
WHOLE_TABLES = {"entities": "registry", "claims": "ledger", "claim_summaries": "ledger"}
MAX_LISTED = 200  # documents listed one by one on the card; the manifest lists all


def release_notes(manifest: dict[str, Any]) -> str:
    """A Markdown summary of what changed, for the card and CHANGELOG.md."""
    previous = manifest.get("sitrep:previous")
    lines = [f"Changes since {previous}:" if previous else "First release.", ""]
    lines += [
        "| table | rows | added | removed | modified | columns changed |",
        "|---|---:|---:|---:|---:|---|",
    ]
    rows = {r["name"]: r["sitrep:rows"] for r in manifest["resources"]}
    for name, c in manifest["sitrep:changes"].items():
        cols = ", ".join(f"{k} ({v})" for k, v in sorted(c["columns"].items()))
        lines.append(
            f"| {name} | {rows.get(name, 0):,} | {c['added']:,} | {c['removed']:,} | {c['modified']:,} | {cols} |"
        )
    return "\n".join(lines) + "\n"


def bibtex(manifest: dict[str, Any]) -> str:
    """A BibTeX entry for this release."""
    version = manifest["version"]
    year = manifest["created"][:4]
    return (
        f"@misc{{sitrep_{version.replace('.', '_')},\n"
        f"  title        = {{{{{TITLE}}}}},\n"
        f"  author       = {{{{{CITATION_AUTHOR}}}}},\n"
        f"  year         = {{{year}}},\n"
        f"  version      = {{{version}}},\n"
        f"  note         = {{Dataset release {version}, schema "
        f"{manifest['sitrep:schema_version']}; datapackage.json sha256 in the sitrep "
        f"release index}},\n"
        f"  howpublished = {{sitrep release {version} (Frictionless Data Package)}}\n"
        "}\n"
    )


def _configs(manifest: dict[str, Any]) -> str:
    tables = [
        r["name"]
        for r in manifest["resources"]
        if "sitrep:split" not in r and r["name"] not in SIDE_TABLES
    ]
    parts = {
        (r["sitrep:table"], r["sitrep:split"]): r["path"]
        for r in manifest["resources"]
        if "sitrep:split" in r
    }
    out = []
    for table in tables:
        files = "".join(
            f"\n  - split: {split}\n    path: {parts[(table, split)]}"
            for split in manifest["sitrep:splits"]["counts"]
            if (table, split) in parts
        )
        if not files:  # no rows in any split: nothing for a config to load
            continue
        out.append(
            f"- config_name: {table}\n  data_files:{files}"
            + ("\n  default: true" if table == "figures" else "")
        )
    return "\n".join(out + _whole_configs(manifest))


def _whole_configs(manifest: dict[str, Any]) -> list[str]:
    """A config per table without splits (one file, one split), unless it has no rows."""
    return [
        f"- config_name: {r['name']}\n  data_files:\n"
        f"  - split: {WHOLE_TABLES[r['name']]}\n    path: {r['path']}"
        for r in manifest["resources"]
        if r["name"] in WHOLE_TABLES and r["sitrep:rows"]
    ]


def _split_table(manifest: dict[str, Any]) -> str:
    counts = manifest["sitrep:splits"]["counts"]
    tables = [t for t in next(iter(counts.values()), {}) if t != "documents"]
    head = "| split | documents | " + " | ".join(tables) + " |"
    rule = "|---|---:|" + "---:|" * len(tables)
    rows = [
        f"| {s} | {c['documents']:,} | " + " | ".join(f"{c[t]:,}" for t in tables) + " |"
        for s, c in counts.items()
    ]
    return "\n".join([head, rule, *rows])


def _provenance_table(manifest: dict[str, Any]) -> str:
    counts: dict[str, dict[str, int]] = manifest["sitrep:provenance"]
    methods = sorted({m for c in counts.values() for m in c})
    head = "| table | " + " | ".join(methods) + " |"
    rule = "|---|" + "---:|" * len(methods)
    rows = [
        f"| {t} | " + " | ".join(f"{c.get(m, 0):,}" for m in methods) + " |"
        for t, c in counts.items()
    ]
    return "\n".join([head, rule, *rows])


def _documents_table(manifest: dict[str, Any]) -> str:
    docs = manifest["sources"]
    rows = [
        f"| {d['sitrep:document_id']} | {d.get('sitrep:split', '')} | "
        f"{d.get('sitrep:license_id') or 'unknown'} | "
        f"{'yes' if d['sitrep:text_included'] else 'no (withheld)'} | "
        f"{', '.join(d.get('sitrep:coverage') or []) or 'not declared'} |"
        for d in docs[:MAX_LISTED]
    ]
    more = (
        f"\n\n... and {len(docs) - MAX_LISTED} more (see datapackage.json)"
        if len(docs) > MAX_LISTED
        else ""
    )
    return (
        "| document | split | text licence | text shipped | annotated exhaustively for |\n"
        "|---|---|---|---|---|\n" + "\n".join(rows) + more
    )


def _coverage_line(manifest: dict[str, Any]) -> str:
    coverage = manifest["sitrep:coverage"]
    total = len(manifest["sources"])
    return "; ".join(f"{kind}: {n} of {total} document(s)" for kind, n in coverage.items())


def _claims_section(manifest: dict[str, Any]) -> str:
    """The claims ledger: its tables, its rules and a link to each quantity's chart."""
    charts = manifest.get("sitrep:charts") or []
    links = "\n".join(f"- [{c['quantity']}]({c['path']})" for c in charts) or "- none"
    return f"""## Claims ledger

`claims.parquet` has one row per figure that counts a quantity of
`datasets/entities/clusters.json` (one thing counted about one real-world event): who
claimed how many (low/best/high, qualifier, realis), in which document, published when,
with the quoted words. `claim_summaries.parquet` derives from them, per quantity, the
latest actual claim of each claimant (`latest-actual-per-claimant@1`) and the range
across claimants (`range-across-claimants@1`); a summary never replaces a claim.

Each quantity's claims over time (x: document date; one colour and marker per
claimant; a line from low to high, dashed where a bound is open; the marker at best):

{links}"""


def render_card(manifest: dict[str, Any]) -> str:
    """The dataset card: Hugging Face YAML front matter, then what a user needs."""
    version = manifest["version"]
    withheld = [
        d["sitrep:document_id"] for d in manifest["sources"] if not d["sitrep:text_included"]
    ]
    credits = sorted({d["sitrep:credit"] for d in manifest["sources"] if d.get("sitrep:credit")})
    return f"""---
license: cc-by-4.0
language:
- en
pretty_name: sitrep {version}
tags:
- event-data
- conflict
- information-extraction
configs:
{_configs(manifest)}
---

# sitrep {version}

{manifest["description"]}

Schema {manifest["sitrep:schema_version"]}; built {manifest["created"]}; {len(manifest["sources"])} document(s).
Verify before use: `sitrep release verify .` (checks the manifest against the hash the
installed sitrep knows, then every file) or `sha256sum -c SHA256SUMS`.

## Splits

{manifest["sitrep:splits"]["rule"]}

{_split_table(manifest)}

## How the records were made

Counted from each record's `provenance_method` (`manual`: by hand; `proposed_accepted` /
`proposed_edited`: a model's proposal a person accepted or corrected; `machine`: not
reviewed by a person):

{_provenance_table(manifest)}

## Coverage: empty is not "none"

A document is annotated exhaustively only for the record kinds its `provenance_coverage` column
lists; for any other kind an empty table means "not annotated", not "nothing there".
Annotated exhaustively: {_coverage_line(manifest)}.

## Licences

The annotations (every table except the source texts) are licensed under CC BY 4.0.
Each source text keeps its own licence (`license`, `license_id`, `credit`, `source` in
`documents.parquet`). A text whose licence is unknown or forbids redistribution is not
shipped: its row keeps url, title, `text_sha256` and `text_length`, its spans keep their
offsets, and `text` is null. Withheld here: {", ".join(withheld) or "none"}. If you have
the text, `sitrep release rehydrate . --texts DIR --output OUT` restores it, checked
against its sha256.

{_documents_table(manifest)}

Credit: {"; ".join(credits) or "none required"}.

## Tables

{chr(10).join(f"- `{r['path']}`: {r['sitrep:rows']:,} rows" for r in manifest["resources"] if "sitrep:split" not in r)}

Every table has a global `key` (`document_id/id` for records; spans by record and
offsets, participants and event locations by event, actor or location and role) and a
`<name>_key` column for each reference, so joins use one column:

```sql
select f.best, f.qualifier, a.name as claimed_by
from 'figures.parquet' f join 'actors.parquet' a on f.claimed_by_key = a.key
```

The codebook (`schema/CODEBOOK.md` in the sitrep repository) defines every column and
vocabulary. `<table>-<split>.parquet` hold each split's rows for the configs above (a
split with no row of a table has no file for it).

{_claims_section(manifest)}

## How to cite

Cite the release you used (its version pins the data):

```bibtex
{bibtex(manifest).rstrip()}
```

## Release notes

{release_notes(manifest)}"""
