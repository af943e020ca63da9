"""Assertions on RFC 9457 problem details, shared by the tests."""

import httpx


def assert_problem(response: httpx.Response, status: int) -> dict:
    """The response is a problem of this status, well formed; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert body["title"] and body["detail"]
    return body


def error_locations(response: httpx.Response) -> list[list]:
    """The `loc` of each error in a 422 problem."""
    return [error["loc"] for error in assert_problem(response, 422)["errors"]]
