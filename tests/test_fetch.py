"""Verified downloads (`sitrep.validate.fetch`) over real HTTP on 127.0.0.1 and file://.

One release is built from `datasets/annotations` per module; each test serves its own
copy (a "site"), tampers with it as a dishonest or broken server would, and checks what
`fetch_release` raised and what it left in the cache: the verified release, or nothing
(no version folder, no `.incoming-*` folder).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from sitrep.errors import (
    ConfigError,
    DownloadError,
    ReleaseError,
    UntrustedRelease,
    VerificationError,
)
from sitrep.validate import fetch
from sitrep.validate.fetch import default_cache_dir, fetch_release, make_server
from sitrep.validate.release import build_release
from sitrep.validate.verify import trusted_hash, verify_release

VERSION = "0.9.0"  # a version the installed package does not list: anchored by --sha256
ANNOTATIONS = Path(__file__).resolve().parents[1] / "datasets" / "annotations"
# 13 tables (the 8 data tables, changes, tombstones, entities, claims, claim_summaries);
# the 8 data tables again in train and in dev (no held-out list is given, so no test
# split; fully annotated stories give every table dev rows); the card, the manifest and
# SHA256SUMS; and charts/<quantity>.svg for each quantity the annotations count
CHARTS = len(
    json.loads((ANNOTATIONS.parent / "entities" / "clusters.json").read_bytes())["quantities"]
)
FILES = 13 + 8 + 8 + 3 + CHARTS


def fetch_files(*args: Any, **kwargs: Any) -> Path:
    """`fetch_release` for the tests of the file checks: the release they build is one
    the installed package does not know, so without a given hash it is fetched with
    `insecure` (its files against its own manifest); the anchor has tests of its own."""
    kwargs.setdefault("insecure", True)
    return fetch_release(*args, **kwargs)


# -- fixtures --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A releases folder holding release 0.9.0 and its index.json."""
    releases = tmp_path_factory.mktemp("built") / "releases"
    build_release(VERSION, [ANNOTATIONS], releases)
    return releases


@pytest.fixture
def trusted(built: Path) -> str:
    digest = trusted_hash(built / "index.json", VERSION)
    assert digest is not None and len(digest) == 64
    return digest


@pytest.fixture
def site(built: Path, tmp_path: Path) -> Path:
    """A copy of the releases folder this test may tamper with."""
    return Path(shutil.copytree(built, tmp_path / "site"))


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@contextmanager
def serving(server: ThreadingHTTPServer) -> Iterator[str]:
    """Run `server` in a thread; its base URL; stop and close it on the way out."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def url(site: Path) -> Iterator[str]:
    """http://127.0.0.1:<port> serving `site`, stopped after the test."""
    with serving(make_server(site, "127.0.0.1", 0, quiet=True)) as base:
        yield base


# -- helpers ---------------------------------------------------------------------------


def release_dir(site: Path) -> Path:
    return site / VERSION


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def relist(site: Path, name: str, data: bytes | None) -> None:
    """Rewrite `name` in the served release and its SHA256SUMS line, as a consistent
    dishonest server would (data None: drop the file and its line)."""
    folder = release_dir(site)
    sums = folder / "SHA256SUMS"
    lines = [ln for ln in sums.read_text().splitlines() if not ln.endswith(f"  {name}")]
    if data is None:
        (folder / name).unlink(missing_ok=True)
    else:
        (folder / name).write_bytes(data)
        lines.append(f"{sha256(data)}  {name}")
    sums.write_text("".join(f"{ln}\n" for ln in sorted(lines, key=lambda ln: ln[66:])))


def assert_nothing_saved(cache: Path) -> None:
    assert not (cache / VERSION).exists()
    leftovers = sorted(p.name for p in cache.iterdir()) if cache.exists() else []
    assert leftovers == [], f"the cache should be empty, found {leftovers}"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- a good fetch ----------------------------------------------------------------------


