"""Fitting one model: features, a classifier per task, multi-label thresholds.

:class:`Fitter` turns texts and targets into a :class:`~framing.predict.model.FramingModel`. The
evaluation calls it once per fold, the final fit once on all the training data; both
read the same typed config, so the model a fold scores is the model that is shipped.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from sklearn.model_selection import GroupKFold, KFold

from framing.config.schema import FeaturesConfig, ModelConfig, Thresholds, TrainConfig
from framing.core.errors import FramingConfigError
from framing.core.tasks import TaskSpec, constant_task
from framing.learn.compile import compile_or_none
from framing.learn.estimators import build_classifier, safe_thresholds
from framing.learn.features import build_features
from framing.predict.model import FramingModel, feature_names

log = logging.getLogger(__name__)


def codebook_for(tasks: Sequence[TaskSpec], codebook: Mapping[str, Sequence[str]] | None
                 ) -> tuple[dict[str, list[str]], list[str]]:
    """The codebook entries (``task:label``) that name a task and label of this corpus,
    and a note on what was left out."""
    book = {str(k): list(v or []) for k, v in dict(codebook or {}).items()}
    known = {f"{t.name}:{lab}" for t in tasks for lab in t.labels or []}
    kept = {k: v for k, v in book.items() if k in known}
    notes = []
    if book and not kept:
        names = ", ".join(t.name for t in tasks)
        notes.append(f"the codebook's entries ({', '.join(sorted(book)[:4])}, …) name none of "
                     f"this corpus's tasks ({names}): codebook features are off. Write a "
                     "codebook for your labels (codebook=mine) or use "
                     "experiment=text_classifier.")
    elif len(kept) < len(book):
        notes.append(f"codebook entries {sorted(set(book) - set(kept))} name no label of "
                     "this corpus; they are left out.")
    return kept, notes


@dataclass
class Fitter:
    """Everything needed to fit a model on part of a corpus.

    Parameters
    ----------
    features : FeaturesConfig
        The feature families.
    model : ModelConfig
        The classifier (a task's own values in ``model.task_defaults`` and
        ``model.per_task``; a ``per_task`` entry must name a task being fitted).
    codebook, cues, voice : mapping, optional
        The codebook (``task:label`` to terms), the style cue lists and the word lists of
        the sentence-level tone rule.
    thresholds : {"tune", "fixed"}
        Multi-label thresholds from inner cross-validation, or 0.5.
    inner_splits : int
        Folds of that inner cross-validation.
    ovr_n_jobs : int, optional
        Parallel one-vs-rest fits.
    seed : int
        Seed of the inner folds.
    """

    features: FeaturesConfig = field(default_factory=FeaturesConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    codebook: Mapping[str, Sequence[str]] | None = None
    cues: Mapping[str, Sequence[str]] | None = None
    voice: Mapping[str, Sequence[str]] | None = None
    thresholds: str = "tune"
    inner_splits: int = 3
    ovr_n_jobs: int | None = None
    seed: int = 0

    @classmethod
    def from_config(cls, cfg: TrainConfig) -> Fitter:
        """The fitter a config describes."""
        return cls(features=cfg.features, model=cfg.model, codebook=cfg.codebook,
                   cues=cfg.cues, voice=cfg.voice,
                   thresholds=str(Thresholds(cfg.eval.thresholds).value),
                   inner_splits=cfg.eval.inner_splits, ovr_n_jobs=cfg.eval.ovr_n_jobs,
                   seed=cfg.seed)

    def build_features(self, tasks: Sequence[TaskSpec], notes: list[str] | None = None):
        """The unfitted feature map for these tasks: codebook entries of other tasks are
        left out, and a family that names none of the tasks is switched off, with a note."""
        from dataclasses import replace

        notes = [] if notes is None else notes
        book, msgs = codebook_for(tasks, self.codebook)
        notes.extend(msgs)
        features = self.features
        if features.codebook.enabled and not book:
            features = replace(features, codebook=replace(features.codebook, enabled=False))
        labels = {f"{t.name}:{lab}" for t in tasks for lab in t.labels or []}
        if features.style.enabled and not {t.name for t in tasks} & set(features.style.tasks):
            notes.append(f"features.style describes the tone of {features.style.tasks}, no "
                         "task of this corpus: the style cues are off (list your task in "
                         "features.style.tasks to use them).")
            features = replace(features, style=replace(features.style, enabled=False))
        if features.voice.enabled and features.voice.label not in labels:
            notes.append(f"features.voice marks {features.voice.label!r}, which is no label of "
                         "this corpus: the sentence tone rule is off. Set features.voice.label "
                         "to one of yours, e.g. 'opinion:yes'.")
            features = replace(features, voice=replace(features.voice, enabled=False))
        if not features.enabled():
            raise FramingConfigError(
                "the families left name none of the tasks (codebook, voice) and no other "
                "family is on; enable one, e.g. features.word.enabled=true")
        return build_features(features, book, self.cues, self.voice)

    def _fit_task(self, task: TaskSpec, X, y, notes: list[str], names=None):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            params = self.model.params(task.name)
            if params.get("random_state") is None:
                params["random_state"] = self.seed
            if params["family"] == "prior":
                params["prior_columns"] = prior_columns(task, names, params["prior_family"],
                                                        notes)
            jobs = self.ovr_n_jobs if self.ovr_n_jobs != "auto" else None
            est = build_classifier(params, task.kind, jobs)
            if jobs in (None, 1):
                est.fit(X, y)
            else:
                # Threads, not processes: liblinear, the sparse products and naive Bayes
                # run outside the GIL, and no worker needs a copy of the matrix.
                from joblib import parallel_config

                with parallel_config(backend="threading"):
                    est.fit(X, y)
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
            thresholds: Mapping[str, np.ndarray] | None = None,
            notes: list[str] | None = None, ovr_n_jobs: int | None = None) -> FramingModel:
        """Fit features and every task's classifier; tune thresholds unless given.

        Returns a :class:`FramingModel` without a card (the caller adds one).
        ``ovr_n_jobs`` overrides the fitter's parallel one-vs-rest fits.
        """
        notes = [] if notes is None else notes
        self.model.check_tasks([t.name for t in tasks])
        if ovr_n_jobs is not None and ovr_n_jobs != self.ovr_n_jobs:
            from dataclasses import replace

            return replace(self, ovr_n_jobs=ovr_n_jobs).fit(texts, targets, tasks, groups,
                                                            thresholds, notes)
        if self.model.family == "auto":
            from framing.learn.choice import AutoFit

            return AutoFit(self, self.model.select).fit(texts, targets, tasks, groups,
                                                        thresholds, notes)
        features = self.build_features(tasks, notes)
        X = features.fit_transform(list(texts))
        if sp.issparse(X):
            # Canonical CSR (sorted, no duplicates): parallel one-vs-rest workers get it
            # read-only and must not need to sort it in place.
            X = X.tocsr()
            X.sum_duplicates()
        estimators, constant, thr = {}, {}, {}
        names = feature_names(features) if any(
            self.model.params(t.name)["family"] == "prior" for t in tasks) else None
        for t in tasks:
            y = targets[t.name]
            if constant_task(t, y, constant, notes):
                continue
            estimators[t.name] = self._fit_task(t, X, y, notes, names)
            if t.kind == "multilabel":
                if thresholds is not None and t.name in thresholds:
                    thr[t.name] = np.asarray(thresholds[t.name], dtype=float)
                elif self.thresholds == "tune":
                    thr[t.name] = self._inner_thresholds(t, X, y, groups, names, notes)
                else:
                    thr[t.name] = np.full(len(t.labels), 0.5)
        return FramingModel(list(tasks), features, estimators, thr, constant,
                            compiler=compile_or_none)

    def _inner_thresholds(self, task: TaskSpec, X, y, groups, names=None,
                          notes: list[str] | None = None) -> np.ndarray:
        """Thresholds from inner out-of-fold scores (features fitted on the outer part),
        kept only where they beat 0.5 on inner data they were not tuned on and do not
        turn a label on far beyond its prevalence (:func:`safe_thresholds`)."""
        n = X.shape[0]
        k = self.inner_splits
        if groups is not None and len(np.unique(groups)) >= 2:
            k = min(k, len(np.unique(groups)))
            splits = GroupKFold(n_splits=k).split(np.arange(n), groups=groups)
        else:
            splits = KFold(n_splits=min(k, n), shuffle=True,
                           random_state=self.seed).split(np.arange(n))
        scores = np.full(y.shape, np.nan)
        for tr, te in splits:
            est = self._fit_task(task, X[tr], y[tr], [], names)
            scores[te] = est.predict_proba(X[te])
        thr, msgs = safe_thresholds(y, scores, task.labels, groups, self.seed)
        if notes is not None:
            notes.extend(f"task {task.name!r}: {m}" for m in msgs)
        return thr


def prior_columns(task: TaskSpec, names, family: str, notes: list[str]):
    """Indices of the features named ``<family>__<task>:<label>`` for each label: per
    label (multilabel) or per class (single-label); a note where a task has none."""
    index = {str(n): i for i, n in enumerate(names)}
    cols = [[index[k]] if (k := f"{family}__{task.name}:{lab}") in index else []
            for lab in task.labels]
    if not any(cols):
        notes.append(f"task {task.name!r}: no {family} feature names its labels "
                     f"({family}__{task.name}:<label>); its prior model starts from no rule.")
    if task.kind == "multilabel":
        return cols
    return {lab: c for lab, c in zip(task.labels, cols, strict=True)}
