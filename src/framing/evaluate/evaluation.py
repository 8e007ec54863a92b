"""Honest evaluation: out-of-fold predictions, or a saved model on another corpus, scored
with the metric registry, bootstrap intervals and baselines on the same records.

* :func:`cross_validate` fits a model per fold (:mod:`framing.evaluate.splits`) and scores every
  record out of fold;
* :func:`evaluate` scores a fitted model on a labelled corpus it never saw;
* :func:`score` is what both share: decisions and scores to metrics, intervals
  (resampling groups) and baselines.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from framing.core.metrics import PER_LABEL, bootstrap, compute, key
from framing.core.tasks import TaskSpec
from framing.data.corpus import Corpus
from framing.evaluate import baselines as base
from framing.evaluate.splits import make_splits
from framing.learn.estimators import safe_thresholds
from framing.learn.fitting import Fitter, codebook_for
from framing.predict.model import FramingModel

log = logging.getLogger(__name__)

#: Corpora at least this large cross-validate in parallel when ``n_jobs="auto"``.
AUTO_PARALLEL_MIN_RECORDS = 2000


@dataclass
class Predictions:
    """Truth, scores and decisions per task for the records of a corpus (``evaluated``:
    the records scored)."""

    tasks: list[TaskSpec]
    truth: dict[str, np.ndarray]
    scores: dict[str, np.ndarray]
    preds: dict[str, np.ndarray]
    evaluated: np.ndarray

    @classmethod
    def empty(cls, corpus: Corpus) -> Predictions:
        """Room for every record of ``corpus``, none scored yet."""
        n, tasks = len(corpus), corpus.tasks
        return cls(list(tasks), corpus.targets,
                   {t.name: np.full((n, len(t.labels)), np.nan) for t in tasks},
                   {t.name: (np.zeros((n, len(t.labels)), np.int8) if t.kind == "multilabel"
                             else np.empty(n, dtype=object)) for t in tasks},
                   np.zeros(n, dtype=bool))

    def records(self, corpus: Corpus) -> list[dict[str, Any]]:
        """One JSON-ready record per scored unit: id, group (article; None without a
        group column), text, truth, decision, scores — what ``framing compare`` reads."""
        out = []
        groups = corpus.groups
        for i in np.flatnonzero(self.evaluated):
            rec: dict[str, Any] = {"id": corpus.ids[i],
                                   "group": None if groups is None else str(groups[i]),
                                   "text": corpus.texts[i]}
            for t in corpus.tasks:
                y, p = corpus.targets[t.name][i], self.preds[t.name][i]
                if t.kind == "multilabel":
                    rec[f"{t.name}_true"] = [lab for lab, v in zip(t.labels, y, strict=True)
                                             if v]
                    rec[f"{t.name}_pred"] = [lab for lab, v in zip(t.labels, p, strict=True)
                                             if v]
                else:
                    rec[f"{t.name}_true"], rec[f"{t.name}_pred"] = str(y), str(p)
                rec[f"{t.name}_scores"] = {lab: round(float(s), 6) for lab, s in
                                           zip(t.labels, self.scores[t.name][i], strict=True)}
            out.append(rec)
        return out


@dataclass
class Evaluation:
    """What one evaluation measured.

    ``metrics`` are named ``<task>/<metric>``, ``<task>/<label>/<metric>``, with
    ``…/ci_low`` and ``…/ci_high``, and ``baseline/<name>/<task>/<metric>``.
    """

    corpus: str
    strategy: str
    n_folds: int
    metrics: dict[str, float]
    report: list[dict[str, Any]]
    predictions: Predictions
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    thresholds: dict[str, np.ndarray] = field(default_factory=dict)
    model: FramingModel | None = None
    crossfit: bool = False
    #: With ``model=auto``: what each outer fold's model chose (its own inner choice).
    fold_choices: list[dict[str, Any]] = field(default_factory=list)

    @property
    def n_records(self) -> int:
        """How many records were scored."""
        return int(self.predictions.evaluated.sum())

    def prefixed(self, prefix: str) -> dict[str, float]:
        """The metrics with a prefix (``test/``), for logging beside others."""
        return {f"{prefix}{k}": v for k, v in self.metrics.items()}


def score(corpus: Corpus, pred: Predictions, baseline_preds: Mapping[str, Mapping[str, Any]],
          n_boot: int = 1000, seed: int = 0) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """Metrics, intervals and baseline figures of the scored records; per-label rows."""
    ev = pred.evaluated
    groups = corpus.groups[ev] if corpus.groups is not None else None
    metrics: dict[str, float] = {}
    report: list[dict[str, Any]] = []
    for t in corpus.tasks:
        y = corpus.targets[t.name][ev]
        p, s = pred.preds[t.name][ev], pred.scores[t.name][ev]
        m = compute(t, y, p, s)
        ci = bootstrap(t, y, p, groups, n_boot, seed) if n_boot else {}
        for k, v in m.items():
            metrics[f"{t.name}/{k}"] = v
            if k in ci:
                metrics[f"{t.name}/{k}/ci_low"], metrics[f"{t.name}/{k}/ci_high"] = ci[k]
        row_base = {}
        for b, store in baseline_preds.items():
            if store.get(t.name) is not None:
                bm = compute(t, y, store[t.name][ev])
                for k, v in bm.items():
                    metrics[key(t.name, k, prefix=f"baseline/{b}")] = v
                row_base[b] = bm
        for lab in t.labels:
            row = {"task": t.name, "label": lab}
            row.update({k: m[f"{lab}/{k}"] for k in PER_LABEL if f"{lab}/{k}" in m})
            if f"{lab}/f1" in ci:
                row["f1_ci_low"], row["f1_ci_high"] = ci[f"{lab}/f1"]
            for b, bm in row_base.items():
                if f"{lab}/f1" in bm:  # a label the baseline neither meets nor names
                    row[f"baseline_{b}_f1"] = bm[f"{lab}/f1"]
            report.append(row)
    metrics["n_records"] = int(ev.sum())
    return metrics, report


def die_with_parent(parent: int) -> None:
    """In a worker process: end when the parent process ends, even by SIGKILL (Linux)."""
    import ctypes
    import signal
    import sys

    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except OSError:
            return
    if os.getppid() != parent:  # the parent died before the line above ran
        os._exit(1)


def _parallel_jobs(n_jobs: int | str | None, n_records: int, n_splits: int) -> int:
    if n_jobs in (None, "auto"):
        # Worker processes pay for themselves only with enough work per fold.
        return 1 if n_records < AUTO_PARALLEL_MIN_RECORDS else min(os.cpu_count() or 1,
                                                                   n_splits)
    return int(n_jobs)


def cross_validate(corpus: Corpus, fitter: Fitter, strategy: str = "auto", n_splits: int = 5,
                   seed: int = 0, n_boot: int = 1000,
                   baselines: Sequence[str] = ("majority", "codebook"),
                   n_jobs: int | str | None = "auto", max_logo_groups: int = 10,
                   crossfit: bool = False, ovr_n_jobs: int | None = None) -> Evaluation:
    """Out-of-fold predictions for every record and their metrics.

    Folds run in ``n_jobs`` processes; ``"auto"`` uses one per core (up to the number of
    folds) for corpora of at least :data:`AUTO_PARALLEL_MIN_RECORDS` records, one
    otherwise. Baselines are computed on the same folds, from each training part.

    ``crossfit`` (tuned thresholds on a large corpus): the fold models tune no threshold
    of their own (no inner cross-validation); each fold's multi-label decisions use
    thresholds tuned on the other folds' out-of-fold scores, which never saw that fold.
    With given train/test splits there are no other folds: the one fold's model tunes its
    thresholds by inner cross-validation as usual, and it is the final model
    (``Evaluation.model``), not fitted twice; it fits its one-vs-rest models in
    ``ovr_n_jobs`` threads, as the final model would. Folds that run one after another
    (one process) fit theirs in ``ovr_n_jobs`` threads too; folds in parallel processes
    one label at a time.
    """
    strategy, splits = make_splits(corpus, strategy, n_splits, seed, max_logo_groups)
    crossfit = crossfit and strategy != "split"
    tasks = corpus.tasks
    pred = Predictions.empty(corpus)
    book, _ = codebook_for(tasks, fitter.codebook)
    base_preds: dict[str, dict[str, Any]] = {b: {} for b in baselines}
    t0 = time.perf_counter()

    keep = strategy == "split"

    def run_fold(tr, te):
        notes: list[str] = []
        part = corpus.subset(tr)
        fixed = {t.name: np.full(len(t.labels), 0.5) for t in tasks
                 if t.kind == "multilabel"} if crossfit else None
        model = fitter.fit(part.texts, part.targets, tasks, part.groups, thresholds=fixed,
                           notes=notes, ovr_n_jobs=ovr_n_jobs if keep or jobs == 1 else None)
        sc = model.scores([corpus.texts[i] for i in te])
        return (sc, {t.name: model.decide(t.name, sc[t.name]) for t in tasks}, notes,
                model if keep else None, getattr(model, "choice", None))

    jobs = _parallel_jobs(n_jobs, len(corpus), len(splits))
    if jobs != 1 and len(splits) > 1:
        from joblib import Parallel, delayed, parallel_config

        with parallel_config(backend="loky", initializer=die_with_parent,
                             initargs=(os.getpid(),)):
            results = Parallel(n_jobs=jobs)(delayed(run_fold)(tr, te) for tr, te in splits)
    else:
        results = [run_fold(tr, te) for tr, te in splits]
    seconds = time.perf_counter() - t0
    notes: list[str] = []
    for (tr, te), (sc, pr, fold_notes, *_) in zip(splits, results, strict=True):
        notes.extend(fold_notes)
        pred.evaluated[te] = True
        texts = [corpus.texts[i] for i in te]
        for t in tasks:
            pred.scores[t.name][te] = sc[t.name]
            pred.preds[t.name][te] = pr[t.name]
            prior = base.prior_of(t, corpus.targets[t.name][tr])
            for b in baselines:
                bp = base.predict(b, t, texts, prior, book)
                if bp is None:
                    continue
                if t.name not in base_preds[b]:
                    base_preds[b][t.name] = np.empty_like(pred.preds[t.name])
                base_preds[b][t.name][te] = bp
    groups = corpus.groups
    if crossfit and len(splits) > 1:
        for t in (t for t in tasks if t.kind == "multilabel"):
            y, s = corpus.targets[t.name], pred.scores[t.name]
            for _, te in splits:
                others = pred.evaluated.copy()
                others[te] = False
                thr, _ = safe_thresholds(y[others], s[others], t.labels,
                                         groups[others] if groups is not None else None, seed)
                pred.preds[t.name][te] = (s[te] >= thr).astype(np.int8)
    metrics, report = score(corpus, pred, base_preds, n_boot, seed)
    metrics["n_folds"] = len(splits)
    ev = pred.evaluated
    thresholds = {}
    for t in (t for t in tasks if t.kind == "multilabel"):
        thresholds[t.name], msgs = safe_thresholds(
            corpus.targets[t.name][ev], pred.scores[t.name][ev], t.labels,
            groups[ev] if groups is not None else None, seed)
        if crossfit or strategy != "split":  # these are the final model's thresholds
            notes.extend(f"task {t.name!r}: {m}" for m in msgs)
    uniq_notes = list(dict.fromkeys(notes))
    for msg in uniq_notes:
        log.warning(msg)
    evaluation = Evaluation(corpus.name, strategy, len(splits), metrics, report, pred,
                            uniq_notes, seconds, thresholds)
    evaluation.model = results[0][3] if keep else None
    evaluation.crossfit = crossfit
    evaluation.fold_choices = [r[4] for r in results if r[4]]
    return evaluation


def evaluate(model: FramingModel, corpus: Corpus, n_boot: int = 1000, seed: int = 0,
             baselines: Sequence[str] = ("majority", "codebook"),
             priors: Mapping[str, np.ndarray] | None = None) -> Evaluation:
    """Score a fitted model on a labelled corpus, beside its baselines.

    The majority baseline predicts the training prior (``priors``, per task the share of
    training records with each label; default: from the model card's label counts); the
    codebook baseline applies the model's own codebook as rules. The corpus's tasks must
    be the model's (same names and labels).
    """
    check_tasks(model, corpus)
    t0 = time.perf_counter()
    pred = Predictions.empty(corpus)
    sc = model.scores(corpus.texts)
    pred.evaluated[:] = True
    priors = dict(priors or card_priors(model))
    book = model.codebook
    base_preds: dict[str, dict[str, Any]] = {b: {} for b in baselines}
    for t in corpus.tasks:
        pred.scores[t.name][:] = sc[t.name]
        pred.preds[t.name][:] = model.decide(t.name, sc[t.name])
        prior = priors.get(t.name)
        for b in baselines:
            if prior is None:  # no training prior known: neither baseline can be formed
                continue
            bp = base.predict(b, t, corpus.texts, prior, book)
            if bp is not None:
                base_preds[b][t.name] = bp
    metrics, report = score(corpus, pred, base_preds, n_boot, seed)
    metrics["n_folds"] = 1
    return Evaluation(corpus.name, "held-out corpus", 1, metrics, report, pred, [],
                      time.perf_counter() - t0)


def card_priors(model: FramingModel) -> dict[str, np.ndarray]:
    """Per task, the share of training records with each label, from the model card."""
    data = model.card.get("data") or {}
    n = data.get("n_records")
    out = {}
    for t, counts in (data.get("label_counts") or {}).items():
        if n and t in model.labels and all(counts.get(lab) is not None
                                           for lab in model.labels[t]):
            out[t] = np.array([counts[lab] for lab in model.labels[t]], dtype=float) / n
    return out


def check_tasks(model: FramingModel, corpus: Corpus) -> None:
    """A corpus scored by a model must have the model's tasks and label sets."""
    from framing.core.errors import FramingDataError

    for t in corpus.tasks:
        if t.name not in model.tasks:
            raise FramingDataError(f"{corpus.source}: task {t.name!r} is not one of the "
                                   f"model's tasks {model.tasks}. Score a file labelled for "
                                   "this model, or set its tasks in the config.")
        if list(t.labels) != model.labels[t.name] or t.kind != model.kinds[t.name]:
            raise FramingDataError(f"{corpus.source}: task {t.name!r} is {t.kind} with labels "
                                   f"{t.labels}; the model's is {model.kinds[t.name]} with "
                                   f"{model.labels[t.name]}. Give the same label set.")
