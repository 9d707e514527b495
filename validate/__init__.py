"""sitrep.validate: Polars tables, Pandera models, releases and verified downloads."""
