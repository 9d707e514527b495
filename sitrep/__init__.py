"""sitrep: events, actors and figures reported in the news, as a versioned, validated dataset."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sitrep")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"

__all__ = ["__version__", "load"]


def __getattr__(name: str) -> object:
    # `sitrep.load` without importing Polars and the HTTP client on `import sitrep`.
    if name == "load":
        from sitrep.validate.api import load

        return load
    raise AttributeError(f"module 'sitrep' has no attribute {name!r}")
