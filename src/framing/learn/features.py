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

import weakref
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

from framing.predict.runtime import Cues, Lexicon, Ngrams, VoiceRule
from framing.text.terms import TermIndex


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


class Tfidf(TfidfVectorizer):
    """scikit-learn's ``TfidfVectorizer``, pickled compactly.

    The vocabulary (often tens of thousands of n-grams) is stored as one string and one
    integer array instead of a dictionary of that many entries, so that a model file
    loads in a fraction of the time — through the restricted reader especially, which
    reads a pickle one instruction at a time.
    """

    def transform(self, raw_documents):
        """The documents' TF-IDF rows: scikit-learn's result, computed for the whole batch
        at once (one regular-expression pass per text, then array operations) when the
        analyser is word n-grams of a known token pattern; otherwise scikit-learn's own
        loop."""
        if isinstance(raw_documents, str):
            return super().transform(raw_documents)
        docs = raw_documents if isinstance(raw_documents, list) else list(raw_documents)
        plan = self._fast_plan(len(docs))
        if plan is None or not all(isinstance(d, str) for d in docs):
            return super().transform(docs)
        return self._fast_transform(docs, plan)

    def _fast_plan(self, n_docs: int):
        """The vectorised transform's tables (:class:`framing.predict.runtime.Ngrams`); None where
        it does not apply (another analyser, a preprocessor, stop words, …) or does not
        pay yet. Building them takes about 2 µs an n-gram, what the faster transform saves
        on a sixth as many texts as the vocabulary has entries (SUBJ: 0.29 s for 138,474
        n-grams; 13 against 25 µs a sentence), so they are built once a fifth as many
        texts have come: a cross-validation fold's texts mostly go through scikit-learn's
        loop, a loaded model's batches through the tables."""
        vocab = getattr(self, "vocabulary_", None)
        cached = _PLANS.get(self)
        if cached is not None and cached[0] is vocab:  # for this very vocabulary
            if cached[1] is not None:
                return cached[1] or None
            seen = cached[2] + n_docs
        else:
            seen = n_docs
        if vocab is not None and seen < len(vocab) / 5:
            _PLANS[self] = (vocab, None, seen)
            return None
        plan = False
        if (vocab is not None and self.input == "content" and self.preprocessor is None
                and self.tokenizer is None and self.stop_words is None
                and self.strip_accents is None and self.norm in ("l2", "l1", None)
                and Ngrams.vectorised(self.runtime_settings())):
            plan = self.ngrams()
            if plan.words is None:  # an n-gram with more words than the range
                plan = False
        if vocab is not None:
            _PLANS[self] = (vocab, plan, seen)
        return plan or None

    def _count_vocab(self, raw_documents, fixed_vocab):
        """scikit-learn's term counts and vocabulary; for character n-grams inside word
        boundaries (``char_wb``), counted a distinct word at a time (:func:`_char_wb_counts`):
        the same matrix and vocabulary, without making every n-gram of every token."""
        if self.analyzer != "char_wb":
            return super()._count_vocab(raw_documents, fixed_vocab)
        return _char_wb_counts(self, raw_documents, fixed_vocab)

    def runtime_settings(self) -> dict[str, Any]:
        """The settings :class:`framing.predict.runtime.Ngrams` reproduces."""
        return {"analyzer": self.analyzer, "token_pattern": self.token_pattern,
                "lowercase": bool(self.lowercase), "ngram_range": list(self.ngram_range),
                "binary": bool(self.binary), "sublinear_tf": bool(self.sublinear_tf),
                "norm": self.norm, "dtype": np.dtype(self.dtype).str}

    def ngrams(self) -> Ngrams:
        """The fitted vectoriser as :class:`framing.predict.runtime.Ngrams` tables."""
        return Ngrams.from_vocabulary(self.vocabulary_, self.runtime_settings(),
                                      self.idf_ if self.use_idf else None)

    def _fast_transform(self, docs: list[str], plan: Ngrams):
        row, col, data = plan.coo(docs)
        width = len(self.vocabulary_)
        index_dtype = np.int32 if len(col) < 2 ** 31 and width < 2 ** 31 else np.int64
        indptr = np.zeros(len(docs) + 1, dtype=index_dtype)
        np.cumsum(np.bincount(row, minlength=len(docs)), out=indptr[1:])
        X = sp.csr_matrix((data, col.astype(index_dtype), indptr), shape=(len(docs), width))
        return _align_sparse(X)

    def __getstate__(self):
        state = dict(super().__getstate__())  # a copy: the fitted object keeps its dict
        vocab = state.pop("vocabulary_", None)
        if vocab is not None:
            terms = list(vocab)
            state["_terms"] = "\x00".join(terms)
            state["_ids"] = np.fromiter(map(vocab.__getitem__, terms), dtype=np.int64,
                                        count=len(terms))
        return state

    def __setstate__(self, state):
        terms, ids = state.pop("_terms", None), state.pop("_ids", None)
        if ids is not None:
            state["vocabulary_"] = dict(zip(terms.split("\x00"), ids.tolist(), strict=True)
                                        ) if len(ids) else {}
        super().__setstate__(state)


