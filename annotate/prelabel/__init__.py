"""sitrep.annotate.prelabel: proposing annotations before a person sees the text.

Owns the figure finder (`figures`), the first-pass proposer of actors, locations and
event triggers with its gazetteer (`propose`) and the scoring of proposals against gold
annotations (`evaluate`, whose span matching the agreement scores reuse). It may import
`sitrep.schema` and the plumbing under it (`sitrep.errors`, `sitrep.fileio`,
`sitrep.paths`); it knows nothing of Label Studio or of the other annotate sub-packages,
so proposals can be made and scored with no server installed.
"""
