"""The model chosen from the user's data (``model=auto``).

A declared set of candidates (``conf/model/auto.yaml``: the prior model at several prior
strengths down to none, logistic regression over a C grid, the word + character
NB-weighted ensemble, with and without the codebook and style families) is scored by
grouped inner cross-validation on the training part only, so that the figures of the
outer evaluation stay honest. Every candidate reads columns of one feature matrix,
computed once per training part; per task (per label for a multi-label task) the
candidate with the best inner F1 is chosen, or, by the one-standard-error rule, the
simplest (the first declared) that falls short of the best by at most one standard
error of the difference (paired bootstrap over articles).

Above ``model.select.halving_from`` records the inner cross-validation becomes one
grouped hold-out split (a quarter of the articles) with successive halving: every
candidate is fitted on a third of the rest, the best third (at least two) go on to all
of it, and the choice is made there (Jamieson & Talwalkar 2016; scikit-learn's
``HalvingGridSearchCV`` schedules its rounds the same way).

The chosen estimators are fitted on the whole training part and widened to the columns
of the final feature map, which keeps only the families some chosen candidate reads:
the model is one linear head per label, as any other, and the predictor pays only for
what was chosen.

One module, over 600 lines: the candidates, the inner splits, the selection rule and the
widening of the chosen estimators are one algorithm run on one feature matrix.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.model_selection import GroupKFold, GroupShuffleSplit, KFold, ShuffleSplit

from framing.config.schema import NOT_PARAMS
from framing.core.errors import FramingConfigError
from framing.core.tasks import TaskSpec, constant_task
from framing.learn.compile import compile_or_none
from framing.learn.estimators import (
    AveragedLinear,
    LabelModels,
    LinearTextClassifier,
    PriorLinear,
    build_classifier,
    constant_binary,
)
from framing.predict.model import FramingModel, feature_names

log = logging.getLogger(__name__)

#: Candidate keys that are not model parameters.
META = ("name", "families")


@dataclass(frozen=True)
class Candidate:
    """One declared configuration: its name, the feature families it reads and the
    model parameters (over the auto config's own, which every candidate shares)."""

    name: str
    families: tuple[str, ...]
    params: dict[str, Any] = field(hash=False, compare=False)
    rank: int = 0  # declaration order: simpler first


def candidates(model, task: str, available: Sequence[str]) -> list[Candidate]:
    """The candidates of ``task``: the auto config's values, its ``task_defaults`` and
    ``per_task`` values for the task, then each candidate's own keys; ``families`` null
    reads every family of the run. A family the run switches on that no candidate names
    (``aux``, say) is read by every candidate. A candidate whose families are all off
    for this corpus is left out."""
    base = model.params(task)
    for k in NOT_PARAMS:
        base.pop(k, None)
    named = requested_families(model)
    extra = tuple(f for f in available if f not in named)
    out = []
    for i, c in enumerate(model.candidates):
        c = dict(c)
        fams = c.get("families")
        fams = tuple(available) if fams is None else tuple(
            f for f in available if f in fams or f in extra)
        if not fams or (c.get("families") and set(fams) <= set(extra)):
            continue
        params = {**base, **{k: v for k, v in c.items() if k not in META}}
        params["family"] = str(getattr(params["family"], "value", params["family"]))
        out.append(Candidate(str(c["name"]), fams, params, i))
    return out


def requested_families(model) -> set[str]:
    """Every feature family some candidate names."""
    out: set[str] = set()
    for c in model.candidates:
        out.update(c.get("families") or ())
    return out


# -- splits --------------------------------------------------------------------------------
def inner_splits(n: int, groups: np.ndarray | None, k: int, seed: int, holdout: bool
                 ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Grouped k-fold (or one grouped hold-out quarter with ``holdout``) over n records;
    without groups (or with one), shuffled k-fold."""
    idx = np.arange(n)
    grouped = groups is not None and len(np.unique(groups)) >= 2
    if holdout:
        if grouped and len(np.unique(groups)) >= 4:
            cv = GroupShuffleSplit(n_splits=1, test_size=0.25, random_state=seed)
            return list(cv.split(idx, groups=groups))
        return list(ShuffleSplit(n_splits=1, test_size=0.25, random_state=seed).split(idx))
    if grouped:
        return list(GroupKFold(n_splits=min(k, len(np.unique(groups)))).split(idx,
                                                                             groups=groups))
    return list(KFold(n_splits=min(k, n), shuffle=True, random_state=seed).split(idx))


# -- fitting one candidate -------------------------------------------------------------------
def _prior_kw(params: Mapping[str, Any]) -> dict[str, Any]:
    keys = PriorLinear._get_param_names()
    return {k: v for k, v in params.items() if k in keys and k != "prior_columns"}


def fit_binary(params: Mapping[str, Any], X, y01: np.ndarray, rule: list[int]):
    """One label's binary model (classes 0, 1) on ``X``; ``rule``: the columns that carry
    its prior (prior family). A label constant in the data gets the prior model (with a
    rule) or a constant score."""
    if params["family"] == "prior":
        est = PriorLinear(prior_columns={1: list(rule)}, **_prior_kw(params))
        w, b, it = est._fit_binary(X, y01.astype(int), list(rule), [])
        est.coef_, est.intercept_ = w[None, :], np.array([b])
        est.classes_, est.n_iter_, est.n_features_in_ = np.array([0, 1]), it, X.shape[1]
        return est
    if y01.min() == y01.max():
        return constant_binary(X.shape[1], bool(y01[0]))
    return build_classifier(params, "multiclass").fit(X, y01.astype(int))


def fit_multiclass(params: Mapping[str, Any], X, y: np.ndarray, rules: Mapping[str, list]):
    """A single-label task's model; ``rules``: per class the columns of its prior."""
    p = dict(params)
    if p["family"] == "prior":
        p["prior_columns"] = dict(rules)
    return build_classifier(p, "multiclass").fit(X, y)


def proba(est, X, labels: Sequence[str]) -> np.ndarray:
    """A single-label model's probabilities in ``labels`` order (a class the training
    part lacked: 0)."""
    p = np.asarray(est.predict_proba(X), dtype=float)
    out = np.zeros((p.shape[0], len(labels)))
    for j, c in enumerate(est.classes_):
        out[:, list(labels).index(str(c))] = p[:, j]
    return out


def widen(est, idx: np.ndarray, width: int):
    """The fitted linear ``est`` (trained on columns ``idx`` of a matrix of ``width``
    columns) made to read the whole matrix: its weights placed at ``idx``, zeros
    elsewhere. Returns ``est``."""
    idx = np.asarray(idx)

    def grow(w):
        w = np.atleast_2d(np.asarray(w))
        out = np.zeros((w.shape[0], width), dtype=w.dtype)
        out[:, idx] = w
        return out

    if len(idx) == width and np.array_equal(idx, np.arange(width)):
        return est
    if isinstance(est, PriorLinear):
        est.coef_ = grow(est.coef_)
    elif isinstance(est, AveragedLinear):
        if not getattr(est, "linear_", False) or getattr(est, "estimators_", None):
            raise FramingConfigError("a model=auto candidate of family ensemble must keep "
                                     "linear members only (keep_members: false, no "
                                     "calibrated SVM, no binarised features).")
        est.coef_ = grow(est.coef_)
    elif isinstance(est, LinearTextClassifier):
        inner = getattr(est, "model_", None)
        shared = inner is not None and getattr(inner, "coef_", None) is est.coef_
        if est._calibrated():
            raise FramingConfigError("a model=auto candidate reading some feature families "
                                     "only cannot be a calibrated linear SVM; give it "
                                     "calibration_cv: 0 or every family.")
        est.coef_ = grow(est.coef_)
        if getattr(est, "nb_ratio_", None) is not None:
            est.nb_ratio_ = grow(est.nb_ratio_)
        if inner is not None and not est.nb_weight:
            if hasattr(inner, "feature_log_prob_"):
                inner.feature_log_prob_ = grow(inner.feature_log_prob_)
            elif hasattr(inner, "coef_"):
                inner.coef_ = est.coef_ if shared else grow(inner.coef_).reshape(
                    (-1, width) if np.ndim(inner.coef_) == 2 else (width,))
            inner.n_features_in_ = width
    else:
        raise FramingConfigError(f"a model=auto candidate gave a {type(est).__name__}, "
                                 "which cannot read a subset of the features.")
    est.n_features_in_ = width
    return est


# -- scoring ---------------------------------------------------------------------------------
def _f1_columns(Y: np.ndarray, P: np.ndarray) -> np.ndarray:
    """F1 of each column of 0/1 truth ``Y`` and decisions ``P`` (a column neither true
    nor predicted: NaN)."""
    tp = (Y & P).sum(0)
    d = Y.sum(0) + P.sum(0)
    return np.where(d > 0, 2 * tp / np.maximum(d, 1), np.nan)


def _decisions(task: TaskSpec, S: np.ndarray) -> np.ndarray:
    """0/1 matrix of decisions: multi-label at 0.5, single-label the best class."""
    if task.kind == "multilabel":
        return S >= 0.5
    out = np.zeros(S.shape, dtype=bool)
    out[np.arange(len(S)), np.argmax(S, axis=1)] = True
    return out


def _truth(task: TaskSpec, y) -> np.ndarray:
    if task.kind == "multilabel":
        return np.asarray(y).astype(bool)
    return np.asarray(y, dtype=object)[:, None] == np.asarray(task.labels, dtype=object)


def unit_scores(task: TaskSpec, y, S: np.ndarray, rows: np.ndarray, groups, n_boot: int,
                seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Per unit of choice (each label of a multi-label task; the task otherwise): the F1
    (macro-F1) of the out-of-fold scores ``S`` on ``rows``, and ``n_boot`` bootstrap
    draws of it resampling groups (articles) — the same draws for every candidate, so
    that their differences are paired."""
    Y, P = _truth(task, y)[rows], _decisions(task, S[rows])

    def value(sel):
        f = _f1_columns(Y[sel], P[sel])
        if task.kind == "multilabel":
            return f
        return np.array([np.nanmean(f) if not np.isnan(f).all() else np.nan])

    point = value(slice(None))
    rng = np.random.default_rng(seed)
    g = groups[rows] if groups is not None else np.arange(len(rows))
    uniq, inv = np.unique(g, return_inverse=True)
    members = [np.flatnonzero(inv == i) for i in range(len(uniq))]
    draws = np.full((n_boot, len(point)), np.nan)
    for b in range(n_boot):
        pick = rng.integers(0, len(members), len(members))
        draws[b] = value(np.concatenate([members[i] for i in pick]))
    return point, draws


@dataclass
class Scored:
    """A candidate's inner scores on every unit of choice."""

    candidate: Candidate
    point: np.ndarray
    draws: np.ndarray
    seconds: float
    scores: np.ndarray  # out-of-fold probabilities (NaN where not scored)


def choose(scored: Sequence[Scored], rule: str = "one_se") -> tuple[np.ndarray, np.ndarray]:
    """Per unit: the index (into ``scored``) of the chosen candidate, and the standard
    error that allowed it. ``one_se``: the simplest candidate (lowest rank) whose score
    falls short of the best's by at most one standard error of their difference — the
    paired bootstrap draws (the same resampled articles for every candidate); ``best``:
    the best, ties to the simplest."""
    pts = np.vstack([np.nan_to_num(s.point, nan=-1.0) for s in scored])
    ranks = np.array([s.candidate.rank for s in scored])
    n_units = pts.shape[1]
    chosen, allowed = np.zeros(n_units, dtype=int), np.zeros(n_units)
    for u in range(n_units):
        best = int(np.argmax(pts[:, u]))
        ok = []
        for i, s in enumerate(scored):
            gap = pts[best, u] - pts[i, u]
            slack = 1e-12
            if rule == "one_se" and i != best:
                d = scored[best].draws[:, u] - s.draws[:, u]
                d = d[np.isfinite(d)]
                slack = max(float(np.std(d)) if len(d) > 1 else 0.0, 1e-12)
            if gap <= slack:
                ok.append((ranks[i], i, slack))
        _, pick, slack = min(ok)
        chosen[u], allowed[u] = pick, slack
    return chosen, allowed


# -- the whole choice --------------------------------------------------------------------------
@dataclass
class TaskChoice:
    """What the choice of one task measured and decided."""

    task: str
    units: list[str]  # the labels (multi-label) or [task]
    rows: list[dict[str, Any]]  # one per candidate: name, families, score/ci per unit, s
    chosen: list[str]  # per unit
    scheme: str
    margins: list[float] = field(default_factory=list)  # per unit: the SE that allowed it
    oof: dict[str, np.ndarray] = field(default_factory=dict)  # chosen unit scores


class AutoFit:
    """Choose, per task, a candidate from inner cross-validation, then fit it."""

    def __init__(self, fitter, select):
        self.fitter = fitter
        self.select = select

    def superset(self, tasks, notes):
        """The feature map every candidate reads from: the run's families and every
        family a candidate names, switched on."""
        feats = self.fitter.features
        on = set(feats.enabled()) | requested_families(self.fitter.model)
        changes = {f: replace(getattr(feats, f), enabled=True) for f in on
                   if hasattr(feats, f) and not getattr(feats, f).enabled}
        if changes:
            feats = replace(feats, **changes)
        return replace(self.fitter, features=feats, model=self.fitter.model).build_features(
            tasks, notes)

    def fit(self, texts, targets, tasks: Sequence[TaskSpec], groups=None, thresholds=None,
            notes: list[str] | None = None) -> FramingModel:
        from sklearn.pipeline import FeatureUnion

        notes = [] if notes is None else notes
        sel = self.select
        t0 = time.perf_counter()
        union = self.superset(tasks, notes)
        X = union.fit_transform(list(texts))
        X = sp.csr_matrix(X, dtype=np.float64) if sp.issparse(X) else np.asarray(X, float)
        if sp.issparse(X):
            X.sum_duplicates()
        names = feature_names(union)
        blocks = _blocks(union, names)
        featurise = time.perf_counter() - t0
        n = X.shape[0]
        holdout = n > sel.halving_from
        splits = inner_splits(n, groups, sel.splits, self.fitter.seed, holdout)
        estimators, constant, thr, choices = {}, {}, {}, []
        plans = {}
        for t in tasks:
            y = targets[t.name]
            if constant_task(t, y, constant, notes):
                continue
            cands = _dedupe([plan(c, t, names, blocks) for c in
                             candidates(self.fitter.model, t.name, list(blocks))])
            if not cands:
                raise FramingConfigError(f"model=auto: no candidate of task {t.name!r} reads a "
                                         "feature family that is on for this corpus; name "
                                         "families in model.candidates.")
            choice = self._choose(t, X, y, groups, splits, cands, holdout)
            choices.append(choice)
            plans[t.name] = (choice, {c.name: c for c in cands})
        # the final feature map: the families some chosen candidate reads
        used = [f for f in blocks if any(f in plans[t][1][c].candidate.families
                                         for t in plans for c in plans[t][0].chosen)]
        used = used or list(blocks)  # every task constant: nothing reads the features
        keep = np.concatenate([np.arange(*blocks[f]) for f in used])
        width = len(keep)
        where = np.full(X.shape[1], -1)
        where[keep] = np.arange(width)
        final = FeatureUnion([(nm, est) for nm, est in union.transformer_list if nm in used],
                             transformer_weights={nm: w for nm, w in
                                                  (union.transformer_weights or {}).items()
                                                  if nm in used})
        for t in tasks:
            if t.name not in plans:
                continue
            choice, by_name = plans[t.name]
            y = targets[t.name]
            sliced = {name: X[:, by_name[name].cols] for name in set(choice.chosen)}

            def final_fit(u, cname, t=t, y=y, by_name=by_name, sliced=sliced):
                pl = by_name[cname]
                if t.kind == "multilabel":
                    est = fit_binary(pl.params, sliced[cname], y[:, u].astype(int),
                                     pl.rules[u])
                else:
                    est = fit_multiclass(pl.params, sliced[cname], y, pl.rules)
                return widen(est, where[pl.cols], width)

            fitted = self._map(final_fit, list(enumerate(choice.chosen)))
            if t.kind == "multilabel":
                estimators[t.name] = LabelModels.from_fitted(fitted, width)
                if thresholds is not None and t.name in thresholds:
                    thr[t.name] = np.asarray(thresholds[t.name], dtype=float)
                elif self.fitter.thresholds == "tune":
                    thr[t.name] = self._thresholds(t, y, choice, groups, notes)
                else:
                    thr[t.name] = np.full(len(t.labels), 0.5)
            else:
                estimators[t.name] = fitted[0]
        model = FramingModel(list(tasks), final, estimators, thr, constant,
                             compiler=compile_or_none)
        model.choice = {"seconds": round(time.perf_counter() - t0, 3),
                        "featurise_seconds": round(featurise, 3),
                        "scheme": choices[0].scheme if choices else None,
                        "tasks": [_plain(c) for c in choices]}
        return model

    def _map(self, fn, items):
        """``fn(*item)`` for every item, in threads where the run fits labels in parallel
        (``eval.ovr_n_jobs``; liblinear and numpy spend most of their time outside the GIL)."""
        jobs = self.fitter.ovr_n_jobs
        if jobs in (None, "auto", 1) or len(items) < 8:
            return [fn(*it) for it in items]
        from joblib import Parallel, delayed

        return Parallel(n_jobs=int(jobs), prefer="threads")(delayed(fn)(*it) for it in items)

    def _choose(self, task, X, y, groups, splits, cands, holdout) -> TaskChoice:
        sel, seed = self.select, self.fitter.seed
        units = list(task.labels) if task.kind == "multilabel" else [task.name]
        n = X.shape[0]
        alive = {u: list(range(len(cands))) for u in range(len(units))}
        if task.kind == "multilabel":
            # A label with too few examples on either side for a contest: the simplest.
            pos = np.asarray(y).sum(0)
            for u in range(len(units)):
                if min(pos[u], n - pos[u]) < sel.min_examples:
                    alive[u] = [0]
        fractions = [1 / 3, 1.0] if holdout else [1.0]
        scored: dict[int, Scored] = {}
        tr, te = (splits[0] if holdout else (None, None))
        rows = te if holdout else np.arange(n)
        earlier: dict[int, Scored] = {}  # a candidate's last scores, whatever the round
        seconds: dict[int, float] = {}
        for r, frac in enumerate(fractions):
            scored = {}
            for i, c in enumerate(cands):
                units_here = [u for u in alive if i in alive[u]]
                if not units_here:
                    continue
                t0 = time.perf_counter()
                S = np.full((n, len(task.labels)), np.nan)
                parts = splits
                if holdout and frac < 1:
                    rng = np.random.default_rng(seed + r)
                    take = _subsample(tr, groups, frac, rng)
                    parts = [(take, te)]
                for a, b in parts:
                    S[b] = self._fit_score(task, c, X, y, a, b, units_here)
                point, draws = unit_scores(task, y, np.nan_to_num(S), rows, groups,
                                           sel.n_boot, seed)
                mask = np.array([u in units_here for u in range(len(units))])
                point[~mask] = np.nan
                draws[:, ~mask] = np.nan
                scored[i] = Scored(c, point, draws, time.perf_counter() - t0, S)
                seconds[i] = seconds.get(i, 0.0) + scored[i].seconds
                if r < len(fractions) - 1:
                    earlier[i] = scored[i]
            if r < len(fractions) - 1:  # keep the best third of each unit's candidates
                for u in alive:
                    if len(alive[u]) == 1:
                        continue
                    order = sorted(alive[u], key=lambda i: -np.nan_to_num(
                        scored[i].point[u], nan=-1.0))
                    alive[u] = order[:max(2, int(np.ceil(len(order) / 3)))]
        # the choice among the last round's candidates, per unit
        chosen, margins = [], []
        for u in range(len(units)):
            pool = [scored[i] for i in alive[u]]
            sub = [Scored(s.candidate, s.point[[u]], s.draws[:, [u]], s.seconds, s.scores)
                   for s in pool]
            k, slack = choose(sub, sel.rule)
            chosen.append(pool[int(k[0])].candidate.name)
            margins.append(round(float(slack[0]), 6))
        out_rows = []
        for i, c in enumerate(cands):
            s = scored.get(i)
            row = {"candidate": c.name, "families": list(c.candidate.families),
                   "seconds": round(seconds[i], 3) if i in seconds else None}
            for u, name in enumerate(units):
                if s is None or not np.isfinite(s.point[u]):
                    e = earlier.get(i)
                    if e is not None and np.isfinite(e.point[u]):  # left in the first round
                        row.setdefault("first_round", {})[name] = float(e.point[u])
                    continue
                d = s.draws[:, u]
                d = d[np.isfinite(d)]
                lo, hi = (np.quantile(d, [0.025, 0.975]) if len(d) else (np.nan, np.nan))
                row[name] = {"f1": float(s.point[u]),
                             "ci": [float(min(lo, s.point[u])), float(max(hi, s.point[u]))],
                             "se": float(np.std(d)) if len(d) else 0.0}
            if s is not None and len(units) > 1:
                m = np.nanmean(np.where(np.isfinite(s.point), s.point, np.nan))
                with np.errstate(all="ignore"):
                    dm = np.nanmean(s.draws, axis=1)
                dm = dm[np.isfinite(dm)]
                lo, hi = (np.quantile(dm, [0.025, 0.975]) if len(dm) else (m, m))
                row["mean"] = {"f1": float(m), "ci": [float(min(lo, m)), float(max(hi, m))],
                               "labels": int(np.isfinite(s.point).sum())}
            elif s is not None and units[0] in row:
                row["mean"] = dict(row[units[0]])
            out_rows.append(row)
        scheme = ("hold-out quarter, successive halving (a third of the rest, then all)"
                  if holdout
                  else f"grouped {len(splits)}-fold" if groups is not None and len(
                      np.unique(groups)) >= 2 else f"{len(splits)}-fold")
        choice = TaskChoice(task.name, units, out_rows, chosen, scheme, margins)
        # the chosen candidates' out-of-fold scores (for thresholds)
        by = {s.candidate.name: s for s in scored.values()}
        S = np.full((n, len(task.labels)), np.nan)
        for u, name in enumerate(chosen):
            if name in by:
                S[:, u if task.kind == "multilabel" else slice(None)] = (
                    by[name].scores[:, u] if task.kind == "multilabel" else by[name].scores)
        choice.oof = {"scores": S, "rows": rows}
        return choice

    def _fit_score(self, task, pl: Plan, X, y, tr, te, units) -> np.ndarray:
        Xtr, Xte = X[tr][:, pl.cols], X[te][:, pl.cols]
        out = np.full((len(te), len(task.labels)), np.nan)
        if task.kind == "multilabel":
            def one(u):
                est = fit_binary(pl.params, Xtr, y[tr, u].astype(int), pl.rules[u])
                return est.predict_proba(Xte)[:, 1]

            for u, col in zip(units, self._map(one, [(u,) for u in units]), strict=True):
                out[:, u] = col
            return out
        ytr = y[tr]
        if len(np.unique(ytr)) < 2:
            out[:] = (np.asarray(task.labels, dtype=object)[None, :] == ytr[0]).astype(float)
            return out
        est = fit_multiclass(pl.params, Xtr, ytr, pl.rules)
        return proba(est, Xte, task.labels)

    def _thresholds(self, task, y, choice: TaskChoice, groups, notes) -> np.ndarray:
        from framing.learn.estimators import safe_thresholds

        rows = choice.oof["rows"]
        S = choice.oof["scores"][rows]
        ok = np.isfinite(S).all(axis=1)
        g = groups[rows][ok] if groups is not None else None
        thr, msgs = safe_thresholds(y[rows][ok], S[ok], task.labels, groups=g,
                                    seed=self.fitter.seed)
        notes.extend(f"task {task.name!r}: {m}" for m in msgs)
        return thr


def _blocks(union, names) -> dict[str, tuple[int, int]]:
    """Each family's column range in the union."""
    out, start = {}, 0
    prefixes = np.array([str(n).split("__", 1)[0] for n in names], dtype=object)
    for name, _ in union.transformer_list:
        width = int((prefixes == name).sum())
        out[name] = (start, start + width)
        start += width
    return out


def _columns(c: Candidate, blocks) -> np.ndarray:
    return np.concatenate([np.arange(*blocks[f]) for f in blocks if f in c.families])


@dataclass
class Plan:
    """A candidate on one task: the columns it reads and, within them, each label's
    prior columns (multi-label: a list per label; single-label: per class)."""

    candidate: Candidate
    cols: np.ndarray
    rules: Any

    @property
    def name(self) -> str:
        return self.candidate.name

    @property
    def params(self) -> dict[str, Any]:
        return self.candidate.params

    @property
    def rank(self) -> int:
        return self.candidate.rank

    def has_rule(self) -> bool:
        return any(self.rules) if isinstance(self.rules, list) else any(self.rules.values())


def plan(c: Candidate, task: TaskSpec, names, blocks) -> Plan:
    """Where candidate ``c`` reads on ``task``: its columns and its labels' rule columns
    (the features named ``<prior_family>__<task>:<label>``)."""
    cols = _columns(c, blocks)
    fam = c.params.get("prior_family", "codebook")
    rel = []
    for lab in task.labels:
        want = f"{fam}__{task.name}:{lab}"
        block = blocks.get(fam)
        hit = []
        if block is not None and f"{fam}" in c.families:
            lo, hi = block
            found = np.flatnonzero(names[lo:hi] == want)
            if len(found):
                pos = int(np.searchsorted(cols, lo + int(found[0])))
                hit = [pos]
        rel.append(hit)
    rules = rel if task.kind == "multilabel" else dict(zip(task.labels, rel, strict=True))
    return Plan(c, cols, rules)


def _dedupe(plans: list[Plan]) -> list[Plan]:
    """Candidates that would fit the same model on this corpus, once (the simplest): a
    prior candidate without a rule column is plain logistic regression, its prior keys
    then mean nothing."""
    seen, out = set(), []
    for pl in plans:
        c = pl.candidate
        p = dict(c.params)
        if p["family"] == "prior" and not pl.has_rule():
            for k in ("prior_family", "prior_weight", "prior_intercept", "prior_strength"):
                p.pop(k, None)
        relevant = _relevant(p)
        key = (c.families, tuple(sorted((k, repr(v)) for k, v in relevant.items())))
        if key in seen:
            continue
        seen.add(key)
        out.append(pl)
    return out


def _relevant(p: Mapping[str, Any]) -> dict[str, Any]:
    if p["family"] == "prior":
        keys = set(PriorLinear._get_param_names())
    elif p["family"] == "ensemble":
        keys = {"members", "keep_members"}
    else:
        keys = set(LinearTextClassifier._get_param_names()) - {"random_state"}
    return {k: v for k, v in p.items() if k in keys or k == "family"}


def _subsample(tr: np.ndarray, groups, frac: float, rng) -> np.ndarray:
    """About ``frac`` of the rows ``tr``, whole groups at a time where there are groups."""
    if groups is None:
        k = max(2, int(round(len(tr) * frac)))
        return np.sort(rng.choice(tr, size=min(k, len(tr)), replace=False))
    g = np.unique(groups[tr])
    k = max(2, int(round(len(g) * frac)))
    pick = rng.choice(g, size=min(k, len(g)), replace=False)
    return tr[np.isin(groups[tr], pick)]


def _plain(c: TaskChoice) -> dict[str, Any]:
    return {"task": c.task, "units": c.units, "chosen": c.chosen, "scheme": c.scheme,
            "margins": c.margins, "candidates": c.rows}


def summary(choice: Mapping[str, Any]) -> list[str]:
    """One line per task: what was chosen (per label where labels differ)."""
    out = []
    for t in choice.get("tasks", []):
        picks = t["chosen"]
        if len(set(picks)) == 1:
            what = picks[0]
        else:
            what = ", ".join(f"{u}: {p}" for u, p in zip(t["units"], picks, strict=True))
        out.append(f"model choice {t['task']}: {what} ({len(t['candidates'])} candidates, "
                   f"{t['scheme']})")
    return out
