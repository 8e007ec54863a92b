"""Honest evaluation: grouped splits, out-of-fold predictions, metrics with bootstrap
intervals, and baselines computed on the same folds.

:class:`Trainer` fits the features once per fold and one classifier per task;
:func:`cross_validate` runs it over the folds and scores every record out of fold.
"""

from __future__ import annotations

import logging
import os
import re
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.model_selection import GroupKFold, KFold, LeaveOneGroupOut, StratifiedKFold

from framing.data import Corpus, TaskSpec
from framing.errors import FramingConfigError
from framing.features import CodebookLexicon, build_features
from framing.models import build_classifier, tune_thresholds

log = logging.getLogger(__name__)

#: Corpora at least this large cross-validate in parallel when ``n_jobs="auto"``.
AUTO_PARALLEL_MIN_RECORDS = 2000

STRATEGIES = ("auto", "logo", "group_kfold", "stratified_kfold", "kfold", "fold_column",
              "split")


# -- splits ------------------------------------------------------------------------------
def _stratify_labels(corpus: Corpus) -> np.ndarray | None:
    for t in corpus.tasks:
        if t.kind == "multiclass":
            return corpus.targets[t.name]
    return None


def make_splits(corpus: Corpus, strategy: str = "auto", n_splits: int = 5, seed: int = 0,
                max_logo_groups: int = 10) -> tuple[str, list[tuple[np.ndarray, np.ndarray]]]:
    """Train/test index pairs for evaluation, and the strategy actually used.

    ``auto`` takes given train/test splits, else the fold column, else leave-one-group-out
    (at most ``max_logo_groups`` groups) or grouped k-fold when there is a group column,
    else stratified k-fold on the first single-label task.
    """
    if strategy not in STRATEGIES:
        raise FramingConfigError(f"eval.strategy {strategy!r} is not one of {STRATEGIES}.")
    n = len(corpus)
    idx = np.arange(n)
    if strategy == "auto":
        if corpus.split is not None:
            strategy = "split"
        elif corpus.folds is not None:
            strategy = "fold_column"
        elif corpus.groups is not None:
            n_groups = len(np.unique(corpus.groups))
            strategy = "logo" if n_groups <= max_logo_groups else "group_kfold"
        else:
            strategy = "stratified_kfold" if _stratify_labels(corpus) is not None else "kfold"
    need = {"split": corpus.split, "fold_column": corpus.folds,
            "logo": corpus.groups, "group_kfold": corpus.groups}
    if strategy in need and need[strategy] is None:
        col = {"split": "split_column", "fold_column": "fold_column"}.get(strategy,
                                                                         "group_column")
        raise FramingConfigError(f"eval.strategy={strategy} needs data.{col} to be set.")
    if strategy == "split":
        tr, te = idx[corpus.split == "train"], idx[corpus.split == "test"]
        if not len(tr) or not len(te):
            raise FramingConfigError("the split column must have both 'train' and 'test' rows.")
        return strategy, [(tr, te)]
    if strategy == "fold_column":
        return strategy, [(idx[corpus.folds != f], idx[corpus.folds == f])
                          for f in np.unique(corpus.folds)]
    if strategy == "logo":
        return strategy, list(LeaveOneGroupOut().split(idx, groups=corpus.groups))
    if strategy == "group_kfold":
        k = min(n_splits, len(np.unique(corpus.groups)))
        return strategy, list(GroupKFold(n_splits=k).split(idx, groups=corpus.groups))
    if strategy == "stratified_kfold":
        y = _stratify_labels(corpus)
        if y is None:
            raise FramingConfigError("stratified_kfold needs a single-label task.")
        k = min(n_splits, int(np.min(np.unique(y, return_counts=True)[1])))
        if k < 2:
            strategy, k = "kfold", n_splits
        else:
            cv = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
            return strategy, list(cv.split(idx, y))
    return "kfold", list(KFold(n_splits=min(n_splits, n), shuffle=True,
                               random_state=seed).split(idx))


