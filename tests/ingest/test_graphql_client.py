"""The shared GraphQL client: pacing, 429 Retry-After, backoff, retry limit, malformed answers."""

from __future__ import annotations

import pytest

from fakeserver import DROP, FakeAniList, reply_json
from gnn.errors import InputError, UsageError
from gnn.ingest.graphql import (FetchError, GraphQLClient, GraphQLError, RetryPolicy, load_checkpoint,
                                save_checkpoint)

QUERY = "query ($page: Int) { Page(page: $page) { media(type: ANIME) { id } } }"


def test_429_waits_the_retry_after_seconds_then_succeeds(anilist: FakeAniList, client: GraphQLClient,
                                                         sleeps: list[float]) -> None:
    anilist.override = lambda kind, v, n: (
        reply_json({"errors": [{"message": "Too Many Requests.", "status": 429}]}, 429,
                   {"Retry-After": "37"}) if n == 0 else None)
    data = client.execute(QUERY, {"page": 1}, "page 1")
    assert [m["id"] for m in data["Page"]["media"]] == [9001, 9002]
    assert sleeps == [37.0]
    assert len(anilist.requests("catalog")) == 2


def test_5xx_and_dropped_connections_back_off_exponentially_with_a_cap(anilist: FakeAniList,
                                                                       sleeps: list[float]) -> None:
    failures = [reply_json({}, 502), DROP, reply_json({}, 503), reply_json({}, 500)]
    anilist.override = lambda kind, v, n: failures[n] if n < len(failures) else None
    client = GraphQLClient(anilist.url, RetryPolicy(max_retries=4, backoff_base=1.0,
                                                    backoff_cap=5.0, min_interval=0))
    client.execute(QUERY, {"page": 1}, "page 1")
    assert sleeps == [1.0, 2.0, 4.0, 5.0]  # 1, 2, 4, then capped at 5


def test_429_without_retry_after_falls_back_to_backoff(anilist: FakeAniList, client: GraphQLClient,
                                                       sleeps: list[float]) -> None:
    anilist.override = lambda kind, v, n: reply_json({}, 429) if n == 0 else None
    client.execute(QUERY, {"page": 1}, "page 1")
    assert sleeps == [client.policy.backoff(0)]


def test_gives_up_after_max_retries_with_one_clear_line(anilist: FakeAniList, client: GraphQLClient,
                                                        sleeps: list[float]) -> None:
    anilist.override = lambda kind, v, n: reply_json({}, 500)
    with pytest.raises(FetchError) as err:
        client.execute(QUERY, {"page": 4}, "page 4")
    assert len(anilist.requests("catalog")) == 3  # 1 try + max_retries=2
    assert "page 4: giving up after 3 attempt(s); last error: HTTP 500" in str(err.value)
    assert "\n" not in str(err.value)
    assert isinstance(err.value, InputError)  # so the CLI prints one line, exit 2


@pytest.mark.parametrize("reply, message", [
    ((200, {"Content-Type": "text/html"}, b"<html>Bad gateway</html>"), "response is not JSON"),
    (reply_json({"Page": {}}), "response has no 'data' object"),
    (reply_json({"data": None, "errors": [{"message": "Syntax Error", "status": 400}]}, 400),
     "GraphQL error (status 400): Syntax Error"),
    (reply_json({"data": {"Page": None}, "errors": [{"message": "Internal oops"}]}),
     "GraphQL error (status 200): Internal oops"),
    (reply_json([1, 2]), "response is not a JSON object"),
])
def test_malformed_responses_stop_at_once(anilist: FakeAniList, client: GraphQLClient,
                                          sleeps: list[float], reply: tuple, message: str) -> None:
    anilist.override = lambda kind, v, n: reply
    with pytest.raises(FetchError, match="page 1: ") as err:
        client.execute(QUERY, {"page": 1}, "page 1")
    assert message in str(err.value)
    assert sleeps == [] and len(anilist.requests("catalog")) == 1  # no retry of a bad answer


def test_private_user_is_a_not_found_graphql_error(anilist: FakeAniList, client: GraphQLClient) -> None:
    with pytest.raises(GraphQLError) as err:
        client.execute("query { MediaListCollection(userName: $name) { lists { name } } }",
                       {"name": "HiddenOne"}, "user #1 list chunk 1")
    assert err.value.not_found and "Private User" in str(err.value)


def test_requests_are_paced_by_min_interval(anilist: FakeAniList, sleeps: list[float]) -> None:
    now = [100.0]
    client = GraphQLClient(anilist.url, RetryPolicy(min_interval=2.0), clock=lambda: now[0])
    client.execute(QUERY, {"page": 1}, "page 1")
    now[0] += 0.5
    client.execute(QUERY, {"page": 2}, "page 2")
    assert sleeps == [1.5]


def test_checkpoint_refuses_other_options(tmp_path) -> None:
    path = tmp_path / "cp.json"
    save_checkpoint(path, "anilist-catalog", {"per_page": 50}, {"next_page": 3})
    assert load_checkpoint(path, "anilist-catalog", {"per_page": 50})["next_page"] == 3
    with pytest.raises(UsageError, match="other options"):
        load_checkpoint(path, "anilist-catalog", {"per_page": 10})
    with pytest.raises(InputError, match="not an 'anilist-ratings' checkpoint"):
        load_checkpoint(path, "anilist-ratings", {"per_page": 50})
    path.write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        load_checkpoint(path, "anilist-catalog", {"per_page": 50})


def test_retry_after_must_be_a_finite_number() -> None:
    from email.message import Message

    from gnn.ingest.graphql import retry_after_seconds

    def headers(value: str) -> Message:
        m = Message()
        m["Retry-After"] = value
        return m

    assert retry_after_seconds(headers("12")) == 12.0
    for bad in ("inf", "nan", "-3", "Wed, 21 Oct 2015 07:28:00 GMT"):
        assert retry_after_seconds(headers(bad)) is None
    assert retry_after_seconds(Message()) is None


def test_endpoint_must_be_http() -> None:
    with pytest.raises(UsageError, match="http"):
        GraphQLClient("file:///etc/hostname")
