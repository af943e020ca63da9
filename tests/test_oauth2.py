"""Sign-in as OAuth2 client libraries see it: authlib's client, the password grant, against
the app; its errors raise as RFC 6749 section 5.2 errors."""

import warnings

import authlib.deprecate  # noqa: F401  (it sets its warnings to "always" as it loads: first, then ours)
import pytest
from httpx import ASGITransport

with warnings.catch_warnings():
    # authlib now prefers httpx2 and warns once, at import, when it finds only httpx (the
    # suite's client, which it still supports).
    warnings.filterwarnings("ignore", message="The httpx module is deprecated")
    from authlib.integrations.base_client.errors import OAuthError
    from authlib.integrations.httpx_client import AsyncOAuth2Client

TOKEN_URL = "http://test/auth/token"


@pytest.fixture
async def oauth2(app, client):
    async with AsyncOAuth2Client(transport=ASGITransport(app=app), base_url="http://test") as oauth2:
        yield oauth2


async def test_authlib_gets_a_token_with_the_right_password(oauth2, ann):
    token = await oauth2.fetch_token(TOKEN_URL, username="ann", password=ann.password)

    assert token["token_type"] == "bearer"
    me = await oauth2.get("/users/me")
    assert me.json()["id"] == ann.id


async def test_authlib_raises_invalid_grant_on_a_wrong_password(oauth2, ann):
    with pytest.raises(OAuthError) as raised:
        await oauth2.fetch_token(TOKEN_URL, username="ann", password="not the passphrase")

    assert raised.value.error == "invalid_grant"
    assert raised.value.description == "Wrong username, email or password."
