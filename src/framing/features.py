"""Feature families for paragraph text, each a scikit-learn transformer.

* word and char TF-IDF n-grams, and hashing features for corpora too large for a
  vocabulary;
* :class:`CodebookLexicon`: per-label term matches from a researcher-written codebook;
* :class:`StyleCues`: tone cues (attribution, quotation, numbers, evaluative wording, …)
  as rates per token.

:func:`build_features` joins the families switched on in the config. Only scikit-learn,
numpy and scipy are imported here: a saved predictor unpickles these classes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import fields, is_dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import MaxAbsScaler
from sklearn.utils.validation import check_is_fitted

_TOKEN = re.compile(r"\w+(?:[’']\w+)*")


def _check_texts(X) -> list[str]:
    """Accept a sequence of strings (or a 1-column array of them)."""
    if isinstance(X, str):
        raise ValueError("expected a sequence of texts, got a single string; wrap it in a list")
    arr = np.asarray(X, dtype=object)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"expected a 1-d sequence of texts, got shape {arr.shape}")
    bad = [i for i, x in enumerate(arr) if not isinstance(x, str)]
    if bad:
        raise ValueError(f"text {bad[0]} is {type(arr[bad[0]]).__name__}, not str")
    return list(arr)


def _term_pattern(terms: Sequence[str]) -> re.Pattern | None:
    """One regex for a term list; a trailing ``*`` matches any word ending."""
    parts = []
    for term in terms:
        term = str(term).strip().lower()
        if not term:
            continue
        stem = term.endswith("*")
        words = [re.escape(w) for w in term.rstrip("*").split()]
        body = r"[\s\-]+".join(words)
        parts.append(r"\b" + body + (r"\w*" if stem else r"\b"))
    if not parts:
        return None
    # Longest first, so that "gas pipeline" wins over "gas" and counts once.
    parts.sort(key=len, reverse=True)
    return re.compile("|".join(parts), re.IGNORECASE)


class _TextTransformer(TransformerMixin, BaseEstimator):
    """Shared tags and validation of the text-in transformers below."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.requires_fit = True
        return tags

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns."""
        check_is_fitted(self, "feature_names_")
        return np.asarray(self.feature_names_, dtype=object)


class CodebookLexicon(_TextTransformer):
    """Per-label counts of codebook terms, ``log1p``-damped.

    Parameters
    ----------
    codebook : mapping of str to list of str, optional
        Label name (``"theme:security"``, say) to the terms that signal it. A term may be
        several words; a trailing ``*`` matches any ending (``"terror*"``).
    binary : bool, default=False
        Emit 1 for any match instead of ``log1p(count)``.
    """

    def __init__(self, codebook: Mapping[str, Sequence[str]] | None = None, binary: bool = False):
        self.codebook = codebook
        self.binary = binary

    def fit(self, X, y=None):
        """Compile the term patterns; ``y`` is ignored."""
        _check_texts(X)
        book = dict(self.codebook or {})
        self.feature_names_ = [str(k) for k in book]
        self.patterns_ = [_term_pattern(list(v or [])) for v in book.values()]
        self.n_features_out_ = len(self.feature_names_)
        return self

    def transform(self, X):
        """One row per text, one column per codebook label."""
        check_is_fitted(self, "patterns_")
        texts = _check_texts(X)
        out = np.zeros((len(texts), len(self.patterns_)))
        for i, t in enumerate(texts):
            for j, p in enumerate(self.patterns_):
                if p is not None:
                    out[i, j] = len(p.findall(t))
        out = (out > 0).astype(float) if self.binary else np.log1p(out)
        return sp.csr_matrix(out)

    def matches(self, text: str) -> dict[str, list[str]]:
        """The terms found in one text, per label (for explanations)."""
        check_is_fitted(self, "patterns_")
        return {n: p.findall(text) for n, p in zip(self.feature_names_, self.patterns_,
                                                    strict=True) if p is not None
                and p.search(text)}


class StyleCues(_TextTransformer):
    """Tone cues as rates per token.

    Parameters
    ----------
    cues : mapping of str to list of str, optional
        Cue name to its word list (attribution verbs, evaluative words, modals, …); the
        shipped lists are in ``conf/cues/default.yaml``. None: no word-list cues.
    quotes, numbers, dates, length : bool, default=True
        Add the rate of quotation marks, of numbers, of date words, and ``log1p`` of the
        token count.
    """

    _MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
               "september", "october", "november", "december", "monday", "tuesday",
               "wednesday", "thursday", "friday", "saturday", "sunday")

    def __init__(self, cues: Mapping[str, Sequence[str]] | None = None, quotes: bool = True,
                 numbers: bool = True, dates: bool = True, length: bool = True):
        self.cues = cues
        self.quotes = quotes
        self.numbers = numbers
        self.dates = dates
        self.length = length

    def fit(self, X, y=None):
        """Compile the cue patterns; ``y`` is ignored."""
        _check_texts(X)
        cues = dict(self.cues or {})
        self.patterns_ = [_term_pattern(list(v or [])) for v in cues.values()]
        names = [f"style:{k}" for k in cues]
        names += [f"style:{k}" for k, on in (("quotes", self.quotes), ("numbers", self.numbers),
                                             ("dates", self.dates), ("length", self.length))
                  if on]
        self.feature_names_ = names
        self._dates = _term_pattern(self._MONTHS)
        self.n_features_out_ = len(names)
        return self

    def transform(self, X):
        """One row per text, one column per cue."""
        check_is_fitted(self, "patterns_")
        texts = _check_texts(X)
        rows = []
        for t in texts:
            n = max(len(_TOKEN.findall(t)), 1)
            row = [len(p.findall(t)) / n if p is not None else 0.0 for p in self.patterns_]
            if self.quotes:
                row.append(len(re.findall(r"[\"“”«»]", t)) / n)
            if self.numbers:
                row.append(len(re.findall(r"\b\d[\d,.:]*\b", t)) / n)
            if self.dates:
                row.append(len(self._dates.findall(t)) / n)
            if self.length:
                row.append(np.log1p(n))
            rows.append(row)
        return sp.csr_matrix(np.asarray(rows, dtype=float).reshape(len(texts), -1))


def _tuple(v: Any) -> Any:
    """Config lists become tuples (scikit-learn refuses lists for ngram_range)."""
    return tuple(v) if isinstance(v, list | tuple) else v


def _families(cfg: Any) -> list[tuple[str, dict[str, Any]]]:
    """(family, its settings as a plain dict) from a FeaturesConfig or a mapping."""
    if is_dataclass(cfg):
        return [(f.name, dict(vars(getattr(cfg, f.name)))) for f in fields(cfg)]
    return [(name, dict(sub or {})) for name, sub in dict(cfg).items()]


def build_features(cfg: Any, codebook: Mapping[str, Sequence[str]] | None = None,
                   cues: Mapping[str, Sequence[str]] | None = None) -> FeatureUnion:
    """Join the feature families switched on in ``cfg`` into one ``FeatureUnion``.

    Parameters
    ----------
    cfg : FeaturesConfig or mapping
        One entry per family (``word``, ``char``, ``hashing``, ``codebook``, ``style``),
        each with ``enabled``, ``weight`` and the transformer's parameters.
    codebook : mapping, optional
        Label to terms, used by the ``codebook`` family.
    cues : mapping, optional
        Cue name to words, used by the ``style`` family.
    """
    parts, weights = [], {}
    for name, sub in _families(cfg):
        if not sub.pop("enabled", True):
            continue
        weight = float(sub.pop("weight", 1.0))
        params = {k: _tuple(v) if k.endswith("_range") else v for k, v in sub.items()}
        if name in ("word", "char"):
            params.setdefault("analyzer", "word" if name == "word" else "char_wb")
            est = TfidfVectorizer(dtype=np.float64, **params)
        elif name == "hashing":
            tfidf = params.pop("tfidf", True)
            sublinear = params.pop("sublinear_tf", True)
            params.setdefault("alternate_sign", False)
            params.setdefault("norm", None if tfidf else "l2")
            est = HashingVectorizer(**params)
            if tfidf:
                est = Pipeline([("hash", est),
                                ("tfidf", TfidfTransformer(sublinear_tf=sublinear))])
        elif name == "codebook":
            est = CodebookLexicon(codebook=dict(codebook or {}), **params)
        elif name == "style":
            est = Pipeline([("cues", StyleCues(cues=dict(cues or {}), **params)),
                            ("scale", MaxAbsScaler())])
        else:
            raise ValueError(f"unknown feature family {name!r}; use word, char, hashing, "
                             "codebook or style")
        parts.append((name, est))
        weights[name] = weight
    if not parts:
        raise ValueError("every feature family is switched off; enable at least one")
    return FeatureUnion(parts, transformer_weights=weights)


STATELESS = ("hashing", "codebook")


def stateless(features: FeatureUnion) -> bool:
    """Whether a feature map needs no pass over the data (hashing without IDF, codebook)."""
    for name, est in features.transformer_list:
        if name not in STATELESS or isinstance(est, Pipeline):
            return False
    return True


def feature_names(features) -> np.ndarray:
    """Output column names of a fitted feature map; hashing columns are ``hash_<i>``."""
    try:
        return np.asarray(features.get_feature_names_out(), dtype=object)
    except (AttributeError, NotImplementedError, ValueError):
        pass
    parts = getattr(features, "transformer_list", None)
    if parts is None:
        return np.asarray([f"hash_{i}" for i in range(features.n_features)], dtype=object)
    names: list[str] = []
    for name, est in parts:
        try:
            names += [f"{name}__{n}" for n in est.get_feature_names_out()]
        except (AttributeError, NotImplementedError, ValueError):
            width = est[0].n_features if isinstance(est, Pipeline) else est.n_features
            names += [f"{name}__hash_{i}" for i in range(width)]
    return np.asarray(names, dtype=object)
