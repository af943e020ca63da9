"""Full-text search on posts: websearch syntax, titles ranked above contents, snippets on
request, paging through ranked results."""

import base64
import html

import pytest

from tests.problems import error_locations
from tests.test_observability import scrape

POSTS = [
    {"title": "Brewing coffee at home", "content": "Grind the beans just before brewing.", "tags": ["coffee"]},
    {"title": "Tea or not", "content": "Some say coffee, some say tea; green tea wins.", "tags": ["tea"]},
    {"title": "Garden notes", "content": "Tomatoes like coffee grounds in the soil.", "tags": ["garden"]},
    {"title": "Quiet evening", "content": "Nothing about drinks here at all.", "tags": []},
]


@pytest.fixture
async def written(client, ann):
    posts = []
    for post in POSTS:
        response = await client.post("/posts/", json=post, headers=ann.headers)
        posts.append(response.json())
    return posts


async def search(client, q, **params):
    response = await client.get("/posts/", params={"q": q, **params})
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_word_in_the_title_ranks_above_the_same_word_in_the_content(client, written):
    found = (await search(client, "coffee"))["data"]

    assert found[0]["title"] == "Brewing coffee at home"
    assert {p["title"] for p in found} == {"Brewing coffee at home", "Tea or not", "Garden notes"}
    assert [p["rank"] for p in found] == sorted((p["rank"] for p in found), reverse=True)


async def test_words_match_their_stems(client, written):
    assert [p["title"] for p in (await search(client, "brew"))["data"]] == ["Brewing coffee at home"]


@pytest.mark.parametrize(
    ("q", "titles"),
    [
        ("coffee -tea", {"Brewing coffee at home", "Garden notes"}),
        ('"green tea"', {"Tea or not"}),
        ("tomatoes or beans", {"Garden notes", "Brewing coffee at home"}),
        ("coffee soil", {"Garden notes"}),
    ],
)
async def test_web_search_syntax(client, written, q, titles):
    assert {p["title"] for p in (await search(client, q))["data"]} == titles


async def test_a_snippet_comes_only_on_request_with_matches_marked(client, written):
    plain = (await search(client, "tomatoes"))["data"][0]
    highlighted = (await search(client, "tomatoes", highlight="true"))["data"][0]

    assert "snippet" not in plain
    assert "<mark>Tomatoes</mark>" in highlighted["snippet"]


async def test_plain_lists_carry_no_rank_or_snippet(client, written):
    post = (await client.get("/posts/")).json()["data"][0]

    assert "rank" not in post and "snippet" not in post


async def test_search_within_a_tag(client, written):
    found = await search(client, "coffee", tag="garden", count="true")

    assert [p["title"] for p in found["data"]] == ["Garden notes"]
    assert found["count"] == 1


async def test_paging_through_ranked_results_shows_each_once_in_rank_order(client, written):
    everything = (await search(client, "coffee"))["data"]
    first = await search(client, "coffee", limit=2)
    second = (await client.get(first["next"])).json()

    assert first["data"] + second["data"] == everything
    assert second["next"] is None


@pytest.mark.parametrize("q", ["the", "and or not", "!!!", "-"])
async def test_a_query_without_words_finds_nothing_rather_than_failing(client, written, q):
    assert (await search(client, q))["data"] == []


@pytest.mark.parametrize("q", ["", "a\x00b", "x" * 201])
async def test_an_unusable_query_is_refused(client, q):
    assert error_locations(await client.get("/posts/", params={"q": q})) == [["query", "q"]]


@pytest.mark.parametrize("q", ["'; DROP TABLE posts; --", "$1", "a & b | !c", "coffee:*", "\\"])
async def test_query_metacharacters_are_only_words(client, written, q):
    response = await client.get("/posts/", params={"q": q})

    assert response.status_code == 200


HOSTILE = [
    "Tomatoes <svg onload=alert(1)> and more tomatoes",
    'Tomatoes <img src=x onerror="alert(2)"> in the garden',
    "Tomatoes <script>alert(3)</script> & AT&T's <b>bold</b> &amp; tomatoes",
]


async def test_a_snippet_is_escaped_html_with_only_the_services_marks(client, ann):
    for content in HOSTILE:
        await client.post("/posts/", json={"title": "t", "content": content}, headers=ann.headers)

    snippets = [p["snippet"] for p in (await search(client, "tomatoes", highlight="true"))["data"]]

    assert len(snippets) == len(HOSTILE)
    for snippet in snippets:
        assert "<mark>" in snippet
        text = snippet.replace("<mark>", "").replace("</mark>", "")
        assert "<" not in text and ">" not in text and '"' not in text and "'" not in text
        for fragment in text.split(" ... "):  # each fragment is the content as written, escaped
            assert any(html.unescape(fragment) in content for content in HOSTILE), fragment
    assert any("&lt;script&gt;alert(3)&lt;/script&gt;" in s for s in snippets)
    assert any("AT&amp;T&#39;s &lt;b&gt;bold" in s for s in snippets)


async def test_a_search_cursor_with_a_rank_no_page_gave_is_refused_at_the_cursor(client, written):
    before = await database_errors(client)
    for rank in ("1e300", "-1", "0.1", "NaN"):
        cursor = base64.urlsafe_b64encode(f'{{"id":1,"rank":{rank}}}'.encode()).decode().rstrip("=")
        response = await client.get("/posts/", params={"q": "coffee", "cursor": cursor})
        assert error_locations(response) == [["query", "cursor"]], rank

    assert await database_errors(client) == before


async def database_errors(client) -> float:
    return sum(v for (name, _), v in (await scrape(client)).items() if name == "db_errors_total")


async def test_a_cursor_is_taken_only_in_the_form_handed_out(client, written):
    cursor = (await search(client, "coffee", limit=1))["cursor"]

    assert (await client.get("/posts/", params={"q": "coffee", "limit": 1, "cursor": cursor})).status_code == 200
    for altered in (f" {cursor}", f"{cursor}\n", f"{cursor}=", f"{cursor[:4]}.{cursor[4:]}"):
        response = await client.get("/posts/", params={"q": "coffee", "cursor": altered})
        assert error_locations(response) == [["query", "cursor"]], altered