def test_fetch_places_a_verified_release_in_the_cache(
    url: str, site: Path, cache: Path, trusted: str
) -> None:
    path = fetch_files(VERSION, url, cache, manifest_sha256=trusted, progress=False)

    assert path == cache / VERSION

    def files(folder: Path) -> dict[str, str]:  # every file, the charts/ folder's too
        return {
            p.relative_to(folder).as_posix(): sha256(p.read_bytes())
            for p in folder.rglob("*")
            if p.is_file()
        }

    served, fetched = files(release_dir(site)), files(path)
    assert fetched == served
    assert len(fetched) == FILES
    result = verify_release(path, manifest_sha256=trusted)
    assert result.ok, result.problems
    assert sorted(p.name for p in cache.iterdir()) == [VERSION]  # no .incoming-* left


def test_fetch_shows_a_progress_bar(
    url: str, cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fetch_files(VERSION, url, cache, progress=True)

    err = capsys.readouterr().err
    assert f"sitrep {VERSION}" in err
    assert "100%" in err or re.search(r"\d(\.\d+)?/\d(\.\d+)? [kM]B", err)  # done/total


def test_refetch_is_a_no_op(url: str, cache: Path, trusted: str) -> None:
    first = fetch_files(VERSION, url, cache, manifest_sha256=trusted, progress=False)
    before = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in first.iterdir()}

    # Nothing listens on this port: a download would fail, so none is attempted.
    again = fetch_files(
        VERSION, f"http://127.0.0.1:{closed_port()}", cache, manifest_sha256=trusted
    )

    assert again == first
    assert {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in again.iterdir()} == before


def test_the_trusted_hash_may_be_upper_case(url: str, cache: Path, trusted: str) -> None:
    path = fetch_files(VERSION, url, cache, manifest_sha256=trusted.upper(), progress=False)

    assert verify_release(path, manifest_sha256=trusted).ok


@pytest.mark.parametrize("anchor", ["", "abc", "g" * 64, "0" * 63])
def test_a_trusted_hash_that_is_not_a_sha256_is_refused(anchor: str, url: str, cache: Path) -> None:
    with pytest.raises(ConfigError, match="is not a sha256"):
        fetch_files(VERSION, url, cache, manifest_sha256=anchor, progress=False)

    assert not cache.exists()


def test_fetch_from_a_file_url(site: Path, cache: Path, trusted: str) -> None:
    path = fetch_files(VERSION, site.as_uri(), cache, manifest_sha256=trusted, progress=False)

    assert verify_release(path, manifest_sha256=trusted).ok
    assert (path / "figures.parquet").read_bytes() == (
        release_dir(site) / "figures.parquet"
    ).read_bytes()


def test_transient_5xx_is_retried(
    site: Path, cache: Path, trusted: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fetch, "BACKOFF_SECONDS", 0.01)
    seen: Counter[str] = Counter()

    class FlakyOnce(SimpleHTTPRequestHandler):
        def do_GET(self) -> None:
            seen[self.path] += 1
            if seen[self.path] == 1:
                self.send_error(503, "try again")
            else:
                super().do_GET()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: FlakyOnce(*a, directory=str(site)))
    with serving(server) as base:
        path = fetch_files(VERSION, base, cache, manifest_sha256=trusted, progress=False)

    assert verify_release(path, manifest_sha256=trusted).ok
    assert len(seen) == FILES  # SHA256SUMS and every file it lists
    assert set(seen.values()) == {2}


def test_persistent_5xx_gives_up_after_bounded_tries(
    site: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fetch, "BACKOFF_SECONDS", 0.01)
    seen: Counter[str] = Counter()

    class Broken(SimpleHTTPRequestHandler):
        def do_GET(self) -> None:
            seen[self.path] += 1
            self.send_error(502, "bad gateway")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: Broken(*a, directory=str(site)))
    with serving(server) as base, pytest.raises(DownloadError) as info:
        fetch_files(VERSION, base, cache, progress=False)

    assert f"{base}/{VERSION}/SHA256SUMS" in str(info.value)
    assert "502" in str(info.value) and f"{fetch.TRIES} times" in str(info.value)
    assert seen == {f"/{VERSION}/SHA256SUMS": fetch.TRIES}
    assert_nothing_saved(cache)


