"""Files of texts to label, read lazily: JSON lines (a text field) or plain text, CSV or
TSV with a header row, Parquet a batch at a time, or stdin; each record's id and text,
with one clear error (file, line or row) for a bad record.

A blank text (empty or only white space) is an error unless the caller passes
``on_blank``: then it is called with the record's place in the file (``line 4 (id
'r3')``, ``row 2``) and the text is yielded, for the model to give it the empty result as
:meth:`framing.FramingModel.predict` does. An empty file (no records; a CSV without even
a header row) yields nothing.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from framing.core.errors import (
    FramingDataError,
    input_file,
)


def open_lines(name: str) -> tuple[str, Iterator[str]]:
    """(display name, line iterator) of a file or of ``-`` (stdin), read lazily."""
    if name == "-":
        return "<stdin>", iter(sys.stdin)
    path = input_file(name)

    def lines():
        try:
            with path.open(encoding="utf-8") as f:
                yield from f
        except UnicodeDecodeError as e:
            raise FramingDataError(f"{path}: not UTF-8 text (byte {e.start}). Convert the "
                                   "file to UTF-8.") from None
    return name, lines()


OnBlank = Callable[[str], None] | None


def blank_note(name: str, places: list[str]) -> str:
    """The warning for the blank texts of one input, naming the first few places."""
    shown = ", ".join(places[:5]) + (f" and {len(places) - 5} more" if len(places) > 5
                                     else "")
    count = "1 blank text" if len(places) == 1 else f"{len(places)} blank texts"
    return (f"{name}: {count} labelled with no labels and no scores, as "
            f"FramingModel.predict labels one: {shown}")


def _blank(on_blank: OnBlank, path, where: str, text_col: str, what: str) -> None:
    """A blank text: reported to ``on_blank``, or an error naming the record."""
    if on_blank is None:
        raise FramingDataError(f"{path}, {where}: {text_col!r} is empty. Remove the {what} "
                               "or give it text.")
    on_blank(where)


def not_text(value) -> str:
    """What a table's text cell holds instead of text: ``missing (null)`` or ``not text
    (int)``."""
    if value is None or (isinstance(value, float) and value != value):
        return "missing (null)"
    return f"not text ({type(value).__name__})"


def parquet_column_type(path, column: str) -> str | None:
    """The Arrow type of a Parquet file's column when it is not a text type (``int64``),
    else None (strings, or a file whose schema cannot be read)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq

        kind = pq.read_schema(path).field(column).type
    except Exception:  # noqa: BLE001 - no schema to tell: the value's own type is named
        return None
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind):
        return None
    return str(kind)


def text_cell_error(where: str, column: str, value, column_type: str | None = None,
                    option: str = "--text-column") -> str:
    """One line for a table's text cell that holds no text: ``FILE, row N (id 'x'):
    'text' is not text (int)``, and what to do. ``column_type``: the column's own type
    when the whole column is not text (a Parquet column of int64)."""
    if column_type is not None:
        return (f"{where}: {column!r} is {not_text(value)}: the column holds {column_type}, "
                f"not strings. Give the column that holds the texts ({option}), or store "
                "the texts as strings.")
    return f"{where}: {column!r} is {not_text(value)}. Remove the row or give it text."


