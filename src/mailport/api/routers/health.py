from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from mailport.api.deps import RuntimeDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: the process answers")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness: the database is reachable")
def readyz(runtime: RuntimeDep) -> JSONResponse:
    if runtime.db.ping():
        return JSONResponse({"status": "ok", "database": "ok"})
    return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