class Redirecting(SimpleHTTPRequestHandler):
    """Sends /mirror/<path> to /<path>, /file/<path> and /ftp/<path> to other schemes."""

    def do_GET(self) -> None:
        targets = (("/mirror/", "/"), ("/file/", "file:///etc/"), ("/ftp/", "ftp://127.0.0.1/"))
        for prefix, target in targets:
            if self.path.startswith(prefix):
                self.send_response(302)
                self.send_header("Location", target + self.path.removeprefix(prefix))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        super().do_GET()

    def log_message(self, *args: object) -> None:
        pass


def test_http_redirects_are_followed(site: Path, cache: Path, trusted: str) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: Redirecting(*a, directory=str(site)))
    with serving(server) as base:
        path = fetch_files(
            VERSION, f"{base}/mirror", cache, manifest_sha256=trusted, progress=False
        )

    assert verify_release(path, manifest_sha256=trusted).ok


@pytest.mark.parametrize(
    ("prefix", "target"), [("file", "file:///etc/"), ("ftp", "ftp://127.0.0.1/")]
)
def test_a_redirect_to_another_scheme_is_refused(
    prefix: str, target: str, site: Path, cache: Path
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: Redirecting(*a, directory=str(site)))
    with serving(server) as base, pytest.raises(DownloadError) as info:
        fetch_files(VERSION, f"{base}/{prefix}", cache, progress=False)

    message = str(info.value)
    assert f"{base}/{prefix}/{VERSION}/SHA256SUMS" in message
    assert f"{target}{VERSION}/SHA256SUMS" in message
    assert "refused" in message or "not allowed" in message
    assert_nothing_saved(cache)


# -- refused releases leave nothing behind ---------------------------------------------


def test_a_file_missing_on_the_server_is_a_404_naming_the_url(
    url: str, site: Path, cache: Path
) -> None:
    (release_dir(site) / "figures.parquet").unlink()

    with pytest.raises(DownloadError) as info:
        fetch_files(VERSION, url, cache, progress=False)

    assert "404" in str(info.value)
    assert f"{url}/{VERSION}/figures.parquet (the server lacks a file" in str(info.value)
    assert_nothing_saved(cache)


def test_a_resource_missing_from_sha256sums_is_refused(url: str, site: Path, cache: Path) -> None:
    relist(site, "figures.parquet", None)

    with pytest.raises(VerificationError) as info:
        fetch_files(VERSION, url, cache, progress=False)

    assert "figures.parquet" in str(info.value)
    assert "expected in SHA256SUMS" in str(info.value)
    assert_nothing_saved(cache)


def test_the_card_missing_from_sha256sums_is_refused(url: str, site: Path, cache: Path) -> None:
    relist(site, "README.md", None)

    with pytest.raises(VerificationError) as info:
        fetch_files(VERSION, url, cache, progress=False)

    assert "README.md: expected in SHA256SUMS" in str(info.value)
    assert_nothing_saved(cache)


def test_an_extra_file_in_sha256sums_is_refused(url: str, site: Path, cache: Path) -> None:
    relist(site, "extra.parquet", b"not part of the release")

    with pytest.raises(VerificationError) as info:
        fetch_files(VERSION, url, cache, progress=False)

    message = str(info.value)
    assert "extra.parquet: listed in SHA256SUMS but not a resource of datapackage.json" in message
    assert_nothing_saved(cache)


