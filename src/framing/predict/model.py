"""The trained model: the one object that scores, decides, explains, saves and loads.

>>> import framing
>>> model = framing.load("models/framing.joblib")          # doctest: +SKIP
>>> model.predict("Iran and Pakistan signed eight agreements on trade.")  # doctest: +SKIP
{'theme': ['economy', 'diplomacy'], 'tone': 'reportorial', 'scores': {...}}

Cross-validation, the final fit, the streaming trainer and the benchmark all produce a
:class:`FramingModel`; :func:`load` reads one back. Only numpy is imported with this
module; scikit-learn, scipy and joblib come with the first model, and nothing of the
training side (Hydra, MLflow, datasets) ever does.

One module, over 600 lines, because it is the whole public surface of a model: scoring,
deciding, explaining, saving and loading share the model's state and the file format's
invariants, and splitting them would spread one contract over several files.
"""

from __future__ import annotations

import gc
import hashlib
import numbers
import warnings
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from itertools import compress, repeat
from pathlib import Path
from typing import Any, overload

import numpy as np

from framing.core.errors import ModelLoadError
from framing.core.tasks import TaskSpec
from framing.predict.storage import (
    atomic_write_text,
    digest_path,
    publish,
    read_digests,
    sha256_file,
)
from framing.text.segment import Segmenter

FORMAT = "framing-predictor"
FORMAT_VERSION = 3
#: Versions this framing reads: 1 (framing 0.1 before the model class), 2 (a joblib
#: file of the model's objects) and 3 (a runtime section, then the joblib stream).
READABLE_VERSIONS = (1, 2, 3)
#: A version-3 file begins with these bytes, then the sizes of its two sections (8 bytes
#: each, little-endian): the runtime section (:mod:`framing.predict.runtime`: JSON and raw
#: arrays, no pickle) and the joblib stream of the whole model.
MAGIC = b"FRAMING-MODEL-3\n"
#: What every version's header from 3 on begins with (a later version: a newer framing).
MAGIC_PREFIX = b"FRAMING-MODEL-"
_PENDING = object()  # the scikit-learn part of a loaded model, not read yet
ON_VERSION_MISMATCH = ("warn", "error", "ignore")
#: A model just trained compiles its runtime for a call on up to this many texts.
FAST_MAX = 8


def _as_texts(texts: Any, allow_empty: bool = True) -> tuple[list[str], bool]:
    """Validate input: a string or a list of strings; (texts, was_single)."""
    if isinstance(texts, str):
        single, items = True, [texts]
    elif texts is None:
        raise ValueError("expected a string or a list of strings, got None")
    elif isinstance(texts, bytes):
        raise ValueError("expected str, got bytes: decode the text first (e.g. .decode('utf-8'))")
    elif hasattr(texts, "columns") and hasattr(texts, "iloc"):
        raise ValueError("expected a string or a list of strings, got a DataFrame: pass its "
                         "text column (df['text']) or use predict_frame(df, text_column=...)")
    elif isinstance(texts, Mapping):
        raise ValueError("expected a string or a list of strings, got a dict (its keys would "
                         "be labelled): pass list(d.values()) or the text itself")
    elif isinstance(texts, set | frozenset):
        raise ValueError("expected a string or a list of strings, got a set, which has no "
                         "order to match the results to: pass a list")
    else:
        try:
            items = list(texts)  # a list, tuple, Series, 1-d array or generator of strings
        except TypeError:
            raise ValueError(f"expected a string or a list of strings, got "
                             f"{type(texts).__name__}") from None
        single = False
    for i, t in enumerate(items):
        if not isinstance(t, str):
            raise ValueError(f"text {i} is {type(t).__name__}, not str; pass strings only")
        if not allow_empty and not t.strip():
            raise ValueError(f"text {i} is empty; give it words (an empty text has no "
                             "features to score)")
    return items, single