# -- fitting -----------------------------------------------------------------------------
@dataclass
class FittedModel:
    """Fitted features, one classifier per task, and multi-label thresholds."""

    features: Any
    models: dict[str, Any]
    thresholds: dict[str, np.ndarray]
    tasks: list[TaskSpec]
    constant: dict[str, str] = field(default_factory=dict)

    def scores(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Per task, (n, n_labels) scores in the task's label order."""
        X = self.features.transform(list(texts))
        return {t.name: _proba(self, t, X) for t in self.tasks}

    def decide(self, task: TaskSpec, scores: np.ndarray) -> np.ndarray:
        """Multilabel: 0/1 matrix from thresholds; multiclass: label strings."""
        if task.kind == "multilabel":
            return (scores >= self.thresholds[task.name]).astype(np.int8)
        return np.asarray(task.labels, dtype=object)[np.argmax(scores, axis=1)]


def _proba(fm: FittedModel, task: TaskSpec, X) -> np.ndarray:
    if task.name in fm.constant:
        out = np.zeros((X.shape[0], len(task.labels)))
        out[:, task.labels.index(fm.constant[task.name])] = 1.0
        return out
    p = fm.models[task.name].predict_proba(X)
    if task.kind == "multilabel":
        return np.asarray(p, dtype=float)
    classes = list(fm.models[task.name].classes_)
    out = np.zeros((X.shape[0], len(task.labels)))
    for j, c in enumerate(classes):
        out[:, task.labels.index(c)] = p[:, j]
    return out


@dataclass
class Trainer:
    """Everything needed to fit a model on part of a corpus.

    ``model_cfg`` gives :class:`framing.models.LinearTextClassifier` parameters;
    ``per_task`` overrides them per task name.
    """

    feature_cfg: Mapping[str, Any]
    model_cfg: Mapping[str, Any]
    codebook: Mapping[str, Sequence[str]] | None = None
    per_task: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    thresholds: str = "tune"
    inner_splits: int = 3
    n_jobs: int | None = None

    def task_cfg(self, name: str) -> dict[str, Any]:
        """The classifier parameters of one task."""
        return {**dict(self.model_cfg), **dict(self.per_task.get(name) or {})}

    def _fit_task(self, task: TaskSpec, X, y, notes: list[str]):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            est = build_classifier(self.task_cfg(task.name), task.kind, self.n_jobs).fit(X, y)
        for w in caught:
            msg = str(w.message)
            if "present in all training examples" in msg:
                found = re.search(r"Label (not )?(\d+)", msg)
                lab = task.labels[int(found.group(2))] if found else "?"
                state = "absent from" if found and found.group(1) else "present in"
                notes.append(f"task {task.name!r}: label {lab!r} is {state} every record of "
                             "a training fold; that fold predicts it as a constant.")
        return est

    def fit(self, texts: Sequence[str], targets: Mapping[str, np.ndarray],
            tasks: Sequence[TaskSpec], groups: np.ndarray | None = None,
            notes: list[str] | None = None, thresholds: Mapping[str, np.ndarray] | None = None
            ) -> FittedModel:
        """Fit features and every task's classifier; tune thresholds unless given."""
        notes = [] if notes is None else notes
        features = build_features(self.feature_cfg, self.codebook)
        X = features.fit_transform(list(texts))
        if sp.issparse(X):
            # Canonical CSR (sorted, no duplicates): parallel one-vs-rest workers get it
            # read-only and must not need to sort it in place.
            X = X.tocsr()
            X.sum_duplicates()
        models, constant, thr = {}, {}, {}
        for t in tasks:
            y = targets[t.name]
            if t.kind == "multiclass" and len(np.unique(y)) < 2:
                constant[t.name] = str(y[0])
                notes.append(f"task {t.name!r}: only class {y[0]!r} in a training fold; "
                             "that fold predicts it for every record.")
                continue
            models[t.name] = self._fit_task(t, X, y, notes)
            if t.kind == "multilabel":
                if thresholds is not None and t.name in thresholds:
                    thr[t.name] = np.asarray(thresholds[t.name], dtype=float)
                elif self.thresholds == "tune":
                    thr[t.name] = self._inner_thresholds(t, X, y, groups, notes)
                else:
                    thr[t.name] = np.full(len(t.labels), 0.5)
        return FittedModel(features, models, thr, list(tasks), constant)

    def _inner_thresholds(self, task, X, y, groups, notes) -> np.ndarray:
        """Thresholds from inner out-of-fold scores (features fitted on the outer part)."""
        n = X.shape[0]
        k = self.inner_splits
        if groups is not None and len(np.unique(groups)) >= 2:
            k = min(k, len(np.unique(groups)))
            splits = GroupKFold(n_splits=k).split(np.arange(n), groups=groups)
        else:
            splits = KFold(n_splits=min(k, n), shuffle=True, random_state=0).split(np.arange(n))
        scores = np.full(y.shape, np.nan)
        for tr, te in splits:
            ytr = y[tr]
            est = self._fit_task(task, X[tr], ytr, [])
            scores[te] = est.predict_proba(X[te])
        return tune_thresholds(y, scores)


# -- metrics -----------------------------------------------------------------------------
def _f1(tp, fp, fn):
    d = 2 * tp + fp + fn
    return np.where(d > 0, 2 * tp / np.maximum(d, 1), 0.0)


def _counts(y: np.ndarray, p: np.ndarray):
    """(tp, fp, fn) per label for 0/1 matrices (n, L)."""
    y = y.astype(bool)
    p = p.astype(bool)
    return (y & p).sum(0), (~y & p).sum(0), (y & ~p).sum(0)


def _onehot(values: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    return (np.asarray(values, dtype=object)[:, None] == np.asarray(labels, dtype=object)
            [None, :]).astype(np.int8)


def point_metrics(task: TaskSpec, y, pred) -> dict[str, float]:
    """Headline metrics of one task (used for the estimate and every bootstrap draw)."""
    if task.kind == "multiclass":
        yo, po = _onehot(y, task.labels), _onehot(pred, task.labels)
    else:
        yo, po = y, pred
    tp, fp, fn = _counts(yo, po)
    f1 = _f1(tp, fp, fn)
    out = {"macro_f1": float(f1.mean()),
           "micro_f1": float(_f1(tp.sum(), fp.sum(), fn.sum()))}
    if task.kind == "multiclass":
        out["accuracy"] = float(np.mean(np.asarray(y) == np.asarray(pred)))
    else:
        out["hamming_loss"] = float(np.mean(yo != po))
        out["subset_accuracy"] = float(np.mean((yo == po).all(axis=1)))
    for j, lab in enumerate(task.labels):
        out[f"{lab}/f1"] = float(f1[j])
    return out


def full_metrics(task: TaskSpec, y, pred, scores: np.ndarray | None) -> dict[str, float]:
    """Point metrics plus per-label precision/recall/support, ROC-AUC and log-loss."""
    from sklearn.metrics import log_loss, roc_auc_score

    out = point_metrics(task, y, pred)
    yo = _onehot(y, task.labels) if task.kind == "multiclass" else np.asarray(y)
    po = _onehot(pred, task.labels) if task.kind == "multiclass" else np.asarray(pred)
    tp, fp, fn = _counts(yo, po)
    for j, lab in enumerate(task.labels):
        out[f"{lab}/precision"] = float(tp[j] / (tp[j] + fp[j])) if tp[j] + fp[j] else 0.0
        out[f"{lab}/recall"] = float(tp[j] / (tp[j] + fn[j])) if tp[j] + fn[j] else 0.0
        out[f"{lab}/support"] = int(yo[:, j].sum())
    if scores is None:
        return out
    eps = 1e-7
    s = np.clip(scores, eps, 1 - eps)
    aucs = []
    for j, lab in enumerate(task.labels):
        if 0 < yo[:, j].sum() < len(yo):
            auc = float(roc_auc_score(yo[:, j], scores[:, j]))
            out[f"{lab}/roc_auc"] = auc
            aucs.append(auc)
    if aucs:
        out["roc_auc"] = float(np.mean(aucs)) if task.kind == "multilabel" or len(
            task.labels) > 2 else aucs[-1]
    if task.kind == "multilabel":
        out["log_loss"] = float(-np.mean(yo * np.log(s) + (1 - yo) * np.log(1 - s)))
    else:
        p = s / s.sum(axis=1, keepdims=True)
        out["log_loss"] = float(log_loss(yo.argmax(1), p, labels=range(len(task.labels))))
    return out


def bootstrap(task: TaskSpec, y, pred, groups: np.ndarray | None, n_boot: int = 1000,
              seed: int = 0, level: float = 0.95) -> dict[str, tuple[float, float]]:
    """Percentile intervals of :func:`point_metrics`, resampling groups if given."""
    rng = np.random.default_rng(seed)
    y, pred = np.asarray(y), np.asarray(pred)
    if groups is not None:
        uniq, inv = np.unique(groups, return_inverse=True)
        members = [np.flatnonzero(inv == g) for g in range(len(uniq))]
    draws: dict[str, list[float]] = {}
    for _ in range(n_boot):
        if groups is not None:
            pick = rng.integers(0, len(members), len(members))
            idx = np.concatenate([members[g] for g in pick])
        else:
            idx = rng.integers(0, len(y), len(y))
        for k, v in point_metrics(task, y[idx], pred[idx]).items():
            draws.setdefault(k, []).append(v)
    a = (1 - level) / 2
    return {k: (float(np.quantile(v, a)), float(np.quantile(v, 1 - a)))
            for k, v in draws.items()}


# -- baselines ---------------------------------------------------------------------------
def majority_baseline(task: TaskSpec, y_train, n_test: int):
    """Predict the training prior: the most frequent class, or labels on >= half."""
    if task.kind == "multilabel":
        prior = np.asarray(y_train, dtype=float).mean(axis=0)
        return np.tile(prior >= 0.5, (n_test, 1)).astype(np.int8), np.tile(prior, (n_test, 1))
    yo = _onehot(y_train, task.labels).mean(axis=0)
    lab = task.labels[int(np.argmax(yo))]
    return np.array([lab] * n_test, dtype=object), np.tile(yo, (n_test, 1))


def codebook_keys(task: TaskSpec, codebook: Mapping[str, Any] | None) -> list[str] | None:
    """Codebook entries of a task's labels (``task:label``), or None if any is missing."""
    keys = [f"{task.name}:{lab}" for lab in task.labels]
    if not codebook or not all(k in codebook for k in keys):
        return None
    return keys


def codebook_baseline(task: TaskSpec, codebook, texts, y_train):
    """Rules from the codebook alone: a label if any of its terms occurs (multilabel), the
    label with most term matches, ties to the training majority (single-label)."""
    keys = codebook_keys(task, codebook)
    lex = CodebookLexicon({k: codebook[k] for k in keys}).fit(texts)
    counts = np.expm1(lex.transform(texts).toarray())
    if task.kind == "multilabel":
        return (counts > 0).astype(np.int8), None
    majority = majority_baseline(task, y_train, 1)[0][0]
    out = []
    for row in counts:
        top = np.flatnonzero(row == row.max())
        out.append(task.labels[top[0]] if row.max() > 0 and len(top) == 1 else majority)
    return np.array(out, dtype=object), None


# -- cross-validation --------------------------------------------------------------------
@dataclass
class Evaluation:
    """What :func:`cross_validate` measured."""

    strategy: str
    n_folds: int
    metrics: dict[str, float]
    report: list[dict[str, Any]]
    oof: dict[str, dict[str, np.ndarray]]
    notes: list[str]
    fit_seconds: float
    thresholds_oof: dict[str, np.ndarray]


def cross_validate(corpus: Corpus, trainer: Trainer, strategy: str = "auto",
                   n_splits: int = 5, seed: int = 0, n_boot: int = 1000,
                   baselines: Sequence[str] = ("majority", "codebook"),
                   n_jobs: int | str | None = "auto") -> Evaluation:
    """Out-of-fold predictions for every record and their metrics.

    Returns metrics named ``<task>/<metric>``, ``<task>/<label>/<metric>``,
    ``…/ci_low`` and ``…/ci_high``, and ``baseline/<name>/<task>/<metric>``. Folds run
    in ``n_jobs`` processes; ``"auto"`` uses one per core (up to the number of folds) for
    corpora of at least :data:`AUTO_PARALLEL_MIN_RECORDS` records, one otherwise.
    """
    strategy, splits = make_splits(corpus, strategy, n_splits, seed)
    n = len(corpus)
    tasks = corpus.tasks
    scores = {t.name: np.full((n, len(t.labels)), np.nan) for t in tasks}
    preds = {t.name: (np.zeros((n, len(t.labels)), np.int8) if t.kind == "multilabel"
                      else np.empty(n, dtype=object)) for t in tasks}
    base_preds: dict[str, dict[str, np.ndarray]] = {}
    notes: list[str] = []
    t0 = time.perf_counter()

    def run_fold(tr, te):
        fold_notes: list[str] = []
        part = corpus.subset(tr)
        fm = trainer.fit(part.texts, part.targets, tasks, part.groups, fold_notes)
        test_texts = [corpus.texts[i] for i in te]
        sc = fm.scores(test_texts)
        return sc, {t.name: fm.decide(t, sc[t.name]) for t in tasks}, fold_notes

    if n_jobs in (None, "auto"):
        # Worker processes pay for themselves only with enough work per fold.
        n_jobs = 1 if n < AUTO_PARALLEL_MIN_RECORDS else min(os.cpu_count() or 1, len(splits))
    n_jobs = int(n_jobs)
    if n_jobs != 1 and len(splits) > 1:
        from joblib import Parallel, delayed
        results = Parallel(n_jobs=n_jobs)(delayed(run_fold)(tr, te) for tr, te in splits)
    else:
        results = [run_fold(tr, te) for tr, te in splits]
    fit_seconds = time.perf_counter() - t0
    for (tr, te), (sc, pr, fold_notes) in zip(splits, results, strict=True):
        notes.extend(fold_notes)
        for t in tasks:
            scores[t.name][te] = sc[t.name]
            preds[t.name][te] = pr[t.name]
            for b in baselines:
                if b == "codebook" and codebook_keys(t, trainer.codebook) is None:
                    continue
                store = base_preds.setdefault(b, {})
                if t.name not in store:
                    store[t.name] = np.empty_like(preds[t.name])
                ytr = corpus.targets[t.name][tr]
                texts = [corpus.texts[i] for i in te]
                bp = (majority_baseline(t, ytr, len(te)) if b == "majority"
                      else codebook_baseline(t, trainer.codebook, texts, ytr))[0]
                store[t.name][te] = bp
    evaluated = np.zeros(n, dtype=bool)
    for _, te in splits:
        evaluated[te] = True
    groups = corpus.groups[evaluated] if corpus.groups is not None else None
    metrics: dict[str, float] = {}
    report: list[dict[str, Any]] = []
    thresholds_oof: dict[str, np.ndarray] = {}
    for t in tasks:
        y = corpus.targets[t.name][evaluated]
        p, s = preds[t.name][evaluated], scores[t.name][evaluated]
        m = full_metrics(t, y, p, s)
        ci = bootstrap(t, y, p, groups, n_boot, seed) if n_boot else {}
        for k, v in m.items():
            metrics[f"{t.name}/{k}"] = v
            if k in ci:
                metrics[f"{t.name}/{k}/ci_low"], metrics[f"{t.name}/{k}/ci_high"] = ci[k]
        row_base = {}
        for b, store in base_preds.items():
            if t.name in store:
                bm = point_metrics(t, y, store[t.name][evaluated])
                for k, v in bm.items():
                    metrics[f"baseline/{b}/{t.name}/{k}"] = v
                row_base[b] = bm
        for lab in t.labels:
            row = {"task": t.name, "label": lab}
            for k in ("precision", "recall", "f1", "support", "roc_auc"):
                if f"{lab}/{k}" in m:
                    row[k] = m[f"{lab}/{k}"]
            if f"{lab}/f1" in ci:
                row["f1_ci_low"], row["f1_ci_high"] = ci[f"{lab}/f1"]
            for b, bm in row_base.items():
                row[f"baseline_{b}_f1"] = bm[f"{lab}/f1"]
            report.append(row)
        if t.kind == "multilabel":
            thresholds_oof[t.name] = tune_thresholds(y, s)
    metrics["n_folds"] = len(splits)
    metrics["n_records"] = int(evaluated.sum())
    uniq_notes = list(dict.fromkeys(notes))
    for msg in uniq_notes:
        log.warning(msg)
    return Evaluation(strategy, len(splits), metrics, report,
                      {"scores": scores, "preds": preds, "evaluated": evaluated},
                      uniq_notes, fit_seconds, thresholds_oof)
