"""sitrep.annotate.link: linking document records to the dataset-wide registry.

1. `records` reads the actor and location records of annotation files (with the file
   and JSON pointer of each) and the registry (datasets/entities/registry.json).
2. `engine` proposes registry entities for the records whose `entity` is null with a
   probabilistic record-linkage model: splink on DuckDB (in-process, one machine, no
   service to run; the same splink settings run on Spark when a corpus outgrows one
   machine). splink estimates u by random sampling with a fixed seed and the m of type
   and country by expectation maximisation, so a run is reproducible.
3. `review` writes the proposals to a review file a person reads and fills in (a
   `decision` per record) and reads those decisions back.
4. `edit` applies links in place: only the `entity` value of a record changes, every
   other byte of the file stays as it was, and each file is written atomically.
5. `evaluate` measures precision and recall leave-one-document-out.

splink and DuckDB come with the `link` extra and are imported only here, when a link
is computed. The package may import `sitrep.schema`, `sitrep.validate` and the plumbing
under them; it knows nothing of Label Studio.
"""
