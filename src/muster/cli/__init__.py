"""The ``muster`` command line."""

import sys

from ._main import build_parser, main

__all__ = ["build_parser", "entry_point", "main"]


def entry_point() -> None:
    """Console-script entry: exit with :func:`main`'s code."""
    sys.exit(main())