def _char_wb_counts(vec: TfidfVectorizer, raw_documents, fixed_vocab: bool):
    """What ``CountVectorizer._count_vocab`` returns for the ``char_wb`` analyser — the
    documents' n-gram counts (CSR, sorted indices, ``vec.dtype``) and the vocabulary (a
    new one numbered in order of first sight, or ``vec.vocabulary_``) — computed as a
    product of two sparse matrices: documents × distinct words (how often each word
    occurs) times words × n-grams (the n-grams of each word, made once per corpus).

    An n-gram of this analyser never crosses a word boundary, so a document's counts are
    the sum of its words' counts, each word's n-grams times its frequency: a long
    document costs a dictionary look-up per token rather than a dozen n-gram strings per
    token. Words are what the analyser splits (``vec._white_spaces`` then ``split()``) of
    the text the vectoriser's decoder and preprocessor give."""
    from collections import Counter

    decode, preprocess = vec.decode, vec.build_preprocessor()
    white, grams = vec._white_spaces, vec._char_wb_ngrams
    if fixed_vocab:
        vocabulary = vec.vocabulary_
        lookup = vocabulary.get
    else:
        vocabulary = {}
        lookup = None
    words: dict[str, int] = {}
    w_cols: list[int] = []  # the words' n-gram ids, word after word
    w_ptr = [0]
    d_cols: list[int] = []  # the documents' word ids and counts, document after document
    d_vals: list[int] = []
    d_ptr = [0]
    for doc in raw_documents:
        counts = Counter(white.sub(" ", preprocess(decode(doc))).split())
        for w, c in counts.items():
            j = words.get(w)
            if j is None:
                j = words[w] = len(words)
                if lookup is not None:
                    w_cols.extend(k for k in map(lookup, grams(w)) if k is not None)
                else:
                    for g in grams(w):
                        k = vocabulary.get(g)
                        if k is None:
                            k = vocabulary[g] = len(vocabulary)
                        w_cols.append(k)
                w_ptr.append(len(w_cols))
            d_cols.append(j)
            d_vals.append(c)
        d_ptr.append(len(d_cols))
    if not fixed_vocab and not vocabulary:
        raise ValueError("empty vocabulary; perhaps the documents only contain stop words")
    n_words, width = len(words), len(vocabulary)
    W = sp.csr_matrix((np.ones(len(w_cols), dtype=np.int64), np.asarray(w_cols, dtype=np.int64),
                       np.asarray(w_ptr, dtype=np.int64)), shape=(n_words, width))
    W.sum_duplicates()  # a word's repeated n-grams ("aaa": " a", "aa", "aa", "a ")
    D = sp.csr_matrix((np.asarray(d_vals, dtype=np.int64), np.asarray(d_cols, dtype=np.int64),
                       np.asarray(d_ptr, dtype=np.int64)), shape=(len(d_ptr) - 1, n_words))
    X = (D @ W).tocsr()
    X.eliminate_zeros()  # a document of no n-gram of the vocabulary: no stored entries
    index = np.int32 if X.nnz <= np.iinfo(np.int32).max and width <= np.iinfo(
        np.int32).max else np.int64
    X = sp.csr_array((X.data.astype(vec.dtype), X.indices.astype(index),
                      X.indptr.astype(index)), shape=X.shape)
    X.sort_indices()
    return vocabulary, _align_sparse(X)


