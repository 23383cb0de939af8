"""A fake AniList GraphQL server on 127.0.0.1 serving the hand-written fixtures.

Requests are classified by what the query asks for (catalog page, user
discovery page, user lookup, list chunk) and answered from
``tests/fixtures/anilist``, or, for catalog pages, from ``catalog`` (a list of
generated media) filtered and sorted as AniList does (``popularity``,
``popularity_lesser`` strictly below, ``sort`` by ``POPULARITY_DESC``/``ID``).
Like AniList, a page beyond ``depth`` entries (``page * perPage > depth``,
5,000 by default: page 101 of 50) is refused with HTTP 400 "Page depth exceeds
maximum allowed for API requests (5000 entries)" and ``data.Page`` null. Tests script failures through ``override``: a
callable ``(kind, variables, n) -> reply | None`` where ``n`` counts requests of
that kind so far and a reply is ``(status, headers, body)``, or ``DROP`` to
close the connection without answering.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "anilist"
DROP = "drop"
Reply = tuple[int, dict[str, str], bytes]


def reply_json(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return status, headers or {}, json.dumps(obj).encode("utf-8")


def depth_exceeded(depth: int = 5000) -> Reply:
    """AniList's answer to a page beyond the first ``depth`` entries of a listing."""
    return reply_json({"errors": [{"message": f"Page depth exceeds maximum allowed for API requests "
                                              f"({depth} entries)", "status": 400,
                                   "locations": [{"line": 3, "column": 3}]}],
                       "data": {"Page": None}}, status=400)


def _sort_key(sort: list[str]):  # noqa: ANN202
    def key(m: dict[str, Any]) -> tuple:
        return tuple(-(m.get("popularity") or 0) if s == "POPULARITY_DESC" else m["id"] for s in sort)
    return key


def _not_found(message: str, field: str) -> Reply:
    return reply_json({"errors": [{"message": message, "status": 404,
                                   "locations": [{"line": 2, "column": 3}]}],
                       "data": {field: None}}, status=404)


class FakeAniList:
    def __init__(self, catalog: list[dict[str, Any]] | None = None, depth: int = 5000) -> None:
        self.catalog, self.depth = catalog, depth
        self.log: list[tuple[str, dict[str, Any]]] = []
        self.seen: Counter[str] = Counter()
        self.override: Callable[[str, dict[str, Any], int], Reply | str | None] | None = None
        self._users = {u["name"].lower(): u
                       for f in sorted(FIXTURES.glob("users_page*.json"))
                       for u in json.loads(f.read_text())["data"]["Page"]["users"]}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)

    def __enter__(self) -> "FakeAniList":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def requests(self, kind: str) -> list[dict[str, Any]]:
        return [v for k, v in self.log if k == kind]

    @staticmethod
    def classify(query: str) -> str:
        if "MediaListCollection" in query:
            return "list"
        if "User(name" in query:
            return "user"
        if "users(" in query:
            return "users"
        if "media(" in query:
            return "catalog"
        return "unknown"

    def _catalog_page(self, variables: dict[str, Any]) -> Reply:
        page, per_page = variables["page"], variables.get("perPage") or 50
        media = [m for m in self.catalog or []
                 if (variables.get("popularity") is None or m.get("popularity") == variables["popularity"])
                 and (variables.get("popularity_lesser") is None
                      or (m.get("popularity") or 0) < variables["popularity_lesser"])]
        media.sort(key=_sort_key(variables.get("sort") or ["POPULARITY_DESC"]))
        chunk = media[(page - 1) * per_page: page * per_page]
        return reply_json({"data": {"Page": {"pageInfo": {"hasNextPage": page * per_page < len(media),
                                                          "currentPage": page}, "media": chunk}}})

    def answer(self, kind: str, variables: dict[str, Any]) -> Reply:
        if kind in ("catalog", "users") and variables["page"] * (variables.get("perPage") or 50) > self.depth:
            return depth_exceeded(self.depth)
        if kind == "catalog" and self.catalog is not None:
            return self._catalog_page(variables)
        if kind == "catalog":
            path = FIXTURES / f"catalog_page{variables['page']}.json"
            if not path.exists():
                return reply_json({"data": {"Page": {"pageInfo": {"hasNextPage": False}, "media": []}}})
            return 200, {}, path.read_bytes()
        if kind == "users":
            path = FIXTURES / f"users_page{variables['page']}.json"
            if not path.exists():
                return reply_json({"data": {"Page": {"pageInfo": {"hasNextPage": False}, "users": []}}})
            return 200, {}, path.read_bytes()
        if kind == "user":
            user = self._users.get(str(variables["name"]).lower())
            return reply_json({"data": {"User": user}}) if user else _not_found("Not Found.", "User")
        if kind == "list":
            user = self._users.get(str(variables["name"]).lower())
            chunk = variables.get("chunk") or 1
            suffix = "" if chunk == 1 else f"_{chunk}"
            path = FIXTURES / f"list_{user['name'] if user else variables['name']}{suffix}.json"
            if not path.exists():
                return _not_found("Private User", "MediaListCollection")
            return 200, {}, path.read_bytes()
        return reply_json({"errors": [{"message": "Cannot query this", "status": 400}]}, status=400)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                kind = fake.classify(body["query"])
                variables = body.get("variables") or {}
                fake.log.append((kind, variables))
                n = fake.seen[kind]
                fake.seen[kind] += 1
                reply = fake.override(kind, variables, n) if fake.override else None
                if reply == DROP:
                    self.close_connection = True
                    return  # no status line at all: the client sees a dropped connection
                status, headers, payload = reply or fake.answer(kind, variables)
                headers = dict(headers)
                self.send_response(status)
                self.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        return Handler
