"""sitrep.annotate.review: comparing annotators and deciding between them.

Owns inter-annotator agreement (`agreement`: span F1, Krippendorff's alpha, interval and
relation agreement, the release summary) and adjudication (`adjudicate`: merging the
annotations of one task into a ground truth written back to Label Studio). It may import
everything below it: `sitrep.schema`, `sitrep.validate`, the plumbing,
`sitrep.annotate.prelabel` (span matching) and `sitrep.annotate.labelstudio` (reading and
writing annotations); never the CLI.
"""
