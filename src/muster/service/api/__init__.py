"""The HTTP API: ``create_app(settings)`` builds the FastAPI application (see ``app.py``)."""

from .app import create_app, load_specs_dir

__all__ = ["create_app", "load_specs_dir"]
