"""The annotator guide: the project's instructions in Label Studio.

Short on purpose (two screens): the steps of one task, the fields the interface asks
for, and the seed article's figures as worked examples, all generated from the schema
and the seed gold, so the guide cannot drift from the interface. The full codebook
follows it, folded, behind a link.
"""

from __future__ import annotations

from typing import Any

from sitrep.annotate.labelstudio.labelconfig import (
    NO_ENTITY,
    NOTES,
    SAME_AS,
    Layout,
    field_name,
    hotkeys,
)
from sitrep.schema import spec

Json = dict[str, Any]
CODEBOOK_TITLE = "The full codebook"  # the folded section below the guide


def _interval(figure: Json) -> str:
    def show(value: Any) -> str:
        if value is None:
            return "null"
        return f"{value:,}" if isinstance(value, int) else str(value)

    return " / ".join(show(figure[k]) for k in ("low", "best", "high"))


def _examples(gold: Json | None) -> list[str]:
    if not gold or not gold.get("figures"):
        return []
    names = {a["id"]: a["name"] for a in gold.get("actors", [])}
    quotes = {f["id"]: f["spans"][0]["text"] for f in gold["figures"]}
    out = [
        "## Worked examples: the figures of the seed article",
        "",
        "| the text says | qualifier | low / best / high | realis | claimed_by |",
        "|---|---|---|---|---|",
    ]
    for figure in gold["figures"]:
        claimant = names.get(figure.get("claimed_by") or "", "none (the publisher)")
        whole = quotes.get(figure.get("part_of") or "")
        part = f", `part_of` “{whole}”" if whole else ""
        out.append(
            f"| “{figure['spans'][0]['text']}” | `{figure['qualifier']}`{part} | "
            f"{_interval(figure)} | `{figure['realis']}` | {claimant} |"
        )
    return [*out, ""]


def _shapes(schema: Json | None) -> list[str]:
    return [
        f"- `{e.value}` ({e.title.lower()}): {e.extra['x-shape']}"
        for e in spec.enum_entries("Qualifier", schema)
        if "x-shape" in e.extra
    ]


def _required(lay: Layout) -> str:
    parts = []
    for kind in lay.kinds:
        needed = [f"`{field_name(a)}`" for a in kind.attributes if a.required]
        if needed:
            parts.append(f"{kind.label.lower()}: {', '.join(needed)}")
    return "; ".join(parts)


def _hotkeys(lay: Layout) -> str:
    parts = []
    for kind in lay.kinds:
        for attr in kind.attributes:
            keys = hotkeys(kind, attr, set())
            if keys:
                listed = ", ".join(f"`{key}` {value}" for value, key in keys.items())
                parts.append(f"{kind.label.lower()} {field_name(attr)}: {listed}")
    return "; ".join(parts)


def _registry_step(lay: Layout) -> list[str]:
    """How to pick a record's registry entity, if the config has registry controls."""
    kinds = [k.label.lower() for k in lay.kinds if any(a.options for a in k.attributes)]
    fields = sorted({field_name(a) for k in lay.kinds for a in k.attributes if a.options})
    if not kinds:
        return []
    return [
        f"   **Registry**: on the first mention of {_or(kinds)} records, `{'`, `'.join(fields)}` lists",
        "   this document's candidates (name, type, country, id): tick the one it is, or",
        f"   `{NO_ENTITY}` when none is (never guess: a wrong link merges two real things).",
    ]


def _or(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def render_guide(lay: Layout, gold: Json | None = None, schema: Json | None = None) -> str:
    """The guide as Markdown, from the layout and `schema` (default: the packaged one)
    and the seed gold, if any."""
    labels = ", ".join(f"{n + 1} {k.label}" for n, k in enumerate(lay.kinds))
    lines = [
        f"# Annotating for sitrep (labeling config {lay.version})",
        "",
        "Mark who did what to whom, where, when and how many, exactly as the text says it.",
        "",
        "1. **Start from the proposals.** A task opens with the pre-annotator's records:",
        "   keep the right ones, fix or delete the wrong ones, add what is missing.",
        f"2. **Mark a mention**: press its label key ({labels}), then select the words.",
        "   Names and noun phrases, not pronouns; an event is its trigger words.",
        "3. **Fill its fields**: select the region; every field shows its name and a hint.",
        f"   Required ({_required(lay)}): the interface will not submit without them.",
        "   A name left empty is the text of the first mention; an undated event keeps",
        "   precision `unknown`. Unknown is empty, never guessed.",
        *_registry_step(lay),
        "4. **Tie further mentions** (“CENTCOM” again): select the mention, press `alt+r`,",
        f"   click the first mention. No label, no id to type (`{SAME_AS}` if you want one).",
        "5. **Link records** the same way, from the record that points to the one pointed",
        "   at: figure to its claimant (`claimed_by`) or event (`counts`) need no label;",
        "   event to actor or location needs its role (`agent`, `target`, `site`, ...);",
        "   between two records of one kind label `part_of`, `located_in`, `affiliated_with`.",
        f"6. **Doubts** go in the `{NOTES}` box. Submit, then before you stop for the day run",
        "   `sitrep annotate check --annotator YOUR-EMAIL`: it lists anything a pull would",
        "   refuse, with the link to the task.",
        "",
        f"Hotkeys: {_hotkeys(lay)}.",
        "",
        "Figures are claims: `realis` says whether the number happened, `claimed_by` who",
        "said it, and the qualifier which of `low` / `best` / `high` hold the number n:",
        "",
        *_shapes(schema),
        "",
        *_examples(gold),
        f"The full codebook (every field, value and rule) is folded below: open **{CODEBOOK_TITLE}**.",
        "",
    ]
    return "\n".join(lines)
