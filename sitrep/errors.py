"""The exceptions sitrep raises. Bad *data* is collected into reports instead (see
`sitrep.schema.report`); these are for failures that stop a command."""


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
