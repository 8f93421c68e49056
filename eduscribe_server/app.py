"""The FastAPI application: routers, error handlers, and the client every request uses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

from eduscribe_sdk import Client, __version__

from . import live, metrics
from .errors import install_error_handlers
from .limits import BodyLimit
from .routes import admin, jobs, uploads, worker

__all__ = ["create_app"]

#: Handlers are plain functions (the SDK blocks on Redis), run in AnyIO's thread pool; its
#: default 40 threads would queue requests behind a few slow ones under load.
THREADS = 100


def create_app(client: Client | None = None) -> FastAPI:
    """The application around ``client``, or around a client made from the environment when
    it starts (``EDUSCRIBE_REDIS_URL``; with none, the embedded server and in-process workers,
    as ``Client()``), closed when it stops. A client passed in stays the caller's to close."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS
        own = client is None
        app.state.client = Client() if own else client
        try:
            await live.start(app)
            try:
                yield
            finally:
                await live.stop(app)
        finally:
            if own:
                app.state.client.close()

    app = FastAPI(
        title="EduScribe",
        version=__version__,
        summary="Course materials in, study notes out, on a real job queue.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(BodyLimit, exempt=("/api/uploads",))
    for module in (jobs, uploads, worker, admin, live, metrics):
        app.include_router(module.router)
    return app
