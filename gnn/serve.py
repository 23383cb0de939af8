"""A static file server for the web page (``public/``), with the headers onnxruntime-web needs.

Only static files: the page scores anime in the browser, so this server never runs model code.

Headers, and why:

* ``Cross-Origin-Opener-Policy: same-origin`` and ``Cross-Origin-Embedder-Policy``
  make the page cross-origin isolated, which browsers require for
  ``SharedArrayBuffer`` and so for onnxruntime-web's multi-threaded wasm.
  COEP defaults to ``credentialless``: cover images live on other hosts (AniList's
  CDN) that send no ``Cross-Origin-Resource-Policy`` header, and ``require-corp``
  would block them. ``credentialless`` still isolates the page in Chromium and
  Firefox but loads such images without cookies. Browsers without
  ``credentialless`` (Safari) are simply not isolated: the page then runs wasm on
  one thread. ``coep="require-corp"`` is the strict choice; covers then fall back
  to the page's placeholder.
* ``Content-Security-Policy`` (also a ``<meta>`` in ``index.html``): scripts only
  from this origin plus ``'wasm-unsafe-eval'`` (compiling wasm), no inline
  script or style, images from this origin, ``https:`` and ``data:``, no
  connections to other hosts.
* Explicit MIME types for ``.mjs``/``.wasm``/``.onnx``/``.json`` (browsers refuse a
  module or ``instantiateStreaming`` served with the wrong type) and ``nosniff``.
* ``Cache-Control: no-cache``: revalidate every time, so a fresh export is picked
  up on reload (``Last-Modified`` keeps revalidation cheap).

Dot paths (``public/model/.anime_recommender.versions/``, staging folders) are not
served, and directory listings are off.
"""

from __future__ import annotations

import functools
import threading
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from gnn.errors import UsageError

COEP_CHOICES = ("credentialless", "require-corp")

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "worker-src 'self'",
    "style-src 'self'",
    "img-src 'self' https: data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
])

MIME_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".wasm": "application/wasm",
    ".onnx": "application/octet-stream",
    ".bin": "application/octet-stream",
    ".map": "application/json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
}


class StaticHandler(SimpleHTTPRequestHandler):
    """``SimpleHTTPRequestHandler`` plus isolation/CSP headers, fixed MIME types, no listings, no dot paths."""

    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}
    coep = "credentialless"
    quiet = False

    def end_headers(self) -> None:
        self.send_header("Cross-Origin-Opener-Policy", "same-origin")
        self.send_header("Cross-Origin-Embedder-Policy", self.coep)
        self.send_header("Cross-Origin-Resource-Policy", "same-origin")
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def send_head(self):  # noqa: ANN201 - same signature as the base class
        path = unquote(urlsplit(self.path).path)
        if "\x00" in path:  # "/%00" made os.stat raise: a dropped connection and a traceback in the log
            self.send_error(HTTPStatus.BAD_REQUEST, "Bad path")
            return None
        if any(p.startswith(".") and p not in ("", ".") for p in path.split("/")):
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        return super().send_head()

    def list_directory(self, path):  # noqa: ANN001, ANN201
        self.send_error(HTTPStatus.NOT_FOUND, "File not found")
        return None

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - base-class signature
        if not self.quiet:
            super().log_message(format, *args)


def make_server(directory: str | Path = "public", port: int = 8000, host: str = "127.0.0.1",
                coep: str = "credentialless", quiet: bool = False) -> ThreadingHTTPServer:
    """A bound (not yet serving) server for ``directory``; ``port=0`` picks a free port."""
    root = Path(directory)
    if not (root / "index.html").is_file():
        raise UsageError(f"{root}: no index.html here (serve the repository's public/ folder)")
    if coep not in COEP_CHOICES:
        raise UsageError(f"coep must be one of {', '.join(COEP_CHOICES)}, got {coep!r}")
    handler = type("Handler", (StaticHandler,), {"coep": coep, "quiet": quiet})
    try:
        return ThreadingHTTPServer((host, port), functools.partial(handler, directory=str(root.resolve())))
    except OSError as err:  # e.g. the port is in use
        raise UsageError(f"cannot listen on {host}:{port} ({err.strerror or err}); "
                         "pick another --port (0 picks a free one)") from None


def url_of(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}/"


def serve_in_thread(directory: str | Path, port: int = 0, coep: str = "credentialless",
                    quiet: bool = True) -> tuple[ThreadingHTTPServer, str]:
    """Start serving in a daemon thread (tests, benchmarks); stop with ``server.shutdown()``."""
    server = make_server(directory, port=port, coep=coep, quiet=quiet)
    threading.Thread(target=server.serve_forever, name="anime-gnn-serve", daemon=True).start()
    return server, url_of(server)
