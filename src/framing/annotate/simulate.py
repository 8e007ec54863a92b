"""A simulated annotation loop: does choosing what to label beat labelling at random?

On a labelled corpus, each article in turn is held out for testing; of the others, a
few start labelled and the rest form the pool. Each strategy of
:mod:`framing.annotate.selection` then adds batches from the pool (their gold labels revealed),
the model is refitted after each batch, and it labels the held-out article. At each
batch the held-out predictions of every rotation (every held-out article, every choice
of start articles) are pooled and scored: macro-F1 per task and their mean. ``random``
is repeated with several seeds and averaged. Deterministic: the same corpus, config and
seed give the same table.

``framing simulate`` runs it, prints the table, draws the curve and can log both to
MLflow.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from framing.annotate.selection import STRATEGIES, select
from framing.core.errors import FramingDataError
from framing.core.metrics import compute
from framing.data.corpus import Corpus
from framing.learn.fitting import Fitter

log = logging.getLogger(__name__)


@dataclass
class Curve:
    """What a simulation measured.

    Attributes
    ----------
    steps : list of int
        Batches added (0: the start articles only).
    labelled : list of float
        Mean number of labelled units at each step.
    scores : dict
        ``scores[strategy][step]``: ``{"macro_f1": mean over tasks, "<task>": macro-F1}``.
    spread : dict
        For ``random``: the lowest and highest mean macro-F1 over its seeds, per step.
    settings : dict
        The simulation's settings (start articles, batch size, rotations, seeds).
    """

    steps: list[int]
    labelled: list[float]
    scores: dict[str, list[dict[str, float]]]
    spread: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    def table(self) -> list[str]:
        """The printed table: a row per step, mean macro-F1 (theme and tone) per strategy."""
        names = list(self.scores)
        head = f"{'batches':>7} {'labelled':>8}  " + "  ".join(f"{s:>12}" for s in names)
        lines = [head]
        for k, step in enumerate(self.steps):
            lines.append(f"{step:>7} {self.labelled[k]:>8.1f}  " + "  ".join(
                f"{self.scores[s][k]['macro_f1']:>12.3f}" for s in names))
        tasks = [t for t in self.scores[names[0]][0] if t != "macro_f1"]
        area = {s: np.mean([row["macro_f1"] for row in self.scores[s]]) for s in names}
        lines.append(f"{'mean':>7} {'':>8}  " + "  ".join(f"{area[s]:>12.3f}" for s in names))
        lines.append(f"(macro-F1 on held-out articles, mean of {', '.join(tasks)}; random: "
                     f"mean of {self.settings.get('random_repeats')} seeds)")
        return lines

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"steps": self.steps, "labelled": self.labelled, "scores": self.scores,
                "spread": {k: [list(x) for x in v] for k, v in self.spread.items()},
                "settings": self.settings}


def _rotations(groups: np.ndarray, start: int, max_starts: int | None
               ) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """(held-out article, start articles, pool articles) of every rotation."""
    arts = sorted(set(groups.tolist()))
    if len(arts) < start + 2:
        raise FramingDataError(f"the simulation needs at least {start + 2} articles (a held-"
                               f"out one, {start} to start from, one for the pool); the corpus "
                               f"has {len(arts)}. Give a corpus with a group column.")
    out = []
    for test in arts:
        rest = [a for a in arts if a != test]
        starts = list(itertools.combinations(rest, start))
        if max_starts is not None:
            starts = starts[:max_starts]
        for s in starts:
            out.append((test, s, tuple(a for a in rest if a not in s)))
    return out


def _run(corpus: Corpus, fitter: Fitter, rotation, strategy: str, batch: int, n_steps: int,
         per_article: int | None, seed: int) -> list[dict[str, np.ndarray]]:
    """One rotation of one strategy: the held-out predictions after each batch."""
    test, start, pool_arts = rotation
    g = corpus.groups
    test_idx = np.flatnonzero(g == test)
    labelled = list(np.flatnonzero(np.isin(g, start)))
    pool = list(np.flatnonzero(np.isin(g, pool_arts)))
    texts = [corpus.texts[i] for i in test_idx]
    out: list[dict[str, np.ndarray]] = []
    model, added = None, True
    for step in range(n_steps + 1):
        if added:
            part = corpus.subset(labelled)
            model = fitter.fit(part.texts, part.targets, corpus.tasks, part.groups)
            sc = model.scores(texts)
            preds = {t.name: model.decide(t.name, sc[t.name]) for t in corpus.tasks}
        out.append(preds)
        added = False
        if step == n_steps or not pool:
            continue
        picks = select(model, [corpus.texts[i] for i in pool], [str(g[i]) for i in pool],
                       batch, strategy, per_article, seed + step)
        chosen = [pool[p.index] for p in picks]
        labelled += chosen
        taken = set(chosen)
        pool = [i for i in pool if i not in taken]
        added = bool(chosen)
    return out


def simulate(corpus: Corpus, fitter: Fitter, strategies: Sequence[str] = STRATEGIES,
             start: int = 2, batch: int = 10, random_repeats: int = 3, seed: int = 0,
             per_article: int | None = None, max_starts: int | None = None,
             n_jobs: int = 1) -> Curve:
    """Simulate the annotation loop on a labelled corpus; see the module's description.

    Parameters
    ----------
    corpus : Corpus
        A labelled corpus with a group column (articles).
    fitter : Fitter
        Fits the model after each batch (a light config keeps it fast).
    strategies : sequence of str
        Strategies to compare; ``random`` is the baseline.
    start : int, default=2
        Articles labelled at the start.
    batch : int, default=10
        Units added per batch.
    random_repeats : int, default=3
        Seeds of the random strategy (averaged).
    seed : int, default=0
        Base seed.
    per_article : int, optional
        Cap per article in each batch.
    max_starts : int, optional
        At most this many start sets per held-out article (default: all).
    n_jobs : int, default=1
        Parallel rotations (joblib processes).

    Returns
    -------
    Curve
    """
    if corpus.groups is None:
        raise FramingDataError(f"{corpus.name}: no group column, so there are no articles to "
                               "start from or hold out. Set data.group_column (e.g. article).")
    bad = [s for s in strategies if s not in STRATEGIES]
    if bad or not strategies:
        raise FramingDataError(f"--strategies {','.join(strategies)}: choose from "
                               f"{', '.join(STRATEGIES)}.")
    rotations = _rotations(corpus.groups, start, max_starts)
    pool_max = max(int(np.isin(corpus.groups, r[2]).sum()) for r in rotations)
    n_steps = math.ceil(pool_max / batch)
    runs = [(s, r, seed + k if s == "random" else seed)
            for s in strategies for k in range(random_repeats if s == "random" else 1)
            for r in rotations]
    if n_jobs != 1:
        from joblib import Parallel, delayed

        results = Parallel(n_jobs=n_jobs)(delayed(_run)(corpus, fitter, r, s, batch, n_steps,
                                                        per_article, sd) for s, r, sd in runs)
    else:
        results = [_run(corpus, fitter, r, s, batch, n_steps, per_article, sd)
                   for s, r, sd in runs]
    scores: dict[str, list[dict[str, float]]] = {}
    spread: dict[str, list[tuple[float, float]]] = {}
    for s in strategies:
        per_seed = []
        for k in range(random_repeats if s == "random" else 1):
            sd = seed + k if s == "random" else seed
            mine = [(r, res) for (s2, r, sd2), res in zip(runs, results, strict=True)
                    if s2 == s and sd2 == sd]
            per_seed.append([_score(corpus, mine, step) for step in range(n_steps + 1)])
        scores[s] = [{key: float(np.mean([ps[step][key] for ps in per_seed]))
                      for key in per_seed[0][step]} for step in range(n_steps + 1)]
        if len(per_seed) > 1:
            spread[s] = [(min(ps[step]["macro_f1"] for ps in per_seed),
                          max(ps[step]["macro_f1"] for ps in per_seed))
                         for step in range(n_steps + 1)]
    starts = [int(np.isin(corpus.groups, r[1]).sum()) for r in rotations]
    pools = [int(np.isin(corpus.groups, r[2]).sum()) for r in rotations]
    labelled = [float(np.mean([st + min(step * batch, p) for st, p in
                               zip(starts, pools, strict=True)])) for step in range(n_steps + 1)]
    settings = {"corpus": corpus.name, "units": len(corpus),
                "articles": len(set(corpus.groups.tolist())), "start_articles": start,
                "batch": batch, "rotations": len(rotations), "random_repeats": random_repeats,
                "seed": seed, "per_article": per_article, "strategies": list(strategies)}
    return Curve(list(range(n_steps + 1)), labelled, scores, spread, settings)


def _score(corpus: Corpus, runs, step: int) -> dict[str, float]:
    """Macro-F1 per task (and their mean) of the held-out predictions of every rotation at
    one step, pooled."""
    out = {}
    for t in corpus.tasks:
        ys, ps = [], []
        for (test, _, _), preds in runs:
            idx = np.flatnonzero(corpus.groups == test)
            ys.append(corpus.targets[t.name][idx])
            ps.append(preds[step][t.name])
        out[t.name] = float(compute(t, np.concatenate(ys), np.concatenate(ps))["macro_f1"])
    out["macro_f1"] = float(np.mean([out[t.name] for t in corpus.tasks]))
    return {"macro_f1": out.pop("macro_f1"), **out}


def plot(curve: Curve, path: str | Path) -> Path:
    """Draw the learning curves (mean macro-F1 per batch, one line per strategy) as a PNG,
    written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from framing.evaluate.plots import save_png

    fig, ax = plt.subplots(figsize=(6, 3.8))
    for s, rows in curve.scores.items():
        y = [r["macro_f1"] for r in rows]
        style = {"color": "0.4", "linestyle": "--"} if s == "random" else {"marker": "o"}
        ax.plot(curve.labelled, y, label=s, **style)
        if s in curve.spread:
            lo, hi = zip(*curve.spread[s], strict=True)
            ax.fill_between(curve.labelled, lo, hi, color="0.85", label="random: seed range")
    ax.set_xlabel("labelled units (mean over rotations)")
    ax.set_ylabel("macro-F1 on held-out articles")
    st = curve.settings
    ax.set_title(f"{st.get('corpus')}: start {st.get('start_articles')} articles, batches of "
                 f"{st.get('batch')}", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()

    return save_png(fig, path)
