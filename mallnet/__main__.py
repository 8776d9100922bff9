from __future__ import annotations

from mallnet.cli import main

main()
