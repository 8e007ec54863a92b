"""What to label next: pick the unlabelled units most worth a human's time.

Strategies (:data:`STRATEGIES`), each capped at ``per_article`` units of one article:

* ``uncertainty`` — the units closest to a decision: a multi-label score near its
  threshold, or two single-label scores close together;
* ``disagreement`` — the units where the model and the codebook's rules
  (:mod:`framing.evaluate.baselines`) disagree, most labels in dispute first (then, when fewer
  are disputed, the most uncertain of the rest);
* ``diverse`` — one unit near the centre of each cluster of the pool's TF-IDF space
  (k-means), spread across articles;
* ``random`` — a seeded random sample (the baseline every strategy must beat).

:func:`select` returns the picks in order with the model's guess and the reason;
:func:`queue_records` makes them records ready to annotate.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from framing.annotate.records import TASK_SET, blank_record, task_set_field
from framing.core.errors import FramingDataError

STRATEGIES = ("uncertainty", "disagreement", "diverse", "random")


@dataclass
class Pick:
    """One unit chosen: its position in the pool, why, and its sort key (lower first)."""

    index: int
    reason: str
    key: float


def margins(model: Any, scores: dict[str, np.ndarray]) -> tuple[np.ndarray, list[str]]:
    """Each unit's distance to the nearest decision and a note on which one.

    A multi-label score's distance is ``|score - threshold|``; a single-label task's is
    half the gap between its two best scores (0: a tie).
    """
    n = len(next(iter(scores.values())))
    best = np.full(n, np.inf)
    notes = [""] * n
    for t in model.tasks:
        s = scores[t]
        labels = model.labels[t]
        if model.kinds[t] == "multilabel":
            thr = np.array([model.thresholds[t][lab] for lab in labels])
            d = np.abs(s - thr)
            j = d.argmin(axis=1)
            dist = d[np.arange(n), j]
            note = [f"{t} {labels[k]} scores {s[i, k]:.2f}, threshold {thr[k]:.2f}"
                    for i, k in enumerate(j)]
        else:
            order = np.argsort(-s, axis=1, kind="stable")
            top, second = order[:, 0], order[:, 1]
            dist = (s[np.arange(n), top] - s[np.arange(n), second]) / 2
            note = [f"{t} {labels[a]} {s[i, a]:.2f} vs {labels[b]} {s[i, b]:.2f}"
                    for i, (a, b) in enumerate(zip(top, second, strict=True))]
        for i in np.flatnonzero(dist < best):
            best[i], notes[i] = dist[i], note[i]
    return best, notes


def _uncertainty(model, texts, scores, articles, seed) -> list[Pick]:
    dist, notes = margins(model, scores)
    return [Pick(i, f"uncertain: {notes[i]}", float(dist[i])) for i in range(len(texts))]


def _disagreement(model, texts, scores, articles, seed) -> list[Pick]:
    from framing.evaluate import baselines as base

    book = model.codebook
    covered = [t for t in model.specs if base.codebook_keys(t, book) is not None]
    if not covered:
        raise FramingDataError("the model has no codebook for its tasks' labels, so there are "
                               "no rules to disagree with; use --strategy uncertainty or "
                               "diverse.")
    dist, notes = margins(model, scores)
    n = len(texts)
    disputes: list[list[str]] = [[] for _ in range(n)]
    for t in covered:
        counts = base.codebook_counts(t, book, texts)
        decided = model.decide(t.name, scores[t.name])
        if t.kind == "multilabel":
            rules = (counts > 0).astype(int)
            for i, j in zip(*np.nonzero(rules != decided), strict=True):
                disputes[i].append(f"{t.name} {t.labels[j]}: rules {_yes(rules[i, j])}, "
                                   f"model {_yes(decided[i, j])} ({scores[t.name][i, j]:.2f})")
        else:
            for i, row in enumerate(counts):
                top = np.flatnonzero(row == row.max())
                if row.max() > 0 and len(top) == 1 and t.labels[top[0]] != decided[i]:
                    disputes[i].append(f"{t.name}: rules say {t.labels[top[0]]}, model "
                                       f"{decided[i]}")
    # most labels in dispute first, the least certain model first among equals; then, so
    # that a batch is full, the undisputed units by uncertainty
    return [Pick(i, "disagreement: " + "; ".join(disputes[i]),
                 -len(disputes[i]) + float(np.clip(dist[i], 0, 0.999))) if disputes[i] else
            Pick(i, f"no disagreement left; uncertain: {notes[i]}", 1 + float(dist[i]))
            for i in range(n)]


def _yes(v) -> str:
    return "yes" if v else "no"


def _diverse(model, texts, scores, articles, seed, n=10) -> list[Pick]:
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import TfidfVectorizer

    X = TfidfVectorizer(sublinear_tf=True, min_df=1).fit_transform(texts)
    k = max(1, min(n, len(texts)))
    km = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(X)
    dist = km.transform(X)[np.arange(len(texts)), km.labels_]
    size = Counter(km.labels_.tolist())
    # the clusters in turn, largest first; in each, the units nearest its centre first
    rank = {c: r for r, (c, _) in enumerate(sorted(size.items(), key=lambda x: (-x[1], x[0])))}
    picks = []
    for c in rank:
        members = sorted(np.flatnonzero(km.labels_ == c), key=lambda i: (dist[i], i))
        for depth, i in enumerate(members):
            picks.append(Pick(int(i), f"diverse: cluster {rank[c] + 1} of {k} "
                              f"({size[c]} units), distance to its centre {dist[i]:.2f}",
                              depth * k + rank[c]))
    return picks


def _random(model, texts, scores, articles, seed) -> list[Pick]:
    order = np.random.default_rng(seed).permutation(len(texts))
    return [Pick(int(i), "random sample", float(r)) for r, i in enumerate(order)]


def select(model: Any, texts: Sequence[str], articles: Sequence[str], n: int,
           strategy: str = "uncertainty", per_article: int | None = None, seed: int = 0,
           scores: dict[str, np.ndarray] | None = None) -> list[Pick]:
    """Choose up to ``n`` units of a pool to label next.

    Parameters
    ----------
    model : FramingModel
        The current model.
    texts, articles : sequence of str
        The pool: each unit's text and article.
    n : int
        How many units to pick.
    strategy : {"uncertainty", "disagreement", "diverse", "random"}
        See the module's description.
    per_article : int, optional
        At most this many units of one article.
    seed : int, default=0
        Seed of the clusters (``diverse``) and the sample (``random``).
    scores : dict, optional
        The model's scores of ``texts`` if already computed.

    Returns
    -------
    list of Pick
        In the order to label them; fewer than ``n`` only when the pool (or the cap)
        runs out.
    """
    if strategy not in STRATEGIES:
        raise FramingDataError(f"strategy {strategy!r}: choose one of {', '.join(STRATEGIES)}.")
    if n < 1:
        raise FramingDataError(f"-n {n}: give 1 or more.")
    if per_article is not None and per_article < 1:
        raise FramingDataError(f"--per-article {per_article}: give 1 or more.")
    if not len(texts):
        return []
    texts = list(texts)
    scores = model.scores(texts) if scores is None else scores
    if strategy == "diverse":
        picks = _diverse(model, texts, scores, articles, seed, n)
    else:
        picks = {"uncertainty": _uncertainty, "disagreement": _disagreement,
                 "random": _random}[strategy](model, texts, scores, articles, seed)
    picks.sort(key=lambda p: (p.key, p.index))
    taken: Counter[str] = Counter()
    out = []
    for p in picks:
        a = articles[p.index]
        if per_article is not None and taken[a] >= per_article:
            continue
        taken[a] += 1
        out.append(p)
        if len(out) == n:
            break
    return out


def queue_records(model: Any, units: Sequence[dict[str, Any]], picks: Sequence[Pick],
                  scores: dict[str, np.ndarray], strategy: str) -> list[dict[str, Any]]:
    """The picks as records to annotate: the unit, every task empty, the model's guess,
    the reason it was chosen and the model's task set (``task_set``: each task's name,
    kind and labels, which an export of the queue offers)."""
    out = []
    task_set = task_set_field(model.specs)
    for rank, p in enumerate(picks, 1):
        rec = blank_record(units[p.index], model.specs)
        guess = guess_of(model, scores, p.index)
        rec.update({"model_guess": guess, "reason": p.reason, "strategy": strategy,
                    "rank": rank, TASK_SET: task_set})
        out.append(rec)
    return out


def guess_of(model: Any, scores: dict[str, np.ndarray], i: int) -> dict[str, Any]:
    """The model's labels and scores of unit ``i``, as :meth:`FramingModel.predict` gives
    them."""
    out: dict[str, Any] = {}
    for t in model.tasks:
        d = model.decide(t, scores[t][i:i + 1])[0]
        out[t] = ([lab for lab, v in zip(model.labels[t], d, strict=True) if v]
                  if model.kinds[t] == "multilabel" else str(d))
    out["scores"] = {t: {lab: round(float(v), 6) for lab, v in
                         zip(model.labels[t], scores[t][i], strict=True)} for t in model.tasks}
    return out
