"""sitrep: events, actors and figures reported in the news, as a versioned, validated dataset."""

from __future__ import annotations

__all__ = ["__version__", "load"]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("sitrep")
    except PackageNotFoundError:  # running from a source tree without an install
        return "0.0.0"


def __getattr__(name: str) -> object:
    # Resolved on first use: `import sitrep` (and every `sitrep` command) stays quick, and
    # `sitrep.load` does not import Polars and the HTTP client until it is called.
    if name == "__version__":
        globals()[name] = value = _version()
        return value
    if name == "load":
        from sitrep.validate.api import load

        return load
    raise AttributeError(f"module 'sitrep' has no attribute {name!r}")
