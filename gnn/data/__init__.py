"""Readers for the input contract (anime_catalog.json, ratings.csv) and the sample generator."""
