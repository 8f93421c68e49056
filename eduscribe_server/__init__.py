"""``eduscribe-server``: EduScribe as a web service (REST, live events, metrics), on the SDK.

Every route calls the public SDK (:class:`eduscribe_sdk.Client`); nothing here reads Redis
directly. :func:`create_app` builds the FastAPI application around a client; the command in
:mod:`eduscribe_server.cli` runs it on uvicorn. The web dependencies (FastAPI, uvicorn,
sse-starlette, prometheus-client) are the ``server`` extra, so the SDK imports without them.
"""

from .app import create_app

__all__ = ["create_app"]
