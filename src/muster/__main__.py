"""``python -m muster`` runs the CLI."""

from muster.cli import entry_point

entry_point()
