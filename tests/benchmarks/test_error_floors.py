"""benchmarks/error_floors.py: the new-user RMSE from k and from all other ratings, and the cold RMSE split."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from benchmarks.error_floors import (all_but_cases, bias_split, given_offset_errors, item_biases, known_offset_rmse,
                                    main, offset_response)
from gnn.processed import load_processed
from gnn.train.checkpoint import load_model
from gnn.train.cold import cold_accuracy
from gnn.train.evaluate import evaluate_cases, new_user_cases


def test_the_split_of_a_hand_computed_error():
    # anime 1: errors 1, 3 (mean 2); anime 2: -2, 0 (mean -1)
    r = bias_split(np.array([1.0, 3.0, -2.0, 0.0]), np.array([1, 1, 2, 2]))
    assert r["item"] == pytest.approx(math.sqrt((4 + 4 + 1 + 1) / 4))
    assert r["rest"] == pytest.approx(1.0)
    assert r["rmse"] == pytest.approx(math.sqrt((1 + 9 + 4 + 0) / 4))
    assert r["rmse"] ** 2 == pytest.approx(r["item"] ** 2 + r["rest"] ** 2)


def test_the_item_part_s_noise_by_hand():
    # anime 7: errors 1, -1, 3, 1 (mean 1, rest 0, -2, 2, 0: s² = 8/3); anime 9 rated once takes the pooled 8/3
    r = bias_split(np.array([1.0, -1.0, 3.0, 1.0, 5.0]), np.array([7, 7, 7, 7, 9]))
    assert r["item_noise"] == pytest.approx(math.sqrt((8 / 3 + 8 / 3) / 5))
    assert r["exact_item"] == pytest.approx(math.sqrt(8 / 5 + 16 / 15))


def test_a_model_that_knows_each_anime_s_average_shows_about_the_noise_as_its_item_part():
    rng = np.random.default_rng(0)
    anime = np.repeat(np.arange(400), rng.integers(2, 40, 400))          # 2-39 ratings each
    sd = rng.uniform(0.5, 1.5, 400)[anime]                               # within-anime spread varies
    error = rng.normal(0.0, sd)                                          # true averages known: mean error 0
    r = bias_split(error, anime)
    assert r["item_noise"] == pytest.approx(r["item"], rel=0.1)
    assert r["exact_item"] == pytest.approx(r["rmse"], rel=0.02)
    assert bias_split(error + 0.5, anime)["item_noise"] == pytest.approx(r["item_noise"])   # a shared offset is no noise


def test_an_error_that_is_one_offset_per_anime_is_all_item_part():
    r = bias_split(np.array([0.5, 0.5, -1.0]), np.array([7, 7, 3]))
    assert r["rest"] == pytest.approx(0.0) and r["item"] == pytest.approx(r["rmse"])


def test_offset_response_by_hand():
    # error = 0.5 x offset + (1, -1) noise orthogonal to the offset: slope 0.5, and the noise is left
    offset = np.array([1.0, 1.0, -2.0, -2.0])
    error = 0.5 * offset + np.array([1.0, -1.0, 1.0, -1.0])
    r = offset_response(error, offset)
    assert r["slope"] == pytest.approx(0.5) and r["rmse_after"] == pytest.approx(1.0)
    nothing = offset_response(error, np.zeros(4))                                      # no offset to follow
    assert nothing == {"slope": 0.0, "rmse_after": pytest.approx(math.sqrt(np.mean(error ** 2)))}
    assert offset_response(-offset, offset)["slope"] == pytest.approx(-1.0)                # follows it too much


def _case(n_given: int, n_target: int, first: int) -> tuple:
    given = np.arange(first, first + n_given)
    target = np.arange(first + n_given, first + n_given + n_target)
    return given, given % 10 + 1.0, target, target % 10 + 1.0


def test_all_but_cases_keeps_the_given_prefix_and_moves_the_other_targets_behind_it():
    cases = [_case(3, 20, 1), _case(3, 2, 100)]
    out = all_but_cases(cases, share=0.1, seed=4)
    for (ga, gr, ta, tr), (na, nr, ka, kr) in zip(cases, out):
        assert np.array_equal(na[:3], ga) and np.array_equal(nr[:3], gr)        # the first k are unchanged
        assert sorted([*na.tolist(), *ka.tolist()]) == sorted([*ga.tolist(), *ta.tolist()])  # nothing lost
        assert not set(na.tolist()) & set(ka.tolist())
        assert all(r == a % 10 + 1.0 for a, r in zip([*na.tolist(), *ka.tolist()], [*nr.tolist(), *kr.tolist()]))
    assert len(out[0][2]) == 2 and len(out[1][2]) == 1                              # 10 % of 20; at least one
    again = all_but_cases(cases, share=0.1, seed=4)
    assert np.array_equal(again[0][2], out[0][2])                                  # seeded
    assert any(not np.array_equal(all_but_cases(cases, 0.1, s)[0][2], out[0][2]) for s in range(5, 10))


def test_one_row_and_json_per_run(cold_knn_run, tmp_path, capsys):
    processed, run = cold_knn_run
    main(["--data-dir", str(processed), "--run", f"knn={run}", "--out", str(tmp_path / "f.json")])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("| run | new users k=5 RMSE |") and lines[2].startswith("| knn | ")
    r = json.loads((tmp_path / "f.json").read_text())["results"]["knn"]
    data = load_processed(processed)
    cases = all_but_cases(new_user_cases(data.holdout, 20, 0), 0.1, 0)
    assert len(cases) > 0 and r["new_users"]["all"]["users"] == len(cases)
    model = load_model(run / "best_model.pt")[0]
    assert r["new_users"]["k=5"]["rmse"] == pytest.approx(evaluate_cases(model, cases, (5,))["k=5"]["rmse"])
    # the offset columns: the model's own errors (same RMSE as the row), the offset of each user's first 5
    mean, i_bias = item_biases(data.train, data.n_anime)
    error, offset = given_offset_errors(model, cases, 5, mean, i_bias)
    assert len(error) == sum(len(c[2]) for c in cases)
    assert math.sqrt(np.mean(error ** 2)) == pytest.approx(r["new_users"]["k=5"]["rmse"], rel=1e-5)
    ga, gr = cases[0][0][:5], cases[0][1][:5]
    assert offset[0] == pytest.approx((gr - mean - i_bias[ga]).sum() / (5 + 2.0))
    assert r["new_users"]["k=5"]["given_offset"] == pytest.approx(offset_response(error, offset))
    assert lines[2].count(" / ") >= 2 and "(" in lines[2]
    longest = max(len(c[0]) for c in cases)
    assert r["new_users"]["all"]["rmse"] == pytest.approx(evaluate_cases(model, cases, (longest,))[f"k={longest}"]["rmse"])
    cold = r["cold"]
    assert cold["rmse"] == pytest.approx(cold_accuracy(model, data).rmse)              # every cold rating, as scored
    assert cold["rmse"] ** 2 == pytest.approx(cold["item"] ** 2 + cold["rest"] ** 2) and cold["item"] > 0
    assert f"{cold['rmse']:.4f}" in lines[2]


def test_a_missing_run_is_one_line(cold_knn_run, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--data-dir", str(cold_knn_run[0]), "--run", f"none={tmp_path / 'missing'}"])
    assert capsys.readouterr().err.splitlines()[-1].endswith("missing has no best_model.pt (an anime-gnn train --output-dir folder)")


def test_on_exactly_additive_ratings_the_biases_and_the_known_offset_are_exact():
    from gnn.processed import RatingSplit
    import torch

    # rating = 5 + user bias + item bias, every user rating every anime: nothing shrunk, nothing left over.
    u_bias, i_bias = np.array([0.0, 1.0, -1.0, 0.5]), np.array([0.0, 2.0, -2.0, 0.0, 1.0])
    user, anime = np.meshgrid(np.arange(1, 4), np.arange(1, 5), indexing="ij")
    rating = 5.0 + u_bias[user] + i_bias[anime]
    split = RatingSplit(torch.as_tensor(user.ravel()), torch.as_tensor(anime.ravel()),
                        torch.as_tensor(rating.ravel(), dtype=torch.float32))
    mean, fitted = item_biases(split, 5, shrink=0.0, rounds=50)
    assert np.allclose(mean + fitted[anime] + (rating - mean - fitted[anime]).mean(1, keepdims=True), rating, atol=1e-6)
    # a new user with bias -0.7 given anime 1 and 2, scored on 3 and 4: the offset from the given is exact
    new = lambda a: 5.0 - 0.7 + i_bias[a]                                        # noqa: E731
    case = (np.array([1, 2]), new(np.array([1, 2])), np.array([3, 4]), new(np.array([3, 4])))
    assert known_offset_rmse([case], mean, fitted) == pytest.approx(0.0, abs=1e-5)
    off = (case[0], case[1] + 1.0, case[2], case[3])                            # given ratings 1 too high
    assert known_offset_rmse([off], mean, fitted) == pytest.approx(1.0, abs=1e-5)
