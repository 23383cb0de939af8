"""Thin click commands for anime-gnn: parse options, call one gnn function, print a summary."""
