"""The codebook as published: the schema's codebook with the sections the tools add.

The schema layer renders the records, vocabularies and rules; the annotate layer
describes its Label Studio interface. This module, above both, composes them, so the
contract layer never imports the tool layer (`tests/test_layers.py`).
"""

from __future__ import annotations

from typing import Any

from sitrep.annotate.labelstudio.labelconfig import codebook_section
from sitrep.schema import spec
from sitrep.schema.clusters import codebook_section as clusters_section
from sitrep.schema.codebook import render_codebook
from sitrep.validate.registry import codebook_section as registry_section


def codebook(schema: dict[str, Any] | None = None) -> str:
    """`schema/CODEBOOK.md` as `sitrep schema codebook` writes it (default: the packaged
    schema)."""
    schema = schema or spec.load_schema()
    return render_codebook(
        schema, sections=[registry_section(), clusters_section(), codebook_section(schema)]
    )