@contextmanager
def _acyclic():
    """Pause the cyclic garbage collector while results are built: five dicts and lists
    a text, which cannot form reference cycles, would otherwise set it off again and
    again, each time over every object of the process (in a process holding a few
    hundred thousand objects, a fifth of the time of labelling 20,000 paragraphs). A
    collector the caller switched off stays off."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@contextmanager
def _progress_bar(enabled: bool, total: int):
    """A callable advancing a progress bar on stderr (tqdm if installed), or nothing."""
    import sys

    if not enabled:
        yield lambda n: None
        return
    try:
        from tqdm import tqdm
    except ImportError:
        done = [0]

        def count(n):
            done[0] += n
            print(f"\r{done[0]} of {total} texts", end="", file=sys.stderr)
        yield count
        print(file=sys.stderr)
        return
    with tqdm(total=total, unit=" texts", file=sys.stderr, mininterval=0.5) as bar:
        yield bar.update


sha_path = digest_path


def card_path(path: str | Path) -> Path:
    """The Markdown model card beside a model file: ``<stem>.card.md``."""
    path = Path(path)
    return path.with_name(f"{path.stem}.card.md")


class FramingModel:
    """A trained framing model: features, one estimator per task, thresholds and its card.

    Get one from :func:`framing.load` or :func:`framing.fit`. Results are plain Python
    (str, list, dict, float).

    Parameters
    ----------
    tasks : list of TaskSpec or dict
        The tasks, each with its kind and labels in score order.
    features : transformer
        The fitted feature map (texts to a sparse matrix).
    estimators : dict of str to estimator
        The fitted classifier of each task not in ``constant``.
    thresholds : dict of str to array, optional
        Decision threshold per label of each multi-label task (default 0.5).
    constant : dict of str to str, optional
        Tasks whose training data had one class, and that class.
    card : dict, optional
        The model card: versions, data digest, config, evaluation figures, run id.

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
        The model card.
    """

    def __init__(self, tasks: Sequence[TaskSpec | Mapping[str, Any]], features: Any,
                 estimators: Mapping[str, Any],
                 thresholds: Mapping[str, Sequence[float]] | None = None,
                 constant: Mapping[str, str] | None = None,
                 card: Mapping[str, Any] | None = None, compiler: Any = None):
        if compiler is not None:  # the learning side's compile_model (not pickled)
            self._compiler = compiler
        self.specs = [t if isinstance(t, TaskSpec) else TaskSpec(t["name"], kind=t["kind"],
                                                                 labels=list(t["labels"]))
                      for t in tasks]
        self.features = features
        self.estimators = dict(estimators) if estimators is not _PENDING else _PENDING
        self.constant = dict(constant or {})
        self.card: dict[str, Any] = dict(card or {})
        self.tasks: list[str] = [t.name for t in self.specs]
        self.labels: dict[str, list[str]] = {t.name: list(t.labels) for t in self.specs}
        self.kinds: dict[str, str] = {t.name: t.kind for t in self.specs}
        thr = dict(thresholds or {})
        self._thr = {t.name: np.asarray(thr.get(t.name, [0.5] * len(t.labels)), dtype=float)
                     for t in self.specs if t.kind == "multilabel"}
        self.thresholds = {k: dict(zip(self.labels[k], map(float, v), strict=True))
                           for k, v in self._thr.items()}
        self._segmenter = Segmenter()

    def __repr__(self) -> str:
        tasks = ", ".join(f"{t}: {len(self.labels[t])} labels" for t in self.tasks)
        return f"<framing.FramingModel {tasks}>"

    def task(self, name: str) -> TaskSpec:
        """The spec of one task; an unknown name is a clear ``ValueError``."""
        for t in self.specs:
            if t.name == name:
                return t
        raise ValueError(f"unknown task {name!r}; tasks are {self.tasks}")

    # -- scores and decisions ------------------------------------------------------------
    def transform(self, texts: Sequence[str]):
        """The feature matrix of some texts."""
        return self.features.transform(list(texts))

    # The scikit-learn part (feature map and estimators) of a model loaded from a
    # version-3 file is read when first used: labelling goes through the runtime.
    @property
    def features(self) -> Any:
        """The fitted feature map (texts to a sparse matrix)."""
        if self._features is _PENDING:
            self._read_rest()
        return self._features

    @features.setter
    def features(self, value: Any) -> None:
        self._features = value

    @property
    def estimators(self) -> dict[str, Any]:
        """The fitted classifier of each task not in ``constant``."""
        if self._estimators is _PENDING:
            self._read_rest()
        return self._estimators

    @estimators.setter
    def estimators(self, value: dict[str, Any]) -> None:
        self._estimators = value

    def _read_rest(self) -> None:
        rest = self.__dict__.pop("_rest")
        bundle = rest()
        self._features = bundle["features"]
        self._estimators = dict(bundle["estimators"])

    def __getstate__(self):
        # a model inside another (an auxiliary scorer) pickles whole, without its
        # compiled parts
        self.features, self.estimators  # noqa: B018  (read the rest of the file first)
        return {k: v for k, v in self.__dict__.items()
                if k not in ("_runtime", "_segmenter", "_rest", "_compiler")}

    def __setstate__(self, state):
        state = dict(state)
        for key in ("features", "estimators"):  # pickled before they were properties
            if key in state:
                state["_" + key] = state.pop(key)
        state.pop("_fast", None)
        self.__dict__.update(state)
        self._segmenter = Segmenter()

    @property
    def runtime(self):
        """The model's scoring in numpy alone (:class:`framing.predict.runtime.Runtime`), or None
        where the model has parts it does not reproduce. A model file carries it; a model
        just trained compiles it when first asked, with the compiler its trainer handed it
        (:func:`framing.learn.compile.compile_model`; the predictor side never imports the
        learning side)."""
        if "_runtime" not in self.__dict__:
            compiler = self.__dict__.get("_compiler")
            self._runtime = compiler(self) if compiler is not None else None
        return self._runtime

    def scores(self, texts: Sequence[str] | None = None, X=None) -> dict[str, np.ndarray]:
        """Per task, (n, n_labels) scores in label order, from texts or their features.

        Texts go through the runtime (the same scores without scikit-learn) when the
        model has one at hand: a loaded model always, a model just trained from its
        first few texts on (compiling it costs about what scoring a fifth as many texts
        as it has n-grams saves, so a cross-validation fold scores through
        scikit-learn).
        """
        if X is None:
            runtime = self.__dict__.get("_runtime")
            if "_runtime" not in self.__dict__ and len(texts) <= FAST_MAX:
                runtime = self.runtime
            if runtime is not None:
                return runtime.scores(texts)
        X = self.transform(texts) if X is None else X
        n = X.shape[0]
        out = {}
        for t in self.specs:
            labels = t.labels
            if t.name in self.constant:
                s = np.zeros((n, len(labels)))
                s[:, labels.index(self.constant[t.name])] = 1.0
            elif t.kind == "multilabel":
                s = np.asarray(self.estimators[t.name].predict_proba(X), dtype=float)
            else:
                est = self.estimators[t.name]
                p = est.predict_proba(X)
                s = np.zeros((n, len(labels)))
                for j, c in enumerate(est.classes_):
                    s[:, labels.index(c)] = p[:, j]
            out[t.name] = s
        return out

    def decide(self, task: str, scores: np.ndarray) -> np.ndarray:
        """Decisions from scores: a 0/1 matrix (multi-label, by threshold) or labels."""
        if self.kinds[task] == "multilabel":
            return (scores >= self._thr[task]).astype(np.int8)
        return np.asarray(self.labels[task], dtype=object)[np.argmax(scores, axis=1)]

    def predict_proba(self, texts: str | Sequence[str]) -> dict[str, np.ndarray]:
        """Per task, an array (n_texts, n_labels) of scores in :attr:`labels` order. An
        empty or blank text has no scores: its rows are NaN (:meth:`predict` gives it the
        empty result)."""
        items, _ = _as_texts(texts)
        if not items:
            return {t: np.zeros((0, len(self.labels[t]))) for t in self.tasks}
        blank = [i for i, t in enumerate(items) if not t.strip()]
        if not blank:
            return self.scores(items)
        kept = [i for i, t in enumerate(items) if t.strip()]
        out = {t: np.full((len(items), len(self.labels[t])), np.nan) for t in self.tasks}
        if kept:
            for t, s in self.scores([items[i] for i in kept]).items():
                out[t][kept] = s
        return out

    def _results(self, scores: dict[str, np.ndarray]) -> list[dict[str, Any]]:
        """One result per row of the scores, built a task at a time from the arrays."""
        columns, score_maps = [], []
        for t in self.tasks:
            labels = self.labels[t]
            decided = self.decide(t, scores[t])
            if self.kinds[t] == "multilabel":
                columns.append(list(map(list, map(compress, repeat(labels),
                                                  decided.tolist()))))
            else:
                columns.append(list(map(str, decided.tolist())))
            score_maps.append(map(dict, map(zip, repeat(labels),
                                            np.round(scores[t], 6).tolist())))
        tasks = list(self.tasks)
        per_text = map(dict, map(zip, repeat(tasks), zip(*score_maps, strict=True)))
        keys = [*tasks, "scores"]
        return list(map(dict, map(zip, repeat(keys), zip(*columns, per_text, strict=True))))

    def _empty(self) -> dict[str, Any]:
        res: dict[str, Any] = {t: ([] if self.kinds[t] == "multilabel" else None)
                               for t in self.tasks}
        res["scores"] = {t: {} for t in self.tasks}
        return res

    @overload
    def predict(self, texts: str, batch_size: int = ..., progress: bool = ...
                ) -> dict[str, Any]: ...

    @overload
    def predict(self, texts: Sequence[str], batch_size: int = ..., progress: bool = ...
                ) -> list[dict[str, Any]]: ...

    def predict(self, texts, batch_size: int = 2048, progress: bool = False):
        """Labels and scores for one text (a dict) or a list of texts (a list of dicts).

        A multi-label task gives the list of labels whose score reaches its threshold, a
        single-label task the label with the highest score. An empty or blank string gets
        the empty result: no labels (``[]`` or ``None``) and empty scores.

        Parameters
        ----------
        texts : str or sequence of str
        batch_size : int, default=2048
            Texts scored at a time (memory stays bounded on long lists).
        progress : bool, default=False
            Show a progress bar on stderr (with the total).

        Raises
        ------
        ValueError
            If the input is not a string or a sequence of strings.
        """
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or \
                batch_size < 1:
            raise ValueError(f"batch_size must be a positive whole number, got {batch_size!r}")
        batch_size = int(batch_size)
        items, single = _as_texts(texts)
        out: list[dict[str, Any]] = []
        with _progress_bar(progress, len(items)) as bar, _acyclic():
            for start in range(0, len(items), batch_size):
                chunk = items[start:start + batch_size]
                keep = [i for i, t in enumerate(chunk) if t.strip()]
                done = iter(self._results(self.scores([chunk[i] for i in keep])) if keep
                            else ())
                kept = set(keep)
                out += [next(done) if i in kept else self._empty() for i in range(len(chunk))]
                bar(len(chunk))
        return out[0] if single else out

    def predict_frame(self, frame, text_column: str = "text"):
        """Labels and scores of a pandas DataFrame's text column, as a DataFrame.

        Returns a DataFrame with the input's index: one column per task (its label, or
        the list of labels of a multi-label task) and ``<task>/<label>`` score columns,
        as the MLflow model serves them.
        """
        import pandas as pd

        if not isinstance(frame, pd.DataFrame):
            raise ValueError(f"predict_frame takes a pandas DataFrame, got "
                             f"{type(frame).__name__}; use predict for strings")
        if text_column not in frame.columns:
            raise ValueError(f"no column {text_column!r} in the DataFrame (columns: "
                             f"{list(frame.columns)}); pass text_column=")
        bad = [i for i, v in zip(frame.index, frame[text_column], strict=True)
               if not isinstance(v, str)]
        if bad:
            raise ValueError(f"row {bad[0]!r}: {text_column!r} is not a string; fill or drop "
                             "the rows without text")
        results = self.predict(frame[text_column].tolist())
        out = pd.DataFrame(index=frame.index)
        for t in self.tasks:
            out[t] = [r[t] for r in results]
            for lab in self.labels[t]:
                out[f"{t}/{lab}"] = [r["scores"][t].get(lab, float("nan")) for r in results]
        return out

    # -- weights and explanations --------------------------------------------------------
    def feature_names(self) -> np.ndarray:
        """Names of the model's input features (n-grams, codebook labels, style cues), in
        column order: a method, ``model.feature_names()``, like scikit-learn's
        ``get_feature_names_out()`` (it reads the scikit-learn part of a loaded model).

        Hashing features have no names: they are called ``hash_<column>``.
        """
        return feature_names(self.features)

    def label_model(self, task: str, label: str) -> tuple[Any, int, float] | None:
        """(linear model, weight row, sign) behind one label's score; None if constant.

        A binary classifier has one weight row, for its second class; the first class's
        score is its negation (sign -1). One-vs-rest has a model per label.
        """
        t = self.task(task)
        if label not in t.labels:
            raise ValueError(f"unknown label {label!r} of task {task!r}; labels are "
                             f"{t.labels}")
        if task in self.constant:
            return None
        est = self.estimators[task]
        if t.kind == "multilabel":
            sub = est.estimators_[t.labels.index(label)]
            return (sub, 0, 1.0) if hasattr(sub, "coef_") else None
        classes = [str(c) for c in est.classes_]
        if label not in classes:
            return None
        j = classes.index(label)
        if np.atleast_2d(est.coef_).shape[0] == 1:
            return est, 0, (1.0 if j == 1 else -1.0)
        return est, j, 1.0

    def label_weights(self, task: str, label: str) -> tuple[np.ndarray, float] | None:
        """The weight vector and intercept of one label's linear score (None if constant)."""
        found = self.label_model(task, label)
        if found is None:
            return None
        est, row, sign = found
        coef = np.atleast_2d(np.asarray(est.coef_, dtype=float))
        return sign * coef[row], sign * float(np.ravel(est.intercept_)[row])

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
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a positive whole number, got {k!r}")
        t = self.task(task)
        x = self.transform(items)
        scores = self.scores(X=x)[task][0]
        label = t.labels[int(np.argmax(scores))] if label is None else label
        found = self.label_model(task, label)  # checks the label
        base = {"task": task, "label": label, "score": float(scores[t.labels.index(label)])}
        if found is None:
            return {**base, "intercept": None, "contributions": [],
                    "note": "constant prediction: the training data had one class"}
        est, row, sign = found
        if hasattr(est, "contributions"):
            contrib = est.contributions(x)
        else:
            contrib = np.asarray(x.multiply(np.atleast_2d(est.coef_)).todense())
        values = sign * contrib[row]
        intercept = sign * float(np.ravel(est.intercept_)[row])
        names = self.feature_names()
        nz = np.flatnonzero(values)
        top = nz[np.argsort(-np.abs(values[nz]), kind="stable")][:k]
        return {**base, "intercept": intercept,
                "contributions": [{"feature": str(names[i]), "contribution": float(values[i])}
                                  for i in top]}

    def top_features(self, k: int = 20) -> dict[str, dict[str, list]]:
        """Per task and label, the ``k`` features with the largest positive weight."""
        names = self.feature_names()
        out: dict[str, dict[str, list]] = {}
        for t in self.specs:
            rows = {}
            for lab in t.labels:
                w = self.label_weights(t.name, lab)
                if w is not None:
                    rows[lab] = [[str(names[i]), round(float(w[0][i]), 5)]
                                 for i in _top(w[0], k)]
            if rows:
                out[t.name] = rows
        return out

    @property
    def codebook(self) -> dict[str, list[str]] | None:
        """The codebook the model's features use, or None."""
        for name, est in getattr(self.features, "transformer_list", []):
            if name == "codebook":
                return dict(est.codebook or {})
        return None

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
        if not isinstance(text, str):
            raise ValueError(f"predict_article takes one article as a string, got "
                             f"{type(text).__name__}; call it once per article")
        paras = self._segmenter.segment(text, article)
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

        self.task(task)
        if task in self.constant:
            raise ValueError(f"task {task!r} is constant ({self.constant[task]!r}); it has "
                             "no classifier")
        return Pipeline([("features", self.features), ("model", self.estimators[task])])

    # -- files ---------------------------------------------------------------------------
    def to_bundle(self) -> dict[str, Any]:
        """The dict a model file holds."""
        return {"format": FORMAT, "format_version": FORMAT_VERSION,
                "tasks": [t.to_dict() for t in self.specs], "features": self.features,
                "estimators": self.estimators, "constant": self.constant,
                "thresholds": {k: [float(x) for x in v] for k, v in self._thr.items()},
                "card": self.card}

    @classmethod
    def from_bundle(cls, bundle: Mapping[str, Any]) -> FramingModel:
        """A model from the dict of a model file (format version 1 or 2)."""
        estimators = bundle.get("estimators", bundle.get("models"))
        return cls(bundle["tasks"], bundle["features"], estimators, bundle.get("thresholds"),
                   bundle.get("constant"), bundle.get("card"))

    def save(self, path: str | Path) -> Path:
        """Write the model to ``path`` with ``<path>.sha256`` and its Markdown card beside it.

        The file holds the runtime section (what labelling needs, read without
        scikit-learn) and the joblib stream of the whole model. It is published
        atomically with its digest (:func:`framing.predict.storage.publish`): whatever happens
        while it is written, ``path`` holds a model that loads — the old one or the new
        one.
        """
        from framing.predict.card import markdown
        from framing.predict.runtime import Store, pack

        path = Path(path)
        bundle = self.to_bundle()
        store = Store()
        runtime = self.runtime
        meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "tasks": bundle["tasks"],
                "constant": self.constant, "thresholds": bundle["thresholds"],
                "card": self.card,
                "runtime": runtime.state(store.put) if runtime is not None else None}

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as f:
                f.write(MAGIC + bytes(16))
                head = pack(f, meta, store.arrays)
                body = _write_joblib(f, bundle, store.arrays)
                f.seek(len(MAGIC))
                f.write(head.to_bytes(8, "little") + body.to_bytes(8, "little"))

        publish(path, write)
        if self.card.get("data"):
            atomic_write_text(card_path(path), markdown(self.card))
        return path

    @classmethod
    def load(cls, path: str | Path, verify: bool | str = True,
             on_version_mismatch: str = "warn", trusted: bool = False) -> FramingModel:
        """Read a model file; see :func:`framing.load`."""
        path, data = _read_file(path, verify, on_version_mismatch)
        if not data.startswith(MAGIC):
            bundle = _read_joblib(path, data, on_version_mismatch, trusted)
            try:
                return cls.from_bundle(bundle)
            except (KeyError, TypeError, ValueError, AttributeError) as e:
                raise ModelLoadError(_incomplete(path, f"its parts do not fit ({e})")
                                     ) from None
        from framing.predict.runtime import FormatError, Runtime, Store, unpack

        head, body = _sections(path, data)
        try:
            meta, arrays = unpack(head)
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                raise FormatError("not a framing model's description")
            model = cls(meta["tasks"], _PENDING, _PENDING, meta["thresholds"],
                        meta["constant"], meta["card"])
            runtime = (Runtime.from_state(meta["runtime"], Store(arrays).get)
                       if meta["runtime"] is not None else None)
        except (FormatError, KeyError, TypeError, ValueError) as e:
            detail = f"no {e} in it" if isinstance(e, KeyError) else e
            raise ModelLoadError(f"{path}: its runtime section cannot be read ({detail}). It "
                                 "may be corrupt; retrain or restore it.") from None

        def rest() -> dict[str, Any]:
            return _read_joblib(path, body, on_version_mismatch, trusted, arrays)

        model._rest = rest
        model._runtime = runtime
        if runtime is None:  # it labels through scikit-learn: read it all now
            model._read_rest()
        elif on_version_mismatch == "error":
            _check_versions(path, model.card, "error")
        return model


