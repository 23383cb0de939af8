"""A small, polite GraphQL-over-HTTP client and resumable-checkpoint helpers.

Retry rules (one request; the attempt counter restarts for the next request):

* every request waits until ``min_interval`` seconds have passed since the
  previous one: AniList documents 90 requests/minute but has long served 30,
  so the default pace (2.5 s, 24 a minute) keeps headroom below that and
  avoids 429s instead of provoking them;
* when a response says ``X-RateLimit-Remaining`` is at most ``low_remaining``,
  the next request waits a whole ``rate_window`` (60 s) instead, so a burst
  (or another client on the same address) cannot run into the limit;
* HTTP 429: sleep the ``Retry-After`` seconds the server asked for (capped
  exponential backoff when the header is missing or unreadable), then retry;
* HTTP 5xx, refused/reset connections, timeouts: capped exponential backoff
  ``min(backoff_cap, backoff_base * 2**attempt)``, then retry;
* after ``max_retries`` retries the request fails with :class:`FetchError`;
* a body that is not JSON, has no ``data`` object or carries GraphQL
  ``errors`` fails at once with :class:`FetchError` / :class:`GraphQLError`:
  retrying a malformed answer or a rejected query would only repeat it;
* a redirect to anything but an http(s) URL (``ftp:``, ``file:``) is refused.

AniList also refuses any page beyond its first :data:`PAGE_DEPTH` entries
(``page * perPage > 5000``: HTTP 400 "Page depth exceeds maximum allowed...",
``data.Page`` null); :func:`is_page_depth_error` recognizes that answer, which
no retry or rerun can change. The walkers stay under it (see
:mod:`gnn.ingest.anilist`).

The HTTP layer is the standard library's urllib (one JSON POST is all we need,
and it adds no dependency). ``sleep`` and ``clock`` are injectable so tests
never really wait.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any, Callable

from gnn import __version__
from gnn.errors import InputError, UsageError
from gnn.io import read_json, write_json

ANILIST_ENDPOINT = "https://graphql.anilist.co"
PAGE_DEPTH = 5000  # AniList serves at most this many entries of one listing (page * perPage)

# Module-level so tests can monkeypatch it before a client is built.
_sleep: Callable[[float], None] = time.sleep


class FetchError(InputError):
    """A remote source failed or answered something unusable.

    Subclasses :class:`InputError` so the CLI prints it as one line (exit code 2):
    the "file" is the endpoint and the message says which request failed and why.
    """

    def __init__(self, endpoint: str, message: str) -> None:
        super().__init__(endpoint, message)


class GraphQLError(FetchError):
    """The server answered with GraphQL ``errors`` (bad query, private or unknown user...)."""

    def __init__(self, endpoint: str, what: str, messages: list[str], statuses: list[int]) -> None:
        self.messages = messages
        self.statuses = statuses
        status = f" (status {', '.join(map(str, statuses))})" if statuses else ""
        super().__init__(endpoint, f"{what}: GraphQL error{status}: {'; '.join(messages)}")

    @property
    def not_found(self) -> bool:
        """True for AniList's 'User not found' / 'Private User' answers (status 404)."""
        return 404 in self.statuses


def is_page_depth_error(err: Exception) -> bool:
    """True for AniList's "Page depth exceeds maximum allowed" answer (final: rerunning repeats it)."""
    return isinstance(err, GraphQLError) and any("page depth" in m.lower() for m in err.messages)


class _RedirectRefused(FetchError):
    """A redirect to a scheme other than http(s)."""


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """urllib follows redirects to ftp:// (and would to other schemes); only http(s) is followed here."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001, ANN201 - urllib's
        scheme = urllib.parse.urlsplit(newurl).scheme.lower()
        if scheme not in ("http", "https"):
            raise _RedirectRefused(self.endpoint, f"refused a redirect (HTTP {code}) to a {scheme or 'relative'}:"
                                                  f" URL; only http(s) is followed")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard and how politely to ask; see the module docstring."""

    max_retries: int = 5
    backoff_base: float = 2.0
    backoff_cap: float = 120.0
    min_interval: float = 2.5
    timeout: float = 60.0
    low_remaining: int = 2        # X-RateLimit-Remaining at or below this: wait a whole window
    rate_window: float = 60.0     # seconds (AniList counts requests per minute)

    def backoff(self, attempt: int) -> float:
        return min(self.backoff_cap, self.backoff_base * 2 ** attempt)


class _Transient(Exception):
    """A failure worth retrying: connection trouble, timeout, 429 or 5xx."""

    def __init__(self, reason: str, delay: float | None = None) -> None:
        super().__init__(reason)
        self.delay = delay  # seconds the server asked us to wait, if it said


def retry_after_seconds(headers: Message | None) -> float | None:
    """The ``Retry-After`` header as seconds, or None when absent or not a number."""
    value = headers.get("Retry-After") if headers is not None else None
    try:
        seconds = float(value) if value is not None else None
    except ValueError:  # an HTTP-date: rare; fall back to our own backoff
        return None
    return seconds if seconds is not None and math.isfinite(seconds) and seconds >= 0 else None


