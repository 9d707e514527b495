"""sitrep.schema: the JSON Schema (single source of truth), its loader, the
per-document rules, the report format and the codebook generator."""
