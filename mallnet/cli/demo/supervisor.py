"""Runs a set of child processes as one unit and stops them all, with nothing left behind.

Each child gets its own process group, so stopping it also stops whatever it forked
(Celery's prefork pool). Stopping is SIGTERM to each leader (which shuts its own pool down
gracefully), a grace period, then SIGKILL to every group, taking any straggler with it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO


@dataclass
class Child:
    name: str
    argv: Sequence[str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


class Supervisor:
    def __init__(self, env: Mapping[str, str], grace_s: float = 15.0) -> None:
        self.env = dict(env)
        self.grace_s = grace_s
        self.children: list[Child] = []

    def start(self, name: str, argv: Sequence[str], log_path: Path) -> Child:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        child = Child(name, argv, log_path)
        child._log = log_path.open("ab")
        child.process = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=child._log,
            stderr=subprocess.STDOUT,
            env=self.env,
            start_new_session=True,
        )
        self.children.append(child)
        return child

    def dead(self) -> list[Child]:
        return [child for child in self.children if not child.running]

    def stop(self) -> None:
        for child in self.children:
            if child.running:
                assert child.process is not None
                child.process.terminate()
        deadline = time.monotonic() + self.grace_s
        for child in self.children:
            assert child.process is not None
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        for child in self.children:
            # The leader may be gone while its forks linger: kill the whole group.
            self._signal(child, signal.SIGKILL)
            if child.process is not None:
                child.process.wait()
            if child._log is not None:
                child._log.close()

    @staticmethod
    def _signal(child: Child, signum: signal.Signals) -> None:
        if child.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.process.pid, signum)
