"""Atomic writes: a batch of files becomes visible only when it is durable, and a failure
midway leaves the old files and no temporary ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from sitrep.fileio import BatchWriter, write_atomic


def test_a_batch_appears_on_flush_and_replaces_old_content(tmp_path: Path) -> None:
    old = tmp_path / "a" / "1.json"
    write_atomic(old, b"old")
    with BatchWriter(limit=100) as writer:
        writer.add(old, b"new")
        writer.add(tmp_path / "b" / "2.json", b"two")
        assert old.read_bytes() == b"old" and not (tmp_path / "b" / "2.json").exists()
    assert old.read_bytes() == b"new"
    assert (tmp_path / "b" / "2.json").read_bytes() == b"two"
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["1.json", "2.json"]


def test_a_failure_midway_keeps_the_old_files_and_leaves_no_temporary_ones(
    tmp_path: Path,
) -> None:
    old = tmp_path / "1.json"
    write_atomic(old, b"old")
    with pytest.raises(RuntimeError), BatchWriter(limit=100) as writer:
        writer.add(old, b"new")
        writer.add(tmp_path / "2.json", b"two")
        raise RuntimeError("the pull failed")
    assert old.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["1.json"]


def test_the_limit_flushes_as_it_goes(tmp_path: Path) -> None:
    with BatchWriter(limit=2) as writer:
        for n in range(5):
            writer.add(tmp_path / f"{n}.json", str(n).encode())
        assert len(writer.pending) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{n}.json" for n in range(5)]