class GraphQLClient:
    """POST GraphQL queries to one endpoint with pacing, retries and clear errors."""

    def __init__(self, endpoint: str = ANILIST_ENDPOINT, policy: RetryPolicy | None = None,
                 sleep: Callable[[float], None] | None = None,
                 clock: Callable[[], float] | None = None) -> None:
        if urllib.parse.urlsplit(endpoint).scheme not in ("http", "https"):
            # urllib would also open file:// and ftp:// URLs; only HTTP(S) makes sense here.
            raise UsageError(f"endpoint must be an http(s) URL, got {endpoint!r}")
        self.endpoint = endpoint
        self.policy = policy or RetryPolicy()
        self._sleep = sleep or _sleep
        self._clock = clock or time.monotonic
        self._last_request: float | None = None
        self._remaining: int | None = None  # X-RateLimit-Remaining of the last response
        self._opener = urllib.request.build_opener(_HttpOnlyRedirects(endpoint))
        self.requests = 0  # requests actually sent, for the summary line

    def execute(self, query: str, variables: dict[str, Any], what: str) -> dict[str, Any]:
        """Run ``query`` and return its ``data`` object; ``what`` names the request in errors."""
        payload = json.dumps({"query": query, "variables": variables}).encode("utf-8")
        attempt = 0
        while True:
            try:
                status, body = self._post(payload)
                return self._parse(status, body, what)
            except _RedirectRefused as err:
                raise FetchError(self.endpoint, f"{what}: {err.detail}") from None
            except _Transient as err:
                if attempt >= self.policy.max_retries:
                    raise FetchError(self.endpoint, f"{what}: giving up after {attempt + 1} "
                                                    f"attempt(s); last error: {err}") from None
                delay = err.delay if err.delay is not None else self.policy.backoff(attempt)
                self._sleep(delay)
                attempt += 1

    def _pace(self) -> None:
        interval = self.policy.min_interval
        if self._remaining is not None and self._remaining <= self.policy.low_remaining:
            interval = max(interval, self.policy.rate_window)  # nearly out: let the window pass
        if self._last_request is not None and interval > 0:
            wait = self._last_request + interval - self._clock()
            if wait > 0:
                self._sleep(wait)
        self._last_request = self._clock()

    def _note_rate_limit(self, headers: Message | None) -> None:
        value = headers.get("X-RateLimit-Remaining") if headers is not None else None
        try:
            self._remaining = int(value) if value is not None else None
        except ValueError:
            self._remaining = None

    def _post(self, payload: bytes) -> tuple[int, bytes]:
        self._pace()
        self.requests += 1
        request = urllib.request.Request(
            self.endpoint, data=payload, method="POST",
            headers={"Content-Type": "application/json", "Accept": "application/json",
                     "User-Agent": f"anime-gnn/{__version__}"})
        try:
            with self._opener.open(request, timeout=self.policy.timeout) as response:
                self._note_rate_limit(response.headers)
                return response.status, response.read()
        except urllib.error.HTTPError as err:  # before URLError: it is a subclass
            status, headers = err.code, err.headers
            self._note_rate_limit(headers)
            try:
                body = err.read()
            except (OSError, http.client.HTTPException):
                body = b""
            if status == 429:
                raise _Transient("rate limited (HTTP 429)", retry_after_seconds(headers)) from None
            if status >= 500:
                raise _Transient(f"HTTP {status}") from None
            return status, body
        except (urllib.error.URLError, http.client.HTTPException, OSError) as err:
            reason = getattr(err, "reason", None) or err
            raise _Transient(f"connection failed ({reason})") from None

    def _parse(self, status: int, body: bytes, what: str) -> dict[str, Any]:
        try:
            doc = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            start = body[:60].decode("utf-8", "replace").replace("\n", " ")
            raise FetchError(self.endpoint, f"{what}: response is not JSON "
                                            f"(HTTP {status}, starts {start!r})") from None
        if not isinstance(doc, dict):
            raise FetchError(self.endpoint, f"{what}: response is not a JSON object (HTTP {status})")
        errors = doc.get("errors")
        if errors:
            errors = errors if isinstance(errors, list) else [errors]
            messages = [str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors]
            statuses = [e["status"] for e in errors
                        if isinstance(e, dict) and isinstance(e.get("status"), int)]
            raise GraphQLError(self.endpoint, what, messages, statuses or [status])
        if status != 200:
            raise FetchError(self.endpoint, f"{what}: HTTP {status}")
        data = doc.get("data")
        if not isinstance(data, dict):
            raise FetchError(self.endpoint, f"{what}: response has no 'data' object")
        return data


# -- checkpoints -------------------------------------------------------------------------------
# A checkpoint is one JSON object rewritten atomically after every unit of work
# (a page, a user), so an interrupted fetch loses at most that unit.

def default_checkpoint(out: Path) -> Path:
    """``data/anime_catalog.json`` -> ``data/anime_catalog.checkpoint.json``."""
    return out.with_name(f"{out.stem}.checkpoint.json")


def load_checkpoint(path: Path, kind: str, params: dict[str, Any]) -> dict[str, Any] | None:
    """The saved state, or None when there is none; refuse one made for other options."""
    if not path.exists():
        return None
    try:
        state = read_json(path)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InputError(str(path), "checkpoint is not valid JSON; delete it to start over") from None
    if not isinstance(state, dict) or state.get("kind") != kind:
        raise InputError(str(path), f"not an '{kind}' checkpoint; delete it or pass another --checkpoint")
    if state.get("params") != params:
        raise UsageError(f"checkpoint {path} was made with other options ({state.get('params')}); "
                         f"rerun with those, or delete it to start over")
    return state


def save_checkpoint(path: Path, kind: str, params: dict[str, Any], state: dict[str, Any]) -> None:
    write_json(path, {"kind": kind, "params": params, **state}, indent=None)


def remove_checkpoint(path: Path) -> None:
    # Removed once the output is complete, so the next run starts fresh.
    if path.exists():
        os.unlink(path)
