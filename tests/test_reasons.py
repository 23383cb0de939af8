"""gnn.reasons: only animation studios are called "studio" (a producer is no studio reason)."""

from __future__ import annotations

from gnn.reasons import ReasonBuilder

DISPLAY = [
    None,
    {"id": 1, "title": "Steel Alchemist", "studios": ["Bones"], "producers": ["Aniplex", "Shueisha"],
     "genres": ["Action"], "relations": []},
    {"id": 2, "title": "Aniplex Only", "studios": ["Lerche"], "producers": ["Aniplex"], "genres": ["Drama"],
     "relations": []},
    {"id": 3, "title": "Bones Again", "studios": ["Bones"], "producers": [], "genres": [], "relations": []},
    {"id": 4, "title": "Publisher Pick", "studios": [], "producers": ["Shueisha"], "genres": [], "relations": []},
]


def test_shared_animation_studio_is_the_reason():
    reasons = ReasonBuilder(DISPLAY, {1: 9.0}, 1, 10)
    assert reasons(3) == "same studio (Bones) as Steel Alchemist (you rated 9)"


def test_shared_producer_is_never_called_the_studio():
    reasons = ReasonBuilder(DISPLAY, {1: 9.0}, 1, 10)
    assert reasons(2) == "popular with fans of Drama"      # Aniplex produced both: not "same studio (Aniplex)"
    assert reasons(4) == "predicted from your ratings"     # Shueisha published both
