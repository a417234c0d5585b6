"""ASGI entry point for uvicorn (``hub serve``, or ``uvicorn hub.api.main:app``)."""

from hub.api.app import create_app

app = create_app()