def _top(values: np.ndarray, k: int) -> np.ndarray:
    """The indices of the ``k`` largest values, largest first, ties in index order: what
    ``np.argsort(-values, kind="stable")[:k]`` gives, without sorting all of them (a
    label's weights over a vocabulary of hundreds of thousands of n-grams)."""
    values = np.asarray(values)
    if k >= len(values) or k <= 0:
        return np.argsort(-values, kind="stable")[:max(k, 0)]
    cut = np.partition(values, len(values) - k)[len(values) - k]  # the k-th largest
    above = np.flatnonzero(values > cut)
    tied = np.flatnonzero(values == cut)[:k - len(above)]
    pick = np.concatenate([above, tied])
    return pick[np.lexsort((pick, -values[pick]))]


def _write_joblib(raw, bundle: dict[str, Any], shared: list[np.ndarray]) -> int:
    """Write the model's objects to ``raw`` as a zlib-compressed joblib stream, in which
    each array that the runtime section holds (the very object) is a reference to it,
    not a copy; the stream's size."""
    import pickle

    from joblib.numpy_pickle import NumpyPickler

    from framing.predict.runtime import Deflate

    ids = {id(a): k for k, a in enumerate(shared)}

    class Pickler(NumpyPickler):
        def save(self, obj, save_persistent_id=True):
            k = ids.get(id(obj)) if type(obj) is np.ndarray else None
            if k is None:
                return super().save(obj)
            pickle._Pickler.save(self, ("runtime", k), save_persistent_id=False)
            self.write(pickle.BINPERSID)

    out = Deflate(raw, 3)
    Pickler(out).dump(bundle)
    return out.finish()


