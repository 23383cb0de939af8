"""gnn.export.display: animation studios and producers apart in anime_display.json; the processed folder read."""

from __future__ import annotations

import numpy as np
import pytest

from gnn.errors import InputError
from gnn.export.display import anime_display, read_catalog_side


def entry(**extra) -> dict:
    return {"anime_id": 5, "title": "Steel Alchemist", **extra}


def test_display_lists_animation_studios_and_producers_apart():
    display = anime_display([entry(studios=["Bones"], producers=["Aniplex"])])
    assert display[0] is None
    assert (display[1]["studios"], display[1]["producers"]) == (["Bones"], ["Aniplex"])


def test_display_lists_each_anime_s_co_rated_anime_without_padding():
    corated = np.array([[0, 0, 0, 0, 0, 0, 0], [2, 0, 0, 0, 0, 0, 0], [5, 1, 4, 6, 3, 7, 0]])
    display = anime_display([entry(studios=[], producers=[]), entry(anime_id=6, studios=[], producers=[])], corated)
    assert display[1]["corated"] == [2]                                   # row 0 is the padding anime's
    assert display[2]["corated"] == [5, 1, 4, 6, 3, 7]                   # strongest first, as the table holds them
    assert "corated" not in anime_display([entry(studios=[], producers=[])])[1]   # no table (a baseline export)


def test_display_carries_each_anime_s_training_rating_count():
    display = anime_display([entry(studios=[], producers=[], n_train_ratings=42), entry(studios=[], producers=[])])
    assert [e["ratings"] for e in display[1:]] == [42, 0]   # what discover discounts; none recorded = 0


def test_an_export_from_a_folder_of_the_older_preprocess_is_refused(tmp_path):
    for name in ("anime_metadata.json", "mappings.json", "model_config.json"):  # format 1: no data_stats.json
        (tmp_path / name).write_text("{}")
    with pytest.raises(InputError) as err:
        read_catalog_side(tmp_path, 3, None)
    assert str(err.value) == (f"{tmp_path}: written by an older anime-gnn (model_config.json, now data_stats.json); "
                              "rerun `anime-gnn preprocess` to make it again")