def test_a_truncated_file_is_refused(url: str, site: Path, cache: Path) -> None:
    path = release_dir(site) / "spans.parquet"
    size = path.stat().st_size
    path.write_bytes(path.read_bytes()[: size // 2])

    with pytest.raises(VerificationError) as info:
        fetch_files(VERSION, url, cache, progress=False)

    message = str(info.value)
    assert "spans.parquet" in message and "truncated" in message
    assert f"{size // 2} bytes arrived" in message and f"the manifest says {size}" in message
    assert_nothing_saved(cache)


def test_an_oversized_file_is_refused(url: str, site: Path, cache: Path) -> None:
    path = release_dir(site) / "spans.parquet"
    size = path.stat().st_size
    path.write_bytes(path.read_bytes() + b"\0" * 100_000)

    with pytest.raises(VerificationError) as info:
        fetch_files(VERSION, url, cache, progress=False)

    assert f"spans.parquet: more than the {size} bytes the manifest says" in str(info.value)
    assert_nothing_saved(cache)


def test_an_altered_file_of_the_same_size_is_refused(url: str, site: Path, cache: Path) -> None:
    path = release_dir(site) / "figures.parquet"
    data = bytearray(path.read_bytes())
    expected = sha256(bytes(data))
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))

    with pytest.raises(VerificationError) as info:
        fetch_files(VERSION, url, cache, progress=False)

    message = str(info.value)
    assert "figures.parquet" in message and "altered" in message
    assert expected in message and sha256(bytes(data)) in message
    assert_nothing_saved(cache)


def test_a_manifest_other_than_the_trusted_one_is_refused(
    url: str, site: Path, cache: Path, trusted: str
) -> None:
    manifest_path = release_dir(site) / "datapackage.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["description"] = "A dishonest server's manifest, consistent with its SHA256SUMS."
    relist(site, "datapackage.json", json.dumps(manifest).encode())

    with pytest.raises(VerificationError) as info:
        fetch_files(VERSION, url, cache, manifest_sha256=trusted, progress=False)

    assert f"the trusted hash is {trusted}" in str(info.value)
    assert_nothing_saved(cache)


def test_a_manifest_that_disagrees_with_sha256sums_is_refused_without_an_anchor(
    url: str, site: Path, cache: Path
) -> None:
    path = release_dir(site) / "datapackage.json"
    path.write_text(path.read_text().replace('"sitrep"', '"not-sitrep"', 1))

    with pytest.raises(VerificationError) as info:
        fetch_files(VERSION, url, cache, progress=False)

    assert "datapackage.json: sha256 is" in str(info.value)
    assert "SHA256SUMS says" in str(info.value)
    assert_nothing_saved(cache)


@pytest.mark.parametrize("version", ["../../etc", "1.0", "1.0.0/../x", "v1.0.0", "", "01.0.0"])
def test_a_version_that_is_not_semver_is_refused(
    version: str, url: str, cache: Path, tmp_path: Path
) -> None:
    with pytest.raises(ReleaseError, match=r"is not MAJOR\.MINOR\.PATCH"):
        fetch_files(version, url, cache, progress=False)

    assert not cache.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


@pytest.mark.parametrize("name", ["../evil", "sub/dir", "/etc/passwd", ".."])
def test_a_sha256sums_line_with_a_path_is_refused(
    name: str, url: str, site: Path, cache: Path, tmp_path: Path
) -> None:
    sums = release_dir(site) / "SHA256SUMS"
    sums.write_text(sums.read_text() + f"{sha256(b'x')}  {name}\n")

    with pytest.raises(VerificationError) as info:
        fetch_files(VERSION, url, cache, progress=False)

    assert f"SHA256SUMS line {FILES}: expected '<sha256>  <file name>'" in str(info.value)
    assert name in str(info.value)
    assert not (tmp_path / "evil").exists() and not (cache / "evil").exists()
    assert_nothing_saved(cache)


def test_sha256sums_listing_itself_is_refused(url: str, site: Path, cache: Path) -> None:
    sums = release_dir(site) / "SHA256SUMS"
    sums.write_text(sums.read_text() + f"{sha256(b'x')}  SHA256SUMS\n")

    with pytest.raises(VerificationError) as info:
        fetch_files(VERSION, url, cache, progress=False)

    assert "SHA256SUMS: listed in SHA256SUMS but not a resource" in str(info.value)
    assert_nothing_saved(cache)


