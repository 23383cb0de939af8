"""benchmarks/rank_fusion.py: ranks by hand, the fused order, and alpha 0 reproducing the model's own lists."""

from __future__ import annotations

import json
import math

import pytest
import torch

from benchmarks.rank_fusion import UNSCORED, Fusion, fused, main, ranks
from gnn.models.implicit import EASE, EASEConfig
from gnn.processed import load_processed
from gnn.train.checkpoint import load_model
from gnn.train.metrics import ranking_metrics
from tests.export import tiny


def test_ranks_best_first_ties_by_index_unscored_apart():
    got = ranks(torch.tensor([[3.0, 1.0, math.nan, 2.0, -math.inf, 1.0]]))
    assert got.tolist() == [[0, 2, UNSCORED, 1, UNSCORED, 3]]


def test_fused_adds_reciprocal_ranks_and_leaves_out_what_neither_scored():
    a = torch.tensor([[0, 1, UNSCORED, UNSCORED]], dtype=torch.int32)
    b = torch.tensor([[1, 0, 2, UNSCORED]], dtype=torch.int32)
    out = fused(a, b, 2.0)[0]
    assert out[:3].tolist() == pytest.approx([1 / 60 + 2 / 61, 1 / 61 + 2 / 60, 2 / 62])
    assert out[3] == -math.inf
    assert torch.argsort(-fused(a, b, 0.0)[0], stable=True)[:2].tolist() == [0, 1]   # alpha 0: a's order


def test_alpha_zero_lists_are_the_models_own_and_the_script_chooses_on_validation(tmp_path_factory, tmp_path):
    run, processed = tiny.trained(tmp_path_factory), tiny.processed(tmp_path_factory)
    data = load_processed(processed)
    model, ctx, _ = load_model(run / "best_model.pt")
    ease = EASE(ctx, EASEConfig(reg=10.0))
    ease.fit_closed_form(data.train)
    own = ranking_metrics(model, data, split="test")
    assert ranking_metrics(Fusion(model, ease, 0.0), data, split="test")["ndcg@10"] == pytest.approx(own["ndcg@10"])
    main(["--data-dir", str(processed), "--run", f"gnn={run}", "--ease-reg", "10", "--alphas", "0", "1",
          "--out", str(tmp_path / "fusion.json")])
    result = json.loads((tmp_path / "fusion.json").read_text())
    val = result["known val"]
    assert result["chosen_alpha"] == max((0.0, 1.0), key=lambda a: val[f"{a:g}"]["ndcg@10"])
    assert set(result) >= {"known test", "new k=5", "new k=10", "new k=20"}
    assert result["known test"]["0"]["ndcg@10"] == pytest.approx(own["ndcg@10"])
