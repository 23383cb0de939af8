"""The request-time scorer of the latency comparison scores what the model it copies predicts."""

from __future__ import annotations

import torch

from benchmarks.request_time import RequestTimeScorer
from gnn.models.base import Batch
from gnn.train.checkpoint import load_model
from tests.export import tiny


def test_request_time_scorer_matches_the_model(tmp_path_factory):
    model, ctx, _ = load_model(tiny.trained(tmp_path_factory, "baseline") / "best_model.pt")
    scorer = RequestTimeScorer(model)
    anime = torch.arange(1, ctx.n_anime)
    n = len(anime)
    hist_anime, hist_rating = torch.tensor([[2, 5, 0]]), torch.tensor([[9.0, 4.0, 0.0]])
    with torch.no_grad():
        known = scorer(torch.tensor([3]), hist_anime, hist_rating, anime)
        new = scorer(torch.tensor([0]), hist_anime, hist_rating, anime)
    by_id = model.predict(Batch(user=torch.full((n,), 3), anime=anime))
    z = torch.where(hist_anime > 0, model.normalize(hist_rating), torch.zeros(()))
    by_history = model.predict(Batch(user=torch.zeros(n, dtype=torch.long), anime=anime,
                                     hist_anime=hist_anime.expand(n, -1), hist_rating=z.expand(n, -1),
                                     use_history=torch.ones(n, dtype=torch.bool)))
    assert torch.allclose(known, by_id, atol=1e-5)
    # The model leaves a target's own rating out of its history; the request-time scorer does not.
    others = (anime != 2) & (anime != 5)
    assert torch.allclose(new[others], by_history[others], atol=1e-5)
    assert not torch.allclose(new, known, atol=1e-3)  # the history, not the ID, scored the new user


def test_the_latency_comparison_refuses_a_gnn_in_one_line(tmp_path_factory):
    import pytest

    from benchmarks.onnx_latency import run_benchmark

    with pytest.raises(SystemExit, match="'gnn' model; the request-time export exists only for the concat-head"):
        run_benchmark(tiny.trained(tmp_path_factory, "gnn"), repeats=1)