#: Per fitted vectoriser, the lookup tables of its vectorised transform (kept beside the
#: estimator, not in it, so that transforming leaves the estimator's state unchanged).
_PLANS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
def _align_sparse(X):
    """A sparse result in the container scikit-learn is configured to return."""
    try:
        from sklearn.utils._sparse import _align_api_if_sparse
    except ImportError:  # a scikit-learn without the setting
        return X
    return _align_api_if_sparse(X)


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
        """Index the term lists; ``y`` is ignored."""
        _check_texts(X)
        book = dict(self.codebook or {})
        self.feature_names_ = [str(k) for k in book]
        self.index_ = TermIndex(book)
        self.n_features_out_ = len(self.feature_names_)
        return self

    def _index(self) -> TermIndex:
        # A model file of framing 0.2.0 holds compiled patterns, not the index.
        if not hasattr(self, "index_"):
            self.index_ = TermIndex(dict(self.codebook or {}))
        return self.index_

    def lexicon(self) -> Lexicon:
        """The fitted family as :class:`framing.predict.runtime.Lexicon` (what it computes)."""
        return Lexicon(dict(self.codebook or {}), self.binary, index=self._index())

    def counts(self, texts: Sequence[str]) -> np.ndarray:
        """Term matches per text and codebook label, (n, n_labels)."""
        return self.lexicon().counts(texts)

    def transform(self, X):
        """One row per text, one column per codebook label."""
        check_is_fitted(self, "feature_names_")
        return sp.csr_matrix(self.lexicon().block(_check_texts(X)))

    def row(self, text: str) -> np.ndarray:
        """The transform of one text, as a dense vector."""
        return self.lexicon().block([text])[0]

    def matches(self, text: str) -> dict[str, list[str]]:
        """The terms found in one text, per label (for explanations)."""
        check_is_fitted(self, "feature_names_")
        return {n: [text[a:b] for a, b in spans] for n, spans in
                zip(self.feature_names_, self._index().spans(text), strict=True) if spans}


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

    def __init__(self, cues: Mapping[str, Sequence[str]] | None = None, quotes: bool = True,
                 numbers: bool = True, dates: bool = True, length: bool = True):
        self.cues = cues
        self.quotes = quotes
        self.numbers = numbers
        self.dates = dates
        self.length = length

    def fit(self, X, y=None):
        """Index the cue lists; ``y`` is ignored."""
        _check_texts(X)
        cues = dict(self.cues or {})
        names = [f"style:{k}" for k in cues]
        names += [f"style:{k}" for k, on in (("quotes", self.quotes), ("numbers", self.numbers),
                                             ("dates", self.dates), ("length", self.length))
                  if on]
        self.feature_names_ = names
        self.index_ = self._make_index()
        self.n_features_out_ = len(names)
        return self

    def _make_index(self) -> TermIndex:
        return Cues.make_index(dict(self.cues or {}))

    def runtime_cues(self, scale=None) -> Cues:
        """The fitted family as :class:`framing.predict.runtime.Cues` (what it computes)."""
        if not hasattr(self, "index_"):  # a model file of framing 0.2.0
            self.index_ = self._make_index()
        flags = {"quotes": self.quotes, "numbers": self.numbers, "dates": self.dates,
                 "length": self.length}
        return Cues(dict(self.cues or {}), flags, scale, index=self.index_)

    def transform(self, X):
        """One row per text, one column per cue."""
        check_is_fitted(self, "feature_names_")
        return sp.csr_matrix(self.runtime_cues().block(_check_texts(X)))

    def row(self, t: str) -> list[float]:
        """The transform of one text."""
        return self.runtime_cues().row(t)


def _load_model(ref: str):
    """A framing model named in a config (a shipped name or a path), for the families
    that score text with another model."""
    from framing.predict.model import load
    from framing.resources import model_path

    return load(model_path(ref))


def _score_column(model, label: str, where: str) -> tuple[str, int]:
    """(task, column) of a ``task:label`` score of a model, or a clear error."""
    task, _, lab = str(label).partition(":")
    if task not in model.tasks or lab not in model.labels[task]:
        names = [f"{t}:{x}" for t in model.tasks for x in model.labels[t]]
        raise ValueError(f"{where}: the model has no score {label!r}; it has {names}")
    return task, model.labels[task].index(lab)


