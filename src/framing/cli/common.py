"""What the commands share: loading a model with its warnings as one line, writing
records (JSON lines, CSV, TSV or Parquet, by the output's extension) or text atomically,
refusing an output that would replace an input, logging a curve to MLflow."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator
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


#: The record formats an output's extension names; a name without one is JSON lines.
RECORD_FORMATS = {".jsonl": "jsonl", ".json": "jsonl", ".csv": "csv", ".tsv": "tsv",
                  ".parquet": "parquet"}
#: What joins the labels of a multi-label task in one CSV or TSV cell (a label never
#: holds it: labels are letters, digits, spaces, '_', '-' and '.').
LIST_SEPARATOR = ";"
#: Rows of a Parquet output written at a time (one row group each).
PARQUET_ROWS = 8192


class Table:
    """How records become rows of a CSV, TSV or Parquet file: the columns in order,
    each with its type (``str``, ``int``, ``float`` or ``list``: a list of strings), and
    the function that flattens one record into a dict of those columns."""

    def __init__(self, columns: Iterable[tuple[str, str]],
                 flatten: Callable[[dict[str, Any]], dict[str, Any]]):
        self.columns = list(columns)
        self.flatten = flatten


def record_output(out: str | None, inputs: list[str],
                  formats: Iterable[str] = ("jsonl", "csv", "tsv", "parquet")) -> str:
    """The format ``-o`` names by its extension (stdout and a name without an extension:
    JSON lines), checked before any work: an extension this command does not write, an
    output that would replace an input or is a folder, and Parquet without pyarrow are
    one-line errors."""
    check_output(out, inputs)
    if out is None or out == "-":
        return "jsonl"
    formats = tuple(formats)
    suffix = Path(out).suffix.lower()
    fmt = RECORD_FORMATS.get(suffix, "jsonl" if not suffix else None)
    if fmt not in formats:
        known = ", ".join(s for s, f in RECORD_FORMATS.items() if f in formats)
        raise FramingDataError(f"{out}: this command does not write {suffix} files; name "
                               f"the output with one of {known} (no extension: JSON lines).")
    if fmt == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise FramingDataError(f"{out}: writing Parquet needs pyarrow (pip install "
                                   "pyarrow); or name the output .jsonl or .csv.") from None
    return fmt


def write_records(records: Iterator[dict[str, Any]], out: str | None, fmt: str = "jsonl",
                  table: Table | None = None) -> int:
    """Write records in ``fmt`` (from :func:`record_output`) and return how many: JSON
    lines as they are (to stdout or a file), CSV/TSV and Parquet a row per record with
    ``table``'s columns. A file is written through a temporary file and a rename, so an
    error midway leaves no partial output."""
    if fmt == "jsonl":
        return write_lines(records, out)
    from framing.predict.storage import atomic_write

    count = [0]

    def rows() -> Iterator[dict[str, Any]]:
        for r in records:
            count[0] += 1
            yield table.flatten(r)

    writer = _write_parquet if fmt == "parquet" else _write_delimited
    atomic_write(out, lambda tmp: writer(tmp, rows(), table.columns, fmt),
                 step="output")
    return count[0]


def _write_delimited(tmp: Path, rows: Iterator[dict[str, Any]],
                     columns: list[tuple[str, str]], fmt: str) -> None:
    """CSV or TSV with a header row; a list is joined by :data:`LIST_SEPARATOR`, a
    missing value (a blank text's scores) is an empty cell."""
    import csv

    names = [c for c, _ in columns]
    lists = [c for c, kind in columns if kind == "list"]
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter="\t" if fmt == "tsv" else ",")
        w.writerow(names)
        for row in rows:
            for c in lists:
                row[c] = LIST_SEPARATOR.join(row[c] or [])
            w.writerow(["" if row.get(c) is None else row[c] for c in names])


def _write_parquet(tmp: Path, rows: Iterator[dict[str, Any]],
                   columns: list[tuple[str, str]], fmt: str) -> None:
    """Parquet through pyarrow, :data:`PARQUET_ROWS` rows at a time; a list column is a
    list of strings, a missing value is null."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {"str": pa.string(), "int": pa.int64(), "float": pa.float64(),
             "list": pa.list_(pa.string())}
    schema = pa.schema([(c, types[kind]) for c, kind in columns])
    with pq.ParquetWriter(tmp, schema) as w:
        chunk: list[dict[str, Any]] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= PARQUET_ROWS:
                w.write_table(pa.Table.from_pylist(chunk, schema=schema))
                chunk = []
        w.write_table(pa.Table.from_pylist(chunk, schema=schema))


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
