"""Who may change what: a change is scoped to its owner in the statement's WHERE clause;
when it touches no row, this tells a 404 (no such thing) from a 403 (not yours)."""

from pydantic import BaseModel

from api.http.errors import Forbidden, NotFound


class Owner(BaseModel):
    """Internal: who may change a post or an item (None: nobody)."""

    owner_id: int | None


def refuse_change(owner: Owner | None, what: str) -> Exception:
    """Why a change scoped to its owner touched no row: there is no such thing, or it is not theirs."""
    if owner is None:
        return NotFound(f"There is no {what}.")
    return Forbidden(f"Only the owner of {what} may change it.")
