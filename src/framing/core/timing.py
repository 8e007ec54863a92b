"""Where a run's time goes: named phases, each timed as it ends.

``Phases`` collects the seconds of each phase of a command (``with phases("load"):``),
logs each at DEBUG as it ends and summarises them in one line; ``process_seconds`` is
the time since the process started (the interpreter and its imports included), where the
system says it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator

_IMPORTED = time.perf_counter()


def process_seconds() -> float:
    """Seconds since this process started: from ``/proc`` on Linux, else since this
    module was imported (which comes early in every command)."""
    try:
        with open(f"/proc/{os.getpid()}/stat", encoding="ascii") as f:
            stat = f.read()
        with open("/proc/uptime", encoding="ascii") as f:
            uptime = float(f.read().split()[0])
        # the fields after the command name (which may hold spaces), in clock ticks
        start = int(stat.rsplit(")", 1)[1].split()[19]) / os.sysconf("SC_CLK_TCK")
        return max(uptime - start, 0.0)
    except (OSError, ValueError, IndexError):
        return time.perf_counter() - _IMPORTED


class Phases:
    """Seconds per named phase, in the order the phases first ran."""

    def __init__(self, log: logging.Logger | None = None) -> None:
        self.seconds: dict[str, float] = {}
        self.log = log

    def add(self, name: str, seconds: float) -> None:
        """Count ``seconds`` to phase ``name`` (a phase may run in several pieces)."""
        self.seconds[name] = self.seconds.get(name, 0.0) + float(seconds)
        if self.log is not None:
            self.log.debug("time: %s %.2f s", name, seconds)

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        t = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - t)

    def metrics(self) -> dict[str, float]:
        """``time/<phase>_seconds`` for each phase (MLflow metric names)."""
        return {f"time/{k.replace(' ', '_').replace('-', '_')}_seconds": v
                for k, v in self.seconds.items()}

    def line(self, total: float | None = None) -> str:
        """One line: ``time: load 0.4 s, fit 2.0 s, …; 9.1 s in all``."""
        parts = ", ".join(f"{k} {_fmt(v)}" for k, v in self.seconds.items())
        end = ""
        if total is not None:
            other = total - sum(self.seconds.values())
            end = (f", other {_fmt(other)}" if other >= 0.05 else "") + f"; {_fmt(total)} in all"
        return f"time: {parts}{end}"


def _fmt(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.1f} s"
