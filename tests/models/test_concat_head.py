"""ConcatHeadModel (gnn/models/concat_head.py) whole-catalog scoring: the item side once, as predict gives it."""

from __future__ import annotations

import math

import pytest
import torch

from gnn.models import registry
from gnn.models.base import UserQuery
from tests.builders import pad_histories
from tests.models.conftest import make_batch


def _trained_like(ctx) -> torch.nn.Module:
    """The baseline with random weights everywhere (BatchNorm statistics too), in evaluation mode."""
    torch.manual_seed(0)
    model = registry.build_model("baseline", ctx)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.3)
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm1d):
                m.running_mean.normal_(0, 0.3)
                m.running_var.uniform_(0.5, 2.0)
    return model.eval()


def test_score_catalog_equals_predict_for_ids_and_histories(ctx) -> None:
    model = _trained_like(ctx)
    hist = [[(2, 1.0)], [(1, 0.5), (3, -1.0)], [(4, 2.0)]]
    query = UserQuery(torch.tensor([2, 0, 0]), *pad_histories(hist))
    scores = model.score_catalog(query, chunk=2 * ctx.n_anime)   # two users per chunk: chunks are joined
    assert scores.shape == (3, ctx.n_anime) and scores[:, 0].eq(-math.inf).all()
    every = list(range(1, ctx.n_anime))
    by_id = model.predict(make_batch([2] * len(every), every))
    # float32 through two batch shapes: kernels may sum in another order (on one CPU 1.4e-5 apart at 3.5)
    assert scores[0, 1:].tolist() == pytest.approx(by_id.tolist(), rel=1e-5, abs=1e-5)   # the known user: by ID
    for row in (1, 2):
        rated = {a for a, _ in hist[row]}
        others = [a for a in every if a not in rated]
        batch = make_batch([0] * len(others), others, hist=[hist[row]] * len(others), use_history=[True] * len(others))
        assert scores[row, others].tolist() == pytest.approx(model.predict(batch).tolist(), rel=1e-5, abs=1e-5)
    assert not torch.allclose(scores[1, 1:], scores[2, 1:])   # the history is read, not a constant