def parquet_texts(name: str, batch_size: int, text_col: str, id_col: str | None,
                  on_blank: OnBlank = None) -> Iterator[tuple[str, str]]:
    """(id, text) pairs from a Parquet file's text column, a batch at a time."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise FramingDataError(f"{name}: reading Parquet needs pyarrow (pip install "
                               "pyarrow), or convert the file to JSON lines.") from None
    path = input_file(name)
    pf = pq.ParquetFile(path)
    cols = pf.schema_arrow.names
    if text_col not in cols:
        raise FramingDataError(f"{path}: no column {text_col!r} (columns: {cols}). Give the "
                               "text column with --text-column.")
    id_col = id_col if id_col in cols else None
    row = 0
    for batch in pf.iter_batches(batch_size=batch_size,
                                 columns=[text_col] + ([id_col] if id_col else [])):
        for rec in batch.to_pylist():
            row += 1
            text = rec[text_col]
            rid = str(rec[id_col]) if id_col else f"{path.stem}-{row}"
            if not isinstance(text, str):
                where = f"{path}, row {row}" + (f" (id {rid!r})" if id_col else "")
                kind = parquet_column_type(path, text_col) if text is not None else None
                raise FramingDataError(text_cell_error(where, text_col, text, kind))
            if not text.strip():
                _blank(on_blank, path, f"row {row}" + (f" (id {rid!r})" if id_col else ""),
                       text_col, "row")
            yield rid, text


def csv_texts(name: str, lines: Iterator[str], text_col: str, id_col: str | None,
              delimiter: str, on_blank: OnBlank = None) -> Iterator[tuple[str, str]]:
    """(id, text) pairs from CSV or TSV with a header row, read by column name; an empty
    file (not even a header row) has none."""
    import csv

    reader = csv.DictReader(lines, delimiter=delimiter)
    if reader.fieldnames is None:
        return
    cols = reader.fieldnames
    if text_col not in cols:
        raise FramingDataError(f"{name}: no column {text_col!r} in the header (columns: "
                               f"{cols}). Give the text column with --text-column.")
    id_col = id_col if id_col in cols else None
    stem = Path(name).stem
    for row in reader:
        where = f"line {reader.line_num}"
        text = row.get(text_col)
        if not isinstance(text, str):
            raise FramingDataError(f"{name}, {where}: {text_col!r} is missing (the row has "
                                   "fewer cells than the header). Fix the row.")
        rid = row[id_col] if id_col else f"{stem}-{reader.line_num}"
        if not text.strip():
            _blank(on_blank, name, where + (f" (id {rid!r})" if id_col else ""), text_col,
                   "row")
        yield rid, text


def paragraph_texts(name: str, lines: Iterator[str], text_col: str = "text",
                    id_col: str | None = "id", on_blank: OnBlank = None
                    ) -> Iterator[tuple[str, str]]:
    """(id, text) pairs from JSON lines (a text field) or plain text, a line each.

    JSON lines are recognised by a ``.jsonl``/``.json`` suffix or a first line that
    starts with ``{``.
    """
    stem = "stdin" if name == "<stdin>" else Path(name).stem
    is_json = None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if is_json is None:
            is_json = name.endswith((".jsonl", ".json")) or line.lstrip().startswith("{")
        if not is_json:
            yield f"{stem}-{n}", line.strip()
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise FramingDataError(f"{name}, line {n}: malformed JSON ({e.msg}, column "
                                   f"{e.colno}). Fix the line or pass plain text.") from None
        if not isinstance(rec, dict) or not isinstance(rec.get(text_col), str):
            raise FramingDataError(f"{name}, line {n}: no string field {text_col!r}. Each "
                                   f"JSON line needs {{\"{text_col}\": \"…\"}} (an id is "
                                   "optional), or give the field with --text-column.")
        rid = rec.get(id_col) if id_col else None
        if not rec[text_col].strip():
            _blank(on_blank, name, f"line {n}" + (f" (id {str(rid)!r})" if rid is not None
                                                  else ""), text_col, "record")
        yield (str(rid) if rid is not None else f"{stem}-{n}"), rec[text_col]


def read_texts(name: str, text_column: str = "text", id_column: str | None = None,
               batch_size: int = 1024, on_blank: OnBlank = None
               ) -> Iterator[tuple[str, str]]:
    """The (id, text) pairs of one input, by its kind: Parquet, CSV/TSV, JSON lines or
    plain text (``-``: stdin). The id column defaults to ``id``; without one, ids are the
    file's stem and the line or row number. ``on_blank``: see the module's note."""
    lower = name.lower()
    id_col = id_column or "id"
    if lower.endswith(".parquet"):
        return parquet_texts(name, batch_size, text_column, id_col, on_blank)
    display, lines = open_lines(name)
    if lower.endswith((".csv", ".tsv")):
        return csv_texts(display, lines, text_column, id_col,
                         "\t" if lower.endswith(".tsv") else ",", on_blank)
    return paragraph_texts(display, lines, text_column, id_col, on_blank)


def count_records(name: str) -> int | None:
    """How many records a file holds, for a progress bar's total (None: unknown)."""
    lower = name.lower()
    try:
        if name == "-":
            return None
        if lower.endswith(".parquet"):
            import pyarrow.parquet as pq

            return pq.ParquetFile(name).metadata.num_rows
        with open(name, "rb") as f:
            n = sum(1 for line in f if line.strip())
        return max(n - 1, 0) if lower.endswith((".csv", ".tsv")) else n
    except (OSError, ImportError):
        return None


def file_columns(path: Path, source: str) -> list[str]:
    """The column (field) names of a data file, from its first record or header."""
    if source == "parquet":
        import pyarrow.parquet as pq

        return list(pq.ParquetFile(path).schema_arrow.names)
    with path.open(encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.strip():
                continue
            if source == "csv":
                import csv

                return next(csv.reader([line]))
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                return []  # the loader reports the line
            return list(rec) if isinstance(rec, dict) else []
    return []
