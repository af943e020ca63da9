"""Health checks for an orchestrator: live (the process answers) and ready (it can serve)."""

from fastapi import APIRouter, Request

from api.data.db import Db
from api.data.registry import queries
from api.http.errors import ServiceUnavailable
from api.http.openapi import problems

router = APIRouter(prefix="/health", tags=["health"])

PING = queries.value("health/ping", int)


@router.get("/live")
async def live() -> dict[str, str]:
    """The process is up; depends on nothing else."""
    return {"status": "ok"}


@router.get("/ready", responses=problems(503))
async def ready(request: Request, db: Db) -> dict[str, str]:
    """The service can reach its database, and is not shutting down (SHUTDOWN_GRACE_SECONDS)."""
    if request.app.state.draining.active:
        raise ServiceUnavailable("The service is shutting down.")
    await db.run(PING)
    return {"status": "ok"}
