"""Training from Python: ``framing.fit(...)`` and :class:`Trainer`.

``framing-train`` (the Hydra command line) is a thin shell over :class:`Trainer`, so a
model fitted here is the model the command writes for the same config and data.

>>> import framing
>>> model, report = framing.fit(texts, labels)                 # doctest: +SKIP
>>> model, report = framing.fit(df, tasks=[{"name": "frame", "labels": ["a", "b"]}],
...                             group_column="outlet", overrides=["model.C=0.5"])  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from framing.config.schema import DataConfig, Kind, TaskConfig, TrainConfig
from framing.config.tree import compose, plain, settings, shared_corpus_note
from framing.core.errors import FramingConfigError, FramingDataError
from framing.core.metrics import key, summary_line
from framing.data.corpus import Corpus, corpus_from_records, load_corpus
from framing.evaluate import baselines as base
from framing.evaluate.evaluation import Evaluation, cross_validate, evaluate
from framing.evaluate.issues import check_method, issue_counts, label_issues
from framing.learn.fitting import Fitter
from framing.predict import card as cards
from framing.predict.model import FramingModel

log = logging.getLogger(__name__)


@dataclass
class Report:
    """What training measured.

    Attributes
    ----------
    evaluation : Evaluation
        Out-of-fold figures (or the given test split's), with baselines.
    test : Evaluation or None
        The final model on another corpus (``test=...``), if one was given.
    metrics : dict
        Every figure by name: the evaluation's, ``test/…`` and ``time/…``.
    objective : float
        ``eval.optimize``, or the mean macro-F1 of the tasks (what a sweep maximises).
    notes : list of str
        Warnings worth reading (constant folds, codebook entries left out, …).
    issues : list of dict or None
        The gold units whose label the out-of-fold model finds least likely, most suspect
        first (:func:`framing.evaluate.issues.label_issues`); their counts per label are in
        ``metrics`` as ``issues/<task>/<label>``. None when ``eval.label_issues=off``.
    """

    evaluation: Evaluation
    test: Evaluation | None
    metrics: dict[str, float]
    objective: float
    notes: list[str] = field(default_factory=list)
    tasks: list = field(default_factory=list)
    baselines: list[str] = field(default_factory=list)
    issues: list[dict[str, Any]] | None = None
    choice: dict[str, Any] | None = None
    curve: Any = None  # framing.evaluate.curve.LearningCurve with eval.learning_curve=true

    def summary(self) -> list[str]:
        """The lines ``framing-train`` prints: per task, headline figures and baselines;
        with ``model=auto``, what the final model chose."""
        lines = [summary_line(t, self.metrics, baselines=self.baselines) for t in self.tasks]
        if self.choice:
            from framing.learn.choice import summary

            lines += summary(self.choice)
        if self.curve is not None:
            lines += ["learning curve: " + line for line in self.curve.gain_lines()]
        if self.test is not None:
            lines += [summary_line(t, self.metrics, prefix="test/", baselines=self.baselines)
                      for t in self.tasks if key(t.name, "macro_f1", prefix="test")
                      in self.metrics]
        return lines

    def __repr__(self) -> str:
        return "<framing.Report " + "; ".join(self.summary()) + ">"


def objective(metrics: Mapping[str, float], task_names: Sequence[str],
              optimize: str | None = None) -> float:
    """The metric a sweep optimises: ``optimize`` or the mean macro-F1 of the tasks."""
    if optimize:
        if optimize not in metrics:
            raise FramingConfigError(f"eval.optimize={optimize!r} is not a metric of this run; "
                                     f"e.g. {', '.join(sorted(metrics)[:6])}.")
        return float(metrics[optimize])
    # NaN where a task's macro-F1 is undefined: none of its labels occurs or is predicted
    return float(np.mean([metrics.get(f"{t}/macro_f1", np.nan) for t in task_names]))


class Trainer:
    """Evaluate and fit the model a config describes.

    Parameters
    ----------
    cfg : TrainConfig or DictConfig
        A composed ``framing-train`` config (see :func:`framing.config.tree.compose`).
    """

    def __init__(self, cfg: Any):
        self.cfg: TrainConfig = settings(cfg)
        self.fitter = Fitter.from_config(self.cfg)
        self.issues_method = str(self.cfg.eval.label_issues)
        if self.issues_method != "off":
            check_method(self.issues_method)  # before any work: cleanlab is installed

    def _final_jobs(self, corpus: Corpus) -> int | None:
        """Parallel one-vs-rest fits (threads) for the final model and for folds that run
        one after another: ``eval.ovr_n_jobs``, or on ``auto`` one per core for a task of
        8 labels or more (threads share the matrix: no corpus is too small to pay)."""
        jobs = self.cfg.eval.ovr_n_jobs
        if jobs != "auto":
            return jobs
        labels = max((len(t.labels) for t in corpus.tasks if t.kind == "multilabel"),
                     default=0)
        import os

        cores = os.cpu_count() or 1
        return cores if labels >= 8 and cores > 1 else None

    def load_data(self) -> tuple[Corpus, Corpus | None]:
        """The training corpus and the other corpus to score (``test``), validated."""
        corpus = self._read(self.cfg.data, "data")
        if self.cfg.test is None:
            return corpus, None
        return corpus, self._read(self.cfg.test, "test")

    def _read(self, spec, setting: str) -> Corpus:
        """One corpus of the config; a shared corpus that is not there (the dev set, a
        benchmark) says where it was looked for and how to point at it."""
        try:
            return load_corpus(spec, training=setting == "data", setting=setting)
        except FramingDataError as e:
            note = (shared_corpus_note(spec.path, self.cfg.paths, setting)
                    if spec.path and str(getattr(spec.source, "value", spec.source)) != "hub"
                    else None)
            if note:
                raise FramingDataError(f"{e} {note}") from None
            raise

    def fit(self, corpus: Corpus, test: Corpus | None = None
            ) -> tuple[FramingModel, Report]:
        """Cross-validate, fit the final model, score ``test``; return (model, report).

        The final model is fitted on every training record (with ``eval.thresholds=tune``,
        multi-label thresholds tuned on the out-of-fold scores); with given train/test
        splits it is fitted on the training split only, so the test split stays unseen.
        """
        cfg, ev = self.cfg, self.cfg.eval
        cfg.model.check_tasks([t.name for t in corpus.tasks])  # before any fit
        log.info("corpus %s: %d records, tasks %s", corpus.name, len(corpus),
                 [t.name for t in corpus.tasks])
        t0 = time.perf_counter()
        # Tuned thresholds on a large corpus: no inner cross-validation per fold (it costs
        # several fits per label), thresholds cross-fitted on out-of-fold scores instead.
        crossfit = ev.thresholds == "tune" and len(corpus) > ev.inner_max_records
        evaluation = cross_validate(corpus, self.fitter, ev.strategy, ev.n_splits, cfg.seed,
                                    ev.n_boot, ev.baselines, ev.n_jobs, ev.max_logo_groups,
                                    crossfit, self._final_jobs(corpus))
        eval_seconds = time.perf_counter() - t0
        curve = None
        if ev.learning_curve:
            from framing.evaluate.curve import learning_curve

            t1 = time.perf_counter()
            part = corpus if corpus.split is None else corpus.subset(
                np.flatnonzero(corpus.split == "train"))
            curve = learning_curve(part, self.fitter, ev.curve_sizes, ev.curve_draws,
                                   ev.n_splits, cfg.seed)
            curve_seconds = time.perf_counter() - t1
            log.info("learning curve: %d sizes, %.1f s", len(curve.sizes), curve_seconds)
        issues, issues_seconds = None, None
        if self.issues_method != "off":
            t0 = time.perf_counter()
            issues = label_issues(corpus, evaluation, self.issues_method)
            issues_seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        notes = list(evaluation.notes)
        final = corpus
        if evaluation.model is not None:  # given splits: the fold's model is the final one
            final = corpus.subset(np.flatnonzero(corpus.split == "train"))
            model = evaluation.model
        else:
            thresholds = evaluation.thresholds if ev.thresholds == "tune" else None
            model = self.fitter.fit(final.texts, final.targets, corpus.tasks, final.groups,
                                    thresholds=thresholds, notes=notes,
                                    ovr_n_jobs=self._final_jobs(corpus))
        model.runtime  # noqa: B018  (compiled now: the model scores as its file will)
        fit_seconds = time.perf_counter() - t0
        metrics = {**evaluation.metrics, "time/eval_seconds": eval_seconds,
                   "time/fit_seconds": fit_seconds}
        choice = getattr(model, "choice", None)
        if choice:
            metrics["time/choice_seconds"] = float(choice["seconds"])
        if curve is not None:
            metrics["time/curve_seconds"] = curve_seconds
        if issues is not None:
            metrics.update(issue_counts(issues, corpus.tasks))
            metrics["time/issues_seconds"] = issues_seconds
        tested = None
        if test is not None:
            t0 = time.perf_counter()
            priors = {t.name: base.prior_of(t, final.targets[t.name]) for t in corpus.tasks}
            tested = evaluate(model, test, ev.n_boot, cfg.seed, ev.baselines, priors)
            metrics.update(tested.prefixed("test/"))
            metrics["time/test_seconds"] = time.perf_counter() - t0
        value = objective(metrics, [t.name for t in corpus.tasks], ev.optimize)
        metrics["objective"] = value
        notes = list(dict.fromkeys(notes + corpus.warnings))
        info = {"strategy": evaluation.strategy, "n_folds": evaluation.n_folds,
                "metrics": metrics, "notes": notes}
        if evaluation.crossfit:
            notes.append(f"{len(corpus)} records > eval.inner_max_records "
                         f"({ev.inner_max_records}): thresholds tuned on out-of-fold scores "
                         "(cross-fitted in evaluation), not by inner cross-validation.")
            info["notes"] = notes
        if choice:
            info["model_choice"] = choice
        if curve is not None:
            info["learning_curve"] = curve.to_dict()
            for t in corpus.tasks:
                for k, m in enumerate(curve.sizes):
                    metrics[f"curve/{t.name}/{m}"] = curve.point(t.name, k)[0]
                g = curve.gain.get(t.name)
                if g is not None:
                    metrics[f"curve/{t.name}/gain_{g['more']}_more"] = g["gain"]
        if tested is not None:
            info["test"] = {"name": test.name, "source": str(test.source),
                            "n_records": len(test), "digest": test.digest()}
        model.card = cards.build(corpus.info(), info, {k: list(map(float, v)) for k, v in
                                                       model._thr.items()}, plain(cfg))
        report = Report(evaluation, tested, metrics, value, notes, list(corpus.tasks),
                        list(ev.baselines), issues, choice, curve)
        return model, report


# -- the Python entry point ------------------------------------------------------------------
def _infer_task(name: str, values: Sequence[Any]) -> TaskConfig:
    first = next((v for v in values if v is not None), None)
    multi = isinstance(first, list | tuple | set | np.ndarray)
    return TaskConfig(name=name, column=name,
                      kind=Kind.multilabel if multi else Kind.multiclass, labels=None)


def _records(data: Any, targets: Any, text_column: str, groups: Any
             ) -> tuple[list[dict[str, Any]], list[TaskConfig] | None, str | None]:
    """(records, tasks inferred from ``targets`` or None, group column or None)."""
    if hasattr(data, "to_dict") and hasattr(data, "columns"):  # a pandas DataFrame
        if targets is not None:
            raise FramingDataError("with a DataFrame, name the label columns in tasks= "
                                   "instead of passing targets.")
        return data.to_dict("records"), None, None
    if hasattr(data, "tolist") and getattr(data, "ndim", 1) == 1:  # a Series, a 1-d array
        data = data.tolist()
    elif isinstance(data, Iterator):  # a generator: read once, in order
        data = list(data)
    if isinstance(data, str | bytes) or not isinstance(data, Sequence):
        raise FramingDataError(f"data must be a list of texts, a list of records (dicts) or "
                               f"a pandas DataFrame, got {type(data).__name__}.")
    if data and all(isinstance(r, Mapping) for r in data):
        return [dict(r) for r in data], None, None
    if targets is None:
        raise FramingDataError("give the labels: framing.fit(texts, labels), or "
                               "framing.fit(texts, {task: labels, ...}).")
    columns = dict(targets) if isinstance(targets, Mapping) else {"label": targets}
    # a Series of labels by position, whatever its index
    columns = {k: v.tolist() if hasattr(v, "tolist") and getattr(v, "ndim", 1) == 1 else v
               for k, v in columns.items()}
    for name, values in columns.items():
        if len(values) != len(data):
            raise FramingDataError(f"{len(data)} texts but {len(values)} labels for task "
                                   f"{name!r}; give one label (or list) per text.")
    tasks = [_infer_task(name, values) for name, values in columns.items()]
    rows = []
    for i, text in enumerate(data):
        row = {text_column: text, "id": str(i)}
        for name, values in columns.items():
            v = values[i]
            row[name] = list(v) if isinstance(v, tuple | set | np.ndarray) else v
        if groups is not None:
            row["_group"] = groups[i]
        rows.append(row)
    return rows, tasks, ("_group" if groups is not None else None)


def fit(data: Any, targets: Any = None, *, tasks: Sequence[Any] | None = None,
        text_column: str = "text", id_column: str | None = None,
        group_column: str | None = None, groups: Sequence[Any] | None = None,
        overrides: Sequence[str] = (), config: Any = None, test: Any = None,
        name: str = "records") -> tuple[FramingModel, Report]:
    """Train a model in Python: evaluate it out of fold and fit it on all the data.

    Parameters
    ----------
    data : list of str, list of dict, or pandas.DataFrame
        The texts (a list, tuple, pandas Series, 1-d array or generator), or records
        with a text column and label columns.
    targets : list or dict of str to list, optional
        With texts: their labels in the same order (one task called ``label``; a list
        per text makes it multi-label), or ``{task: labels}`` for several tasks; a
        pandas Series is read by position.
    tasks : list of dict or TaskSpec, optional
        ``{"name", "column", "kind", "labels"}`` per task; needed with records or a
        DataFrame, inferred from ``targets`` otherwise (labels sorted, with a warning).
    text_column, id_column, group_column : str, optional
        Columns of the records (the id column defaults to ``id`` when there is one); a
        group column (article, outlet) keeps each group out of the folds it is tested on.
    groups : list, optional
        With a list of texts: the group of each text.
    overrides : list of str
        Hydra overrides of the shipped config, as on the command line
        (``["experiment=text_classifier", "model.C=0.5"]``).
    config : TrainConfig or DictConfig, optional
        A composed config to use instead of composing one (its data part is replaced).
    test : DataConfig, mapping or Corpus, optional
        Another labelled corpus to score the final model on.
    name : str
        The corpus's name in the model card.

    Returns
    -------
    (FramingModel, Report)
        The model, fitted on all records, and what the evaluation measured.
    """
    rows, inferred, inferred_group = _records(data, targets, text_column, groups)
    if tasks is None and inferred is None:
        raise FramingDataError("name the tasks: tasks=[{'name': 'frame', 'labels': [...]}] "
                               "(the column defaults to the task's name).")
    task_cfgs = inferred if tasks is None else [
        t if isinstance(t, TaskConfig) else TaskConfig(
            name=_get(t, "name"), column=_get(t, "column"),
            kind=Kind(str(_get(t, "kind") or "multiclass")),
            labels=None if _get(t, "labels") is None else list(_get(t, "labels")),
            separator=_get(t, "separator")) for t in tasks]
    cfg = settings(config if config is not None else compose(list(overrides)))
    has_id = inferred is not None or bool(rows and "id" in rows[0])
    spec = DataConfig(path=name, name=name, text_column=text_column,
                      id_column=id_column if id_column is not None else (
                          "id" if has_id else None),
                      group_column=group_column or inferred_group, tasks=task_cfgs)
    cfg = replace(cfg, data=spec)
    corpus = corpus_from_records(rows, spec, where=name)
    if test is not None and not isinstance(test, Corpus):
        test = load_corpus(test, training=False)
    return Trainer(cfg).fit(corpus, test)


def _get(t: Any, k: str) -> Any:
    return t.get(k) if isinstance(t, Mapping) else getattr(t, k, None)
