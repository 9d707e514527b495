"""Writing files so that a failure never leaves a partial file behind."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: str | bytes, *, mode: int = 0o644) -> None:
    """Write `data` to `path` through a temporary file in the same folder and an
    atomic rename: readers see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class BatchWriter:
    """Many small files, each written atomically, made durable with one flush.

    `add` writes a temporary file next to its target; `flush` makes every pending file
    durable with a single `os.sync()`, then renames each into place and syncs the
    folders. Until a file is renamed its target keeps its old content, so a crash never
    leaves a partial file; one flush per batch instead of one fsync per file is what makes
    writing tens of thousands of annotation files affordable. Unflushed temporary files
    are removed by `discard` (and by the context manager on an error).
    """

    def __init__(self, limit: int = 1000, mode: int = 0o644) -> None:
        self.limit = limit
        self.mode = mode
        self.pending: list[tuple[str, Path]] = []

    def add(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(tmp, self.mode)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.pending.append((tmp, path))
        if len(self.pending) >= self.limit:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        os.sync()
        folders = set()
        for tmp, path in self.pending:
            os.replace(tmp, path)
            folders.add(path.parent)
        self.pending = []
        for folder in folders:
            fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def discard(self) -> None:
        for tmp, _ in self.pending:
            Path(tmp).unlink(missing_ok=True)
        self.pending = []

    def __enter__(self) -> BatchWriter:
        return self

    def __exit__(self, kind: object, *_: object) -> None:
        if kind is None:
            self.flush()
        else:
            self.discard()
