"""Load a trained bundle and label text: the part of framing other code calls.

>>> import framing
>>> model = framing.load("models/framing.joblib")          # doctest: +SKIP
>>> model.predict("Iran and Pakistan signed eight agreements on trade.")  # doctest: +SKIP
{'theme': ['economy', 'diplomacy'], 'tone': 'reportorial', 'scores': {...}}

Only scikit-learn, joblib, numpy and scipy are needed: nothing of the training side
(Hydra, MLflow, datasets) is imported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, overload

import numpy as np

from framing.bundle import read_bundle
from framing.corpus import Segmenter


def _as_texts(texts: str | Sequence[str], allow_empty: bool = True) -> tuple[list[str], bool]:
    """Validate input: a string or a list of strings; (texts, was_single)."""
    if isinstance(texts, str):
        single, items = True, [texts]
    elif texts is None:
        raise ValueError("expected a string or a list of strings, got None")
    elif isinstance(texts, bytes):
        raise ValueError("expected str, got bytes: decode the text first (e.g. .decode('utf-8'))")
    else:
        try:
            items = list(texts)
        except TypeError:
            raise ValueError(f"expected a string or a list of strings, got "
                             f"{type(texts).__name__}") from None
        single = False
    for i, t in enumerate(items):
        if not isinstance(t, str):
            raise ValueError(f"text {i} is {type(t).__name__}, not str; pass strings only")
        if not allow_empty and not t.strip():
            raise ValueError(f"text {i} is empty")
    return items, single


class Predictor:
    """A trained framing model: tasks, labels, thresholds and its model card.

    Use :func:`load` to get one. Results are plain Python (str, list, dict, float).

    Attributes
    ----------
    tasks : list of str
        Task names, e.g. ``["theme", "tone"]``.
    labels : dict of str to list of str
        Label names per task, in score order.
    kinds : dict of str to str
        ``"multilabel"`` or ``"multiclass"`` per task.
    thresholds : dict of str to dict of str to float
        Decision threshold per label of each multi-label task.
    card : dict
        The model card: versions, data digest, config, evaluation figures, run id.
    """

    def __init__(self, bundle: dict[str, Any]):
        self._bundle = bundle
        self._features = bundle["features"]
        self._models = bundle["models"]
        self._constant = bundle.get("constant", {})
        self.tasks: list[str] = [t["name"] for t in bundle["tasks"]]
        self.labels: dict[str, list[str]] = {t["name"]: list(t["labels"])
                                             for t in bundle["tasks"]}
        self.kinds: dict[str, str] = {t["name"]: t["kind"] for t in bundle["tasks"]}
        self._thr = {k: np.asarray(v, dtype=float) for k, v in bundle["thresholds"].items()}
        self.thresholds = {k: dict(zip(self.labels[k], map(float, v), strict=True))
                           for k, v in self._thr.items()}
        self.card: dict[str, Any] = bundle.get("card", {})
        self._segmenter = Segmenter(**bundle.get("segmenter", {}))

    def __repr__(self) -> str:
        tasks = ", ".join(f"{t}: {len(self.labels[t])} labels" for t in self.tasks)
        return f"<framing.Predictor {tasks}>"

    # -- scores --------------------------------------------------------------------------
    def _scores(self, texts: list[str], X=None) -> dict[str, np.ndarray]:
        """Per-task scores; ``X`` is the texts' features when already computed."""
        X = self._features.transform(texts) if X is None else X
        out = {}
        for t in self.tasks:
            labels = self.labels[t]
            if t in self._constant:
                s = np.zeros((len(texts), len(labels)))
                s[:, labels.index(self._constant[t])] = 1.0
            elif self.kinds[t] == "multilabel":
                s = np.asarray(self._models[t].predict_proba(X), dtype=float)
            else:
                m = self._models[t]
                p = m.predict_proba(X)
                s = np.zeros((len(texts), len(labels)))
                for j, c in enumerate(m.classes_):
                    s[:, labels.index(c)] = p[:, j]
            out[t] = s
        return out

    def predict_proba(self, texts: str | Sequence[str]) -> dict[str, np.ndarray]:
        """Per task, an array (n_texts, n_labels) of scores in :attr:`labels` order."""
        items, _ = _as_texts(texts)
        if not items:
            return {t: np.zeros((0, len(self.labels[t]))) for t in self.tasks}
        return self._scores(items)

    def _result(self, i: int, scores: dict[str, np.ndarray]) -> dict[str, Any]:
        res: dict[str, Any] = {}
        for t in self.tasks:
            s = scores[t][i]
            if self.kinds[t] == "multilabel":
                res[t] = [lab for lab, v, th in zip(self.labels[t], s, self._thr[t],
                                                    strict=True) if v >= th]
            else:
                res[t] = self.labels[t][int(np.argmax(s))]
        res["scores"] = {t: {lab: round(float(v), 6) for lab, v in zip(self.labels[t],
                                                                        scores[t][i],
                                                                        strict=True)}
                         for t in self.tasks}
        return res

    def _empty(self) -> dict[str, Any]:
        res: dict[str, Any] = {t: ([] if self.kinds[t] == "multilabel" else None)
                               for t in self.tasks}
        res["scores"] = {t: {} for t in self.tasks}
        return res

    @overload
    def predict(self, texts: str) -> dict[str, Any]: ...

    @overload
    def predict(self, texts: Sequence[str]) -> list[dict[str, Any]]: ...

    def predict(self, texts):
        """Labels and scores for one text (a dict) or a list of texts (a list of dicts).

        A multi-label task gives the list of labels whose score reaches its threshold, a
        single-label task the label with the highest score. An empty or blank string gets
        the empty result: no labels (``[]`` or ``None``) and empty scores.

        Raises
        ------
        ValueError
            If the input is not a string or a sequence of strings.
        """
        items, single = _as_texts(texts)
        keep = [i for i, t in enumerate(items) if t.strip()]
        scores = self._scores([items[i] for i in keep]) if keep else {}
        pos = {i: k for k, i in enumerate(keep)}
        out = [self._result(pos[i], scores) if i in pos else self._empty()
               for i in range(len(items))]
        return out[0] if single else out

    # -- explanations --------------------------------------------------------------------
    def feature_names(self) -> np.ndarray:
        """Names of the model's input features (n-grams, codebook labels, style cues).

        Hashing features have no names: they are called ``hash_<column>``.
        """
        from framing.features import feature_names  # scikit-learn: only when asked

        return feature_names(self._features)

    def explain(self, text: str, task: str, label: str | None = None, k: int = 10
                ) -> dict[str, Any]:
        """The features that pushed one decision, with signed contributions.

        Parameters
        ----------
        text : str
            One paragraph.
        task : str
            A task name from :attr:`tasks`.
        label : str, optional
            The label to explain; defaults to the predicted one (for a multi-label task,
            the highest-scoring label).
        k : int, default=10
            How many features to return, largest absolute contribution first.

        Returns
        -------
        dict
            ``{"task", "label", "score", "intercept", "contributions": [{"feature",
            "contribution"}, …]}``; a contribution is the feature's value times its
            weight in the linear score of ``label``.
        """
        items, _ = _as_texts(text, allow_empty=False)
        if len(items) != 1:
            raise ValueError("explain takes one text")
        if task not in self.tasks:
            raise ValueError(f"unknown task {task!r}; tasks are {self.tasks}")
        labels = self.labels[task]
        x = self._features.transform(items)
        scores = self._scores(items, x)[task][0]
        if label is None:
            label = labels[int(np.argmax(scores))]
        if label not in labels:
            raise ValueError(f"unknown label {label!r} of task {task!r}; labels are {labels}")
        j = labels.index(label)
        base = {"task": task, "label": label, "score": float(scores[j])}
        if task in self._constant:
            return {**base, "intercept": None, "contributions": [],
                    "note": "constant prediction: the training data had one class"}
        model = self._models[task]
        sign = 1.0
        if self.kinds[task] == "multilabel":
            est = model.estimators_[j]
            if not hasattr(est, "coef_"):
                return {**base, "intercept": None, "contributions": [],
                        "note": "constant prediction: the label was constant in training"}
            row, b = _contributions(est, x)[0], float(np.ravel(est.intercept_)[0])
        else:
            contrib = _contributions(model, x)
            classes = list(model.classes_)
            if contrib.shape[0] == 1:  # binary: one score for classes_[1]
                sign = 1.0 if classes.index(label) == 1 else -1.0
                row, b = sign * contrib[0], sign * float(model.intercept_[0])
            else:
                row, b = contrib[classes.index(label)], float(model.intercept_[classes.index(
                    label)])
        names = self.feature_names()
        nz = np.flatnonzero(row)
        top = nz[np.argsort(-np.abs(row[nz]), kind="stable")][:k]
        return {**base, "intercept": b,
                "contributions": [{"feature": str(names[i]), "contribution": float(row[i])}
                                  for i in top]}

    # -- articles ------------------------------------------------------------------------
    def predict_article(self, text: str, article: str = "article") -> dict[str, Any]:
        """Segment a raw article, label each paragraph and profile the whole.

        Returns
        -------
        dict
            ``{"article", "n_paragraphs", "paragraphs": [{"id", "paragraph", "text",
            <task>: …, "scores"}, …], "profile": {<task>: {"share": {label: fraction},
            "mean_score": {label: mean}}}}``. For a multi-label task ``share`` is the
            fraction of paragraphs carrying each label; for a single-label task, the
            fraction predicted as each label.
        """
        items, _ = _as_texts(text)
        paras = self._segmenter.segment(items[0], article)
        results = self.predict([p.text for p in paras]) if paras else []
        out = [{"id": p.id, "paragraph": p.paragraph, "text": p.text, **r}
               for p, r in zip(paras, results, strict=True)]
        profile: dict[str, Any] = {}
        n = len(out)
        for t in self.tasks:
            share, mean = {}, {}
            for lab in self.labels[t]:
                hits = sum((lab in r[t]) if self.kinds[t] == "multilabel" else (r[t] == lab)
                           for r in out)
                share[lab] = round(hits / n, 6) if n else 0.0
                mean[lab] = round(float(np.mean([r["scores"][t][lab] for r in out])), 6) \
                    if n else 0.0
            profile[t] = {"share": share, "mean_score": mean}
        return {"article": article, "n_paragraphs": n, "paragraphs": out, "profile": profile}

    def pipeline(self, task: str):
        """A scikit-learn ``Pipeline`` (features, classifier) for one task."""
        from sklearn.pipeline import Pipeline

        return Pipeline([("features", self._features), ("model", self._models[task])])


def _contributions(est, x) -> np.ndarray:
    """Per-feature terms of a linear model's scores for one row: (n_score_rows, n_features)."""
    if hasattr(est, "contributions"):
        return est.contributions(x)
    return np.asarray(x.multiply(np.atleast_2d(est.coef_)).todense())


def load(path: str | Path, verify: bool = True, on_version_mismatch: str = "warn"
         ) -> Predictor:
    """Load a predictor bundle written by ``framing-train``.

    Parameters
    ----------
    path : str or Path
        The ``.joblib`` bundle.
    verify : bool, default=True
        Check the file against ``<path>.sha256`` when that file exists.
    on_version_mismatch : {"warn", "error", "ignore"}, default="warn"
        What to do when the bundle was made with another scikit-learn version.

    Raises
    ------
    framing.ModelLoadError
        Missing, truncated, tampered with, foreign or wrong-version bundle.

    Notes
    -----
    A joblib file runs code when it is loaded: load only files you trust.
    """
    return Predictor(read_bundle(path, verify=verify, on_version_mismatch=on_version_mismatch))