def _sections(path: Path, data: bytes) -> tuple[memoryview, bytes]:
    """The runtime section and the joblib stream of a version-3 file."""
    start = len(MAGIC) + 16
    head_size = int.from_bytes(data[len(MAGIC):len(MAGIC) + 8], "little")
    body_size = int.from_bytes(data[len(MAGIC) + 8:start], "little")
    if len(data) < start or start + head_size + body_size != len(data):
        raise ModelLoadError(f"{path}: not a readable model file ({len(data)} bytes where "
                             "its header announces "
                             f"{start + head_size + body_size}). It may be truncated or "
                             "corrupt; retrain or restore it.")
    # the runtime section (large for a model of many labels) as a view, not a copy; the
    # joblib stream copied, so that a model that reads it later holds only that
    view = memoryview(data)
    return view[start:start + head_size], bytes(view[start + head_size:])


VERIFY = (True, False, "strict")


def _check_digest(path: Path, verify: bool | str, data: bytes | None = None) -> None:
    """Compare the file (or its bytes as read) with its ``.sha256``; report a missing
    one."""
    digest_file = sha_path(path)
    if not verify:
        return
    if digest_file.is_dir():
        raise ModelLoadError(f"{digest_file}: is a folder, not the model's digest. Remove it "
                             "and save the model again (or restore its .sha256 file).")
    if not digest_file.exists():
        msg = (f"{path}: no {digest_file.name} beside it, so the file cannot be checked "
               "against the digest written with it. If you know where it comes from, save "
               "it again to write one: framing.load(path, verify=False).save(path).")
        if verify == "strict":
            raise ModelLoadError(msg)
        warnings.warn(msg, UserWarning, stacklevel=5)
        return
    try:
        expected = read_digests(digest_file)
    except (OSError, UnicodeDecodeError) as e:
        raise ModelLoadError(f"{digest_file}: cannot be read ({e}).") from None
    if not any(len(x) == 64 and all(c in "0123456789abcdef" for c in x) for x in expected):
        raise ModelLoadError(f"{digest_file}: holds no SHA-256 digest (empty or damaged), "
                             "so the model cannot be checked. Restore the file, or save the "
                             "model again to write it.")
    actual = sha256_file(path) if data is None else hashlib.sha256(data).hexdigest()
    if actual not in expected:
        raise ModelLoadError(
            f"{path}: SHA-256 {actual[:16]}… does not match {digest_file.name} "
            f"({(expected or ['(empty)'])[0][:16]}…). The file was changed or damaged "
            "after it was written; retrain or restore it (refusing to load).")


