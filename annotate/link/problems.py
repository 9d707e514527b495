"""The errors of linking: every problem names the file, the record (JSON pointer), a
stable code, what was expected and what was found."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sitrep.errors import SitrepError


class LinkCode(StrEnum):
    """Stable codes of the problems `sitrep link` reports."""

    MISSING_EXTRA = "link.missing_extra"
    FILE_UNREADABLE = "link.file_unreadable"
    REVIEW_UNREADABLE = "link.review_unreadable"
    DECISION_INVALID = "link.decision_invalid"
    DECISION_UNKNOWN_ENTITY = "link.decision_unknown_entity"
    DECISION_WRONG_KIND = "link.decision_wrong_kind"
    DECISION_WRONG_TYPE = "link.decision_wrong_type"
    RECORD_MISSING = "link.record_missing"
    NO_ENTITY_FIELD = "link.no_entity_field"


@dataclass(frozen=True)
class LinkProblem:
    file: str
    pointer: str
    code: str  # a LinkCode, or a registry.* code of sitrep.validate.registry
    expected: str
    found: str

    def line(self) -> str:
        return (
            f"{self.file}:{self.pointer or '/'}: {self.code}: expected {self.expected}; "
            f"found {self.found}"
        )


class LinkError(SitrepError):
    """Linking stopped before writing anything: the problems say where and why."""

    def __init__(self, problems: list[LinkProblem]) -> None:
        self.problems = problems
        lines = [p.line() for p in problems[:20]]
        if len(problems) > 20:
            lines.append(f"... and {len(problems) - 20} more")
        super().__init__("nothing was written:\n" + "\n".join(lines))


class MissingExtra(SitrepError):
    """splink or DuckDB is not installed."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"{LinkCode.MISSING_EXTRA.value}: `sitrep link` needs {name}, which comes with the "
            "`link` extra: pip install 'sitrep[link]'"
        )