class VoiceFeatures(_TextTransformer):
    """The guidelines' sentence-level tone rule and what it is made of.

    Each paragraph is split into sentences (:func:`framing.text.sentences.split_sentences`);
    a sentence is attributed or in the writer's own voice (:class:`framing.text.sentences.
    Voice`); an own-voice sentence is *evaluative* when it carries an evaluative or
    exhorting cue or a question — of either polarity — or when a scorer model (the
    shipped subjectivity model) gives its own-voice text at least ``cut``. Columns:

    * ``<label>`` (e.g. ``tone:promotional``): 1 when evaluative own-voice sentences are
      at least half of the paragraph's sentences (the guidelines' majority rule, ties to
      promotional), else 0;
    * ``evaluative_share``, ``attributed_share``, ``cued_share``: shares of sentences;
    * ``scored_mean``, ``scored_max``: the scorer over own-voice sentences (if any);
    * ``question``, ``sentences`` (``log1p`` of their number).

    Parameters
    ----------
    lists : mapping of str to list of str, optional
        The word lists of :class:`framing.text.sentences.Voice` (``conf/voice``).
    label : str, default="tone:promotional"
        The ``task:label`` the rule marks (it names the rule column).
    scorer : str, optional
        A framing model (shipped name or path) scoring sentences.
    scorer_label : str, default="label:subjective"
        Which ``task:label`` score of the scorer marks evaluation.
    cut : float, default=0.5
        Scorer score from which an own-voice sentence is evaluative.
    score_headlines : bool, default=False
        Let the scorer judge a unit without sentence-final punctuation (a headline): a
        model of full sentences is out of its domain there.
    """

    def __init__(self, lists: Mapping[str, Sequence[str]] | None = None,
                 label: str = "tone:promotional", scorer: str | None = None,
                 scorer_label: str = "label:subjective", cut: float = 0.5,
                 score_headlines: bool = False):
        self.lists = lists
        self.label = label
        self.scorer = scorer
        self.scorer_label = scorer_label
        self.cut = cut
        self.score_headlines = score_headlines

    def fit(self, X, y=None):
        """Compile the word lists and load the scorer; ``y`` is ignored."""
        from framing.text.sentences import Voice

        _check_texts(X)
        self.voice_ = Voice(dict(self.lists or {}))
        self.scorer_ = _load_model(self.scorer) if self.scorer else None
        if self.scorer_ is not None:
            self.scorer_column_ = _score_column(self.scorer_, self.scorer_label,
                                                "features.voice.scorer_label")
        names = [self.label, "evaluative_share", "attributed_share", "cued_share"]
        if self.scorer_ is not None:
            names += ["scored_mean", "scored_max"]
        self.feature_names_ = names + ["question", "sentences"]
        self.n_features_out_ = len(self.feature_names_)
        return self

    def rule(self, scorer=None) -> VoiceRule:
        """The fitted family as :class:`framing.predict.runtime.VoiceRule` (what it computes),
        with ``scorer`` in place of the scorer model if given."""
        check_is_fitted(self, "voice_")
        if self.scorer_ is None:
            return VoiceRule(self.voice_)
        return VoiceRule(self.voice_, scorer if scorer is not None else self.scorer_,
                         self.scorer_column_, self.cut, self.score_headlines)

    def sentences(self, texts: Sequence[str]) -> list[list[tuple[Any, float]]]:
        """Per paragraph, its sentences with their scorer score (0 without a scorer)."""
        return self.rule().sentences(texts)

    def transform(self, X):
        """One row per paragraph."""
        return sp.csr_matrix(self.rule().block(_check_texts(X)))

    def row(self, text: str) -> list[float]:
        """The transform of one paragraph."""
        return self.rule().block([text])[0].tolist()