def _read_file(path: str | Path, verify: bool | str, on_version_mismatch: str
               ) -> tuple[Path, bytes]:
    """Check the options and the path; the file's bytes, checked against its digest."""
    if on_version_mismatch not in ON_VERSION_MISMATCH:
        raise ValueError(f"on_version_mismatch={on_version_mismatch!r}; use one of "
                         f"{', '.join(ON_VERSION_MISMATCH)}")
    if verify not in VERIFY:
        raise ValueError(f"verify={verify!r}; use True, False or 'strict'")
    path = Path(path)
    if path.is_dir():
        raise ModelLoadError(f"{path}: is a folder. Give the .joblib model file.")
    if not path.is_file():
        raise ModelLoadError(f"{path}: no such model file. Train one with `make train` or "
                             "give the path of a .joblib model file.")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ModelLoadError(f"{path}: cannot be read ({e.strerror}).") from None
    what = _not_a_model(data, path.suffix.lower())
    if what:
        raise ModelLoadError(f"{path}: not a framing model file: it looks like {what}. Give "
                             "the .joblib file that framing-train or FramingModel.save wrote "
                             "(framing's commands take it first, before the data).")
    _check_digest(path, verify, data)
    if data.startswith(MAGIC_PREFIX) and not data.startswith(MAGIC):
        end = data.find(b"\n", len(MAGIC_PREFIX), len(MAGIC_PREFIX) + 12)
        version = data[len(MAGIC_PREFIX):end] if end > 0 else b""
        if version.isdigit() and int(version) > FORMAT_VERSION:
            raise ModelLoadError(_newer(path, int(version)))
        raise ModelLoadError(f"{path}: begins as a framing model file, but its header "
                             f"({data[:len(MAGIC) + 4]!r}…) names no format version this "
                             "framing knows. It may be corrupt; retrain or restore it.")
    return path, data


