"""A Label Studio export, read one task at a time, and converted in bounded batches.

A native JSON export is one array of tasks. At 10,000 seed-size tasks it is 863 MB, and
parsing it whole held 7.9 GB before the first task was converted. Here:

1. `iter_tasks` yields one task at a time from the file with ijson's C parser (yajl2), so
   the memory a pull needs is that of the tasks in flight, whatever the project's size. A
   number beyond 64 bits (yajl refuses it) sends the rest to ijson's pure-Python parser.
2. `bounded_map` converts batches of tasks in worker processes with at most a few batches
   in flight and yields the results in order, so a slow writer never lets parsed tasks
   pile up (a `Pool.imap` would read the whole input ahead).
"""

from __future__ import annotations

import multiprocessing as mp
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

import ijson

from sitrep.errors import OutputError

T = TypeVar("T")
R = TypeVar("R")
Json = dict[str, Any]


def iter_tasks(path: Path) -> Iterator[Json]:
    """Every task of the export at `path`, in file order; an export that is not a JSON
    array of objects is an OutputError naming the file and where it broke."""
    with open(path, "rb") as handle:
        first = handle.read(64).lstrip()[:1]
        if first != b"[":
            found = "an empty file" if not first else f"{first!r}"
            raise OutputError(f"{path}: the export is not a list of tasks (it starts with {found})")
        done = 0
        for parser in (ijson, ijson.get_backend("python")):
            handle.seek(0)
            try:
                for n, task in enumerate(parser.items(handle, "item", use_float=True)):
                    if n < done:
                        continue  # yielded before the fast parser gave up
                    if not isinstance(task, dict):
                        raise OutputError(f"{path}: item {n} of the export is not a task object")
                    done += 1
                    yield task
                return
            except ijson.JSONError as exc:
                if "integer overflow" in str(exc) and parser is ijson:
                    continue  # a number beyond 64 bits: the pure-Python parser reads it
                raise OutputError(
                    f"{path}: the export is not valid JSON near byte {handle.tell():,} "
                    f"({str(exc).splitlines()[0]})"
                ) from None


def batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def bounded_map(
    work: Callable[[list[T]], R],
    chunks: Iterable[list[T]],
    workers: int,
    in_flight: int = 2,
) -> Iterator[R]:
    """`work(chunk)` for every chunk, in order, in `workers` forked processes (in this one
    when `workers` <= 1), with at most `workers * in_flight` chunks submitted and not yet
    yielded."""
    if workers <= 1:
        yield from map(work, chunks)
        return
    with mp.get_context("fork").Pool(workers) as pool:
        pending: deque[Any] = deque()
        for chunk in chunks:
            pending.append(pool.apply_async(work, (chunk,)))
            if len(pending) >= workers * in_flight:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()