def test_a_resource_without_a_size_is_refused(url: str, site: Path, cache: Path) -> None:
    manifest_path = release_dir(site) / "datapackage.json"
    manifest = json.loads(manifest_path.read_text())
    del next(r for r in manifest["resources"] if r["name"] == "spans")["sitrep:bytes"]
    relist(site, "datapackage.json", json.dumps(manifest).encode())

    with pytest.raises(VerificationError) as info:
        fetch_files(VERSION, url, cache, progress=False)

    assert "datapackage.json: resource 'spans.parquet' has no valid 'bytes' (None)" in str(
        info.value
    )
    assert_nothing_saved(cache)


# -- network failures are clear and fast -----------------------------------------------


def test_an_unknown_version_is_a_404_naming_the_url(url: str, cache: Path) -> None:
    with pytest.raises(DownloadError) as info:
        fetch_files("9.9.9", url, cache, progress=False)

    assert str(info.value).startswith(f"HTTP 404 File not found for {url}/9.9.9/SHA256SUMS")
    assert not (cache / "9.9.9").exists()
    assert [p.name for p in cache.iterdir()] == []


def test_connection_refused_fails_fast(cache: Path) -> None:
    base = f"http://127.0.0.1:{closed_port()}"
    started = time.monotonic()

    with pytest.raises(DownloadError) as info:
        fetch_files(VERSION, base, cache, progress=False)

    assert time.monotonic() - started < 5
    assert f"connection refused by {base}/{VERSION}/SHA256SUMS" in str(info.value)
    assert_nothing_saved(cache)


def test_a_silent_server_times_out(cache: Path) -> None:
    with socket.socket() as silent:  # accepts connections (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        base = f"http://127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        with pytest.raises(DownloadError) as info:
            fetch_files(VERSION, base, cache, progress=False, timeout=0.5)

    assert time.monotonic() - started < 5
    assert "timed out" in str(info.value) and f"{base}/{VERSION}/SHA256SUMS" in str(info.value)
    assert_nothing_saved(cache)


def test_a_server_that_stalls_mid_file_times_out(site: Path, cache: Path) -> None:
    release = threading.Event()

    class Stalling(SimpleHTTPRequestHandler):
        def do_GET(self) -> None:
            if not self.path.endswith("/spans.parquet"):
                return super().do_GET()
            data = (site / self.path.lstrip("/")).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[:100])
            self.wfile.flush()
            release.wait(10)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: Stalling(*a, directory=str(site)))
    try:
        with serving(server) as base:
            started = time.monotonic()
            with pytest.raises(DownloadError) as info:
                fetch_files(VERSION, base, cache, progress=False, timeout=0.3)
            elapsed = time.monotonic() - started
    finally:
        release.set()

    assert elapsed < 5
    assert f"{base}/{VERSION}/spans.parquet: the server stopped sending" in str(info.value)
    assert_nothing_saved(cache)


@pytest.mark.parametrize(
    "source", ["ftp://127.0.0.1/releases", "/tmp/releases", "releases", "data:,x"]
)
def test_other_url_schemes_are_refused(source: str, cache: Path) -> None:
    with pytest.raises(DownloadError, match="scheme must be https, http or file"):
        fetch_files(VERSION, source, cache, progress=False)

    assert not cache.exists()


@pytest.mark.parametrize(
    ("source", "problem"),
    [("http://127.0.0.1:port/r", "Port could not be cast"), ("http:///r", "names no host")],
)
def test_malformed_urls_are_refused(source: str, problem: str, cache: Path) -> None:
    with pytest.raises(DownloadError, match=problem):
        fetch_files(VERSION, source, cache, progress=False)

    assert not cache.exists()


def test_a_file_url_without_the_release_names_the_path(tmp_path: Path, cache: Path) -> None:
    source = (tmp_path / "nowhere").as_uri()

    with pytest.raises(DownloadError) as info:
        fetch_files(VERSION, source, cache, progress=False)

    assert f"{source}/{VERSION}/SHA256SUMS: not found" in str(info.value)
    assert_nothing_saved(cache)


