"""gnn.train.checkpoint: a trained model loads with other values of its scoring-only options, no others."""

from __future__ import annotations

import pytest

from gnn.errors import InputError
from gnn.train.checkpoint import load_model, model_from_blob, read_checkpoint
from tests.export import tiny


@pytest.fixture(scope="module")
def best(tmp_path_factory):
    return tiny.trained(tmp_path_factory) / "best_model.pt"


def test_scoring_options_apply_and_the_weights_stay(best):
    model, _, _ = load_model(best)
    wider, _, _ = load_model(best, scoring={"score_history": 3 * model.config.max_history})
    assert wider.scoring_history == 3 * model.config.max_history != model.scoring_history
    assert all((a == b).all() for a, b in zip(model.state_dict().values(), wider.state_dict().values()))


def test_a_training_option_is_refused_in_one_line(best):
    with pytest.raises(InputError, match="max_history change how 'gnn' trains.*score_history"):
        load_model(best, scoring={"max_history": 4})


def test_a_checkpoint_written_before_score_history_scores_at_its_training_cap(best):
    blob = read_checkpoint(best)
    blob["model_config"].pop("score_history")
    model, _ = model_from_blob(blob)
    assert model.config.score_history == 0 and model.scoring_history == model.config.max_history


def test_a_checkpoint_with_the_offset_under_its_old_name_loads_it(best):
    blob = read_checkpoint(best)
    state = blob["state_dict"]
    state["unrated_offset"] = state.pop("watch.unrated_offset") - 1.5   # as written before ed355bf
    model, _ = model_from_blob(blob)
    assert float(model.watch.unrated_offset) == pytest.approx(float(state["unrated_offset"]))
    state["no_such_weight"] = state["unrated_offset"]                     # other names still refused
    with pytest.raises(InputError, match="do not fit this model"):
        model_from_blob(blob)
