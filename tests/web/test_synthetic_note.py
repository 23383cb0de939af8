"""The page's "synthetic sample" note must keep recognizing a model trained on the embedded sample.

Exports carry no explicit flag yet, so public/js/model.js lists the data fingerprints of
data/sample preprocessed as `make demo` does (--min-ratings 5). The fingerprint hashes the input
files and the preprocess config, so it changes whenever either does: this test says so.
"""

from __future__ import annotations

import json
import re

from gnn.preprocess import PreprocessConfig, preprocess
from tests.web.harness import PUBLIC, REPO


def test_demo_fingerprint_is_listed(tmp_path):
    preprocess(REPO / "data" / "sample", tmp_path, PreprocessConfig(min_ratings=5))
    fingerprint = json.loads((tmp_path / "model_config.json").read_text())["data_fingerprint"]
    source = (PUBLIC / "js" / "model.js").read_text()
    listed = re.search(r"SYNTHETIC_FINGERPRINTS = new Set\(\[([^\]]*)\]\)", source).group(1)
    assert f"'{fingerprint}'" in listed, (
        f"data/sample now preprocesses to fingerprint {fingerprint}: add it to SYNTHETIC_FINGERPRINTS "
        "in public/js/model.js so the page keeps saying the demo model is synthetic")
