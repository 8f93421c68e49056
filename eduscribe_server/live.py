"""Live updates: ``GET /api/events`` (Server-Sent Events) and the WebSocket ``/api/ws``."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

__all__ = ["router", "start", "stop"]

router = APIRouter(tags=["events"])


async def start(app: FastAPI) -> None:
    """Start what the routes share (the event hub) when the application starts."""


async def stop(app: FastAPI) -> None:
    """Stop it when the application stops."""
