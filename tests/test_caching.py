"""What a cache between the API and its clients may keep: never a token, an account's own
answers only privately, and lists apart by `Prefer`."""

import pytest

from tests import inventory
from tests.accounts import sign_in


async def test_a_token_answer_is_never_stored(client, ann):
    response = await sign_in(client, ann.username, ann.password)

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"


@pytest.mark.parametrize("method", ["GET", "PATCH"])
async def test_an_accounts_own_answers_are_private_and_vary_by_token(client, ann, method):
    response = await client.request(method, "/users/me", json={} if method == "PATCH" else None, headers=ann.headers)

    assert response.status_code == 200
    assert response.headers["cache-control"] == "private"
    assert response.headers["vary"] == "Authorization"


@pytest.mark.parametrize("template", inventory.lists())
async def test_every_list_varies_by_prefer(client, ann, template):
    response = await client.get(inventory.with_id(template, ann.id))

    assert response.status_code == 200
    assert response.headers["vary"] == "Prefer"
