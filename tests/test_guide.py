"""The annotator guide: short, generated from the schema, with the seed figures as
worked examples, and ahead of the full codebook in the project's instructions."""

from __future__ import annotations

import copy
import json

from tests_support import REPO

from sitrep.annotate.labelstudio import guide, labelconfig
from sitrep.annotate.labelstudio import project as proj
from sitrep.schema import spec

GOLD = json.loads(
    (REPO / "datasets" / "annotations" / "seed-8128c0eee969d3a6.json").read_text(encoding="utf-8")
)
SCREEN_LINES = 30  # lines of a 1080p browser window at the interface's font size


def test_the_guide_fits_on_two_screens() -> None:
    text = guide.render_guide(labelconfig.layout(), GOLD)
    assert len(text.splitlines()) <= 2 * SCREEN_LINES
    assert len(text) < 5_000


def test_every_seed_figure_is_a_worked_example() -> None:
    text = guide.render_guide(labelconfig.layout(), GOLD)
    for figure in GOLD["figures"]:
        row = next(line for line in text.splitlines() if f"“{figure['spans'][0]['text']}”" in line)
        assert f"`{figure['qualifier']}`" in row and f"`{figure['realis']}`" in row
    assert (
        "| “up to 7,000” | `up_to` | null / null / 7,000 | `planned` | U.S. Central Command |"
        in text
    )


def test_the_guide_follows_the_schema() -> None:
    text = guide.render_guide(labelconfig.layout(), GOLD)
    for entry in spec.enum_entries("Qualifier"):
        assert f"`{entry.value}`" in text
    assert "`realis`" in text and "`qualifier`" in text  # the required figure fields
    schema = copy.deepcopy(spec.load_schema())
    schema["$defs"]["Qualifier"]["oneOf"].append(
        {"const": "give_or_take", "title": "Give or take", "x-shape": "best = n"}
    )
    changed = guide.render_guide(labelconfig.build_layout(schema), GOLD, schema)
    assert "- `give_or_take` (give or take): best = n" in changed


def test_the_instructions_are_the_guide_then_the_folded_codebook() -> None:
    html = proj.instructions()
    assert html.startswith("<h1>Annotating for sitrep")
    assert "is folded below: open <strong>The full codebook</strong>" in html
    head, folded = html.split("<details>", 1)
    assert "Worked examples" in head and "<h1>sitrep codebook" not in head
    assert "<summary>The full codebook</summary>" in folded and "Vague" in folded


def test_the_guide_says_how_to_pick_the_registry_entity() -> None:
    text = guide.render_guide(labelconfig.layout(), GOLD)
    step = next(line for line in text.splitlines() if "**Registry**" in line)
    assert "actor or location" in step and "`entity`" in step
    assert f"`{labelconfig.NO_ENTITY}` when none is" in text
