"""benchmarks/latency.py: the timed feeds follow the export's history input, as the CLI and the page fill it."""

from __future__ import annotations

from benchmarks.latency import feeds


def _meta(history_shape) -> dict:
    return {"n_anime": 50, "max_history": 16,
            "inputs": [{"name": "hist_anime", "shape": [1, history_shape]}, {"name": "anime", "shape": ["batch"]}]}


def test_a_free_history_length_is_fed_at_the_history_s_own_length():
    cases = feeds(_meta("history"), {"hist_anime", "hist_rating", "anime"}, history_len=5)
    new = cases["catalog_new_user"]
    assert new["hist_anime"].shape == (1, 5) and (new["hist_anime"] > 0).all() and new["hist_rating"].shape == (1, 5)
    assert cases["catalog_empty_history"]["hist_anime"].tolist() == [[0]]
    assert new["anime"].tolist() == list(range(1, 50))
    capped = feeds(_meta("history"), {"hist_anime", "hist_rating", "anime"}, history_len=40)["catalog_new_user"]
    assert capped["hist_anime"].shape == (1, 16)           # never more than max_history


def test_a_fixed_history_input_is_padded_to_max_history():
    cases = feeds(_meta(16), {"hist_anime", "hist_rating", "anime", "user"}, history_len=5)
    new = cases["catalog_new_user"]["hist_anime"]
    assert new.shape == (1, 16) and (new[0, :5] > 0).all() and not new[0, 5:].any()
    assert cases["catalog_empty_history"]["hist_anime"].shape == (1, 16)
