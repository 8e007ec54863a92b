"""What the commands share: loading a model with its warnings as one line, writing
JSON lines or text atomically, refusing an output that would replace an input, logging a
curve to MLflow."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from framing.core.errors import FramingDataError, FramingError, Terminated


def log_curve_run(args, curve, plot, log, overrides) -> None:
    """Log a curve (simulation or learning curve) and its figure to ``--mlflow``'s store
    (the project's by default)."""
    import tempfile

    from framing.config.tree import project_root

    uri = args.mlflow if args.mlflow != "project" else \
        f"sqlite:///{project_root() / 'mlflow.db'}"
    with tempfile.TemporaryDirectory() as tmp:
        png = Path(args.plot) if args.plot else plot(curve, Path(tmp) / "learning_curve.png")
        run_id = log(uri, curve, png, " ".join(overrides))
    print(f"logged to {uri}, run {run_id}", file=sys.stderr)


def write_text(out: str | None, text: str) -> None:
    """Text to stdout, or atomically to a file."""
    if out is None or out == "-":
        sys.stdout.write(text)
        return
    from framing.predict.storage import atomic_write_text

    atomic_write_text(out, text)


def write_lines(records: Iterator[dict[str, Any]], out: str | None) -> int:
    """Stream JSON lines to stdout, or to a file through a temporary file and a rename
    (an error midway leaves no partial output). On stdout, an error midway is reported
    with the number of records already written: the output is then incomplete."""
    if out is None or out == "-":
        n = 0
        try:
            for r in records:
                sys.stdout.write(json.dumps(r, ensure_ascii=False) + "\n")
                n += 1
        except (FramingError, ValueError, OSError, KeyboardInterrupt, Terminated) as e:
            sys.stdout.flush()
            if n:
                e.incomplete = n  # the caller says so on stderr
            raise
        sys.stdout.flush()
        return n
    from framing.predict.storage import atomic_write

    count = [0]

    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8") as f:
            for r in records:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
                count[0] += 1

    atomic_write(out, write, step="output")
    return count[0]


def load_model(path: str):
    """``framing.load`` for a command: a warning about the file (no digest beside it)
    is shown only when the file then loads; a file that does not gets its error alone."""
    import warnings

    import framing

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = framing.load(path)
    for w in caught:
        show_warning(w.message, w.category, w.filename, w.lineno)
    return model


def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A warning as one line, like the errors (no source line)."""
    print(f"framing: warning: {message}", file=file or sys.stderr)


def check_output(out: str | None, inputs: list[str]) -> None:
    """Refuse an output that is a folder or one of the inputs (it would be replaced)."""
    if out is None or out == "-":
        return
    path = Path(out)
    if path.is_dir():
        raise FramingDataError(f"{path}: -o names a folder; give a file name.")
    for name in inputs:
        if name != "-" and Path(name).exists() and path.exists() and \
                Path(name).resolve() == path.resolve():
            raise FramingDataError(f"{path}: -o is also an input file, which the output would "
                                   "replace; write the output elsewhere.")


def count_of(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
