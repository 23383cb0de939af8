"""A fake AniList GraphQL server on 127.0.0.1 serving the hand-written fixtures.

Requests are classified by what the query asks for (catalog page, user
discovery page, user lookup, list chunk) and answered from
``tests/fixtures/anilist``. Tests script failures through ``override``: a
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


def _not_found(message: str, field: str) -> Reply:
    return reply_json({"errors": [{"message": message, "status": 404,
                                   "locations": [{"line": 2, "column": 3}]}],
                       "data": {field: None}}, status=404)


class FakeAniList:
    def __init__(self) -> None:
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

    def answer(self, kind: str, variables: dict[str, Any]) -> Reply:
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
