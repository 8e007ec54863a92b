"""Streaming path for corpora larger than memory.

Training reads JSON lines or Parquet in chunks, turns each chunk into hashing features
(stateless: no vocabulary to hold) and updates a linear model with ``partial_fit``; a
fixed share of records (by a hash of their id) is held out and scored as the stream goes
by. Memory stays at one chunk plus the weights, whatever the corpus size. The result is an
ordinary predictor bundle.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import SGDClassifier

from framing.data import TaskSpec, iter_jsonl
from framing.errors import FramingDataError
from framing.models import PerLabelSGD

log = logging.getLogger(__name__)


def iter_records(path: str | Path, chunk_size: int = 10000) -> Iterator[list[dict[str, Any]]]:
    """Chunks of records from a JSON-lines or Parquet file, never the whole file at once."""
    path = Path(path)
    if not path.is_file():
        raise FramingDataError(f"{path}: no such file. Check the path.")
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        row = 0
        for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_size):
            recs = batch.to_pylist()
            for r in recs:
                row += 1
                r["_line"] = row  # the row number stands in for a line number
            yield recs
        return
    chunk: list[dict[str, Any]] = []
    for n, rec in iter_jsonl(path):
        rec["_line"] = n
        chunk.append(rec)
        if len(chunk) >= chunk_size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def is_holdout(rid: str, share: float) -> bool:
    """Whether a record id falls in the held-out share (stable across runs and machines)."""
    if share <= 0:
        return False
    h = int.from_bytes(hashlib.blake2b(rid.encode(), digest_size=8).digest(), "big")
    return (h % 10000) < share * 10000


def hashing_features(n_features: int = 2**20, ngram_range: Sequence[int] = (1, 2),
                     lowercase: bool = True) -> HashingVectorizer:
    """The stateless feature map of the streaming path (term counts, L2-normalised rows)."""
    return HashingVectorizer(n_features=n_features, ngram_range=tuple(ngram_range),
                             lowercase=lowercase, alternate_sign=False, norm="l2")


@dataclass
class StreamResult:
    """A fitted streaming model and what the held-out share scored."""

    features: HashingVectorizer
    models: dict[str, Any]
    tasks: list[TaskSpec]
    metrics: dict[str, float]
    n_train: int
    n_holdout: int
    seconds: float


def _targets(task: TaskSpec, recs, path) -> np.ndarray:
    out = []
    for r in recs:
        v = r.get(task.column)
        where = f"{path}, line {r.get('_line', '?')}"
        if task.kind == "multilabel":
            if not isinstance(v, list):
                raise FramingDataError(f"{where}: task {task.name!r} needs a list in column "
                                       f"{task.column!r}, found {v!r}.")
            bad = [x for x in v if x not in task.labels]
            row = [int(lab in v) for lab in task.labels]
        else:
            bad = [] if v in task.labels else [v]
            row = v
        if bad:
            raise FramingDataError(f"{where}: label {bad[0]!r} of task {task.name!r} is not in "
                                   f"its label set {task.labels}.")
        out.append(row)
    return np.asarray(out, dtype=np.int8 if task.kind == "multilabel" else object)


def train_stream(path: str | Path, tasks: Sequence[TaskSpec], text_column: str = "text",
                 id_column: str | None = "id", chunk_size: int = 10000, epochs: int = 1,
                 holdout: float = 0.1, n_features: int = 2**20,
                 ngram_range: Sequence[int] = (1, 2), alpha: float = 1e-6,
                 loss: str = "log_loss", seed: int = 0, progress: bool = False
                 ) -> StreamResult:
    """Train hashing features + SGD over a file in chunks; score the held-out share.

    Every task needs its label set (the stream cannot be scanned first to infer it).
    """
    for t in tasks:
        if not t.labels:
            raise FramingDataError(f"task {t.name!r}: the streaming path needs its labels "
                                   "listed in the config.")
    features = hashing_features(n_features, ngram_range)
    models: dict[str, Any] = {}
    for t in tasks:
        sgd = dict(loss=loss, alpha=alpha, random_state=seed)
        models[t.name] = (PerLabelSGD(len(t.labels), **sgd) if t.kind == "multilabel"
                          else SGDClassifier(**sgd))
    bar = _progress(progress)
    t0 = time.perf_counter()
    n_train = n_hold = 0
    counts = {t.name: np.zeros((len(t.labels), 3)) for t in tasks}  # tp, fp, fn per label
    correct = {t.name: 0 for t in tasks}
    for epoch in range(epochs):
        last = epoch == epochs - 1
        for chunk in iter_records(path, chunk_size):
            for r in chunk:
                if not isinstance(r.get(text_column), str) or not r[text_column].strip():
                    raise FramingDataError(f"{path}, line {r.get('_line', '?')}: text is empty "
                                           f"or missing (column {text_column!r}).")
            ids = [str(r.get(id_column, r["_line"]) if id_column else r["_line"])
                   for r in chunk]
            hold = np.array([is_holdout(i, holdout) for i in ids])
            X = features.transform([r[text_column] for r in chunk])
            for t in tasks:
                y = _targets(t, chunk, path)
                m = models[t.name]
                if (~hold).any():
                    classes = None if t.kind == "multilabel" else np.asarray(t.labels,
                                                                             dtype=object)
                    m.partial_fit(X[~hold], y[~hold], classes=classes)
                if last and hold.any():
                    _score(t, m, X[hold], y[hold], counts[t.name], correct)
            if last:
                n_train += int((~hold).sum())
                n_hold += int(hold.sum())
            bar(len(chunk))
    bar(0, done=True)
    metrics: dict[str, float] = {}
    for t in tasks:
        tp, fp, fn = counts[t.name].T
        f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / np.maximum(2 * tp + fp + fn, 1), 0.0)
        metrics[f"{t.name}/macro_f1"] = float(f1.mean())
        for lab, v in zip(t.labels, f1, strict=True):
            metrics[f"{t.name}/{lab}/f1"] = float(v)
        if t.kind == "multiclass" and n_hold:
            metrics[f"{t.name}/accuracy"] = correct[t.name] / n_hold
    return StreamResult(features, models, list(tasks), metrics, n_train, n_hold,
                        time.perf_counter() - t0)


def _score(task, model, X, y, counts, correct) -> None:
    pred = model.predict(X)
    if task.kind == "multilabel":
        yo, po = y.astype(bool), np.asarray(pred).astype(bool)
    else:
        correct[task.name] += int((pred == y).sum())
        labs = np.asarray(task.labels, dtype=object)
        yo, po = y[:, None] == labs[None, :], pred[:, None] == labs[None, :]
    counts[:, 0] += (yo & po).sum(0)
    counts[:, 1] += (~yo & po).sum(0)
    counts[:, 2] += (yo & ~po).sum(0)


def _progress(enabled: bool):
    """A callable that advances a tqdm bar (or does nothing)."""
    if not enabled:
        return lambda n, done=False: None
    from tqdm import tqdm

    bar = tqdm(unit=" records", mininterval=1.0)

    def update(n, done=False):
        if done:
            bar.close()
        else:
            bar.update(n)
    return update
