"""benchmarks/short_history.py: the new-user case on validation data (given = training ratings, targets = validation)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks.short_history import main, validation_cases
from gnn.processed import load_processed
from gnn.train.config import TrainConfig
from gnn.train.evaluate import evaluate_cases
from gnn.train.trainer import train_model


def _pairs(split, user: int) -> dict[int, float]:
    rows = split.user == user
    return dict(zip(split.anime[rows].tolist(), split.rating[rows].tolist()))


def test_given_ratings_come_from_training_and_targets_are_all_validation(tiny_processed):
    data = load_processed(tiny_processed)
    cases = validation_cases(data, max_k=6, max_users=None, seed=3)
    eligible = [u for u in range(1, data.n_users + 1)
                if (data.train.user == u).sum() >= 6 and (data.val.user == u).any()]
    assert len(cases) == len(eligible) > 0
    for u, (ga, gr, ta, tr) in zip(eligible, cases):
        train, val = _pairs(data.train, u), _pairs(data.val, u)
        assert len(ga) == 6 == len(set(ga.tolist())) and all(train[a] == r for a, r in zip(ga.tolist(), gr.tolist()))
        assert sorted(ta.tolist()) == sorted(val) and all(val[a] == r for a, r in zip(ta.tolist(), tr.tolist()))
        assert not set(ga.tolist()) & set(ta.tolist())
    again = validation_cases(data, max_k=6, max_users=None, seed=3)
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(cases, again))           # seeded
    assert len(validation_cases(data, max_k=6, max_users=2, seed=3)) == 2
    users: list[int] = []
    assert len(validation_cases(data, max_k=6, max_users=None, seed=3, users_out=users)) == len(users)
    assert users == eligible                                                      # each case's user, in order


def test_one_row_per_run_and_the_json(tiny_processed, tmp_path, capsys):
    run = tmp_path / "knn"
    train_model("content_knn", load_processed(tiny_processed), run, TrainConfig(), log=lambda _: None, progress=False)
    out = tmp_path / "short.json"
    main(["--data-dir", str(tiny_processed), "--run", f"knn={run}", "--out", str(out)])
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "| run | k=5 RMSE | k=10 RMSE | k=20 RMSE |" and lines[3].startswith("| knn | ")
    saved = json.loads(out.read_text())
    data = load_processed(tiny_processed)
    from gnn.train.checkpoint import load_model
    expected = evaluate_cases(load_model(run / "best_model.pt")[0], validation_cases(data), (5, 10, 20))
    assert saved["results"]["knn"] == json.loads(json.dumps(expected))
    assert saved["users"] == saved["results"]["knn"]["k=5"]["users"] > 0
    assert f"{saved['results']['knn']['k=20']['rmse']:.4f}" in lines[3]
    with pytest.raises(SystemExit):
        main(["--data-dir", str(tiny_processed), "--run", f"none={tmp_path / 'missing'}"])
