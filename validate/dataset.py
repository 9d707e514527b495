"""The dataset as a whole: every annotation file checked document by document (JSON
Schema and rules), then as tables (Pandera and the cross-table checks).

`load_dataset` is what `sitrep validate` and `sitrep release build` run. Documents that
fail the first layer are reported and left out of the tables, so one broken file never
hides the problems of the others and never reaches a release.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from sitrep.schema.report import Issue, Report
from sitrep.schema.validation import (
    Engine,
    count_records,
    find_files,
    read_document,
    validate_document,
)
from sitrep.validate.checks import validate_tables
from sitrep.validate.tables import build_tables, read_documents


@dataclass
class Dataset:
    """The report of both layers, and the tables of the documents that passed the first."""

    report: Report
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)


def _unique(issues: Iterable[Issue]) -> list[Issue]:
    seen: set[tuple[str, str, str]] = set()
    out = []
    for issue in issues:
        key = (str(issue.code), issue.file, issue.pointer)
        if key not in seen:
            seen.add(key)
            out.append(issue)
    return out


def load_dataset(paths: Iterable[Path], *, engine_name: Engine = "rust") -> Dataset:
    """Check every annotation file under `paths` with both layers."""
    report = Report()
    docs: list[Any] = []
    files: list[str] = []
    for path, issue in find_files(paths):
        if issue is not None or path is None:
            report.issues.extend([issue] if issue else [])
            continue
        report.files_checked += 1
        loaded = read_document(path)
        if loaded.issue is not None:
            report.issues.append(loaded.issue)
            continue
        problems = validate_document(loaded.doc, str(path), engine_name=engine_name)
        report.extend(problems)
        count_records(loaded.doc, report.counts)
        if not problems:
            docs.append(loaded.doc)
            files.append(str(path))
    tables = build_tables(read_documents(docs, files))
    report.issues = _unique([*report.issues, *validate_tables(tables)])
    return Dataset(report, tables)
