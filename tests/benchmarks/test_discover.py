"""benchmarks/discover.py: the model's order score less weight x log(1 + training ratings), and its table."""

from __future__ import annotations

import pytest
import torch


def test_discounted_scorer_takes_weight_x_log_ratings_off_every_scored_anime(tiny_processed):
    from benchmarks.discover import discounted_scorer
    from gnn.models.base import ModelContext
    from gnn.models.registry import build_model
    from gnn.processed import load_processed
    from gnn.train.metrics import known_user_query

    data = load_processed(tiny_processed)
    log_n = torch.log1p(data.anime_train_count.float())
    assert len(torch.unique(log_n[1:])) > 2        # counts differ, so a discount reorders
    query = known_user_query(data, torch.tensor([1, 2, 3]), 64)
    model = build_model("most_popular", ModelContext.from_processed(data), None)
    assert model.fit_closed_form(data.train)

    plain = model.score_catalog(query)
    leaned = discounted_scorer(model.score_catalog, log_n, 0.75)(query)
    finite = torch.isfinite(plain)
    assert torch.equal(finite, torch.isfinite(leaned))
    assert torch.allclose((plain - leaned)[finite], (0.75 * log_n).expand_as(plain)[finite], atol=1e-5)
    assert torch.equal(discounted_scorer(model.score_catalog, log_n, 0.0)(query), plain)


def test_table_has_one_row_per_weight_and_a_cell_per_list_kind():
    from benchmarks.discover import table

    cell = {"ndcg@10": 0.5, "recall@10": 0.1, "coverage@10": 0.01, "popular_share@10": 0.9, "orphan_share@10": 0.2}
    lines = table({"0.0": {"new k=5": cell, "known val": cell}, "1.0": {"new k=5": cell, "known val": cell}}).splitlines()
    assert len(lines) == 4 and lines[0].count("NDCG@10") == 2
    assert lines[2] == "| 0.0 | 0.5000 / 0.900 / 0.0100 / 0.200 | 0.5000 / 0.900 / 0.0100 / 0.200 |"
    assert lines[3].startswith("| 1.0 | 0.5000 / ")


def test_short_history_ranking_excludes_every_training_rating_and_ranks_against_validation(tiny_processed,
                                                                                           monkeypatch):
    """The page's case on validation data: a user given k ratings is never offered the rest of their
    training list (those are seen, not candidates), and only validation ratings >= 8 count as hits."""
    import gnn.train.metrics as metrics
    from benchmarks.discover import short_history_ranking, short_validation_cases
    from benchmarks.short_history import validation_cases
    from gnn.models.base import ModelContext
    from gnn.models.registry import build_model
    from gnn.processed import load_processed

    data = load_processed(tiny_processed)
    model = build_model("most_popular", ModelContext.from_processed(data), None)
    assert model.fit_closed_form(data.train)
    lists, rank_lists = [], metrics.rank_lists
    monkeypatch.setattr(metrics, "rank_lists", lambda *a, **kw: lists.append(rank_lists(*a, **kw)[0]) or (lists[-1], None))
    monkeypatch.setattr(metrics, "list_metrics", lambda top, series, seen, rel, *a: {"ndcg@10": len(rel)})
    out = short_history_ranking(model, data, metrics.franchises_of(data), short_validation_cases(data, seed=0))
    users: list[int] = []
    cases = validation_cases(data, users_out=users)
    kept = [(u, c) for u, c in zip(users, cases) if (c[3] >= 8).any()]
    assert kept and sorted(out) == ["short val k=10", "short val k=20", "short val k=5"] and len(lists) == 3
    assert {r["ndcg@10"] for r in out.values()} == {sum(int((c[3] >= 8).sum()) for _, c in kept)}   # relevant: val >= 8
    for top in lists:
        assert len(top) == len(kept)
        for (u, _), row in zip(kept, top.tolist()):
            assert not set(data.train.anime[data.train.user == u].tolist()) & {a for a in row if a > 0}
