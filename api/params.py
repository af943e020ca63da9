"""Query parameters shared by every list endpoint."""

from typing import Annotated

from fastapi import Query

from api.schemas.common import INT8_MAX

MAX_LIMIT = 100

Skip = Annotated[int, Query(ge=0, le=INT8_MAX, description="How many rows to skip.")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"How many rows to return, at most {MAX_LIMIT}.")]