# -- the existing cache is never overwritten -------------------------------------------


def test_a_corrupted_cached_release_is_reported_not_overwritten(
    url: str, cache: Path, trusted: str
) -> None:
    path = fetch_files(VERSION, url, cache, manifest_sha256=trusted, progress=False)
    figures = path / "figures.parquet"
    corrupted = b"PAR1 not what was released"
    figures.write_bytes(corrupted)

    with pytest.raises(VerificationError) as info:
        fetch_files(VERSION, url, cache, manifest_sha256=trusted, progress=False)

    message = str(info.value)
    assert f"release {VERSION} is in the cache at {path} but does not verify" in message
    assert f"rm -r {path}" in message
    assert "figures.parquet: sha256 differs from SHA256SUMS" in message
    assert figures.read_bytes() == corrupted
    assert sorted(p.name for p in cache.iterdir()) == [VERSION]


def test_a_cached_release_with_another_manifest_is_reported(url: str, cache: Path) -> None:
    path = fetch_files(VERSION, url, cache, progress=False)

    with pytest.raises(VerificationError, match="not the trusted"):
        fetch_files(VERSION, url, cache, manifest_sha256="0" * 64, progress=False)

    assert verify_release(path).ok


def test_a_file_where_the_release_folder_goes_is_not_replaced(url: str, cache: Path) -> None:
    cache.mkdir()
    (cache / VERSION).write_text("mine")

    with pytest.raises(VerificationError, match="not a release folder; remove it"):
        fetch_files(VERSION, url, cache, progress=False)

    assert (cache / VERSION).read_text() == "mine"


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SITREP_CACHE", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("SITREP_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / ".cache" / "sitrep" / "releases"


# -- verify_release on a folder --------------------------------------------------------


@pytest.fixture
def copy(built: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(built / VERSION, tmp_path / VERSION))


def test_verify_accepts_the_built_release(copy: Path, trusted: str) -> None:
    result = verify_release(copy, manifest_sha256=trusted)
    assert result.ok, result.problems
    assert len(result.files) == FILES - 1


def test_verify_reports_an_extra_file(copy: Path) -> None:
    (copy / "notes.txt").write_text("left behind")

    assert verify_release(copy).problems == ["notes.txt: not listed in SHA256SUMS (an extra file)"]


def test_verify_reports_a_missing_file(copy: Path) -> None:
    (copy / "events.parquet").unlink()

    assert verify_release(copy).problems == ["events.parquet: listed in SHA256SUMS but missing"]


def test_verify_reports_an_altered_file(copy: Path) -> None:
    path = copy / "actors.parquet"
    data = bytearray(path.read_bytes())
    data[100] ^= 0x01
    path.write_bytes(bytes(data))

    assert verify_release(copy).problems == [
        "actors.parquet: sha256 differs from SHA256SUMS (altered or truncated)"
    ]


def test_verify_reports_a_truncated_file_and_its_size(copy: Path) -> None:
    path = copy / "actors.parquet"
    size = path.stat().st_size
    path.write_bytes(path.read_bytes()[:10])

    problems = verify_release(copy).problems
    assert "actors.parquet: sha256 differs from SHA256SUMS (altered or truncated)" in problems
    assert f"actors.parquet: 10 bytes, the manifest says {size}" in problems


@pytest.mark.parametrize(
    ("folder", "problem"),
    [
        ("1.0.1", "datapackage.json: version is '0.9.0', expected '1.0.1'"),
        ("latest", "version 'latest' is not MAJOR.MINOR.PATCH (for example 1.2.0)"),
    ],
)
def test_verify_reports_a_wrong_version_folder_name(copy: Path, folder: str, problem: str) -> None:
    renamed = copy.rename(copy.parent / folder)

    assert problem in verify_release(renamed).problems


def test_verify_reports_an_untrusted_manifest(copy: Path) -> None:
    problems = verify_release(copy, manifest_sha256="f" * 64).problems

    assert problems == [
        "datapackage.json: sha256 is not the trusted ffffffffffff... (a changed manifest)"
    ]


