"""A small, strict client for the Label Studio REST API.

Only what push and pull need, on the standard library (the official SDK pins numpy and
OpenCV versions that clash with ours). Every failure becomes a `ConnectionFailed` that
names the server, the request and the reason. Retries, with exponential backoff, happen
only where a retry can help: a reset connection or a 502/503/504 (and a 500 on a GET,
which changes nothing on the server). A refused connection, a wrong token, a 4xx or a
timeout fails at once: repeating them would only delay the message.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sitrep.annotate.labelstudio.server import (
    Connection,
    ConnectionFailed,
    Reason,
    _authorization,
    _http_failure,
    _network_failure,
    _open,
)

TIMEOUT = 30.0
RETRIES = 3
BACKOFF = 0.5
RETRY_ALWAYS = (502, 503, 504)
CHUNK = 1 << 20


class Client:
    """One Label Studio server, one API token."""

    def __init__(
        self,
        conn: Connection,
        *,
        timeout: float = TIMEOUT,
        retries: int = RETRIES,
        backoff: float = BACKOFF,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.conn = conn
        self.url = conn.url
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.sleep = sleep
        self._auth: str | None = None

    # --- plumbing --------------------------------------------------------------------

    def _headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        if self._auth is None:
            self._auth = _authorization(self.conn, self.timeout)
        return {"Authorization": self._auth, "Accept": "application/json", **(extra or {})}

    def _request(
        self, method: str, path: str, params: Mapping[str, Any] | None, body: Any
    ) -> urllib.request.Request:
        query = f"?{urllib.parse.urlencode(params, doseq=True)}" if params else ""
        data = None if body is None else json.dumps(body).encode("utf-8")
        headers = self._headers({"Content-Type": "application/json"} if data else None)
        return urllib.request.Request(
            f"{self.url}{path}{query}", data=data, headers=headers, method=method
        )

    def _send(
        self, method: str, path: str, params: Any, body: Any, timeout: float | None = None
    ) -> Any:
        """The open response of one request, retried where that can help."""
        wait = timeout or self.timeout
        attempt = 0
        while True:
            attempt += 1
            request = self._request(method, path, params, body)
            try:
                return _open(request, self.url, wait)
            except urllib.error.HTTPError as exc:
                retry = exc.code in RETRY_ALWAYS or (exc.code == 500 and method == "GET")
                if retry and attempt < self.retries:
                    exc.close()
                    self.sleep(self.backoff * 2 ** (attempt - 1))
                    continue
                raise self._failure(exc, method, path) from None
            except TimeoutError as exc:
                raise ConnectionFailed(
                    Reason.timeout,
                    self.url,
                    f"{method} {path}: no answer within {wait:.0f} s",
                ) from exc
            except urllib.error.URLError as exc:
                if isinstance(exc.reason, ConnectionResetError) and attempt < self.retries:
                    self.sleep(self.backoff * 2 ** (attempt - 1))
                    continue
                failure = _network_failure(exc, self.url, self.timeout)
                raise ConnectionFailed(
                    failure.reason, self.url, f"{method} {path}: {failure.detail}"
                ) from None
            except (ConnectionResetError, ConnectionAbortedError) as exc:
                if attempt < self.retries:
                    self.sleep(self.backoff * 2 ** (attempt - 1))
                    continue
                raise ConnectionFailed(
                    Reason.server_down, self.url, f"{method} {path}: connection lost ({exc})"
                ) from None

    def _failure(self, exc: urllib.error.HTTPError, method: str, path: str) -> ConnectionFailed:
        if exc.code in (400, 409):
            text = exc.read(4000).decode("utf-8", errors="replace")
            return ConnectionFailed(
                Reason.refused, self.url, f"{method} {path}: HTTP {exc.code}: {_short(text)}"
            )
        base = _http_failure(exc, self.url)
        return ConnectionFailed(base.reason, self.url, f"{method} {path}: {base.detail}")

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        timeout: float | None = None,
    ) -> Any:
        """The decoded JSON answer of one API call (None for an empty body); `timeout`
        overrides the client's for calls known to be slow."""
        with self._send(method, path, params, body, timeout) as response:
            try:
                raw = response.read()
            except (TimeoutError, OSError) as exc:
                raise ConnectionFailed(
                    Reason.timeout, self.url, f"{method} {path}: the answer stopped ({exc})"
                ) from exc
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise ConnectionFailed(
                Reason.wrong_url, self.url, f"{method} {path}: the answer is not JSON"
            ) from None

    def get(self, path: str, **params: Any) -> Any:
        return self.call("GET", path, params=params or None)

    def post(self, path: str, body: Any, **params: Any) -> Any:
        return self.call("POST", path, params=params or None, body=body)

    def patch(self, path: str, body: Any) -> Any:
        return self.call("PATCH", path, body=body)

    def download(self, path: str, target: Path, **params: Any) -> int:
        """Stream a GET answer into `target` (a new file, removed again on any failure).
        Returns the number of bytes."""
        tmp = target.with_name(f".{target.name}.part-{os.getpid()}")
        try:
            with self._send("GET", path, params or None, None) as response, open(tmp, "wb") as out:
                try:
                    shutil.copyfileobj(response, out, CHUNK)
                except (TimeoutError, OSError) as exc:
                    raise ConnectionFailed(
                        Reason.timeout, self.url, f"GET {path}: the download stopped ({exc})"
                    ) from exc
                expected = response.headers.get("Content-Length")
                size = out.tell()
            if expected is not None and int(expected) != size:
                raise ConnectionFailed(
                    Reason.server_error,
                    self.url,
                    f"GET {path}: the download is truncated ({size} of {expected} bytes)",
                )
            tmp.replace(target)
            return size
        finally:
            tmp.unlink(missing_ok=True)

    # --- the calls sitrep makes ------------------------------------------------------

    def whoami(self) -> dict[str, Any]:
        body = self.get("/api/current-user/whoami")
        if not isinstance(body, dict) or "email" not in body:
            raise ConnectionFailed(
                Reason.wrong_url, self.url, "answers, but not as Label Studio does"
            )
        return body

    def pages(
        self, path: str, key: str | None = None, page_size: int = 1000, **params: Any
    ) -> list[Any]:
        """Every item of a paginated list (`results`, or `key` when the route uses another)."""
        items: list[Any] = []
        page = 1
        while True:
            try:
                body = self.get(path, page=page, page_size=page_size, **params)
            except ConnectionFailed as exc:
                if page > 1 and "HTTP 404" in exc.detail:  # past the last page
                    return items
                raise
            if isinstance(body, list):
                return items + body
            if not isinstance(body, dict):
                return items
            chunk = body.get(key or "results", [])
            items.extend(chunk)
            total = body.get("total", body.get("count"))
            last = "next" in body and not body["next"]
            if not chunk or last or (total is not None and len(items) >= int(total)):
                return items
            page += 1


def _short(text: str, limit: int = 600) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + " ..."
