"""Tags on posts: written with their post in one transaction, so a failure midway leaves
nothing behind; listed and filtered by."""

import asyncio
import dataclasses

import pytest
from pydantic import BaseModel

from api.resources.posts import routes as posts
from tests.conftest import test_queries
from tests.problems import assert_problem, error_locations


class TagUse(BaseModel):
    name: str
    posts: int


ALL_TAGS = test_queries.many("tags/all", TagUse)
COUNT_POSTS = posts.COUNT


async def write(client, account, **fields):
    response = await client.post("/posts/", json={"title": "t", "content": "c", **fields}, headers=account.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_post_is_written_with_its_tags_sorted_and_once_each(client, ann):
    post = await write(client, ann, tags=["python", "databases", "python"])

    assert post["tags"] == ["databases", "python"]
    assert (await client.get(f"/posts/{post['id']}")).json()["tags"] == ["databases", "python"]


async def test_tags_are_shared_between_posts(client, db, ann, bob):
    await write(client, ann, tags=["python"])
    await write(client, bob, tags=["python", "web"])

    assert await db.run(ALL_TAGS) == [TagUse(name="python", posts=2), TagUse(name="web", posts=1)]


async def test_updating_tags_replaces_them(client, db, ann):
    post = await write(client, ann, tags=["a", "b"])

    response = await client.patch(f"/posts/{post['id']}", json={"tags": ["b", "c"]}, headers=ann.headers)

    assert response.json()["tags"] == ["b", "c"]
    assert [t.posts for t in await db.run(ALL_TAGS)] == [0, 1, 1]  # a stays known, unused


async def test_updating_other_fields_keeps_the_tags(client, ann):
    post = await write(client, ann, tags=["keep"])

    response = await client.patch(f"/posts/{post['id']}", json={"title": "new"}, headers=ann.headers)

    assert response.json()["tags"] == ["keep"]


async def test_list_posts_by_tag(client, ann):
    tagged = [await write(client, ann, title=f"p{n}", tags=["x"]) for n in range(3)]
    await write(client, ann, tags=["y"])

    response = await client.get("/posts/", params={"tag": "x"})

    assert response.json()["data"] == tagged[::-1]


@pytest.mark.parametrize(
    "tags", [["Python"], ["has space"], ["-dash"], ["x" * 33], [f"t{n}" for n in range(11)], ["ok", ""]]
)
async def test_bad_tags_are_refused_and_nothing_is_written(client, db, ann, tags):
    response = await client.post("/posts/", json={"title": "t", "content": "c", "tags": tags}, headers=ann.headers)

    assert error_locations(response)[0][:2] == ["body", "tags"]
    assert await db.run(COUNT_POSTS) == 0


def _fail_after_writing(monkeypatch):
    """Make the post's re-read, the last step inside its transaction, fail: by then the post
    and its tags are written but not committed."""

    def fail(row):
        raise RuntimeError("failing midway, after the tags were written")

    monkeypatch.setattr(posts, "GET_BY_ID", dataclasses.replace(posts.GET_BY_ID, convert=fail))


async def test_a_failure_midway_through_writing_a_tagged_post_leaves_nothing(client, db, ann, monkeypatch):
    _fail_after_writing(monkeypatch)

    response = await client.post(
        "/posts/", json={"title": "t", "content": "c", "tags": ["doomed"]}, headers=ann.headers
    )

    assert_problem(response, 500)
    assert await db.run(COUNT_POSTS) == 0
    assert await db.run(ALL_TAGS) == []


async def test_a_failure_midway_through_retagging_leaves_the_post_as_it_was(client, db, ann, monkeypatch):
    post = await write(client, ann, title="before", tags=["old"])
    _fail_after_writing(monkeypatch)

    response = await client.patch(f"/posts/{post['id']}", json={"title": "after", "tags": ["new"]}, headers=ann.headers)

    assert_problem(response, 500)
    monkeypatch.undo()
    assert (await client.get(f"/posts/{post['id']}")).json() == post
    assert await db.run(ALL_TAGS) == [TagUse(name="old", posts=1)]


async def test_a_refused_retag_of_someone_elses_post_changes_nothing(client, db, ann, bob):
    post = await write(client, ann, tags=["mine"])

    response = await client.patch(f"/posts/{post['id']}", json={"tags": ["theirs"]}, headers=bob.headers)

    assert_problem(response, 403)
    assert await db.run(ALL_TAGS) == [TagUse(name="mine", posts=1)]


async def test_concurrent_posts_creating_one_new_tag_all_get_it(client, db, ann):
    bodies = [{"title": f"t{n}", "content": "c", "tags": ["fresh"]} for n in range(8)]

    responses = await asyncio.gather(*(client.post("/posts/", json=b, headers=ann.headers) for b in bodies))

    assert [r.status_code for r in responses] == [201] * 8
    assert await db.run(ALL_TAGS) == [TagUse(name="fresh", posts=8)]
