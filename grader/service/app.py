"""The web application: the JSON API (grader/service/api.py) and the pages
(grader/service/web.py) over one `Service`, with its errors turned into status codes.

    app = create_app(Service.open(course, data_dir, pool))   # served by uvicorn

Requests whose body is larger than the course's upload limit (plus room for the form
around the file) are refused with 413 before they are read: by their Content-Length, or
as soon as a body without one grows past it. The pool of grading processes starts and
stops with the application, and a worker that dies is replaced (its submission queued
again) within a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from grader import __version__
from grader.service import api, web
from grader.service.core import Forbidden, NotFound, Service
from grader.service.filenames import SubmissionRefused

log = logging.getLogger("grader.service")

FORM_OVERHEAD_BYTES = 64 * 1024
REFUSAL_STATUS = {
    "name": 400,
    "file_type": 415,
    "too_large": 413,
    "content": 422,
    "unknown_assignment": 404,
    "not_enrolled": 403,
    "deadline": 403,
    "limit": 409,
}
"""The HTTP status of each kind of refused submission."""


def create_app(service: Service) -> FastAPI:
    app = FastAPI(
        title=f"grader: {service.course.name}",
        version=__version__,
        description="Hand in .py files and notebooks, get their feedback; for TAs, the "
        "class's submissions, regrades and exports. Authenticate with "
        "`Authorization: Bearer <token>`.",
        lifespan=_lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.service = service
    app.include_router(api.router)
    app.include_router(web.router)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        """The service's counts in Prometheus' text format (no student data)."""
        from grader.service.metrics import prometheus_text, service_metrics

        return Response(
            prometheus_text(service_metrics(service)),
            media_type="text/plain; version=0.0.4; charset=utf-8",
        )

    _add_error_handlers(app)
    app.add_middleware(
        BodyLimit, max_bytes=service.course.limits.upload_bytes + FORM_OVERHEAD_BYTES
    )
    return app


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    service: Service = app.state.service
    pool = service.pool
    watcher = None
    if pool is not None:
        await asyncio.to_thread(pool.start)
        watcher = asyncio.create_task(_replace_dead_workers(service))
        log.info("%s", pool.describe())
    try:
        yield
    finally:
        if watcher is not None:
            watcher.cancel()
        if pool is not None:
            await asyncio.to_thread(pool.stop)
        service.store.close()


async def _replace_dead_workers(service: Service) -> None:
    assert service.pool is not None
    while True:
        await asyncio.sleep(1.0)
        touched = await asyncio.to_thread(service.pool.replace_dead)
        if touched:
            log.warning("a grading worker died; queued again or failed: %s", ", ".join(touched))


# --------------------------------------------------------------------------- errors


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error(request: Request, status: int, detail: str, headers=None) -> Response:
    if _is_api(request):
        return JSONResponse({"detail": detail}, status_code=status, headers=headers)
    heading = {401: "Please log in", 403: "Not allowed", 404: "Not found"}.get(
        status, "That did not work"
    )
    response = web.message_page(request, status, heading, detail)
    response.headers.update(headers or {})
    return response


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(SubmissionRefused)
    async def refused(request: Request, exc: SubmissionRefused) -> Response:
        return _error(request, REFUSAL_STATUS.get(exc.kind, 422), exc.reason)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        return _error(request, 404, str(exc))

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        return _error(request, 403, str(exc))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        return _error(request, exc.status_code, str(exc.detail), exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'][1:]) or 'request'}: {error['msg']}"
            for error in exc.errors()
        )
        return _error(request, 422, f"the request is not what was expected: {problems}")

    @app.exception_handler(web.LoginRequired)
    async def login_required(request: Request, exc: web.LoginRequired) -> Response:
        if request.method == "GET":
            return RedirectResponse("/", status_code=303)
        return _error(request, 401, "your session has ended: log in again")

    @app.exception_handler(web.CsrfRefused)
    async def csrf_refused(request: Request, exc: web.CsrfRefused) -> Response:
        return _error(
            request,
            403,
            "this form was not sent from this site's own page, or the page is too old:"
            " reload it and try again",
        )


# --------------------------------------------------------------------------- body limit


class BodyLimit:
    """413 for a request body past `max_bytes`, before the application reads it all."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await self._refuse(scope, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise HTTPException(413, self._message())
            return message

        await self.app(scope, limited, send)

    def _message(self) -> str:
        limit = self.max_bytes - FORM_OVERHEAD_BYTES
        return f"the upload is larger than the course's limit of {limit} bytes"

    async def _refuse(self, scope: Scope, send: Send) -> None:
        body = json.dumps({"detail": self._message()}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
