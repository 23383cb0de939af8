"""Run one of the page's ES modules (``public/js``) in Node on JSON cases, for the tests that hold the
page's JavaScript to the Python it mirrors."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any, Sequence

import pytest

from tests.web.harness import PUBLIC


def run_node(runner: str, modules: Sequence[str], payload: Any) -> Any:
    """``runner``, an ES module's source with one ``%s`` per file of ``public/js`` named in ``modules`` (its
    import path), run with ``payload`` as JSON on stdin; its stdout parsed as JSON. Skips the calling
    test when ``node`` is not installed."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    source = runner % tuple(json.dumps((PUBLIC / "js" / name).as_uri()) for name in modules)
    result = subprocess.run([node, "--input-type=module", "-e", source], input=json.dumps(payload),
                            capture_output=True, text=True, timeout=60, check=True)
    return json.loads(result.stdout)
