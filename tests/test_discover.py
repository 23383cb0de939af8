"""gnn.discover: the order score less weight x log(1 + training ratings), by the user's choice."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gnn.discover import discounted, log_ratings
from gnn.errors import UsageError


def test_log_ratings_reads_each_entry_s_count_and_none_for_an_export_without_counts():
    display = [None, {"ratings": 0}, {"ratings": 9}, {"ratings": 99}]
    assert log_ratings(display).tolist() == pytest.approx([0.0, 0.0, math.log(10), math.log(100)])
    assert log_ratings([None, {"ratings": 3}, {"title": "no count"}]) is None


def test_discount_lifts_the_less_rated_of_two_close_scores_and_keeps_unscored_anime_out():
    order = np.array([-np.inf, 5.0, 4.5, -np.inf], dtype=np.float32)    # anime 1 ahead of anime 2
    log_n = log_ratings([None, {"ratings": 999}, {"ratings": 9}, {"ratings": 0}])
    assert discounted(order, log_n, 0.0) is order                      # 0: the model's own order
    mild = discounted(order, log_n, 0.1)
    assert mild[1] > mild[2] and mild[1] == pytest.approx(5.0 - 0.1 * math.log(1000))
    strong = discounted(order, log_n, 1.0)                              # 5 - 6.91 < 4.5 - 2.30
    assert strong[2] > strong[1] and strong.dtype == np.float32
    assert np.isneginf(strong[[0, 3]]).all()                            # not scored stays not scored
    assert order[1] == 5.0                                              # the input is not changed


@pytest.mark.parametrize("weight", [-0.5, float("nan"), float("inf")])
def test_a_weight_below_zero_or_not_finite_is_a_usage_error(weight):
    with pytest.raises(UsageError, match=r"discover must be a number >= 0 \(0 = the model's order\)"):
        discounted(np.zeros(2, np.float32), np.zeros(2, np.float32), weight)


def test_an_export_without_counts_refuses_a_discount_but_not_the_model_s_order():
    order = np.zeros(3, np.float32)
    assert discounted(order, None, 0) is order
    with pytest.raises(UsageError, match="does not carry the anime's rating counts"):
        discounted(order, None, 0.5)
