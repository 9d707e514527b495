"""Checking a release folder against its own manifest, and its manifest against a
trusted hash.

The checks a downloader needs, on a folder: `SHA256SUMS` lists every file but itself and
nothing else is there; every listed file has that sha256; `datapackage.json` lists the
same files with the same bytes and hashes; the version inside equals the folder's name;
and, when a trusted manifest hash is known (from `releases/index.json` or given by the
user), the manifest has that hash. Every problem is reported, not just the first.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sitrep import __version__, paths
from sitrep.errors import UntrustedRelease
from sitrep.validate.release import CARD, MANIFEST, SUMS, parse_version, sha256_file

NON_RESOURCES = frozenset({CARD, MANIFEST})  # release files that are not table resources
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
# the one folder a release has: charts/<quantity>.svg (`sitrep.validate.claims`)
CHART_NAME = re.compile(r"^charts/[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.svg$")
CHARTS_KEY = "sitrep:charts"  # the manifest's list of charts (not table resources)
BYTES = "sitrep:bytes"  # a resource's size (frictionless-py cannot count Parquet bytes)
SUM_LINE = re.compile(r"^([0-9a-f]{64}) [ *]([^\\\x00]+)$")


def safe_name(name: str) -> bool:
    """A plain file name, or a chart in the charts/ folder: nothing else (no other
    folder, no `..`, no absolute path)."""
    return bool(SAFE_NAME.match(name) or CHART_NAME.match(name)) and name not in (".", "..")


def charts(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The manifest's chart entries (releases from 2.1 on; none before)."""
    listed = manifest.get(CHARTS_KEY, [])
    return [c for c in listed if isinstance(c, dict)] if isinstance(listed, list) else []


@dataclass
class Verification:
    """Every problem found in one release folder."""

    folder: Path
    problems: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # name -> sha256 from SHA256SUMS

    @property
    def ok(self) -> bool:
        return not self.problems


def parse_sums(text: str) -> tuple[dict[str, str], list[str]]:
    """`SHA256SUMS` as {file name: sha256}, and the lines that could not be read or name
    an unsafe path (a folder, '..', an absolute path)."""
    files: dict[str, str] = {}
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = SUM_LINE.match(line)
        if not match or not safe_name(match[2]):
            problems.append(
                f"{SUMS} line {number}: expected '<sha256>  <file name>', found {line[:80]!r}"
            )
            continue
        if match[2] in files:
            problems.append(f"{SUMS} line {number}: {match[2]} is listed twice")
        files[match[2]] = match[1]
    return files, problems


def manifest_problems(manifest: Any, version: str | None, listed: dict[str, str]) -> list[str]:
    """Disagreements between `datapackage.json` and `SHA256SUMS` (and the version)."""
    if not isinstance(manifest, dict) or not isinstance(manifest.get("resources"), list):
        return [f"{MANIFEST}: not a data package with resources"]
    problems = []
    if version is not None and manifest.get("version") != version:
        problems.append(f"{MANIFEST}: version is {manifest.get('version')!r}, expected {version!r}")
    for res in [*manifest["resources"], *charts(manifest)]:
        path = res.get("path") if isinstance(res, dict) else None
        chart = res in charts(manifest)
        if not isinstance(path, str) or not (CHART_NAME if chart else SAFE_NAME).match(path):
            problems.append(f"{MANIFEST}: resource path {path!r} is not a plain file name")
            continue
        digest = str(res.get("hash", "")).removeprefix("sha256:")
        if path in listed and listed[path] != digest:
            problems.append(
                f"{MANIFEST}: {path} has sha256 {digest[:12]}..., {SUMS} says {listed[path][:12]}..."
            )
    return problems + file_set_problems(manifest, listed)


def file_set_problems(manifest: dict[str, Any], listed: dict[str, str]) -> list[str]:
    """Files `SHA256SUMS` lists that the manifest does not account for, and the reverse.
    The manifest accounts for its resources plus README.md and itself, never for
    SHA256SUMS, which cannot list itself."""
    resources = [*manifest.get("resources", []), *charts(manifest)]
    paths = {r.get("path") for r in resources if isinstance(r, dict)}
    expected = ({p for p in paths if isinstance(p, str)} | NON_RESOURCES) - {SUMS}
    problems = [
        f"{n}: listed in {SUMS} but not a resource of {MANIFEST} (an extra file)"
        for n in sorted(set(listed) - expected)
    ]
    problems += [
        f"{n}: expected in {SUMS} (a resource of {MANIFEST} or a release file) but not listed"
        for n in sorted(expected - set(listed))
    ]
    return problems


def resource_bytes(resource: dict[str, Any]) -> Any:
    """A resource's size: `sitrep:bytes` (releases from 2.0.0 on), or `bytes` (1.x)."""
    return resource.get(BYTES, resource.get("bytes"))


