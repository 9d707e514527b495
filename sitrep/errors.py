"""The exceptions sitrep raises. Bad *data* is collected into reports instead (see
`sitrep.schema.report`); these are for failures that stop a command."""

from __future__ import annotations

from pathlib import Path


class SitrepError(Exception):
    """Base class of every error sitrep raises on purpose."""


class ConfigError(SitrepError):
    """A setting, path or option is wrong before any work starts."""


class SchemaError(SitrepError):
    """The JSON Schema itself is missing, unreadable or malformed."""


class SourceError(SitrepError):
    """A source document (seed text, metadata or corpus line) cannot be loaded."""


class OutputError(SitrepError):
    """A result could not be written without risking existing data."""


class ReleaseError(SitrepError):
    """A release cannot be built: wrong version, wrong bump, or it already exists."""


class VerificationError(SitrepError):
    """A release (downloaded or on disk) does not match its manifest."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class DownloadError(SitrepError):
    """A release could not be downloaded."""


class ReleaseNotCached(ConfigError):
    """The release is not in the local cache: fetch it first."""

    def __init__(self, version: str, cache_dir: Path) -> None:
        super().__init__(
            f"release {version} is not in the cache ({cache_dir}); download it with "
            f"`sitrep release fetch {version} --from URL`"
        )
        self.version = version
        self.cache_dir = cache_dir


class UnknownTable(ConfigError):
    """The release has no table of that name."""

    def __init__(self, version: str, table: str, available: list[str]) -> None:
        super().__init__(
            f"release {version} has no table {table!r}; its tables are: {', '.join(available)}"
        )
        self.table = table
        self.available = available


class UntrustedRelease(VerificationError):
    """No trusted manifest hash is known for the release, so it cannot be checked."""