# -- the trust anchor shipped in the package -------------------------------------------

PUBLISHED = Path(__file__).resolve().parents[1] / "datasets" / "releases"


def tamper_consistently(folder: Path) -> None:
    """Every `best` x10 in figures.parquet, with the manifest and SHA256SUMS rewritten to
    agree: only a trusted manifest hash can tell."""
    import polars as pl
    import pyarrow.parquet as pq

    path = folder / "figures.parquet"
    data = pq.read_table(path)
    frame = pl.from_arrow(data).with_columns(pl.col("best") * 10)  # type: ignore[union-attr]
    pq.write_table(frame.to_arrow().cast(data.schema), path)
    manifest = json.loads((folder / "datapackage.json").read_text())
    res = next(r for r in manifest["resources"] if r["path"] == "figures.parquet")
    res["hash"] = "sha256:" + sha256(path.read_bytes())
    res["sitrep:bytes" if "sitrep:bytes" in res else "bytes"] = path.stat().st_size
    (folder / "datapackage.json").write_text(json.dumps(manifest, indent=2))
    names = sorted(p.name for p in folder.iterdir() if p.name != "SHA256SUMS")
    sums = "".join(f"{sha256((folder / n).read_bytes())}  {n}\n" for n in names)
    (folder / "SHA256SUMS").write_text(sums)