def _newer(path: Path, version: int) -> str:
    """Why a model file of a later format version does not load, and what to do."""
    from framing.core.version import __version__

    return (f"{path}: model file format version {version}, written by a newer framing; "
            f"this framing ({__version__}) reads versions "
            f"{', '.join(map(str, READABLE_VERSIONS))}. Upgrade framing (pip install -U "
            "framing) to load it.")


def _incomplete(path: Path, what: str) -> str:
    """A file with framing's format marker that does not hold a whole model."""
    return (f"{path}: not a complete model file: it carries framing's format marker, but "
            f"{what}. Retrain the model, or restore the file framing-train or "
            "FramingModel.save wrote.")


#: The first bytes of files a model path is plausibly confused with.
_OTHER_FILES = ((b"PAR1", "a Parquet file"), (b"PK\x03\x04", "a ZIP archive"),
                (b"%PDF", "a PDF document"), (b"\x89PNG", "a PNG image"),
                (b"\xff\xd8\xff", "a JPEG image"), (b"SQLite format 3\x00",
                                                   "an SQLite database"))


#: What a text file's suffix says it is, where its first line does not tell.
_TEXT_SUFFIXES = {".csv": "a CSV text file", ".tsv": "a TSV text file",
                  ".jsonl": "a JSON lines text file", ".json": "a JSON text file"}