def expected_sizes(manifest: dict[str, Any]) -> dict[str, int]:
    """{resource path: bytes} for every resource whose size is a whole number."""
    return {
        r["path"]: resource_bytes(r)
        for r in [*manifest.get("resources", []), *charts(manifest)]
        if isinstance(r, dict)
        and isinstance(resource_bytes(r), int)
        and not isinstance(resource_bytes(r), bool)
    }


def verify_release(
    folder: Path, *, manifest_sha256: str | None = None, version: str | None = None
) -> Verification:
    """Every check a downloader makes, on a release folder already on disk."""
    result = Verification(folder)
    version = version or folder.name
    try:
        parse_version(version)
    except Exception as exc:
        result.problems.append(str(exc))
    sums_path = folder / SUMS
    if not sums_path.is_file():
        result.problems.append(f"{SUMS} is missing from {folder}")
        return result
    listed, problems = parse_sums(sums_path.read_text(encoding="utf-8", errors="replace"))
    result.files = listed
    result.problems += problems
    present = _present(folder) - {SUMS}
    for extra in sorted(present - set(listed)):
        result.problems.append(f"{extra}: not listed in {SUMS} (an extra file)")
    for name, digest in listed.items():
        path = folder / name
        if not path.is_file():
            result.problems.append(f"{name}: listed in {SUMS} but missing")
        elif sha256_file(path) != digest:
            result.problems.append(f"{name}: sha256 differs from {SUMS} (altered or truncated)")
    _check_manifest(folder, result, manifest_sha256, version, listed)
    return result


def _present(folder: Path) -> set[str]:
    """The names of everything in a release folder, and of the charts in its charts/
    folder (a link or a folder inside it is named as it is, and so reported as extra)."""
    present = {p.name for p in folder.iterdir()}
    inside = folder / "charts"
    if inside.is_dir() and not inside.is_symlink():
        present.discard("charts")
        present |= {f"charts/{p.name}" for p in inside.iterdir()}
    return present


def _check_manifest(
    folder: Path, result: Verification, trusted: str | None, version: str, listed: dict[str, str]
) -> None:
    path = folder / MANIFEST
    if not path.is_file():
        result.problems.append(f"{MANIFEST} is missing")
        return
    if trusted is not None and sha256_file(path) != trusted.lower():
        result.problems.append(
            f"{MANIFEST}: sha256 is not the trusted {trusted[:12]}... (a changed manifest)"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        result.problems.append(f"{MANIFEST}: invalid JSON ({exc})")
        return
    result.problems += manifest_problems(manifest, version, listed)
    for name, size in expected_sizes(manifest).items():
        if (folder / name).is_file() and (folder / name).stat().st_size != size:
            result.problems.append(
                f"{name}: {(folder / name).stat().st_size} bytes, the manifest says {size}"
            )


def trusted_hash(index: Path, version: str) -> str | None:
    """The manifest hash `releases/index.json` records for `version`, if any."""
    if not index.is_file():
        return None
    entry = json.loads(index.read_text(encoding="utf-8")).get("releases", {}).get(version)
    return entry.get("datapackage_sha256") if isinstance(entry, dict) else None


def packaged_hash(version: str) -> str | None:
    """The manifest hash the installed package's index records for `version`."""
    return trusted_hash(paths.packaged_index(), version)


def anchor(
    version: str,
    sha256: str | None = None,
    *,
    insecure: bool = False,
    fallback: str | None = None,
) -> str | None:
    """The manifest hash to check release `version` against, decided before anything is
    downloaded or read: `sha256` when given (it must agree with the package's index if
    that lists the version), else the package's index, else `fallback` (the index of a
    releases folder, for a version built after this package). A version none of them
    knows is refused (`UntrustedRelease`) unless `insecure`, which returns None."""
    known = packaged_hash(version) or fallback
    given = sha256.strip().lower() if sha256 else None
    if given and known and given != known:
        raise UntrustedRelease(
            f"release {version}: the sha256 given ({given[:12]}...) is not the one this "
            f"sitrep {__version__} knows for it ({known[:12]}...); refused"
        )
    if given or known or insecure:
        return given or known
    raise UntrustedRelease(
        f"release {version} is not in the index of releases this sitrep {__version__} "
        f"knows ({paths.packaged_index().name}: {', '.join(known_versions()) or 'none'}), so "
        "nothing can vouch for its manifest; refused before anything was saved. Give the "
        "sha256 of its datapackage.json from a source you trust (--sha256), upgrade "
        "sitrep, or pass --insecure to check the files against their own manifest only"
    )


def known_versions() -> list[str]:
    """Versions the installed package's index lists."""
    index = paths.packaged_index()
    if not index.is_file():
        return []
    return list(json.loads(index.read_text(encoding="utf-8")).get("releases", {}))
