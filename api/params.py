"""Path parameters shared by the routers (query parameters for lists live in pagination.py)."""

from typing import Annotated

from fastapi import Path

from api.schemas.common import MAX_JSON_INT

PathId = Annotated[int, Path(ge=1, le=MAX_JSON_INT, description="The id.")]