def _not_a_model(data: bytes, suffix: str = "") -> str | None:
    """What a file that cannot be a model file looks like (``"a CSV text file (first
    line: 'id,text')"``), or None for one that may be: a version-3 file, a pickle or a
    compressed joblib stream (whatever else is refused as unreadable)."""
    if not data:
        return "an empty file (0 bytes)"
    if data.startswith((MAGIC_PREFIX, b"\x80")):  # pickle protocols 2 and up: framing's 1 and 2
        return None
    for head, what in _OTHER_FILES:
        if data.startswith(head):
            return what
    chunk = data[:4096]
    try:
        text = chunk.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start < len(chunk) - 3:  # not a character cut at the chunk's end
            return None
        text = chunk[:e.start].decode("utf-8")
    if any(ord(c) < 32 and c not in "\t\n\r\f" for c in text):
        return None  # binary: a compressed stream, or damage the reader reports
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return "a text file of blank lines"
    first = lines[0]
    shown = f"first line: {first[:60]!r}" if len(first) <= 60 else \
        f"first line: {first[:57]!r}…"
    if first.startswith("{"):
        kind = "a JSON lines text file" if len(lines) > 1 and lines[1].startswith("{") \
            else "a JSON text file"
    elif first.startswith("["):
        kind = "a JSON text file"
    elif "\t" in first:
        kind = "a TSV text file"
    elif "," in first:
        kind = "a CSV text file"
    elif first.startswith("<"):
        kind = "an HTML or XML text file"
    else:
        kind = _TEXT_SUFFIXES.get(suffix, "a text file")
    return f"{kind} ({shown})"


def _read_joblib(path: Path, data: bytes, on_version_mismatch: str, trusted: bool,
                 shared: list[np.ndarray] | None = None) -> dict[str, Any]:
    """The model dict of a joblib stream, read through the restricted unpickler;
    ``shared``: the runtime section's arrays, which the stream refers to."""
    import io

    from framing.core.moved import renamed
    from framing.predict.safeload import SafeLoadError, safe_load

    try:
        bundle = safe_load(io.BytesIO(data), allowed_prefixes=("framing",), trusted=trusted,
                           shared=shared, rename=renamed)
    except SafeLoadError as e:
        name = getattr(e, "name", None)
        what = f"it names {name!r}, which a framing model never contains" if name else str(e)
        raise ModelLoadError(
            f"{path}: refused to load: {what}; nothing of it was run. Load it with "
            "framing.load(path, trusted=True) only if you trust where it comes from (that "
            "runs whatever the file says).") from None
    except (ModuleNotFoundError, AttributeError) as e:
        raise ModelLoadError(f"{path}: needs code that is not installed ({e}). It was made by "
                             "another program or another version of framing.") from None
    except Exception as e:  # unpickling damaged bytes can raise almost anything
        raise ModelLoadError(f"{path}: not a readable model file ({type(e).__name__}: {e}). "
                             "It may be truncated or corrupt; retrain or restore it.") from None
    if isinstance(bundle, FramingModel):
        raise ModelLoadError(f"{path}: a FramingModel pickled whole (joblib.dump), not a "
                             "framing model file. Write it with model.save(path), which "
                             "checks, compacts and fingerprints it.")
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        raise ModelLoadError(f"{path}: a joblib file, but not a framing model file "
                             f"(found {type(bundle).__name__}). Give a file written by "
                             "framing-train or FramingModel.save.")
    version = bundle.get("format_version")
    if isinstance(version, int) and not isinstance(version, bool) and \
            version > FORMAT_VERSION:
        raise ModelLoadError(_newer(path, version))
    missing = [k for k in ("format_version", "tasks", "features") if k not in bundle]
    if "estimators" not in bundle and "models" not in bundle:
        missing.append("estimators")
    if missing:
        raise ModelLoadError(_incomplete(path, f"it lacks {', '.join(map(repr, missing))}"))
    if version not in READABLE_VERSIONS:
        raise ModelLoadError(f"{path}: model file format version {version!r}; this framing "
                             f"reads versions {', '.join(map(str, READABLE_VERSIONS))}. Retrain"
                             " the model with this version or install the framing version that"
                             " wrote it.")
    _check_versions(path, bundle.get("card") or {}, on_version_mismatch)
    return bundle


