"""Bring real data into the input contract (``anime_catalog.json`` + ``ratings.csv``).

* :mod:`gnn.ingest.graphql`: a polite GraphQL-over-HTTP client (pacing, HTTP 429
  with Retry-After, capped exponential backoff, retry limit) and the resumable
  checkpoint helpers every fetcher shares.
* :mod:`gnn.ingest.anilist`: the AniList catalog fetch and its record conversion.
* :mod:`gnn.ingest.anilist_ratings`: public AniList user lists -> ``ratings.csv``,
  including the score-format conversion to the 1-10 scale.
* :mod:`gnn.ingest.mal_import`: the Kaggle MyAnimeList CSV layouts (2017, 2020);
  :mod:`gnn.ingest.mal_taxonomy` maps old MAL genre lists to today's genres/themes.

Nothing here imports click: the thin commands live in ``cli/ingest.py``.
"""
