"""The workloads, each in one place: the requests clients send, and the arguments the floors
bind to the project's SQL for them.

When a query's parameters change, its `*_args` function below changes with it: the floors
pass arguments by the header's parameter names (`-- $1 id bigint`), and the bench checks
before it starts that every name matches, skipping a workload with a note naming the file
when one does not. Requests are drawn from a seeded RNG, so every target, every round and
either load generator replay the same requests.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from api.data.registry import queries
from api.tools.seed import WORDS, vocabulary_word
from tests.bench.requests_file import Request

Args = dict[str, Any]

PAGE = 20  # GET /posts/?limit=20
REQUESTS_PER_WORKLOAD = 10_000  # distinct requests replayed round and round


@dataclass(frozen=True)
class Seeded:
    """What requests may name: users 1 to `users` exist, and `tokens` sign some of them in."""

    users: int
    tokens: tuple[str, ...]


# --- the floors' arguments, by the parameter names of each query's header -----------------


def user_by_id_args(user_id: int) -> Args:
    return {"id": user_id}


def posts_page_args(limit: int) -> Args:
    """The first page, newest first; one row more than the page, as the project asks for, to
    know whether a next page exists."""
    return {"before_id": None, "skip": 0, "limit": limit + 1}


def search_args(query: str, limit: int) -> Args:
    """The first page of a search, best match first, without snippets or a tag."""
    return {
        "query": query,
        "after_rank": None,
        "before_id": None,
        "skip": 0,
        "limit": limit + 1,
        "highlight": False,
        "tag": None,
    }


def user_by_token_args(token: str) -> Args:
    return {"token_hash": hashlib.sha256(token.encode()).digest()}


def create_item_args(owner_id: int, body: dict[str, Any]) -> Args:
    return {
        "owner_id": owner_id,
        "name": body["name"],
        "description": body.get("description"),
        "price": body["price"],
        "attributes": body.get("attributes", {}),
    }


# --- the requests clients send ---------------------------------------------------------------


def user_request(rng: random.Random, seeded: Seeded) -> Request:
    return Request("GET", f"/users/{rng.randint(1, seeded.users)}")


def posts_request(rng: random.Random, seeded: Seeded) -> Request:
    return Request("GET", f"/posts/?limit={PAGE}")


def search_term(rng: random.Random) -> str:
    """A two-word term, drawn by the law the seed draws them with (sql/seed/posts.sql), so
    searches look like the text: most match a few dozen posts, some a few thousand, some
    none. Plain words are left out: each is in 5% to 50% of the posts, so a search for
    one ranks thousands of rows and measures PostgreSQL, not the service."""
    count = len(WORDS)
    rank = int(21 * ((count * count + 21) / 21) ** rng.random() - 20)
    return vocabulary_word(count + max(1, min(rank, count * count)))


def search_request(rng: random.Random, seeded: Seeded) -> Request:
    return Request("GET", f"/posts/?q={search_term(rng)}&limit={PAGE}")


def create_item_request(rng: random.Random, seeded: Seeded) -> Request:
    words = rng.sample(WORDS, 6)
    body = {
        "name": f"{words[0]} {words[1]}".title(),
        "description": " ".join(words[2:]).capitalize() + ".",
        "price": rng.randint(100, 1_000_000),
    }
    return Request("POST", "/items/", token=rng.choice(seeded.tokens), body=body)


# --- the table -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    name: str  # as given to --workloads
    title: str  # as printed
    draw: Callable[[random.Random, Seeded], Request]
    # The queries the floors run, each with sample arguments to check against its header.
    sample_args: Callable[[], dict[str, Args]]
    # A query parameter the project's OpenAPI must list for this path, or the project would
    # ignore it and answer another workload (GET /posts/ without search is the plain list).
    needs_parameter: tuple[str, str] | None = None

    def requests(self, seeded: Seeded, count: int = REQUESTS_PER_WORKLOAD) -> list[Request]:
        rng = random.Random(f"tests.bench {self.name}")
        return [self.draw(rng, seeded) for _ in range(count)]

    def problem(self) -> str | None:
        """Why the floors cannot run this workload's SQL (a file missing, parameters renamed), or None."""
        known = set(queries)
        for name, args in self.sample_args().items():
            if name not in known:
                return f"sql/{name}.sql does not exist yet"
            declared = [param.name for param in queries[name].params]
            if list(args) != declared:
                return (
                    f"sql/{name}.sql takes ({', '.join(declared)}) but tests/bench/workloads.py passes "
                    f"({', '.join(args)}): adjust it there"
                )
        return None


WORKLOADS = (
    Workload(
        "user",
        "GET /users/{id}",
        user_request,
        lambda: {"users/get_by_id": user_by_id_args(1)},
    ),
    Workload(
        "posts",
        f"GET /posts/?limit={PAGE}",
        posts_request,
        lambda: {"posts/list": posts_page_args(PAGE)},
    ),
    Workload(
        "search",
        f"GET /posts/?q=…&limit={PAGE}",
        search_request,
        lambda: {"posts/search": search_args("riverforest", PAGE)},
        needs_parameter=("/posts/", "q"),
    ),
    Workload(
        "create-item",
        "POST /items/ (bearer)",
        create_item_request,
        lambda: {
            "auth/user_by_token": user_by_token_args("token"),
            "items/create": create_item_args(1, {"name": "Kettle", "price": 100}),
        },
    ),
)

BY_NAME = {workload.name: workload for workload in WORKLOADS}


def bind(name: str, args: Args) -> tuple[Any, ...]:
    """The arguments in the order of the query's header (checked by `Workload.problem`)."""
    return tuple(args[param.name] for param in queries[name].params)
