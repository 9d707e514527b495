"""The codebook, generated from the JSON Schema.

`render_codebook()` turns the schema into Markdown: the record types and their
fields, every vocabulary with its definitions, examples and ACLED / PLOVER mappings,
the figure qualifiers and the vague-quantifier intervals. `schema/CODEBOOK.md` is its
committed output (composed with the sections other layers add, see
`sitrep.codebook`); a test fails when the two differ.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sitrep.schema import spec
from sitrep.schema.report import CODE_HELP

Json = dict[str, Any]

RECORDS = (
    ("Document", "document"),
    ("Span", "spans[]"),
    ("Actor", "actors[]"),
    ("Location", "locations[]"),
    ("Coordinates", "locations[].coordinates"),
    ("Event", "events[]"),
    ("Participant", "events[].participants[]"),
    ("EventLocation", "events[].locations[]"),
    ("DateInterval", "events[].date"),
    ("Figure", "figures[]"),
    ("RecordProvenance", "*.provenance"),
    ("Provenance", "provenance"),
    ("LabelStudioOrigin", "provenance.label_studio"),
)
REF_NAMES = {
    "ActorRef": "actor id",
    "EventRef": "event id",
    "FigureRef": "figure id",
    "LocationRef": "location id",
}


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _type_of(node: Json, defs: Json) -> str:
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        if name in REF_NAMES:
            return REF_NAMES[name]
        target = defs[name]
        if spec.is_enumeration(target):
            return f"[{name}](#{name.lower()})"
        if "enum" in target:
            return str(name)
        if name == "Spans":
            return "list of [Span](#span-spans)"
        if target.get("type") != "object":
            return _type_of(target, defs)
        return f"{name} object"
    if "anyOf" in node:
        parts = [_type_of(b, defs) for b in node["anyOf"] if b != {"type": "null"}]
        return " or ".join(parts) + (" or null" if {"type": "null"} in node["anyOf"] else "")
    kind = node.get("type", "any")
    if kind == "array":
        return f"list of {_type_of(node.get('items', {}), defs)}"
    kinds = kind if isinstance(kind, list) else [kind]
    label = " or ".join(k for k in kinds if k != "null")
    if "format" in node:
        label += f" ({node['format']})"
    elif "pattern" in node:
        label += f" matching `{node['pattern']}`"
    return label + (" or null" if "null" in kinds else "")


def _fields(name: str, where: str, defs: Json) -> list[str]:
    node = defs[name]
    required = set(node.get("required", ()))
    lines = [f"### {name} (`{where}`)", "", node.get("description", ""), ""]
    lines += ["| field | type | required | meaning |", "|---|---|---|---|"]
    for field, sub in node.get("properties", {}).items():
        desc = sub.get("description") or _ref_description(sub, defs)
        mark = "yes" if field in required else "no"
        lines.append(f"| `{field}` | {_cell(_type_of(sub, defs))} | {mark} | {_cell(desc)} |")
    return [*lines, ""]


def _ref_description(node: Json, defs: Json) -> str:
    ref = node.get("$ref") or next(
        (b.get("$ref") for b in node.get("anyOf", ()) if "$ref" in b), None
    )
    return str(defs[ref.rsplit("/", 1)[-1]].get("description", "")) if ref else ""


def _vocabulary(name: str, entries: list[spec.EnumValue], about: str) -> list[str]:
    extras = [
        k
        for k in ("x-acled", "x-plover", "x-shape", "x-interval")
        if any(k in e.extra for e in entries)
    ]
    heads = ["value", "name", "definition", "examples", *[_EXTRA_HEAD[k] for k in extras]]
    lines = [
        f"### {name}",
        "",
        about,
        "",
        "| " + " | ".join(heads) + " |",
        "|" + "---|" * len(heads),
    ]
    for e in entries:
        examples = "; ".join(f"“{x}”" for x in e.examples)
        cells = [f"`{e.value}`", e.title, e.description, examples]
        cells += [_extra(e.extra.get(k)) for k in extras]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return [*lines, ""]


_EXTRA_HEAD = {
    "x-acled": "ACLED",
    "x-plover": "PLOVER",
    "x-shape": "low / best / high",
    "x-interval": "interval",
}


def _extra(value: Any) -> str:
    if isinstance(value, list) and len(value) == 2:
        return f"{value[0]:,} to {value[1]:,}"
    return "" if value is None else str(value)


NORMALISATION = """\
## Normalising figures

