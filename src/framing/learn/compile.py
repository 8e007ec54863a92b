"""Compiling a fitted model into its runtime.

A :class:`~framing.predict.model.FramingModel` holds scikit-learn objects: a feature union and
one estimator per task. :func:`compile_model` turns them into a
:class:`~framing.predict.runtime.Runtime` — n-gram tables, word lists and each label's weight
vector — which scores texts with numpy alone and is saved in the model file beside
them. A part it cannot reproduce (an estimator whose probabilities are not a function
of one linear score, a hashing vectoriser, another model's scores as features) raises
:class:`Unsupported`; such a model is saved without a runtime and scores through
scikit-learn.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from framing.predict.runtime import Ngrams, Runtime


class Unsupported(Exception):
    """A model part the fast path does not compile."""


def _part(est):
    """The runtime form of one family of a feature union, or Unsupported."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import MaxAbsScaler

    from framing.learn.features import CodebookLexicon, StyleCues, Tfidf, VoiceFeatures

    if isinstance(est, TfidfVectorizer):
        settings = Tfidf.runtime_settings(est)
        if (est.input != "content" or est.preprocessor is not None
                or est.tokenizer is not None or est.stop_words is not None
                or est.strip_accents is not None or est.norm not in ("l2", "l1", None)
                or settings["analyzer"] not in ("word", "char", "char_wb")
                or np.dtype(est.dtype) not in (np.float64, np.float32)):
            raise Unsupported("tf-idf with a preprocessor, stop words or another norm")
        return Ngrams.from_vocabulary(est.vocabulary_, settings,
                                      est.idf_ if est.use_idf else None)
    if isinstance(est, CodebookLexicon):
        return est.lexicon()
    if isinstance(est, VoiceFeatures):
        scorer = est.scorer_
        if scorer is not None and scorer.runtime is None:
            raise Unsupported("a scorer model without a runtime")
        return est.rule(scorer.runtime if scorer is not None else None)
    if (isinstance(est, Pipeline) and len(est.steps) == 2 and isinstance(est[0], StyleCues)
            and isinstance(est[1], MaxAbsScaler)):
        return est[0].runtime_cues(est[1].scale_)
    raise Unsupported(type(est).__name__)


def _linear(est) -> tuple[np.ndarray, np.ndarray, str]:
    """(weights (rows, n_features), intercepts, how scores become probabilities) of an
    estimator whose probabilities are a function of linear scores; else Unsupported."""
    from sklearn.linear_model import LogisticRegression, RidgeClassifier

    from framing.learn.estimators import AveragedLinear, LinearTextClassifier, PriorLinear

    if isinstance(est, PriorLinear):
        return est.coef_, est.intercept_, "sigmoid" if est.coef_.shape[0] == 1 else "ovr"
    if isinstance(est, AveragedLinear):
        members = getattr(est, "estimators_", None) or []
        if getattr(est, "linear_", None) is False or any(
                e.family == "linear_svm" and not e.nb_weight and e.calibration_cv
                for e in members):
            raise Unsupported("a calibrated member")
        if any(e.nb_binarize for e in members):
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


def compile_model(model) -> Runtime:
    """A fitted :class:`~framing.predict.model.FramingModel` as a
    :class:`~framing.predict.runtime.Runtime`.

    Raises
    ------
    Unsupported
        If a feature family or a task's estimator is not one the runtime reproduces.
    """
    union = model.features
    if not hasattr(union, "transformer_list"):
        raise Unsupported("a feature map that is not a union")
    weights = union.transformer_weights or {}
    parts = []
    for name, est in union.transformer_list:
        part = _part(est)
        if part.width != len(_names(est)):
            raise Unsupported(f"family {name!r}: its width differs from the union's")
        parts.append((part, float(weights.get(name, 1.0))))
    heads: dict[str, Any] = {}
    for t in model.specs:
        if t.name in model.constant:
            row = np.zeros(len(t.labels))
            row[t.labels.index(model.constant[t.name])] = 1.0
            heads[t.name] = ("constant", row)
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
                ws.append(w)  # the estimator's own array: the model file stores it once
                bs.append(b[0])
            heads[t.name] = ("labels", ws, np.asarray(bs, dtype=np.float64))
            continue
        w, b, how = _linear(est)
        order = [t.labels.index(str(c)) for c in est.classes_]
        heads[t.name] = (how, w, np.asarray(b, dtype=np.float64), order)
    return Runtime([(t.name, t.kind, t.labels) for t in model.specs], parts, heads)


def _names(est) -> list:
    """Output columns of one fitted family (hashing: its width)."""
    try:
        return list(est.get_feature_names_out())
    except (AttributeError, NotImplementedError, ValueError):
        from sklearn.pipeline import Pipeline

        width = est[0].n_features if isinstance(est, Pipeline) else est.n_features
        return [None] * width


def compile_or_none(model) -> Runtime | None:
    """:func:`compile_model`, or None where the model has parts the runtime does not
    reproduce (it then scores through scikit-learn). The compiler a trainer hands to the
    models it makes (``FramingModel(..., compiler=compile_or_none)``)."""
    try:
        return compile_model(model)
    except Unsupported:
        return None
