"""sitrep.annotate.labelstudio: everything that talks to Label Studio.

Owns the local server (`server`), the REST client (`client`), the labeling config derived
from the schema (`labelconfig`), UTF-16 offsets (`offsets`), the lossless conversion
between schema documents and Label Studio results (`convert`), projects and push
(`project`) and pull (`pull`). It may import `sitrep.schema`, `sitrep.validate`, the
plumbing (`sitrep.errors`, `sitrep.fileio`, `sitrep.paths`) and `sitrep.annotate.prelabel`
(push turns proposals into predictions); never `sitrep.annotate.review` or the CLI.
"""
