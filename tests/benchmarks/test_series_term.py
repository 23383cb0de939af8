"""The benchmarks' franchise term: related-anime residuals, its fit, and the adjusted model
(hand-made catalog of tests/models/conftest.py; the fit end to end on the tiny processed data)."""

from __future__ import annotations

import pytest
import torch

from benchmarks.series_term import (KnownResiduals, SeriesAdjusted, SeriesTerm, fit_series, fit_term,
                                    related_from_history)
from gnn.models.base import Batch, ModelContext
from gnn.models.baseline import BaselineModel
from gnn.models.registry import build_model
from gnn.processed import load_processed
from gnn.train.evaluate import evaluate_split
from tests.models.conftest import build_ctx


@pytest.fixture
def ctx() -> ModelContext:
    return build_ctx()


def weight(ctx, anime: int, other: int) -> float:
    row = ctx.tables.rel_idx[anime].tolist()
    return float(ctx.tables.rel_w[anime, row.index(other)])


def test_related_residuals_by_hand(ctx) -> None:
    # Anime 2's relatives: 1 (its prequel). History: 1 (+2), 6 (-1, unrelated), padding.
    hist = torch.tensor([[1, 6, 0], [1, 1, 6]])
    resid = torch.tensor([[2.0, -1.0, 0.0], [2.0, 4.0, -1.0]])
    total, w = related_from_history(ctx.tables.rel_idx, ctx.tables.rel_w, torch.tensor([2, 2]), hist, resid)
    w21 = weight(ctx, 2, 1)
    assert w21 > 0
    assert total.tolist() == pytest.approx([2.0 * w21, 3.0 * w21])  # a repeated anime counts once, mean residual
    assert w.tolist() == pytest.approx([w21, w21])
    # Anime 8 has no relatives; anime 6 has none either in the base catalog.
    total, w = related_from_history(ctx.tables.rel_idx, ctx.tables.rel_w, torch.tensor([8, 6]), hist, resid)
    assert total.tolist() == [0.0, 0.0] and w.tolist() == [0.0, 0.0]


def test_known_users_match_the_history_form(ctx) -> None:
    hist = torch.tensor([1, 3, 4, 1, 0])
    resid = torch.tensor([1.5, -0.5, 2.0, 0.5, 0.0])
    anime = torch.arange(1, ctx.n_anime)
    B = len(anime)
    want_t, want_w = related_from_history(ctx.tables.rel_idx, ctx.tables.rel_w, anime, hist.expand(B, -1),
                                          resid.expand(B, -1))
    assert (want_w > 0).sum() >= 3  # the history does reach some relatives
    keep = hist > 0
    known = KnownResiduals(torch.full((int(keep.sum()),), 3), hist[keep], resid[keep], ctx.n_anime)
    got_t, got_w = known.related(ctx.tables.rel_idx, ctx.tables.rel_w, torch.full((B,), 3), anime)
    assert torch.allclose(got_t, want_t) and torch.allclose(got_w, want_w)
    # Another user has no residuals at all.
    got_t, got_w = known.related(ctx.tables.rel_idx, ctx.tables.rel_w, torch.full((B,), 4), anime)
    assert got_t.abs().sum() == 0 and got_w.sum() == 0


def test_offset_and_fit() -> None:
    term = SeriesTerm(alpha=0.5, shrink=1.0)
    assert term.offset(torch.tensor([3.0, 0.0]), torch.tensor([2.0, 0.0])).tolist() == pytest.approx([0.5, 0.0])
    total = torch.tensor([1.0, -2.0, 0.5, 3.0, 0.0])
    w = torch.tensor([1.0, 2.0, 0.5, 1.0, 0.0])
    fitted = fit_term(total, w, 0.7 * total / (w + 2.0))
    assert fitted.shrink == 2.0 and fitted.alpha == pytest.approx(0.7)
    assert fit_term(torch.zeros(5), torch.zeros(5), torch.randn(5)) == SeriesTerm()  # no evidence: off


def test_a_loved_prequel_lifts_its_sequel_only(ctx) -> None:
    torch.manual_seed(0)
    base = BaselineModel(ctx).eval()   # the term is a benchmark tool for reference models
    model = SeriesAdjusted(base, ctx, known=SeriesTerm(), history=SeriesTerm(alpha=1.0, shrink=0.5))
    anime = torch.tensor([2, 8, 6])  # 2 is anime 1's sequel; 8 and 6 are unrelated to 1

    def scores(rating: float, m) -> torch.Tensor:
        z = m.normalize(torch.tensor(rating))
        batch = Batch(user=torch.zeros(3, dtype=torch.long), anime=anime, hist_anime=torch.tensor([[1, 0]] * 3),
                      hist_rating=torch.tensor([[float(z), 0.0]] * 3), use_history=torch.ones(3, dtype=torch.bool))
        return m.predict(batch)

    loved, hated = scores(10.0, model), scores(1.0, model)
    assert loved[0] > scores(10.0, base)[0] and hated[0] < scores(1.0, base)[0]
    assert torch.allclose(loved[1:], scores(10.0, base)[1:]) and torch.allclose(hated[1:], scores(1.0, base)[1:])
    # Known users read their training residuals instead.
    residuals = KnownResiduals(torch.tensor([2]), torch.tensor([1]), torch.tensor([3.0]), ctx.n_anime)
    known = SeriesAdjusted(base, ctx, known=SeriesTerm(alpha=1.0, shrink=1.0), history=SeriesTerm(),
                           residuals=residuals)
    batch = Batch(user=torch.tensor([2, 2, 3]), anime=torch.tensor([2, 8, 2]))
    diff = known.predict(batch) - base.predict(batch)
    w21 = weight(ctx, 2, 1)
    assert diff.tolist() == pytest.approx([min(3.0 * w21 / (w21 + 1.0), 10 - float(base.predict(batch)[0])), 0, 0],
                                          abs=1e-5)


def test_fit_series_lowers_the_validation_error_it_was_fitted_on(tiny_processed) -> None:
    """The tiny data's taste follows the franchise: a global mean's residuals on relatives carry over."""
    data = load_processed(tiny_processed)
    base = build_model("global_mean", ModelContext.from_processed(data)).eval()
    adjusted = fit_series(base, data, seed=0)
    terms = adjusted.terms()
    assert set(terms) == {"known", "history"} and terms["known"]["alpha"] > 0 and terms["history"]["alpha"] > 0
    assert terms["known"]["shrink"] in (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
    # alpha is least squares on these very residuals: what is applied must do at least as well as no term.
    assert evaluate_split(adjusted, data.val).rmse < evaluate_split(base, data.val).rmse
    # Same seed, same fit.
    assert fit_series(base, data, seed=0).terms() == terms


def test_fit_series_refuses_a_model_that_reads_known_users_from_their_ratings(tiny_processed) -> None:
    data = load_processed(tiny_processed)
    base = build_model("global_mean", ModelContext.from_processed(data))
    base.inductive = True
    with pytest.raises(ValueError, match="^model 'global_mean' scores known users from their ratings: the term "
                                         "has no ID path$"):
        fit_series(base, data)
