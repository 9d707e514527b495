"""The committed codebook is what the schema generates, and it follows the schema."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from sitrep import paths
from sitrep.codebook import codebook
from sitrep.schema import spec


def test_committed_codebook_is_in_sync_with_the_schema() -> None:
    committed = paths.codebook_file().read_text(encoding="utf-8")
    assert committed == codebook(), "run `sitrep schema codebook` and commit schema/CODEBOOK.md"


def test_every_event_type_has_acled_and_plover_mappings_in_the_codebook() -> None:
    text = codebook()
    for entry in spec.enum_entries("EventType"):
        assert entry.extra.get("x-acled") and entry.extra.get("x-plover"), entry.value
        assert f"| `{entry.value}` |" in text


def test_codebook_follows_a_changed_schema(tmp_path: Path) -> None:
    schema = copy.deepcopy(spec.load_schema())
    schema["$defs"]["EventType"]["oneOf"].append(
        {
            "const": "cyber_attack",
            "title": "Cyber attack",
            "description": "A network intrusion.",
            "x-acled": "none",
            "x-plover": "ASSAULT",
        }
    )
    schema["x-sitrep-version"] = "1.1.0"
    text = codebook(schema)
    assert "| `cyber_attack` | Cyber attack | A network intrusion." in text
    assert text.startswith("# sitrep codebook (schema 1.1.0)")
    path = tmp_path / "s.json"
    path.write_text(json.dumps(schema))
    assert "cyber_attack" in spec.enum_values("EventType", spec.load_schema(path))


def test_vague_terms_list_their_intervals() -> None:
    text = codebook()
    for term, (low, high) in spec.vague_intervals().items():
        assert f"| `{term}` |" in text
        assert f"{low:,} to {high:,}" in text
