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


# ------------------------------------------------------------------ issue 17, defect 8

def test_rate_limit_remaining_near_zero_waits_a_whole_window(anilist: FakeAniList, sleeps: list[float]) -> None:
    now = [100.0]
    remaining = {0: "5", 1: "2", 2: "30"}
    anilist.override = lambda kind, v, n: (200, {"X-RateLimit-Remaining": remaining.get(n, "30")},
                                           b'{"data": {"Page": {"media": []}}}')
    client = GraphQLClient(anilist.url, RetryPolicy(min_interval=2.5), clock=lambda: now[0])
    for page in (1, 2, 3, 4):
        client.execute(QUERY, {"page": page}, f"page {page}")
        now[0] += 1.0
    # after "5": the usual 2.5 s pace; after "2" (at the low-water mark): a whole minute; after "30": 2.5 s again.
    assert sleeps == [1.5, 59.0, 1.5]


def test_redirects_to_other_schemes_are_refused(anilist: FakeAniList, client: GraphQLClient) -> None:
    anilist.override = lambda kind, v, n: (302, {"Location": "ftp://127.0.0.1/anime.json"}, b"")
    with pytest.raises(FetchError, match=r": page 1: refused a redirect \(HTTP 302\) to a ftp: URL; only http\(s\) "
                                         r"is followed$"):
        client.execute(QUERY, {"page": 1}, "page 1")
    assert len(anilist.requests("catalog")) == 1  # not retried either


def test_page_101_of_50_is_refused_as_anilist_does(anilist: FakeAniList, client: GraphQLClient) -> None:
    from gnn.ingest.graphql import is_page_depth_error

    query = "query ($page: Int, $perPage: Int) { Page(page: $page, perPage: $perPage) { media(type: ANIME) { id } } }"
    with pytest.raises(GraphQLError) as err:
        client.execute(query, {"page": 101, "perPage": 50}, "page 101")
    assert is_page_depth_error(err.value) and err.value.statuses == [400]
    assert "Page depth exceeds maximum allowed for API requests (5000 entries)" in str(err.value)
    assert len(anilist.requests("catalog")) == 1  # a 400 is never retried