class ModelScores(_TextTransformer):
    """Scores of other framing models as features (a ``frames`` model feeding ``tone``).

    Parameters
    ----------
    models : list of str
        The models: shipped names such as ``subjectivity``, or paths to ``.joblib`` model
        files. A model's columns are named by its file's stem.
    sentences : bool, default=False
        Score each sentence and give the mean and the maximum over the paragraph's
        sentences instead of one score for the paragraph.
    own_voice : bool, default=False
        With ``sentences``: only sentences in the writer's own voice, quotations blanked
        (needs ``lists``).
    lists : mapping, optional
        The voice word lists (``conf/voice``), for ``own_voice``.
    """

    def __init__(self, models: Sequence[str] | None = None, sentences: bool = False,
                 own_voice: bool = False, lists: Mapping[str, Sequence[str]] | None = None):
        self.models = models
        self.sentences = sentences
        self.own_voice = own_voice
        self.lists = lists

    def fit(self, X, y=None):
        """Load the models; ``y`` is ignored."""
        from framing.text.sentences import Voice

        _check_texts(X)
        from framing.resources import model_path

        if not self.models:
            raise ValueError("features.aux.models is empty: name at least one model, e.g. "
                             "[subjectivity]")
        self.models_ = {model_path(ref).stem: _load_model(ref) for ref in self.models}
        self.voice_ = Voice(dict(self.lists)) if self.own_voice else None
        names = []
        for k, m in self.models_.items():
            for t in m.tasks:
                for lab in m.labels[t]:
                    base = f"{k}/{t}:{lab}"
                    names += [f"{base}/mean", f"{base}/max"] if self.sentences else [base]
        self.feature_names_ = names
        self.n_features_out_ = len(names)
        return self

    def _units(self, texts: list[str]) -> tuple[list[str], list[int]]:
        """The texts to score and the paragraph each belongs to."""
        if not self.sentences:
            return texts, list(range(len(texts)))
        from framing.text.sentences import split_sentences

        units, owner = [], []
        for i, t in enumerate(texts):
            if self.voice_ is not None:
                sents = [self.voice_.own_voice_text(s.text) for s in self.voice_.analyse(t)
                         if s.own_voice]
            else:
                sents = split_sentences(t)
            for s in sents:
                if s.strip():
                    units.append(s)
                    owner.append(i)
        return units, owner

    def transform(self, X):
        """One row per paragraph (zeros where a paragraph has no sentence to score)."""
        check_is_fitted(self, "models_")
        texts = _check_texts(X)
        units, owner = self._units(texts)
        owner = np.asarray(owner, dtype=int)
        blocks = []
        for m in self.models_.values():
            scores = m.scores(units) if units else {t: np.zeros((0, len(m.labels[t])))
                                                    for t in m.tasks}
            for t in m.tasks:
                s = scores[t]
                if not self.sentences:
                    blocks.append(s)
                    continue
                mean = np.zeros((len(texts), s.shape[1]))
                peak = np.zeros((len(texts), s.shape[1]))
                count = np.bincount(owner, minlength=len(texts))
                np.add.at(mean, owner, s)
                np.maximum.at(peak, owner, s)
                mean /= np.maximum(count, 1)[:, None]
                blocks.append(np.stack([mean, peak], axis=2).reshape(len(texts), -1))
        return sp.csr_matrix(np.hstack(blocks) if blocks else np.zeros((len(texts), 0)))


def _tuple(v: Any) -> Any:
    """Config lists become tuples (scikit-learn refuses lists for ngram_range)."""
    return tuple(v) if isinstance(v, list | tuple) else v


def _families(cfg: Any) -> list[tuple[str, dict[str, Any]]]:
    """(family, its settings as a plain dict) from a FeaturesConfig or a mapping."""
    if is_dataclass(cfg):
        return [(f.name, dict(vars(getattr(cfg, f.name)))) for f in fields(cfg)]
    return [(name, dict(sub or {})) for name, sub in dict(cfg).items()]


def build_features(cfg: Any, codebook: Mapping[str, Sequence[str]] | None = None,
                   cues: Mapping[str, Sequence[str]] | None = None,
                   voice: Mapping[str, Sequence[str]] | None = None) -> FeatureUnion:
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
    voice : mapping, optional
        The word lists of the ``voice`` family (and of ``aux`` with ``own_voice``).
    """
    parts, weights = [], {}
    for name, sub in _families(cfg):
        if not sub.pop("enabled", True):
            continue
        weight = float(sub.pop("weight", 1.0))
        params = {k: _tuple(v) if k.endswith("_range") else v for k, v in sub.items()}
        if name in ("word", "char"):
            params.setdefault("analyzer", "word" if name == "word" else "char_wb")
            # character n-grams are many: their matrix is kept in float32
            est = Tfidf(dtype=np.float64 if name == "word" else np.float32, **params)
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
            params.pop("tasks", None)
            est = Pipeline([("cues", StyleCues(cues=dict(cues or {}), **params)),
                            ("scale", MaxAbsScaler())])
        elif name == "voice":
            est = VoiceFeatures(lists=dict(voice or {}), **params)
        elif name == "aux":
            est = ModelScores(lists=dict(voice or {}) if params.get("own_voice") else None,
                              **params)
        else:
            raise ValueError(f"unknown feature family {name!r}; use word, char, hashing, "
                             "codebook, style, voice or aux")
        parts.append((name, est))
        weights[name] = weight
    if not parts:
        raise ValueError("every feature family is switched off; enable at least one")
    return FeatureUnion(parts, transformer_weights=weights)


STATELESS = ("hashing", "codebook", "voice", "aux")


def stateless(features: FeatureUnion) -> bool:
    """Whether a feature map needs no pass over the data (hashing without IDF, the
    codebook, the voice rule, other models' scores)."""
    for name, est in features.transformer_list:
        if name not in STATELESS or isinstance(est, Pipeline):
            return False
    return True
