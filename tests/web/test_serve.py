"""gnn.serve: the headers the page needs (isolation, CSP, MIME types), nothing but public files."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main
from gnn.errors import UsageError
from gnn.serve import make_server, serve_in_thread


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "index.html").write_text("<!doctype html><p>hi</p>")
    for name in ("vendor/ort.wasm.min.mjs", "vendor/ort-wasm-simd-threaded.wasm", "model/m/model.onnx",
                 "model/m/onnx_model_metadata.json", "model/m/item_embeddings.bin",
                 "model/.m.versions/old/model.onnx"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    return tmp_path


def fetch(url: str):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.headers
    except urllib.error.HTTPError as err:
        return err.code, err.headers


@pytest.mark.parametrize("coep", ["credentialless", "require-corp"])
def test_headers_and_mime_types(site, coep):
    server, url = serve_in_thread(site, coep=coep)
    try:
        status, headers = fetch(url)
        assert status == 200
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
        assert headers["Cross-Origin-Embedder-Policy"] == coep
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self' 'wasm-unsafe-eval'" in csp and "img-src 'self' https: data:" in csp
        assert "unsafe-inline" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        types = {"vendor/ort.wasm.min.mjs": "text/javascript", "vendor/ort-wasm-simd-threaded.wasm": "application/wasm",
                 "model/m/model.onnx": "application/octet-stream", "model/m/onnx_model_metadata.json": "application/json",
                 "model/m/item_embeddings.bin": "application/octet-stream"}
        for path, mime in types.items():
            status, headers = fetch(url + path)
            assert status == 200 and headers["Content-Type"].split(";")[0] == mime, path
    finally:
        server.shutdown()


def test_no_listings_no_dot_paths_no_escape(site):
    server, url = serve_in_thread(site)
    try:
        for path in ("model/", "model/m/", "model/.m.versions/old/model.onnx", "model/%2em.versions/old/model.onnx",
                     "%2e%2e/%2e%2e/etc/passwd"):
            assert fetch(url + path)[0] == 404, path
    finally:
        server.shutdown()


def test_binds_localhost_and_needs_index(tmp_path, site):
    server = make_server(site, port=0)
    try:
        assert server.server_address[0] == "127.0.0.1"
    finally:
        server.server_close()
    with pytest.raises(UsageError, match="no index.html"):
        make_server(tmp_path / "nowhere", port=0)
    with pytest.raises(UsageError, match="coep"):
        make_server(site, port=0, coep="unsafe-none")


def test_cli_serve_errors_in_one_line(tmp_path):
    result = CliRunner().invoke(main, ["serve", "--port", "0", "--directory", str(tmp_path)])
    assert result.exit_code == 2
    assert "no index.html" in result.output


def test_nul_in_a_path_is_a_400_not_a_dropped_connection(site, capsys):
    """Issue 17, defect 4: "/%00" made os.stat raise in the handler (no answer, a traceback in the log)."""
    server, url = serve_in_thread(site)
    try:
        for path in ("%00", "model/%00/x", "index.html%00.png"):
            assert fetch(url + path)[0] == 400, path
        assert fetch(url + "index.html")[0] == 200
    finally:
        server.shutdown()
    assert "Traceback" not in capsys.readouterr().err


def test_cli_serve_on_a_port_in_use_is_one_line(site):
    busy = make_server(site, port=0)
    try:
        port = busy.server_address[1]
        result = CliRunner().invoke(main, ["serve", "--port", str(port), "--directory", str(site)])
    finally:
        busy.server_close()
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.strip().splitlines() == [
        f"error: cannot listen on 127.0.0.1:{port} (Address already in use); pick another --port (0 picks a free one)"]