def _check_versions(path: Path, card: Mapping[str, Any], on_version_mismatch: str) -> None:
    """Warn or fail when the model was made with another scikit-learn."""
    if on_version_mismatch == "ignore":
        return
    import sklearn

    made = (card or {}).get("versions", {}).get("scikit-learn")
    if made and made != sklearn.__version__:
        msg = (f"{path}: made with scikit-learn {made}, running {sklearn.__version__}; "
               "predictions may differ. Retrain, or install the same scikit-learn version.")
        if on_version_mismatch == "error":
            raise ModelLoadError(msg)
        warnings.warn(msg, UserWarning, stacklevel=4)


def read_bundle(path: str | Path, verify: bool | str = True, on_version_mismatch: str = "warn",
                trusted: bool = False) -> dict[str, Any]:
    """Load and check a model file's dict of objects (features, estimators, tasks,
    thresholds, card); :class:`ModelLoadError` says why and what to do.

    The joblib stream is read through a restricted unpickler (:mod:`framing.predict.safeload`)
    that admits only the types a model is made of, unless ``trusted``.
    """
    path, data = _read_file(path, verify, on_version_mismatch)
    if not data.startswith(MAGIC):
        return _read_joblib(path, data, on_version_mismatch, trusted)
    from framing.predict.runtime import FormatError, unpack

    head, body = _sections(path, data)
    try:
        arrays = unpack(head)[1]
    except FormatError as e:
        raise ModelLoadError(f"{path}: its runtime section cannot be read ({e}). It may be "
                             "corrupt; retrain or restore it.") from None
    return _read_joblib(path, body, on_version_mismatch, trusted, arrays)


def load(path: str | Path, verify: bool | str = True, on_version_mismatch: str = "warn",
         trusted: bool = False) -> FramingModel:
    """Load a model file written by ``framing-train`` or :meth:`FramingModel.save`.

    Parameters
    ----------
    path : str or Path
        The ``.joblib`` model file.
    verify : {True, False, "strict"}, default=True
        Check the file against ``<path>.sha256``; a missing digest file is a warning
        (``"strict"``: an error); False skips the check.
    on_version_mismatch : {"warn", "error", "ignore"}, default="warn"
        What to do when the model was made with another scikit-learn version. A model
        with a runtime labels texts without scikit-learn, so "warn" waits until its
        scikit-learn part is read; "error" checks at once.
    trusted : bool, default=False
        Read the file with plain joblib (pickle), which runs whatever the file names.
        By default a restricted reader admits only the types a framing model is made
        of (numpy, scipy.sparse, scikit-learn estimators, framing's classes) and refuses
        anything else before it runs.

    Notes
    -----
    A model file (format version 3) begins with the model's runtime
    (:mod:`framing.predict.runtime`): JSON and raw arrays, read without unpickling anything.
    Loading reads the file once, checks its digest, and builds the runtime, so that
    ``predict`` and ``predict_proba`` run on numpy alone. The rest — the scikit-learn
    feature map and estimators, for :meth:`FramingModel.explain`,
    :meth:`FramingModel.feature_names`, :meth:`FramingModel.pipeline` and the like — is
    unpickled from the bytes already read (and checked) the first time it is needed. A
    model whose parts the runtime does not reproduce is read whole at once.

    Raises
    ------
    framing.ModelLoadError
        Missing, truncated, tampered with, foreign, unsafe or wrong-version model file.
    """
    return FramingModel.load(path, verify=verify, on_version_mismatch=on_version_mismatch,
                             trusted=trusted)


def feature_names(features) -> np.ndarray:
    """Output column names of a fitted feature map; hashing columns are ``hash_<i>``.

    Read through the scikit-learn API of the map itself (``get_feature_names_out``,
    ``transformer_list``, ``steps``), so that naming needs no import of the learning side.
    """
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
            steps = getattr(est, "steps", None)
            width = steps[0][1].n_features if steps else est.n_features
            names += [f"{name}__hash_{i}" for i in range(width)]
    return np.asarray(names, dtype=object)
