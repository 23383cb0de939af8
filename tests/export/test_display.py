"""gnn.export.display: animation studios and producers apart in anime_display.json."""

from __future__ import annotations

from gnn.export.display import anime_display

MAPPINGS = {"studio": {"index_to_id": [None, "Aniplex", "Bones"]}}


def entry(**extra) -> dict:
    return {"anime_id": 5, "title": "Steel Alchemist", "studio_indices": [2, 1], "studio_weights": [0.67, 0.33],
            **extra}


def test_display_lists_animation_studios_and_producers_apart():
    display = anime_display([entry(studios=["Bones"], producers=["Aniplex"])], MAPPINGS)
    assert display[0] is None
    assert (display[1]["studios"], display[1]["producers"]) == (["Bones"], ["Aniplex"])


def test_metadata_from_before_the_split_lists_every_company_as_before():
    display = anime_display([entry()], MAPPINGS)
    assert (display[1]["studios"], display[1]["producers"]) == (["Bones", "Aniplex"], [])
