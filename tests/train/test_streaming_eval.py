"""Evaluation that streams (per group of users, per chunk of rows) gives what the whole computation gives."""

from __future__ import annotations

from pathlib import Path

import torch

from gnn.models.base import ModelContext
from gnn.models.registry import build_model
from gnn.processed import RatingSplit, load_processed
from gnn.train.evaluate import predict_split
from gnn.train.histories import UserHistories
from gnn.train.metrics import _row_keys, series_mask
from tests.train.test_metrics import REL, dataset


def test_inductive_predictions_do_not_depend_on_how_users_are_grouped(tiny_processed: Path) -> None:
    data = load_processed(tiny_processed)
    ctx = ModelContext.from_processed(data)
    torch.manual_seed(0)
    model = build_model("gnn", ctx, None)
    histories = UserHistories(data.train, ctx.n_users, ctx.rating_mean, ctx.rating_std)
    whole = predict_split(model, data.val, batch_size=1 << 20, histories=histories)
    for batch_size in (1, 7, 50):   # one user per group, then a few
        grouped = predict_split(model, data.val, batch_size=batch_size, histories=histories)
        # Within float32 rounding: a matmul over 1 row and over 50 rows may round the last bit differently
        # (it did before the histories were built per group too: measured 1.4e-6 on ratings near 6).
        torch.testing.assert_close(grouped, whole, rtol=1e-6, atol=1e-6)
    assert whole.shape == (len(data.val),) and torch.isfinite(whole).all()


def test_full_histories_padded_to_a_given_width_keep_their_values(tiny_processed: Path) -> None:
    data = load_processed(tiny_processed)
    hist = UserHistories(data.train, data.n_users, 7.0, 2.0)
    users = torch.unique(data.train.user)
    width = hist.width(users, 5)
    anime, rating = hist.full(users, 5)
    assert anime.shape == (len(users), width)
    a2, r2 = hist.full(users[:3], 5, width)
    assert torch.equal(a2, anime[:3]) and torch.equal(r2, rating[:3])


def test_series_mask_in_chunks_equals_the_whole_split() -> None:
    train = [(1, 1, 9.0), (2, 3, 5.0), (2, 4, 6.0), (1, 5, 3.0)]
    test = [(1, 2, 8.0), (2, 2, 4.0), (1, 4, 7.0), (2, 1, 7.0), (1, 2, 1.0)]
    data = dataset(train=train, test=test, rel_idx=REL)
    expected = [True, False, False, False, True]   # by hand: only anime 1 <-> 2 are related; user 1 rated 1
    for chunk in (1, 2, 3, 1000):
        assert series_mask(data, chunk=chunk).tolist() == expected
    assert series_mask(dataset(train=[], test=test, rel_idx=REL)).tolist() == [False] * 5


def test_row_keys_in_chunks_equal_the_whole_split() -> None:
    g = torch.Generator().manual_seed(0)
    split = RatingSplit(torch.randint(1, 40, (500,), generator=g), torch.randint(1, 30, (500,), generator=g),
                        torch.ones(500))
    users = torch.tensor([2, 5, 6, 17, 39])
    whole = _row_keys(users, split, 30, chunk=1 << 20)
    expected = sorted(int(users.tolist().index(u)) * 30 + a for u, a in zip(split.user.tolist(), split.anime.tolist())
                      if u in users.tolist())
    assert whole.tolist() == expected
    for chunk in (1, 13, 499):
        assert torch.equal(_row_keys(users, split, 30, chunk=chunk), whole)


def test_new_user_metrics_sample_at_most_max_users(tiny_processed: Path) -> None:
    from gnn.train.evaluate import evaluate_new_users, new_user_cases, sample_cases

    data = load_processed(tiny_processed)
    torch.manual_seed(0)
    model = build_model("baseline", ModelContext.from_processed(data), None)
    cases = new_user_cases(data.holdout, 20, 0)
    assert len(cases) >= 3
    everyone = evaluate_new_users(model, data.holdout)
    assert everyone == evaluate_new_users(model, data.holdout, max_users=None)   # under the cap: all of them
    assert everyone["k=10"]["users"] == len(cases)
    two = evaluate_new_users(model, data.holdout, max_users=2)
    assert two["k=10"]["users"] == 2
    picked = sample_cases(cases, 2, 0)
    assert picked == sample_cases(cases, 2, 0) and all(any(p is c for c in cases) for p in picked)
    assert two["k=10"]["n"] == sum(len(c[2]) for c in picked)   # the sampled users' targets, all of them
