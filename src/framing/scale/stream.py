"""Streaming path for corpora larger than memory (``experiment=streaming``).

Training reads JSON lines or Parquet in chunks, turns each chunk into stateless features
(hashed n-grams, the codebook: no vocabulary to hold) and updates SGD models with
``partial_fit``; a fixed share of records (by a hash of their id) is held out and scored
as the stream goes by. Memory stays at one chunk plus the weights and the held-out
decisions, whatever the corpus size. It builds its features with the same
:class:`~framing.learn.fitting.Fitter`, scores with the same
:func:`~framing.evaluate.evaluation.score` and writes the same
:class:`~framing.predict.model.FramingModel` and card as the in-memory path, and it refuses
settings it cannot honour instead of ignoring them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import SGDClassifier

from framing.config.tree import plain, settings
from framing.core.errors import FramingConfigError, FramingDataError, input_file
from framing.core.tasks import TaskSpec
from framing.data.corpus import Corpus, iter_jsonl, task_specs
from framing.evaluate import baselines as base
from framing.evaluate.evaluation import Evaluation, Predictions, score
from framing.learn.compile import compile_or_none
from framing.learn.estimators import PerLabelSGD
from framing.learn.features import stateless
from framing.learn.fitting import Fitter, codebook_for
from framing.pipeline.trainer import Report, objective
from framing.predict import card as cards
from framing.predict.model import FramingModel

log = logging.getLogger(__name__)


def iter_records(path: str | Path, chunk_size: int = 10000) -> Iterator[list[dict[str, Any]]]:
    """Chunks of records from a JSON-lines or Parquet file, never the whole file at once."""
    path = input_file(path)
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


def _bad_text(path: Path, rec: dict[str, Any], text_col: str, id_col: str | None,
              text: Any) -> str:
    """One line for a record of a streamed file whose text is missing, blank or not
    text (the file, its line or row, its id; a Parquet column's own type)."""
    from framing.data.texts import parquet_column_type, text_cell_error

    parquet = Path(path).suffix == ".parquet"
    where = f"{path}, {'row' if parquet else 'line'} {rec.get('_line', '?')}"
    rid = rec.get(id_col) if id_col else None
    if rid is not None:
        where += f" (id {str(rid)!r})"
    if text is not None and not isinstance(text, str):
        kind = parquet_column_type(path, text_col) if parquet else None
        return text_cell_error(where, text_col, text, kind, "data.text_column")
    what = "empty" if isinstance(text, str) else "missing (no value)"
    return (f"{where}: text is {what} (column {text_col!r}). Every record needs non-empty "
            "text; fill or drop it.")


def is_holdout(rid: str, share: float) -> bool:
    """Whether a record id falls in the held-out share (stable across runs and machines)."""
    if share <= 0:
        return False
    h = int.from_bytes(hashlib.blake2b(rid.encode(), digest_size=8).digest(), "big")
    return (h % 10000) < share * 10000


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


class StreamTrainer:
    """Train on a file in one or more passes of chunks; score the held-out share.

    Parameters
    ----------
    cfg : TrainConfig or DictConfig
        A composed config with ``experiment=streaming`` (or equivalent settings: stateless
        features, ``model.family=sgd`` with ``alpha`` and no class weights, fixed
        thresholds).
    """

    def __init__(self, cfg: Any):
        self.cfg = settings(cfg)
        self.fitter = Fitter.from_config(self.cfg)
        self.tasks = task_specs(self.cfg.data)
        self._check()

    def _check(self) -> None:
        cfg = self.cfg
        hint = " (experiment=streaming sets every streaming setting)"
        problems = []
        if cfg.data.source not in ("jsonl", "parquet"):
            problems.append(f"data.source={cfg.data.source.value}: the stream reads JSON "
                            "lines or Parquet files")
        if cfg.model.family != "sgd":
            problems.append(f"model.family={cfg.model.family.value}: only sgd learns from "
                            "chunks (model=sgd_stream)")
        if cfg.model.alpha is None:
            problems.append("model.alpha is unset: the stream cannot derive it from C without "
                            "the corpus size")
        if cfg.model.class_weight is not None:
            problems.append("model.class_weight: partial_fit cannot balance classes it has "
                            "not seen yet (set null)")
        if cfg.eval.thresholds != "fixed":
            problems.append("eval.thresholds=tune (tuning needs a second pass; set fixed)")
        if cfg.eval.strategy != "auto":
            problems.append(f"eval.strategy={cfg.eval.strategy.value}: the stream scores a "
                            "held-out share by id hash")
        if cfg.model.per_task:
            problems.append("model.per_task is not read by the stream")
        used = sorted(set(cfg.model.task_defaults or {}) & {t.name for t in self.tasks})
        if used:
            problems.append(f"model.task_defaults ({', '.join(used)}) is not read by the "
                            "stream")
        if cfg.test is not None:
            problems.append("test=...: score the model with `framing evaluate` afterwards")
        for t in self.tasks:
            if not t.labels:
                problems.append(f"task {t.name!r} needs its labels listed (the stream cannot "
                                "be read twice to infer them)")
        if not problems:
            features = self.fitter.build_features(self.tasks)
            if not stateless(features):
                on = ", ".join(n for n, _ in features.transformer_list)
                problems.append(f"features {on}: only hashing without IDF (tfidf: false) and "
                                "the codebook need no pass over the data (features="
                                "hashing_stream)")
        if problems:
            raise FramingConfigError("the streaming path cannot honour " +
                                     "; ".join(problems) + hint + ".")

    def _estimators(self) -> dict[str, Any]:
        m = self.cfg.model
        seed = self.cfg.seed if m.random_state is None else m.random_state
        sgd = dict(loss=m.sgd_loss, alpha=m.alpha, random_state=seed)
        return {t.name: (PerLabelSGD(len(t.labels), **sgd) if t.kind == "multilabel"
                         else SGDClassifier(**sgd)) for t in self.tasks}

    def fit(self, path: str | Path | None = None) -> tuple[FramingModel, Report]:
        """One streaming training run over ``path`` (default ``data.path``)."""
        cfg, st = self.cfg, self.cfg.stream
        path = Path(path or cfg.data.path)
        text_col, id_col = cfg.data.text_column, cfg.data.id_column
        notes: list[str] = []
        features = self.fitter.build_features(self.tasks, notes).fit([])
        book, _ = codebook_for(self.tasks, self.fitter.codebook)
        estimators = self._estimators()
        model = FramingModel(self.tasks, features, estimators,
                             {t.name: [0.5] * len(t.labels) for t in self.tasks
                              if t.kind == "multilabel"}, compiler=compile_or_none)
        bar = _progress(st.progress)
        t0 = time.perf_counter()
        digest = hashlib.sha256()
        n_train = 0
        counts = {t.name: np.zeros(len(t.labels)) for t in self.tasks}
        hold_ids: list[str] = []
        hold_y: dict[str, list] = {t.name: [] for t in self.tasks}
        hold_s: dict[str, list] = {t.name: [] for t in self.tasks}
        hold_cb: dict[str, list] = {t.name: [] for t in self.tasks}
        for epoch in range(st.epochs):
            last = epoch == st.epochs - 1
            for chunk in iter_records(path, st.chunk_size):
                texts = []
                for r in chunk:
                    text = r.get(text_col)
                    if not isinstance(text, str) or not text.strip():
                        raise FramingDataError(_bad_text(path, r, text_col, id_col, text))
                    texts.append(text)
                ids = [str(r.get(id_col, r["_line"]) if id_col else r["_line"]) for r in chunk]
                hold = np.array([is_holdout(i, st.holdout) for i in ids])
                X = features.transform(texts)
                ys = {t.name: _targets(t, chunk, path) for t in self.tasks}
                for t in self.tasks:
                    y, m = ys[t.name], estimators[t.name]
                    if (~hold).any():
                        classes = None if t.kind == "multilabel" else np.asarray(
                            t.labels, dtype=object)
                        m.partial_fit(X[~hold], y[~hold], classes=classes)
                    if not last:
                        continue
                    y_tr = y[~hold]
                    counts[t.name] += (y_tr.sum(0) if t.kind == "multilabel" else
                                       [(y_tr == lab).sum() for lab in t.labels])
                    if hold.any():
                        hold_y[t.name].append(y[hold])
                        if base.codebook_keys(t, book) is not None:
                            hold_cb[t.name].append(base.codebook_counts(
                                t, book, [x for x, h in zip(texts, hold, strict=True) if h]))
                if last and hold.any():
                    for name, s in model.scores(X=X[hold]).items():
                        hold_s[name].append(s.astype(np.float32))
                if last:
                    n_train += int((~hold).sum())
                    hold_ids += [i for i, h in zip(ids, hold, strict=True) if h]
                    for i, text in enumerate(texts):
                        rec = [ids[i], text] + [
                            [lab for lab, v in zip(t.labels, ys[t.name][i], strict=True) if v]
                            if t.kind == "multilabel" else str(ys[t.name][i])
                            for t in self.tasks]
                        digest.update(json.dumps(rec, ensure_ascii=False).encode() + b"\n")
                bar(len(chunk))
        bar(0, done=True)
        seconds = time.perf_counter() - t0
        evaluation = self._score(model, hold_ids, hold_y, hold_s, hold_cb, counts, n_train,
                                 book)
        metrics = {**evaluation.metrics, "n_train": n_train, "time/fit_seconds": seconds}
        value = objective(metrics, [t.name for t in self.tasks], cfg.eval.optimize)
        metrics["objective"] = value
        n_total = n_train + len(hold_ids)
        data = {"name": cfg.data.name or path.stem, "source": str(path), "n_records": n_total,
                "digest": digest.hexdigest(),
                "label_counts": {t.name: {lab: int(c) for lab, c in zip(
                    t.labels, counts[t.name], strict=True)} for t in self.tasks},
                "warnings": notes}
        log.info("streamed %d records (%d held out) in %.1f s", n_total, len(hold_ids),
                 seconds)
        info = {"strategy": f"streaming hold-out ({st.holdout:.0%} by id hash)",
                "n_folds": 1, "metrics": metrics, "notes": notes}
        model.card = cards.build(data, info, {k: list(map(float, v)) for k, v in
                                              model._thr.items()}, plain(cfg))
        return model, Report(evaluation, None, metrics, value, notes, list(self.tasks),
                             list(cfg.eval.baselines))

    def _score(self, model, ids, ys, ss, cbs, counts, n_train, book) -> Evaluation:
        """The held-out share, scored like any other evaluation (intervals, baselines)."""
        n = len(ids)
        if n == 0:
            raise FramingDataError("no record fell in the held-out share; raise stream.holdout "
                                   "or give a larger corpus.")
        targets = {t.name: np.concatenate(ys[t.name]) for t in self.tasks}
        held = Corpus([""] * n, ids, self.tasks, targets, name="holdout")
        pred = Predictions.empty(held)
        pred.evaluated[:] = True
        base_preds: dict[str, dict[str, Any]] = {b: {} for b in self.cfg.eval.baselines}
        for t in self.tasks:
            s = np.concatenate(ss[t.name]).astype(float)
            pred.scores[t.name][:] = s
            pred.preds[t.name][:] = model.decide(t.name, s)
            prior = counts[t.name] / max(n_train, 1)
            if "majority" in base_preds:
                base_preds["majority"][t.name] = base.majority(t, prior, n)
            if "codebook" in base_preds and cbs[t.name]:
                base_preds["codebook"][t.name] = base.rules(t, np.concatenate(cbs[t.name]),
                                                            prior)
        metrics, report = score(held, pred, base_preds, self.cfg.eval.n_boot, self.cfg.seed)
        metrics["n_folds"] = 1
        return Evaluation("holdout", "streaming hold-out", 1, metrics, report, pred)


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
