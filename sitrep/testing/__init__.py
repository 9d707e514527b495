"""sitrep.testing: support for tests and benchmarks, importable by both.

`synthetic` generates valid annotation documents of any size for the test suite and the
benchmarks. It sits beside the CLI at the top of the layers: it may import every layer,
and no library module imports it.
"""
