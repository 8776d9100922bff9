from __future__ import annotations

from mallnet.cli.commands import main

main()
