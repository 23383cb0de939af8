"""Fixtures for the ingest tests: a fake AniList on 127.0.0.1, a recording sleep, a client."""

from __future__ import annotations

from typing import Iterator

import pytest

from fakeserver import FakeAniList
from gnn.ingest import graphql
from gnn.ingest.graphql import GraphQLClient, RetryPolicy


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # urllib honours *_proxy variables; a proxy must never see (or break) the fake server.
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def anilist() -> Iterator[FakeAniList]:
    with FakeAniList() as fake:
        yield fake


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every sleep any client asks for, recorded instead of slept (CLI-built clients too)."""
    recorded: list[float] = []
    monkeypatch.setattr(graphql, "_sleep", recorded.append)
    return recorded


@pytest.fixture
def client(anilist: FakeAniList, sleeps: list[float]) -> GraphQLClient:
    return GraphQLClient(anilist.url, RetryPolicy(max_retries=2, min_interval=0))
