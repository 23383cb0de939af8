"""gnn.graph.features.supported_features: what a model reads of the catalog numbers of anime nobody rated."""

from __future__ import annotations

import torch

from gnn.data.schema import Anime
from gnn.graph.features import FEATURE_NAMES, anime_features, supported_features

COL = {n: j for j, n in enumerate(FEATURE_NAMES)}


def catalog() -> list[Anime]:
    """Rated: 1 (2000, popular), 2 (2010, less so). Not rated: 3 (2024, popular, announced), 4 (no
    popularity, no year), 5 (1990, 10 members: below every rated anime)."""
    return [Anime(id=1, title_romaji="A", year=2000, popularity=100_000), Anime(id=2, title_romaji="B", year=2010, popularity=1_000),
            Anime(id=3, title_romaji="C", year=2024, popularity=50_000), Anime(id=4, title_romaji="D"),
            Anime(id=5, title_romaji="E", year=1990, popularity=10)]


def test_unknown_popularity_is_the_lowest_known_and_years_stay_within_the_rated_ones():
    x = anime_features(catalog())
    warm = torch.tensor([False, True, True, False, False, False])
    got = supported_features(x, warm)
    pop, year = got[:, COL["popularity"]], got[:, COL["year"]]
    assert pop[4] == x[5, COL["popularity"]] == x[1:, COL["popularity"]].min()   # the 10-member anime's value
    assert got[4, COL["popularity_missing"]] == 1                                  # still flagged unknown
    assert year[3] == x[2, COL["year"]]         # 2024 read as 2010, the last rated year
    assert year[5] == x[1, COL["year"]]         # 1990 read as 2000, the first
    assert year[4] == 0 and got[4, COL["year_missing"]] == 1                       # unknown year: as before
    # Rated anime, the padding row and every other column are untouched; the input is not modified.
    others = [j for n, j in COL.items() if n not in ("popularity", "year")]
    assert torch.equal(got[:3], x[:3]) and torch.equal(got[:, others], x[:, others])
    assert x[4, COL["popularity"]] == 0 and x[3, COL["year"]] > x[2, COL["year"]]


def test_a_rated_anime_of_unknown_popularity_moves_too_unless_told_not_to():
    """Anime 4 (no popularity) rated: read as the lowest known like an unrated one (on real catalogs an
    unknown popularity means obscure, rated or not); ``rated_popularity=False`` (a catalog whose popularity
    is missing at random) leaves it as it is."""
    x = anime_features(catalog())
    warm = torch.tensor([False, True, True, False, True, False])
    moved = supported_features(x, warm)
    assert moved[4, COL["popularity"]] == x[1:, COL["popularity"]].min() and moved[4, COL["popularity_missing"]] == 1
    assert torch.equal(supported_features(x, warm, rated_popularity=False)[4], x[4])


def test_without_rated_anime_or_known_numbers_nothing_moves():
    x = anime_features(catalog())
    assert torch.equal(supported_features(x, torch.zeros(6, dtype=torch.bool))[:, COL["year"]], x[:, COL["year"]])
    bare = anime_features([Anime(id=1, title_romaji="A"), Anime(id=2, title_romaji="B")])
    assert torch.equal(supported_features(bare, torch.ones(3, dtype=torch.bool)), bare)


def test_an_announced_anime_without_a_year_is_read_as_the_newest_not_the_average_year():
    # 6: announced, no year; 4: no year and no status (an old record with a gap): still the mean.
    x = anime_features([*catalog(), Anime(id=6, title_romaji="F", status="NOT_YET_RELEASED")])
    year = x[:, COL["year"]]
    assert year[6] == year[1:6].max() == year[3]             # the 2024 anime's value, the newest dated one
    assert x[6, COL["year_missing"]] == 1                    # still "not stated"
    assert year[4] == 0 and x[4, COL["year_missing"]] == 1
    # A model trained on the rated anime (2000, 2010) reads it as the last rated year, like the dated 2024 one.
    got = supported_features(x, torch.tensor([False, True, True, False, False, False, False]))
    assert got[6, COL["year"]] == got[3, COL["year"]] == x[2, COL["year"]]
    # The other anime's numbers are the same as in a catalog without it (it does not enter the statistics).
    assert torch.equal(x[:6], anime_features(catalog()))
