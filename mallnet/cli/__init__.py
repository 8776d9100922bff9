"""The `mallnet` command and what it drives: the demo, the benchmarks, schema export.

Unlike the core (the rest of ``mallnet``), this package may import the apps.
"""

from mallnet.cli.commands import main

__all__ = ["main"]
