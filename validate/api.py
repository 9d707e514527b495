"""Reading a table of a verified release from the local cache: `sitrep.load`.

```python
import sitrep
figures = sitrep.load("1.0.0", "figures")  # a Polars DataFrame
spans = sitrep.load("1.0.0", "spans", lazy=True)  # a LazyFrame
```

The release folder is verified (`verify_release`) before a table is read, its manifest
against the hash the installed package's index records (the trust anchor: a checkout is
not needed, and a manifest edited to agree with altered files is refused). The verdict is
kept for the rest of the process, keyed by the folder and the name, size, mtime and inode
of every file in it, so repeated loads cost one `stat` per file; any change to the folder
verifies it again. A lazy frame reads the file when collected, after this check.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Literal, overload

import polars as pl

from sitrep.errors import ReleaseNotCached, UnknownTable, VerificationError
from sitrep.validate.fetch import default_cache_dir
from sitrep.validate.release import MANIFEST, parse_version
from sitrep.validate.verify import Verification, anchor, verify_release

Fingerprint = tuple[str, tuple[tuple[str, int, int, int], ...]]
_VERDICTS: dict[tuple[str, tuple[tuple[str, int, int, int], ...], str | None], Verification] = {}


@overload
def load(
    version: str,
    table: str,
    *,
    cache_dir: Path | str | None = ...,
    lazy: Literal[False] = ...,
    sha256: str | None = ...,
    insecure: bool = ...,
) -> pl.DataFrame: ...
@overload
def load(
    version: str,
    table: str,
    *,
    cache_dir: Path | str | None = ...,
    lazy: Literal[True],
    sha256: str | None = ...,
    insecure: bool = ...,
) -> pl.LazyFrame: ...
def load(
    version: str,
    table: str,
    *,
    cache_dir: Path | str | None = None,
    lazy: bool = False,
    sha256: str | None = None,
    insecure: bool = False,
) -> pl.DataFrame | pl.LazyFrame:
    """Table `table` of release `version` from the verified cache (`default_cache_dir()`).

    The folder's manifest must have the hash the installed package's index records for
    `version` (or `sha256`, for a release the package does not know yet); `insecure`
    checks the files against their own manifest only."""
    parse_version(version)
    trusted = anchor(version, sha256, insecure=insecure)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    folder = cache / version
    if not folder.is_dir():
        raise ReleaseNotCached(version, cache)
    verdict = verified(folder, trusted)
    if not verdict.ok:
        raise VerificationError(
            f"release {version} in {folder} does not verify; remove the folder and fetch it "
            "again" + "".join(f"\n  - {p}" for p in verdict.problems)
        )
    tables = release_tables(folder)
    if table not in tables:
        raise UnknownTable(version, table, sorted(tables))
    path = folder / tables[table]
    return pl.scan_parquet(path) if lazy else pl.read_parquet(path)


def release_tables(folder: Path) -> dict[str, str]:
    """{table name: file name} from the manifest of a (verified) release folder."""
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    resources = [r for r in manifest["resources"] if isinstance(r, dict)]
    return {r["name"]: r["path"] for r in resources if {"name", "path"} <= r.keys()}


def verified(folder: Path, trusted: str | None = None) -> Verification:
    """`verify_release(folder)` against `trusted`, remembered while the folder's files
    stay as they are."""
    key = (*_fingerprint(folder), trusted)
    if key not in _VERDICTS:
        _VERDICTS[key] = verify_release(folder, manifest_sha256=trusted)
    return _VERDICTS[key]


def _fingerprint(folder: Path) -> Fingerprint:
    with os.scandir(folder) as entries:
        stats = [(e.name, e.stat(follow_symlinks=False)) for e in entries]
    files = tuple(sorted((n, s.st_size, s.st_mtime_ns, s.st_ino) for n, s in stats))
    return str(folder.resolve()), files
