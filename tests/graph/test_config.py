"""gnn.graph.config: relation weights ordered by closeness, tag weights from rank and category."""

from __future__ import annotations

import dataclasses

import pytest

from gnn.data.schema import INVERSE_RELATION, RELATION_TYPES
from gnn.graph.config import DEFAULT_RELATION_WEIGHTS, GraphConfig


def test_default_relation_weights_are_ordered_by_closeness():
    w = GraphConfig().relation_weight
    assert w("SEQUEL") == w("PREQUEL") > w("PARENT") > w("SIDE_STORY") == w("SPIN_OFF") > w("ALTERNATIVE")
    assert w("ALTERNATIVE") > w("SUMMARY") == w("CHARACTER") > w("OTHER") > 0
    assert set(DEFAULT_RELATION_WEIGHTS) == set(RELATION_TYPES)


def test_every_relation_type_has_an_inverse_in_the_contract():
    assert set(INVERSE_RELATION) == set(RELATION_TYPES)
    assert set(INVERSE_RELATION.values()) <= set(RELATION_TYPES)
    assert INVERSE_RELATION["SEQUEL"] == "PREQUEL" and INVERSE_RELATION["PREQUEL"] == "SEQUEL"


def test_relation_weights_must_name_exactly_the_contract_types():
    with pytest.raises(ValueError, match="unknown relation types.*ADAPTATION"):
        GraphConfig(relation_weights={**DEFAULT_RELATION_WEIGHTS, "ADAPTATION": 0.1})
    partial = dict(DEFAULT_RELATION_WEIGHTS)
    del partial["SUMMARY"]
    with pytest.raises(ValueError, match="lacks.*SUMMARY"):
        GraphConfig(relation_weights=partial)


def test_tag_weight_rises_with_rank_and_null_rank_is_neutral():
    c = GraphConfig()
    low, null, high = c.tag_weight(10, "Theme"), c.tag_weight(None, "Theme"), c.tag_weight(90, "Theme")
    assert low < null < high
    assert null == pytest.approx(c.tag_weight(c.null_tag_rank, "Theme")) == pytest.approx(0.5)
    assert [c.tag_weight(r, "Theme") for r in (20, 40, 60, 80, 100)] == sorted(
        c.tag_weight(r, "Theme") for r in (20, 40, 60, 80, 100))
    # rank 0 is floored at min_tag_rank, so a listed tag never weighs nothing
    assert c.tag_weight(0, "Theme") == c.tag_weight(c.min_tag_rank, "Theme") > 0


def test_tag_category_factor():
    c = GraphConfig()
    assert c.tag_weight(80, "Theme-Action") == pytest.approx(0.8)            # "Theme" factor 1.0
    assert c.tag_weight(80, "Technical") == pytest.approx(0.8 * 0.5)
    assert c.tag_weight(80, "Cast-Main Cast") == pytest.approx(0.8 * 0.8)
    assert c.tag_weight(80, "Invented") == pytest.approx(0.8 * c.default_tag_category_factor)
    assert c.tag_weight(80, None) == pytest.approx(0.8 * c.default_tag_category_factor)
    custom = GraphConfig(tag_category_factors={"Theme": 0.25})
    assert custom.tag_weight(80, "Theme-Action") == pytest.approx(0.2)


def test_config_round_trips_through_dict_and_is_frozen():
    c = GraphConfig(animation_studio_weight=3.0, max_tags=4,
                    relation_weights={**DEFAULT_RELATION_WEIGHTS, "OTHER": 0.05})
    d = c.to_dict()
    assert d["relation_weights"]["OTHER"] == 0.05 and d["max_tags"] == 4
    assert GraphConfig.from_dict({**d, "not_a_field": 1}) == c
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.max_tags = 5  # type: ignore[misc]


def test_config_written_before_the_studio_producer_split_keeps_its_studio_weights():
    old = {"main_studio_weight": 3.0, "other_studio_weight": 0.5, "max_tags": 4}
    c = GraphConfig.from_dict(old)
    assert (c.animation_studio_weight, c.producer_weight, c.max_tags) == (3.0, 0.5, 4)
