"""sitrep.annotate: Label Studio configuration, server, push, pull and conversion."""