@pytest.fixture
def outside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with no checkout above it (no datasets/releases/index.json)."""
    home = tmp_path / "elsewhere"
    home.mkdir()
    monkeypatch.chdir(home)
    monkeypatch.delenv("SITREP_HOME", raising=False)
    return home


@pytest.fixture
def published_site(tmp_path: Path) -> Path:
    """The committed release 1.0.0 on a site without index.json."""
    site = tmp_path / "published"
    shutil.copytree(PUBLISHED / "1.0.0", site / "1.0.0")
    return site


def test_the_package_anchors_a_fetch_outside_a_checkout(
    published_site: Path, outside: Path
) -> None:
    with serving(make_server(published_site, "127.0.0.1", 0, quiet=True)) as url:
        folder = fetch_release("1.0.0", url, outside / "cache", progress=False)
    assert verify_release(
        folder, manifest_sha256=trusted_hash(PUBLISHED / "index.json", "1.0.0")
    ).ok


def test_a_consistently_tampered_manifest_is_refused_outside_a_checkout(
    published_site: Path, outside: Path
) -> None:
    tamper_consistently(published_site / "1.0.0")
    assert verify_release(published_site / "1.0.0").ok  # consistent with itself
    server = make_server(published_site, "127.0.0.1", 0, quiet=True)
    with serving(server) as url, pytest.raises(VerificationError, match="not the release you"):
        fetch_release("1.0.0", url, outside / "cache", progress=False)
    assert_nothing_saved(outside / "cache")


def test_load_and_verify_refuse_a_consistently_tampered_release(
    published_site: Path, outside: Path
) -> None:
    from typer.testing import CliRunner

    from sitrep.cli import app
    from sitrep.validate.api import load

    cache = published_site  # as if it had been copied into the cache by hand
    assert load("1.0.0", "figures", cache_dir=cache)["best"].max() == 8400
    tamper_consistently(cache / "1.0.0")
    with pytest.raises(VerificationError, match="a changed manifest"):
        load("1.0.0", "figures", cache_dir=cache)
    result = CliRunner().invoke(app, ["release", "verify", str(cache / "1.0.0")])
    assert result.exit_code == 1 and "a changed manifest" in result.output


def test_an_unknown_release_is_refused_before_anything_is_cached(
    outside: Path, trusted: str
) -> None:
    cache = outside / "cache"
    url = f"http://127.0.0.1:{closed_port()}"  # never reached: refused before any request
    with pytest.raises(UntrustedRelease, match=r"--sha256.*--insecure"):
        fetch_release(VERSION, url, cache, progress=False)
    assert not cache.exists()
    with pytest.raises(UntrustedRelease):
        from sitrep.validate.api import load

        load(VERSION, "figures", cache_dir=cache)


def test_a_given_hash_must_agree_with_the_package_for_a_version_it_knows(
    outside: Path,
) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(UntrustedRelease, match="is not the one this sitrep"):
        fetch_release("1.0.0", url, outside / "cache", manifest_sha256="0" * 64, progress=False)
    assert not (outside / "cache").exists()


def test_insecure_fetches_an_unknown_release_against_its_own_manifest(
    url: str, outside: Path
) -> None:
    folder = fetch_release(VERSION, url, outside / "cache", progress=False, insecure=True)
    assert verify_release(folder).ok


# -- leftovers: deadlines, killed fetches, what `serve` shows ------------------------------


def test_a_server_that_drips_bytes_hits_the_overall_deadline(site: Path, cache: Path) -> None:
    stop = threading.Event()

    class Dripping(SimpleHTTPRequestHandler):
        def do_GET(self) -> None:
            if not self.path.endswith("/spans.parquet"):
                return super().do_GET()
            data = (site / self.path.lstrip("/")).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            for byte in data:  # one byte every 0.2 s: never silent long enough to time out
                if stop.wait(0.2):
                    return
                self.wfile.write(bytes([byte]))
                self.wfile.flush()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: Dripping(*a, directory=str(site)))
    try:
        with serving(server) as base:
            started = time.monotonic()
            with pytest.raises(DownloadError, match="did not finish within its deadline"):
                fetch_files(VERSION, base, cache, progress=False, timeout=1.0, deadline=2.0)
            elapsed = time.monotonic() - started
    finally:
        stop.set()
    assert elapsed < 6
    assert_nothing_saved(cache)


def test_a_killed_fetch_leaves_an_incoming_folder_the_next_fetch_sweeps(
    url: str, cache: Path, trusted: str
) -> None:
    import subprocess
    import sys

    script = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from sitrep.validate import fetch\n"
        "real = fetch._Session.get\n"
        "def die(self, name, *a, **k):\n"
        "    if name == 'README.md':\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "    return real(self, name, *a, **k)\n"
        "fetch._Session.get = die\n"
        "fetch.fetch_release(sys.argv[1], sys.argv[2], Path(sys.argv[3]),\n"
        "                    manifest_sha256=sys.argv[4], progress=False)\n"
    )
    killed = subprocess.run(
        [sys.executable, "-c", script, VERSION, url, str(cache), trusted], capture_output=True
    )
    assert killed.returncode == -9, killed.stderr
    leftovers = [p.name for p in cache.iterdir()]
    assert len(leftovers) == 1 and leftovers[0].startswith(".incoming-"), leftovers
    fetch_files(VERSION, url, cache, manifest_sha256=trusted, progress=False)
    assert sorted(p.name for p in cache.iterdir()) == [VERSION]


def test_a_running_fetchs_incoming_folder_is_left_alone(cache: Path) -> None:
    import os

    mine = cache / f".incoming-{os.getpid()}-abc"
    mine.mkdir(parents=True)
    assert fetch.remove_stale_downloads(cache) == []
    assert mine.is_dir()


def _status(url: str) -> int:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_serve_lists_no_folder_and_follows_no_symlink_out_of_its_root(
    site: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the web")
    (site / "leak.txt").symlink_to(secret)
    (site / "outside").symlink_to(tmp_path)
    (site / "inside.txt").symlink_to(site / VERSION / "SHA256SUMS")
    with serving(make_server(site, "127.0.0.1", 0, quiet=True)) as base:
        assert _status(f"{base}/") == 404
        assert _status(f"{base}/{VERSION}/") == 404
        assert _status(f"{base}/{VERSION}") == 404
        assert _status(f"{base}/leak.txt") == 404
        assert _status(f"{base}/outside/secret.txt") == 404
        assert _status(f"{base}/inside.txt") == 200
        assert _status(f"{base}/{VERSION}/SHA256SUMS") == 200
