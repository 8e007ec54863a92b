"""One text at a time, without scikit-learn's per-call machinery.

Labelling a single paragraph through the feature union and the estimators spends most
of its time in input validation, parallel-configuration lookups and sparse-matrix
construction. :class:`FastScorer` compiles a fitted model once into plain lookups — word
or character n-gram to column and IDF weight, the term indexes, the scales, and each
label's weight vector — and scores one text with a few dictionary lookups and a dot
product. Scores equal the batch path's to 1e-9 (a test holds them so); a part it cannot
compile (an estimator whose probabilities are not a function of one linear score, say)
raises :class:`Unsupported`, and the model keeps using the batch path.

numpy only, with framing's own feature classes.
"""

from __future__ import annotations

import operator
from collections import Counter
from functools import reduce
from typing import Any

import numpy as np


class Unsupported(Exception):
    """A model part the fast path does not compile."""


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


class _Tfidf:
    """A fitted ``TfidfVectorizer`` as lookups: n-grams to columns, IDF, normalisation."""

    def __init__(self, vec):
        self.dtype = np.dtype(getattr(vec, "dtype", np.float64))
        if vec.norm not in ("l2", None) or self.dtype not in (np.float64, np.float32):
            raise Unsupported("tf-idf with another norm or dtype")
        self.analyze = vec.build_analyzer()
        self.vocab = vec.vocabulary_
        self.binary = vec.binary
        self.sublinear = vec.sublinear_tf
        self.idf = vec.idf_ if vec.use_idf else None
        self.norm = vec.norm

    def __call__(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        counts = Counter(j for j in map(self.vocab.get, self.analyze(text)) if j is not None)
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        val = np.fromiter(counts.values(), dtype=self.dtype, count=len(counts))
        if self.binary:
            val[:] = 1.0
        if self.sublinear:
            val = np.log(val) + self.dtype.type(1.0)
        if self.idf is not None:
            val = val * self.idf[idx]
        if self.norm == "l2" and self.dtype == np.float64:
            norm = np.sqrt(np.dot(val, val))
            if norm > 0:
                val = val / norm
        elif self.norm == "l2":
            # as the batch path: float32 squares added in float64, in column order (a
            # float32 result is sensitive to the last bit of the norm)
            square = (val * val)[np.argsort(idx)].astype(np.float64).tolist()
            norm = np.sqrt(reduce(operator.add, square, 0.0))
            if norm > 0:
                val = (val / norm).astype(self.dtype)
        return idx, val.astype(np.float64)


class _Dense:
    """A text-in transformer that makes one dense row (codebook, style, voice), with an
    optional scale (``MaxAbsScaler``)."""

    def __init__(self, row, scale=None):
        self.row = row
        self.scale = scale

    def __call__(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        val = np.asarray(self.row(text), dtype=np.float64)
        if self.scale is not None:
            val = val / self.scale
        idx = np.flatnonzero(val)
        return idx, val[idx]


class _Generic:
    """Any other transformer: its own ``transform`` on one text (correct, not fast)."""

    def __init__(self, est):
        self.est = est

    def __call__(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        row = self.est.transform([text])
        row = row.tocsr() if hasattr(row, "tocsr") else np.asarray(row)
        if hasattr(row, "indices"):
            return row.indices.astype(np.int64), row.data.astype(np.float64)
        val = np.ravel(row)
        idx = np.flatnonzero(val)
        return idx, val[idx]


def _part(est):
    """The compiled form of one family of a feature union."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import MaxAbsScaler

    from framing.features import CodebookLexicon, StyleCues, VoiceFeatures

    if isinstance(est, TfidfVectorizer):
        return _Tfidf(est)
    if isinstance(est, CodebookLexicon):
        return _Dense(est.row)
    if isinstance(est, VoiceFeatures):
        return _Dense(est.row)
    if (isinstance(est, Pipeline) and len(est.steps) == 2 and isinstance(est[0], StyleCues)
            and isinstance(est[1], MaxAbsScaler)):
        return _Dense(est[0].row, est[1].scale_)
    return _Generic(est)


def _linear(est) -> tuple[np.ndarray, np.ndarray, str]:
    """(weights (rows, n_features), intercepts, how scores become probabilities) of an
    estimator whose probabilities are a function of linear scores; else Unsupported."""
    from sklearn.linear_model import LogisticRegression, RidgeClassifier

    from framing.models import AveragedLinear, LinearTextClassifier, PriorLinear

    if isinstance(est, PriorLinear):
        return est.coef_, est.intercept_, "sigmoid" if est.coef_.shape[0] == 1 else "ovr"
    if isinstance(est, AveragedLinear):
        if any(e.family == "linear_svm" and not e.nb_weight and e.calibration_cv
               for e in est.estimators_):
            raise Unsupported("a calibrated member")
        if any(e.nb_binarize for e in est.estimators_):
            raise Unsupported("binarised features")
        return np.atleast_2d(est.coef_), np.atleast_1d(est.intercept_), (
            "sigmoid" if np.atleast_2d(est.coef_).shape[0] == 1 else "softmax")
    if isinstance(est, LinearTextClassifier):
        if est.nb_binarize:
            raise Unsupported("binarised features")
        coef, b = np.atleast_2d(est.coef_), np.atleast_1d(est.intercept_)
        binary = coef.shape[0] == 1
        if est.nb_weight or isinstance(est.model_, RidgeClassifier):
            return coef, b, "sigmoid" if binary else "softmax"
        if isinstance(est.model_, LogisticRegression):
            return coef, b, "sigmoid" if binary else "softmax"
        raise Unsupported(f"probabilities of {type(est.model_).__name__}")
    raise Unsupported(type(est).__name__)


class FastScorer:
    """A fitted :class:`~framing.model.FramingModel` compiled for one text at a time.

    Parameters
    ----------
    model : FramingModel
        The model; its feature map must be a ``FeatureUnion`` (framing's own).

    Raises
    ------
    Unsupported
        If a task's estimator is not one whose probabilities follow from linear scores.
    """

    def __init__(self, model):
        union = model.features
        if not hasattr(union, "transformer_list"):
            raise Unsupported("a feature map that is not a union")
        weights = union.transformer_weights or {}
        self.parts, offset = [], 0
        for name, est in union.transformer_list:
            width = len(_names(est))
            self.parts.append((_part(est), offset, float(weights.get(name, 1.0))))
            offset += width
        self.n_features = offset
        self.heads: list[tuple[str, Any]] = []
        for t in model.specs:
            if t.name in model.constant:
                row = np.zeros(len(t.labels))
                row[t.labels.index(model.constant[t.name])] = 1.0
                self.heads.append((t.name, ("constant", row)))
                continue
            est = model.estimators[t.name]
            if t.kind == "multilabel":
                subs = getattr(est, "estimators_", None)
                if subs is None:
                    raise Unsupported("a multi-label model without one estimator per label")
                ws, bs = [], []
                for sub in subs:
                    w, b, how = _linear(sub)
                    if how != "sigmoid":
                        raise Unsupported("a multi-label member that is not binary")
                    ws.append(w[0])
                    bs.append(b[0])
                self.heads.append((t.name, ("labels", np.vstack(ws), np.asarray(bs))))
                continue
            w, b, how = _linear(est)
            order = [t.labels.index(str(c)) for c in est.classes_]
            self.heads.append((t.name, (how, w, b, order, len(t.labels))))

    def features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The text's nonzero feature columns and values."""
        idx, val = [], []
        for part, offset, weight in self.parts:
            i, v = part(text)
            idx.append(i + offset)
            val.append(v * weight if weight != 1.0 else v)
        return np.concatenate(idx), np.concatenate(val)

    def scores(self, text: str) -> dict[str, np.ndarray]:
        """Per task, the scores of one text in label order (as ``FramingModel.scores``)."""
        idx, val = self.features(text)
        out = {}
        for name, head in self.heads:
            kind = head[0]
            if kind == "constant":
                out[name] = head[1].copy()
            elif kind == "labels":
                out[name] = _sigmoid(head[1][:, idx] @ val + head[2])
            else:
                _, w, b, order, k = head
                d = w[:, idx] @ val + b
                if kind == "sigmoid":
                    p1 = _sigmoid(d[0])
                    p = np.array([1.0 - p1, p1])
                elif kind == "ovr":
                    p = _sigmoid(d)
                    p = p / p.sum()
                else:
                    e = np.exp(d - d.max())
                    p = e / e.sum()
                s = np.zeros(k)
                s[order] = p
                out[name] = s
        return out


def _names(est) -> list:
    """Output columns of one fitted family (hashing: its width)."""
    try:
        return list(est.get_feature_names_out())
    except (AttributeError, NotImplementedError, ValueError):
        from sklearn.pipeline import Pipeline

        width = est[0].n_features if isinstance(est, Pipeline) else est.n_features
        return [None] * width
