"""Path and query parameters shared by the routers."""

from typing import Annotated

from fastapi import Path, Query

from api.schemas.common import MAX_JSON_INT

MAX_LIMIT = 100

PathId = Annotated[int, Path(ge=1, le=MAX_JSON_INT, description="The id.")]
Skip = Annotated[int, Query(ge=0, le=MAX_JSON_INT, description="How many rows to skip.")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"How many rows to return, at most {MAX_LIMIT}.")]