A figure is a claim, not a fact: it records what the text asserts, who asserted it and
how sure the text is, never a number we would rather believe.

- **Interval.** `low`, `best` and `high` are nullable and must satisfy low <= best <= high.
  `best` is the point value the text states; it is null when the text gives only bounds.
  Nothing is invented: "approximately 8,400" has best = 8,400 and no low or high.
- **Shape by qualifier.** Each qualifier fixes which of the three are set (table above).
  "more than 70" is low = 71 for counts; "under 100" is high = 99.
- **Realis.** A planned or possible number is not a count of what happened: "up to 7,000
  detainees are potentially scheduled for transfer" is high = 7,000, qualifier `up_to`,
  realis `planned`. Consolidated counts are derived later by an explicit rule; they never
  replace the attributed figures.
- **Parts.** "recaptured 81 of the 120" is two figures; the 81 has `part_of` the 120. A part
  has the unit of its whole and is never larger than it.
- **Attribution.** `claimed_by` is the actor the text says asserted the number ("the State
  Department said ..."). It is null only when the text does not say who (the publisher's own
  voice). Events carry the same information in `reported_by`.
- **Vague quantifiers** map to the intervals below, versioned with the schema, so two
  releases never disagree on what "hundreds" means. A vague figure has qualifier `vague`,
  its `vague_term`, and low / high from this table.
- **Not figures.** Years, dates, clock times, ordinals, ages used as adjectives, building
  storeys and temporal offsets that anchor a date ("one day after") are not figures.
"""

SPANS = """\
## Evidence spans and ids

- Every actor, location, event and figure has one or more spans: `start` and `end` are
  offsets into `document.text` in Unicode code points (Python string indices), `end`
  exclusive, and `text` must equal the slice. Label Studio's browser offsets (UTF-16 code
  units) are converted at the boundary.
- Spans cover names and noun phrases (and an event's trigger words), not pronouns.
- Record ids are stable and never reused: `act-`, `loc-`, `evt-` and `fig-` followed by
  lower-case letters, digits and hyphens. A reference must name a record of the right kind
  in the same document.
- `statement` events are for announcements, reports and declarations that are themselves
  news ("The announcement came one day after ..."). Ordinary reporting verbs ("X said") are
  not events: they fill `reported_by` and `claimed_by`.
- Unknown metadata is null, never guessed. An undated article leaves event dates null with
  precision `unknown`, and keeps the text's own words in `date.expression`.
"""


def render_codebook(schema: Json | None = None, sections: Sequence[list[str]] = ()) -> str:
    """The codebook as Markdown, from `schema` (default: the packaged schema).

    `sections` are Markdown lines that layers above the schema contribute (the Label
    Studio section comes from `sitrep.annotate`); they go before the validation rules, so
    this layer never imports the tools that use it. `sitrep.codebook.codebook()` is the
    codebook as published."""
    schema = schema or spec.load_schema()
    defs = schema["$defs"]
    version = spec.schema_version(schema)
    out = [
        f"# sitrep codebook (schema {version})",
        "",
        "Generated by `sitrep schema codebook` from `schema/sitrep.schema.json`; do not edit by",
        "hand. " + _cell(schema.get("description", "")),
        "",
        "## Records",
        "",
        "One JSON file per annotated source document, with `schema_version`, `document`,",
        "`actors`, `locations`, `events`, `figures` and `provenance`.",
        "",
    ]
    for name, where in RECORDS:
        out += _fields(name, where, defs)
    out += [SPANS, "## Vocabularies", ""]
    for name, entries in spec.enumerations(schema).items():
        if name != "CountryCode":
            out += _vocabulary(name, entries, defs[name].get("description", ""))
    countries = spec.enum_values("CountryCode", schema)
    out += [
        "### CountryCode",
        "",
        f"ISO 3166-1 alpha-3: {len(countries)} codes (the full list is in the schema), plus `XKX`",
        "for Kosovo.",
        "",
        NORMALISATION,
        *[line for section in sections for line in section],
        "## Validation rules",
        "",
        "`sitrep validate` reports every problem with one of these stable codes.",
        "",
        "| code | meaning |",
        "|---|---|",
        *[f"| `{code}` | {_cell(text)} |" for code, text in CODE_HELP.items()],
        "",
    ]
    return "\n".join(out)
