"""Verified downloads of releases into a local cache, and a small server to publish them.

`fetch_release` reads `<source>/<version>/<file>` over https, http or file URLs (stdlib
urllib only) and accepts the release only when every check passes:

1. Before anything is fetched, the trusted manifest hash is decided (`verify.anchor`):
   the one the user gives, else the one the installed package's index of releases
   records; a version neither knows is refused unless `insecure`. `SHA256SUMS` and
   `datapackage.json` then arrive first (each at most `METADATA_LIMIT` bytes); the
   manifest must have the trusted hash, the hash its `SHA256SUMS` line gives, and agree
   with `SHA256SUMS` on every resource (`verify.manifest_problems`).
2. The file set is exact: `SHA256SUMS` lists the manifest's resources plus the two files
   that are not resources, `README.md` and `datapackage.json` (never itself). A file
   named in one list but not the other refuses the release, as does any name that is not
   a plain file name or a chart in charts/ (`verify.safe_name`: no other folder, no `..`).
3. Every other file streams into a fresh `.incoming-*` folder inside the cache, hashed as
   it arrives: more bytes than the manifest says, fewer, or another sha256 refuses it.
   `README.md` has no size in the manifest; it is capped at `METADATA_LIMIT`.
4. `verify_release` checks the finished folder, which is then renamed to
   `<cache>/<version>` in one step. Any failure removes the incoming folder: the cache
   holds a verified release or nothing, and an existing folder is never replaced.

Only transient failures (a reset connection, an HTTP 5xx, a cut-off body) are retried,
`TRIES` times in all with doubling pauses; a refused connection, a 404, a timeout or a
bad scheme fail at once with the URL in the message. The whole download has a deadline,
so a server that sends a byte now and then cannot hold it forever; the `.incoming-<pid>-*`
folder of a killed fetch is swept by the next one.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import shutil
import socket
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO

from sitrep import __version__
from sitrep.errors import ConfigError, DownloadError, VerificationError
from sitrep.validate.release import CARD, MANIFEST, SUMS, parse_version, process_alive
from sitrep.validate.verify import (
    NON_RESOURCES,
    anchor,
    charts,
    manifest_problems,
    parse_sums,
    resource_bytes,
    safe_name,
    verify_release,
)

SCHEMES = ("https", "http", "file")
SHA256_HEX = re.compile(r"[0-9a-f]{64}")
METADATA_LIMIT = 16 * 1024 * 1024
TRIES = 3
BACKOFF_SECONDS = 0.5
CHUNK = 1 << 16
DEADLINE_SECONDS = 3600.0  # the whole download, however slowly the server sends
INCOMING = ".incoming-"  # + pid: a download in progress, renamed to its version when done
USER_AGENT = f"sitrep/{__version__} (+release fetch)"

Advance = Callable[[int], None]


def _ignore(n: int) -> None:
    """An `Advance` that shows nothing."""


class _Transient(Exception):
    """A failure worth another try (reset connection, 5xx, body cut short)."""


def default_cache_dir() -> Path:
    """`$SITREP_CACHE`, or `~/.cache/sitrep/releases`."""
    env = os.environ.get("SITREP_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "sitrep" / "releases"


# -- the public entry point ------------------------------------------------------------


def fetch_release(
    version: str,
    source_url: str,
    cache_dir: Path | str,
    *,
    manifest_sha256: str | None = None,
    progress: bool = True,
    timeout: float = 30.0,
    insecure: bool = False,
    deadline: float = DEADLINE_SECONDS,
) -> Path:
    """Download release `version` from `source_url` into `cache_dir/<version>`, verified.

    The manifest is checked against `manifest_sha256` or, by default, the hash the
    installed package's index records (`verify.anchor`); a version neither knows is
    refused before anything is downloaded or cached, unless `insecure`. `timeout` bounds
    each wait for the server; `deadline` the whole download, so a server that sends a
    byte now and then cannot keep it waiting forever.

    Returns the folder. If it is already in the cache and verifies, nothing is downloaded;
    if it is there and does not verify, `VerificationError` asks the user to remove it.
    """
    parse_version(version)
    trusted = anchor(version, _trusted(manifest_sha256), insecure=insecure)
    base = _base_url(source_url)
    cache = Path(cache_dir)
    target = cache / version
    if target.exists() or target.is_symlink():
        return _cached(target, version, trusted)
    cache.mkdir(parents=True, exist_ok=True)
    remove_stale_downloads(cache)
    incoming = Path(tempfile.mkdtemp(dir=cache, prefix=f"{INCOMING}{os.getpid()}-"))
    try:
        session = _Session(base, version, incoming, timeout, time.monotonic() + deadline)
        _download(session, trusted, progress)
        incoming.chmod(0o755)
        return _place(incoming, target, version, trusted)
    finally:
        shutil.rmtree(incoming, ignore_errors=True)


def remove_stale_downloads(cache: Path) -> list[Path]:
    """Remove the `.incoming-<pid>-*` folders of fetches whose process is gone (killed
    mid-download); they never held a release, only a download in progress."""
    removed = []
    for folder in cache.glob(f"{INCOMING}*"):
        pid = folder.name.removeprefix(INCOMING).split("-", 1)[0]
        if pid.isdigit() and not process_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def resource_sizes(manifest: dict[str, Any]) -> tuple[dict[str, int], list[str]]:
    """{resource path: bytes} and the resources whose size is missing or not a count."""
    sizes: dict[str, int] = {}
    problems = []
    for res in [*manifest.get("resources", []), *charts(manifest)]:
        path, size = (
            (res.get("path"), resource_bytes(res)) if isinstance(res, dict) else (None, None)
        )
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            problems.append(f"{MANIFEST}: resource {path!r} has no valid 'bytes' ({size!r})")
        elif isinstance(path, str):
            sizes[path] = size
    return sizes, problems


# -- the steps -------------------------------------------------------------------------


def _trusted(manifest_sha256: str | None) -> str | None:
    if manifest_sha256 is None:
        return None
    digest = manifest_sha256.strip().lower()
    if not SHA256_HEX.fullmatch(digest):
        raise ConfigError(
            f"the trusted manifest hash {manifest_sha256!r} is not a sha256 (64 hex digits)"
        )
    return digest


def _base_url(source_url: str) -> str:
    parts = urllib.parse.urlsplit(source_url)
    if parts.scheme.lower() not in SCHEMES:
        raise DownloadError(
            f"cannot fetch from {source_url!r}: the URL scheme must be https, http or file "
            f"(for a local folder: file:///absolute/path/to/releases)"
        )
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as exc:
        raise DownloadError(f"cannot fetch from {source_url!r}: {exc}") from exc
    if parts.scheme.lower() != "file" and not parts.hostname:
        raise DownloadError(f"cannot fetch from {source_url!r}: the URL names no host")
    return source_url.rstrip("/")


def _cached(target: Path, version: str, trusted: str | None) -> Path:
    if target.is_symlink() or not target.is_dir():
        raise VerificationError(
            f"{target} exists but is not a release folder; remove it and fetch {version} again"
        )
    result = verify_release(target, manifest_sha256=trusted, version=version)
    if not result.ok:
        raise VerificationError(
            f"release {version} is in the cache at {target} but does not verify; nothing was "
            f"overwritten. Remove the folder (rm -r {target}) and fetch it again."
            + _bullets(result.problems)
        )
    return target


def _place(incoming: Path, target: Path, version: str, trusted: str | None) -> Path:
    try:
        os.rename(incoming, target)
    except OSError as exc:
        if target.exists():  # another fetch finished first: use its copy if it verifies
            return _cached(target, version, trusted)
        raise DownloadError(f"cannot move the verified release into {target}: {exc}") from exc
    return target


def _download(session: _Session, trusted: str | None, progress: bool) -> None:
    listed = _read_sums(session)
    manifest = _read_manifest(session, listed, trusted)
    sizes, problems = resource_sizes(manifest)
    _refuse_if(session, problems)
    session.get(CARD, None, listed[CARD])
    names = sorted(set(listed) - NON_RESOURCES)
    with _progress_bar(progress, sum(sizes[n] for n in names), session.version) as advance:
        for name in names:
            session.get(name, sizes[name], listed[name], advance)
    final = verify_release(session.folder, manifest_sha256=trusted, version=session.version)
    _refuse_if(session, final.problems)


def _read_sums(session: _Session) -> dict[str, str]:
    session.get(SUMS, None, None)
    try:
        text = (session.folder / SUMS).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise _refusal(session, [f"{SUMS} is not UTF-8 text"]) from exc
    listed: dict[str, str]
    listed, problems = parse_sums(text)
    _refuse_if(session, problems or ([] if listed else [f"{SUMS} lists no files"]))
    return listed


def _read_manifest(session: _Session, listed: dict[str, str], trusted: str | None) -> Any:
    digest = session.get(MANIFEST, None, None)
    if trusted is not None and digest != trusted:
        raise _refusal(
            session,
            [
                f"{MANIFEST}: sha256 is {digest}, the trusted hash is {trusted}: this is not "
                f"the release you trust (a changed manifest); do not use it"
            ],
        )
    if listed.get(MANIFEST) != digest:
        raise _refusal(
            session, [f"{MANIFEST}: sha256 is {digest}, {SUMS} says {listed.get(MANIFEST)}"]
        )
    try:
        manifest = json.loads((session.folder / MANIFEST).read_text(encoding="utf-8"))
    except ValueError as exc:
        raise _refusal(session, [f"{MANIFEST}: not valid JSON ({exc})"]) from exc
    problems = manifest_problems(manifest, session.version, listed)
    _refuse_if(session, problems)
    return manifest


def _refusal(session: _Session, problems: list[str]) -> VerificationError:
    return VerificationError(
        f"release {session.version} from {session.base} was refused; nothing was saved."
        + _bullets(problems)
    )


def _refuse_if(session: _Session, problems: list[str]) -> None:
    if problems:
        raise _refusal(session, problems)


def _bullets(problems: list[str]) -> str:
    return "".join(f"\n  - {p}" for p in problems)


@contextmanager
def _progress_bar(show: bool, total: int, version: str) -> Iterator[Advance]:
    if not show:
        yield _ignore
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task(f"sitrep {version}", total=total)
        yield lambda n: bar.advance(task, n)


# -- one file over the network ---------------------------------------------------------


class _SafeRedirect(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to http(s), and never from https down to http."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        old, new = urllib.parse.urlsplit(req.full_url).scheme, urllib.parse.urlsplit(newurl).scheme
        if new not in ("http", "https") or (old == "https" and new == "http"):
            raise DownloadError(f"{req.full_url} redirects to {newurl}; refused (scheme {new!r})")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


@dataclass
class _Session:
    """Where files come from and go to, for one fetch."""

    base: str
    version: str
    folder: Path
    timeout: float
    deadline: float  # time.monotonic() by which the whole download must be done

    def __post_init__(self) -> None:
        self.opener = urllib.request.build_opener(_SafeRedirect)

    def url(self, name: str) -> str:
        return f"{self.base}/{self.version}/{urllib.parse.quote(name)}"

    def get(
        self, name: str, size: int | None, sha256: str | None, advance: Advance = _ignore
    ) -> str:
        """Stream `name` into the folder, checking size and sha256 when given; its sha256."""
        if not safe_name(name):
            raise VerificationError(f"{name!r} is not a plain file name; refused")
        url = self.url(name)
        for attempt in range(1, TRIES + 1):
            try:
                digest, got = self._attempt(name, url, size, advance)
                return _checked(name, url, size, got, sha256, digest)
            except _Transient as exc:
                if attempt == TRIES:
                    raise DownloadError(f"{url}: failed {TRIES} times; last error: {exc}") from exc
                time.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    def _attempt(self, name: str, url: str, size: int | None, advance: Advance) -> tuple[str, int]:
        sent = 0

        def counted(n: int) -> None:
            nonlocal sent
            sent += n
            advance(n)

        try:
            (self.folder / name).parent.mkdir(exist_ok=True)  # charts/: the one folder
            with self._open(url) as response, (self.folder / name).open("wb") as out:
                return _stream(response, out, name, size, counted, self._in_time)
        except (ConnectionResetError, http.client.HTTPException) as exc:
            advance(-sent)  # the next try starts this file again
            raise _Transient(f"{type(exc).__name__}: {exc}") from exc
        except TimeoutError as exc:
            raise DownloadError(
                f"{url}: the server stopped sending for {self.timeout:g} s (timed out); try later"
            ) from exc

    def _in_time(self, url_name: str) -> None:
        if time.monotonic() > self.deadline:
            raise DownloadError(
                f"{self.url(url_name)}: the download did not finish within its deadline "
                "(the server sends too slowly); nothing was saved, try later or raise --deadline"
            )

    def _open(self, url: str) -> Any:
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        try:
            return self.opener.open(request, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code >= 500:
                raise _Transient(f"HTTP {exc.code} {exc.reason} for {url}") from exc
            hint = ""
            if exc.code == 404:
                published = url.endswith(f"/{SUMS}")
                hint = (
                    " (is that version published there?)"
                    if published
                    else (" (the server lacks a file the release lists)")
                )
            raise DownloadError(f"HTTP {exc.code} {exc.reason} for {url}{hint}") from exc
        except urllib.error.URLError as exc:
            raise _url_error(url, exc.reason, self.timeout) from exc
        except TimeoutError as exc:
            raise _url_error(url, exc, self.timeout) from exc
        except http.client.InvalidURL as exc:
            raise DownloadError(f"{url}: not a valid URL ({exc})") from exc
        except (ConnectionResetError, http.client.HTTPException):
            raise  # transient: _attempt retries
        except OSError as exc:
            raise DownloadError(f"{url}: {exc}") from exc


def _checked(
    name: str, url: str, size: int | None, got: int, expected: str | None, digest: str
) -> str:
    if size is not None and got < size:
        raise VerificationError(
            f"{name}: {got} bytes arrived from {url}, the manifest says {size} (truncated); "
            f"refused, nothing was saved"
        )
    if expected is not None and digest != expected:
        raise VerificationError(
            f"{name}: sha256 is {digest}, {SUMS} and the manifest say {expected} "
            f"(altered); refused, nothing was saved"
        )
    return digest


def _url_error(url: str, reason: Any, timeout: float) -> Exception:
    if isinstance(reason, ConnectionResetError):
        return _Transient(f"connection reset: {reason}")
    if isinstance(reason, ConnectionRefusedError):
        return DownloadError(f"connection refused by {url}: is the server running on that port?")
    if isinstance(reason, TimeoutError):
        return DownloadError(f"{url}: no answer within {timeout:g} s (timed out); try later")
    if isinstance(reason, FileNotFoundError):
        return DownloadError(f"{url}: not found (no such file)")
    if isinstance(reason, socket.gaierror):
        return DownloadError(f"{url}: cannot resolve the host name ({reason})")
    return DownloadError(f"{url}: {reason}")


def _stream(
    response: BinaryIO,
    out: BinaryIO,
    name: str,
    size: int | None,
    advance: Advance,
    in_time: Callable[[str], None],
) -> tuple[str, int]:
    limit = METADATA_LIMIT if size is None else size
    digest = hashlib.sha256()
    got = 0
    in_time(name)
    while block := response.read1(CHUNK) if hasattr(response, "read1") else response.read(CHUNK):
        in_time(name)
        got += len(block)
        if got > limit:
            said = "allowed for this file" if size is None else "the manifest says"
            raise VerificationError(
                f"{name}: more than the {limit} bytes {said} arrived (oversized); refused, "
                f"nothing was saved"
            )
        digest.update(block)
        out.write(block)
        advance(len(block))
    return digest.hexdigest(), got


# -- publishing ------------------------------------------------------------------------


class _Handler(SimpleHTTPRequestHandler):
    """Serves the files of one folder and nothing else: no folder listings, and no path
    (through a symlink or otherwise) that resolves outside the folder; logs unless told
    to be quiet."""

    quiet = False

    def send_head(self) -> Any:
        path = Path(self.translate_path(self.path))
        root = Path(self.directory).resolve()
        real = path.resolve()
        if real != root and root not in real.parents:
            self.send_error(404, "Not found")  # outside the served folder: say nothing more
            return None
        if real.is_dir():
            self.send_error(404, "Not found")  # folders are never listed
            return None
        return super().send_head()

    def list_directory(self, path: Any) -> Any:
        self.send_error(404, "Not found")
        return None

    def log_message(self, format: str, *args: Any) -> None:
        if not self.quiet:
            super().log_message(format, *args)


def make_server(
    folder: Path | str, host: str = "127.0.0.1", port: int = 8000, *, quiet: bool = False
) -> ThreadingHTTPServer:
    """An HTTP server for `folder` (a releases folder), bound but not yet serving.

    Port 0 picks a free port: read it back from `server.server_address`.
    """
    root = Path(folder)
    if not root.is_dir():
        raise DownloadError(f"cannot serve {root}: not a folder")
    handler = type("Handler", (_Handler,), {"quiet": quiet})
    return ThreadingHTTPServer((host, port), partial(handler, directory=str(root)))


def serve(folder: Path | str, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve `folder` until interrupted (Ctrl-C). Loopback only unless `host` says so."""
    with make_server(folder, host, port) as server:
        address, bound = server.server_address[:2]
        print(f"serving {folder} at http://{address!s}:{bound}/ (Ctrl-C to stop)", flush=True)
        with suppress(KeyboardInterrupt):
            server.serve_forever()
