"""Learning curves: does annotating more articles pay?

Macro-F1 per task against the number of annotated *articles* (groups). The corpus is cut
into grouped folds; within each fold's training part, ``m`` articles are drawn at random
(several draws for each ``m``), the run's model is fitted on them (with ``model=auto``
its own choice included, made on those articles only) and scored on the fold's held-out
articles. Records of a ``base`` corpus (the seeds, say) can be added to every training
set. Each point is the mean over folds and draws with a 95% normal interval over them.

An inverse power law, ``F(m) = a - b * m ** -c`` (the usual shape of learning curves;
Figueroa et al. 2012, "Predicting sample size required for classification
performance"), is fitted to the means; the expected gain from annotating ``N`` more
articles is ``F(n + N) - F(n)`` at the corpus's ``n`` articles, with a 95% interval from
refitting the law to draws resampled within each point. It is an extrapolation: an
estimate, stated as such.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.model_selection import GroupKFold, KFold

from framing.core.errors import FramingDataError
from framing.core.metrics import compute
from framing.data.corpus import Corpus

log = logging.getLogger(__name__)


@dataclass
class LearningCurve:
    """What a learning curve measured.

    Attributes
    ----------
    sizes : list of int
        Annotated articles (groups) per training set, ascending.
    records : list of float
        Mean training records at each size (``base`` records included).
    scores : dict
        ``scores[task][k]``: the macro-F1 of every (fold, draw) at ``sizes[k]``.
    n_groups : int
        Articles of the corpus (the training part of the whole run).
    unit : str
        What a size counts: ``articles`` (groups) or ``records`` (no group column).
    gain : dict
        Per task: ``{"more": N, "at": n, "gain": g, "ci": [lo, hi], "law": [a, b, c]}``
        or None where the law could not be fitted.
    """

    corpus: str
    sizes: list[int]
    records: list[float]
    scores: dict[str, list[list[float]]]
    n_groups: int
    unit: str = "articles"
    draws: int = 5
    gain: dict[str, Any] = field(default_factory=dict)

    def point(self, task: str, k: int) -> tuple[float, float, float]:
        """Mean macro-F1 at ``sizes[k]`` and its 95% normal interval over folds and
        draws, cut to [0, 1] (the mean lies inside it by construction)."""
        v = np.asarray(self.scores[task][k], dtype=float)
        v = v[np.isfinite(v)]
        if not len(v):
            return float("nan"), float("nan"), float("nan")
        m = float(v.mean())
        half = 1.96 * float(v.std(ddof=1)) / np.sqrt(len(v)) if len(v) > 1 else 0.0
        return m, max(0.0, m - half), min(1.0, m + half)  # F1 lies in [0, 1]

    def table(self) -> list[str]:
        """Markdown lines: a row per size, macro-F1 [95% interval] per task."""
        tasks = list(self.scores)
        lines = [f"| {self.unit} | records | " + " | ".join(tasks) + " |",
                 "|" + " --- |" * (len(tasks) + 2)]
        for k, m in enumerate(self.sizes):
            cells = []
            for t in tasks:
                p, lo, hi = self.point(t, k)
                cells.append(f"{p:.3f} [{lo:.3f}, {hi:.3f}]")
            lines.append(f"| {m} | {self.records[k]:.0f} | " + " | ".join(cells) + " |")
        return lines

    def gain_lines(self) -> list[str]:
        """One plain line per task: the expected gain from annotating more articles."""
        out = []
        for t, g in self.gain.items():
            if g is None:
                out.append(f"{t}: no curve could be fitted to these points (it needs three "
                           "sizes or more), so no gain is estimated.")
                continue
            out.append(f"{t}: annotating {g['more']} more {self.unit} (from {g['at']}) is "
                       f"expected to change macro-F1 by {g['gain']:+.3f} (95% interval "
                       f"{g['ci'][0]:+.3f} to {g['ci'][1]:+.3f}; an estimate from the fitted "
                       "curve)")
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        pts = {t: [dict(zip(("mean", "ci_low", "ci_high"), self.point(t, k), strict=True))
                   for k in range(len(self.sizes))] for t in self.scores}
        return {"corpus": self.corpus, "unit": self.unit, "sizes": self.sizes,
                "records": self.records, "n_groups": self.n_groups, "draws": self.draws,
                "points": pts, "scores": self.scores, "gain": self.gain}


def default_sizes(n_train: int, points: int = 5) -> list[int]:
    """About ``points`` sizes from 1 to ``n_train``, spaced geometrically."""
    if n_train <= points:
        return list(range(1, n_train + 1))
    grid = np.unique(np.round(np.geomspace(1, n_train, points)).astype(int))
    return [int(x) for x in grid]


def _law(m, a, b, c):
    return a - b * np.power(m, -c)


def fit_law(sizes: Sequence[float], means: Sequence[float]) -> np.ndarray | None:
    """``(a, b, c)`` of ``a - b * m**-c`` fitted to the points, or None (fewer than three
    points, or no fit)."""
    from scipy.optimize import curve_fit

    x, y = np.asarray(sizes, float), np.asarray(means, float)
    ok = np.isfinite(y) & (x > 0)
    x, y = x[ok], y[ok]
    if len(np.unique(x)) < 3:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p, _ = curve_fit(_law, x, y, p0=(min(1.0, y.max() + 0.05), max(y.max() - y.min(),
                                                                            0.05), 0.5),
                             bounds=([0.0, -1.0, 0.01], [1.0, 2.0, 3.0]), maxfev=5000)
    except (RuntimeError, ValueError):
        return None
    return p


def expected_gain(curve: LearningCurve, task: str, more: int, seed: int = 0,
                  n_boot: int = 200) -> dict[str, Any] | None:
    """The law's gain from ``curve.n_groups`` to ``n_groups + more`` articles, with a 95%
    interval from refitting to draws resampled within each size (widened to hold the
    point estimate where the resampled fits fall on one side of it)."""
    means = [curve.point(task, k)[0] for k in range(len(curve.sizes))]
    law = fit_law(curve.sizes, means)
    if law is None:
        return None
    n = curve.n_groups
    gain = float(_law(n + more, *law) - _law(n, *law))
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        m = []
        for k in range(len(curve.sizes)):
            v = np.asarray(curve.scores[task][k], float)
            v = v[np.isfinite(v)]
            m.append(float(rng.choice(v, len(v)).mean()) if len(v) else np.nan)
        p = fit_law(curve.sizes, m)
        if p is not None:
            boots.append(float(_law(n + more, *p) - _law(n, *p)))
    lo, hi = (np.quantile(boots, [0.025, 0.975]) if boots else (gain, gain))
    return {"more": int(more), "at": int(n), "gain": gain,
            "ci": [float(min(lo, gain)), float(max(hi, gain))],
            "law": [float(x) for x in law]}


def learning_curve(corpus: Corpus, fitter, sizes: Sequence[int] | None = None,
                   draws: int = 5, n_splits: int = 5, seed: int = 0,
                   base: Corpus | None = None, more: int | None = None) -> LearningCurve:
    """Macro-F1 per task against the number of annotated articles.

    Parameters
    ----------
    corpus : Corpus
        Labelled records; its group column (articles) is the unit of the curve (records
        when it has none).
    fitter : Fitter
        The model of the run (:meth:`framing.learn.fitting.Fitter.from_config`).
    sizes : list of int, optional
        Articles per training set; default: about five from 1 to a fold's training part
        (with ``base``, 0 is allowed: the base records alone).
    draws : int
        Random draws of the articles at each size (the full training part: one).
    n_splits : int
        Grouped folds (at most one per article).
    base : Corpus, optional
        Records added to every training set, never scored (same tasks).
    more : int, optional
        The gain is stated for this many more articles (default: as many as the corpus
        has, at least 5).
    """
    if base is not None and [(t.name, t.labels) for t in base.tasks] != [
            (t.name, t.labels) for t in corpus.tasks]:
        raise FramingDataError("the base corpus of a learning curve must have the corpus's "
                               "tasks and labels.")
    groups = corpus.groups
    unit = "articles"
    if groups is None:
        groups = np.asarray([str(i) for i in range(len(corpus))], dtype=object)
        unit = "records"
    uniq = np.unique(groups)
    if len(uniq) < 2:
        if unit == "records":
            raise FramingDataError(f"{corpus.source}: a learning curve needs at least two "
                                   f"records; this corpus has {len(uniq)}.")
        column = f", column {corpus.group_column!r}" if corpus.group_column else ""
        raise FramingDataError(
            f"{corpus.source}: a learning curve needs at least two articles; all "
            f"{len(corpus)} records are in one ({str(uniq[0])!r}{column}). Add labelled "
            "records of other articles, or unset data.group_column for a curve over "
            "records.")
    k = min(n_splits, len(uniq))
    idx = np.arange(len(corpus))
    if unit == "articles":
        folds = list(GroupKFold(n_splits=k).split(idx, groups=groups))
    else:
        folds = list(KFold(n_splits=k, shuffle=True, random_state=seed).split(idx))
    smallest = min(len(np.unique(groups[tr])) for tr, _ in folds)
    low = 0 if base is not None else 1  # with a base corpus, 0 articles: the base alone
    given = sorted({int(s) for s in (sizes or default_sizes(smallest))})
    sizes = [s for s in given if low <= s <= smallest]
    why = f"a size is between {low} and {smallest} {unit}, the fewest a fold trains on"
    if not sizes:
        raise FramingDataError(f"no size of the learning curve ({', '.join(map(str, given))}) "
                               f"fits this corpus: {why}. Give sizes in that range.")
    left = [s for s in given if s not in sizes]
    if left:
        warnings.warn(f"learning curve: size{'s' if len(left) > 1 else ''} "
                      f"{', '.join(map(str, left))} left out: {why}", stacklevel=2)
    rng = np.random.default_rng(seed)
    scores = {t.name: [[] for _ in sizes] for t in corpus.tasks}
    records = [[] for _ in sizes]
    for tr, te in folds:
        test = corpus.subset(te)
        pool = np.unique(groups[tr])
        for j, m in enumerate(sizes):
            for _ in range(1 if m >= len(pool) or m == 0 else draws):
                pick = rng.choice(pool, size=m, replace=False)
                part = corpus.subset(tr[np.isin(groups[tr], pick)])
                texts, targets, g = _with_base(part, base, corpus.tasks)
                model = fitter.fit(texts, targets, corpus.tasks, g, notes=[])
                sc = model.scores(test.texts)
                records[j].append(len(texts))
                for t in corpus.tasks:
                    m_ = compute(t, test.targets[t.name], model.decide(t.name, sc[t.name]),
                                 zero_division=float("nan"))
                    scores[t.name][j].append(float(m_.get("macro_f1", np.nan)))
    curve = LearningCurve(corpus.name, sizes, [float(np.mean(r)) for r in records], scores,
                          len(uniq), unit, draws)
    more = more if more is not None else max(5, len(uniq))
    curve.gain = {t.name: expected_gain(curve, t.name, more, seed) for t in corpus.tasks}
    return curve


def _with_base(part: Corpus, base: Corpus | None, tasks):
    if base is None:
        return list(part.texts), part.targets, part.groups
    texts = list(base.texts) + list(part.texts)
    targets = {t.name: np.concatenate([base.targets[t.name], part.targets[t.name]])
               for t in tasks}
    bg = base.groups if base.groups is not None else np.asarray(
        [f"base-{i}" for i in range(len(base))], dtype=object)
    pg = part.groups if part.groups is not None else np.asarray(
        [f"r{i}" for i in range(len(part))], dtype=object)
    groups = np.concatenate([np.asarray(bg, dtype=object), np.asarray(pg, dtype=object)])
    return texts, targets, groups


def plot(curve: LearningCurve, path: str | Path) -> Path:
    """Macro-F1 per task against annotated articles, with the 95% intervals and the
    fitted law, as a PNG written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from framing.evaluate.plots import save_png

    fig, ax = plt.subplots(figsize=(6, 3.8))
    for t in curve.scores:
        pts = [curve.point(t, k) for k in range(len(curve.sizes))]
        mean, lo, hi = (np.array(v) for v in zip(*pts, strict=True))
        line = ax.plot(curve.sizes, mean, marker="o", label=t)[0]
        ax.fill_between(curve.sizes, lo, hi, color=line.get_color(), alpha=0.15)
        g = curve.gain.get(t)
        if g is not None:
            xs = np.linspace(curve.sizes[0], curve.n_groups + g["more"], 60)
            ax.plot(xs, _law(xs, *g["law"]), color=line.get_color(), linestyle=":",
                    linewidth=1)
    ax.set_xlabel(f"annotated {curve.unit} in the training set")
    ax.set_ylabel("macro-F1 on held-out " + curve.unit)
    ax.set_title(f"{curve.corpus}: learning curve ({curve.draws} draws a size; dotted: "
                 "fitted law)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()

    return save_png(fig, path)
