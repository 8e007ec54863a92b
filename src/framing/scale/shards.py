"""Labelling corpora larger than one machine: shards on a Dask cluster.

:func:`predict_shards` maps a model over Parquet or JSON-lines shards on a
``distributed`` cluster — a ``LocalCluster`` by default, or the scheduler you name — and
writes one Parquet shard of labels and scores per input shard (the columns of
:meth:`framing.FramingModel.predict_frame`, with the input's ids). A blank text is
labelled as in one process (no labels, no scores) with a warning naming its shard and
row; a shard without rows, with a warning naming it. The model file is sent
to each worker once (scattered with ``broadcast=True``) and loaded there once, checked
against its digest; tasks only refer to it.

Needs the ``scale`` extra (``dask[distributed]``).
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import logging
import time
import warnings
from pathlib import Path
from typing import Any

from framing.core.errors import FramingDataError
from framing.data.texts import blank_note, parquet_column_type, text_cell_error

_MODELS: dict[str, Any] = {}  # per worker process: digest -> loaded model


def shards(pattern: str | list[str]) -> list[Path]:
    """The input shards a pattern (or a list of paths and patterns) names, sorted."""
    items = [pattern] if isinstance(pattern, str | Path) else list(pattern)
    found: list[Path] = []
    for item in items:
        matches = sorted(glob.glob(str(item))) or ([str(item)] if Path(item).exists() else [])
        if not matches:
            raise FramingDataError(f"{item}: no such file (or no file matches the pattern).")
        found += [Path(m) for m in matches]
    bad = [p for p in found if p.suffix.lower() not in (".parquet", ".jsonl", ".json")]
    if bad:
        raise FramingDataError(f"{bad[0]}: shards must be Parquet or JSON lines.")
    return found


def _model(data: bytes, digest: str):
    """The model of these bytes, loaded once per worker (its digest checked)."""
    if digest not in _MODELS:
        import os
        import tempfile

        import framing

        fd, tmp = tempfile.mkstemp(suffix=".joblib")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            Path(tmp + ".sha256").write_text(f"{digest}  {Path(tmp).name}\n")
            _MODELS[digest] = framing.load(tmp, verify="strict")
        finally:
            Path(tmp).unlink(missing_ok=True)
            Path(tmp + ".sha256").unlink(missing_ok=True)
    return _MODELS[digest]


def _read(src: Path, text_column: str, id_column: str | None):
    """A shard as a DataFrame of ids and texts, and the places of its blank texts."""
    import pandas as pd

    if src.suffix.lower() == ".parquet":
        frame = pd.read_parquet(src)
    else:
        frame = pd.read_json(src, lines=True, dtype=False)
    if text_column not in frame.columns:
        raise FramingDataError(f"{src}: no column {text_column!r} (columns: "
                               f"{list(frame.columns)}).")
    has_ids = bool(id_column and id_column in frame.columns)
    ids = (frame[id_column].astype(str) if has_ids
           else pd.Series([f"{src.stem}-{i + 1}" for i in range(len(frame))]))
    for i, text in enumerate(frame[text_column].tolist()):  # as the in-process reader
        if not isinstance(text, str):
            where = f"{src}, row {i + 1}" + (f" (id {ids.iloc[i]!r})" if has_ids else "")
            kind = (parquet_column_type(src, text_column)
                    if text is not None and src.suffix.lower() == ".parquet" else None)
            raise FramingDataError(text_cell_error(where, text_column, text, kind))
    blank = [f"row {i + 1}" + (f" (id {rid!r})" if has_ids else "")
             for i, (rid, text) in enumerate(zip(ids, frame[text_column], strict=True))
             if not text.strip()]
    return pd.DataFrame({"id": ids.values, "text": frame[text_column].values}), blank


def label_shard(data: bytes, digest: str, src: str, dst: str, text_column: str = "text",
                id_column: str | None = "id") -> tuple[int, list[str]]:
    """Label one shard into a Parquet file (written atomically); how many rows, and the
    places of its blank texts."""
    from framing.predict.storage import atomic_write

    model = _model(data, digest)
    frame, blank = _read(Path(src), text_column, id_column)
    out = model.predict_frame(frame, "text")
    out.insert(0, "id", frame["id"].values)
    atomic_write(dst, lambda tmp: out.to_parquet(tmp, index=False), step="shard")
    return len(out), blank


def predict_shards(model_path: str | Path, inputs: str | list[str], out_dir: str | Path,
                   scheduler: str | None = None, n_workers: int = 2,
                   text_column: str = "text", id_column: str | None = "id"
                   ) -> list[tuple[Path, int]]:
    """Label every shard on a Dask cluster; (output shard, rows) per input shard.

    Parameters
    ----------
    model_path : str or Path
        The model file (its ``.sha256`` beside it is checked before anything is sent).
    inputs : str or list of str
        Shards: paths or glob patterns (``'data/*.parquet'``).
    out_dir : str or Path
        Where the labelled shards go (``<shard>.labels.parquet``).
    scheduler : str, optional
        A running scheduler's address (``tcp://host:8786``); None starts a local cluster.
    n_workers : int, default=2
        Workers of the local cluster (one process each).
    """
    import framing

    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise FramingDataError("--engine dask needs the scale extra: pip install "
                               "'framing[scale]' (dask[distributed]).") from None
    files = shards(inputs)
    framing.load(model_path, verify="strict")  # a model that will not load is refused here
    data = Path(model_path).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    targets = [out_dir / f"{p.stem}.labels.parquet" for p in files]
    if len(set(targets)) != len(targets):
        raise FramingDataError("two shards share a file name; their outputs would collide. "
                               "Rename one.")
    cluster = None
    if scheduler is None:
        # a shard's error reaches the caller as one exception; the workers' logs of it
        # would repeat it with a traceback
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.CRITICAL)
    client = Client(scheduler or cluster)
    started, counts = time.time(), None
    try:
        model = client.scatter(data, broadcast=True)  # once per worker, not per task
        futures = [client.submit(label_shard, model, digest, str(src), str(dst), text_column,
                                 id_column, pure=False)
                   for src, dst in zip(files, targets, strict=True)]
        done = client.gather(futures)
        counts = [n for n, _ in done]
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
        if counts is None:  # all or nothing: what this run wrote before failing goes
            for dst in targets:
                for f in (dst, *dst.parent.glob(f".{dst.name}.*.tmp")):
                    with contextlib.suppress(OSError):
                        if f.stat().st_mtime >= started - 1:
                            f.unlink()
    for src, (n, blank) in zip(files, done, strict=True):
        if blank:
            warnings.warn(blank_note(str(src), blank), UserWarning, stacklevel=2)
        if not n:
            warnings.warn(f"{src}: no paragraphs in the input (it holds no records); "
                          "nothing to label there", UserWarning, stacklevel=2)
    return list(zip(targets, counts, strict=True))
