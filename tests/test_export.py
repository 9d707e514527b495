"""Reading Label Studio exports one task at a time, and converting them in bounded batches."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from sitrep.annotate.labelstudio.export import batches, bounded_map, iter_tasks
from sitrep.errors import OutputError


def _export(tmp_path: Path, tasks: list[object]) -> Path:
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks), encoding="utf-8")
    return path


def test_tasks_come_one_at_a_time_with_their_values(tmp_path: Path) -> None:
    tasks = [
        {"id": n, "data": {"text": "é😀\r\n" * n}, "score": 0.25, "big": 2**70} for n in range(50)
    ]
    got = list(iter_tasks(_export(tmp_path, tasks)))
    assert got == tasks
    assert isinstance(got[1]["score"], float)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "starts with an empty file"),
        ('{"id": 1}', "not a list of tasks"),
        ("[1, 2]", "item 0 of the export is not a task object"),
        ('[{"id": 1}, {"id": ', "not valid JSON near byte"),
    ],
)
def test_an_export_that_is_not_a_list_of_tasks_is_named(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "export.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(OutputError, match=message) as caught:
        list(iter_tasks(path))
    assert str(path) in str(caught.value)


def test_batches_cover_everything_in_order() -> None:
    assert list(batches(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(batches([], 3)) == []


def _pids(chunk: list[int]) -> tuple[list[int], int]:
    return [n * 2 for n in chunk], os.getpid()


def test_bounded_map_keeps_the_order_and_uses_worker_processes() -> None:
    chunks = list(batches(range(100), 7))
    results = list(bounded_map(_pids, chunks, workers=2))
    assert [n for doubled, _ in results for n in doubled] == [n * 2 for n in range(100)]
    assert os.getpid() not in {pid for _, pid in results}
    serial = list(bounded_map(_pids, chunks, workers=1))
    assert {pid for _, pid in serial} == {os.getpid()}


def test_bounded_map_reads_its_input_only_a_few_chunks_ahead() -> None:
    read: list[int] = []

    def source():
        for n in range(40):
            read.append(n)
            yield [n]

    results = bounded_map(_pids, source(), workers=2, in_flight=2)
    next(results)
    assert len(read) <= 2 * 2 + 1  # a pool's imap would have read all 40
    assert len(list(results)) == 39
