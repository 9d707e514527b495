"""sitrep.annotate: the annotation tools, one sub-package per job.

- `sitrep.annotate.prelabel` proposes annotations (the figure finder, the first-pass
  proposer of actors, locations and events, and their evaluation against gold). It knows
  the schema and nothing of Label Studio.
- `sitrep.annotate.labelstudio` talks to Label Studio: the local server, the REST client,
  the labeling config derived from the schema, conversion both ways, push and pull.
- `sitrep.annotate.review` compares annotators: agreement and adjudication.

Imports run one way: prelabel < labelstudio < review, all above `sitrep.schema` and
`sitrep.validate`; nothing here imports the CLI (`sitrep.cli`, `sitrep.annotate_cli`,
`sitrep.pipeline`). `tests/test_layers.py` keeps it so.
"""
