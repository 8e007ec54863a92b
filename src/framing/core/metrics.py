"""Metrics: one registry names every figure, and one function computes them.

Each :class:`Metric` says which task kinds it applies to, whether it is per label, whether
it needs scores, whether the bootstrap gives it an interval, and whether it is a headline
figure (the terminal line, the model card's table). MLflow, the card, the per-label
report and the terminal all read this registry; names follow :func:`key`.

A ratio whose denominator is 0 follows scikit-learn's ``zero_division``: a label that
neither occurs nor is predicted has no F1 (``2 tp + fp + fn = 0``), a label never predicted
no precision, a label that never occurs no recall. The value given then is
:data:`ZERO_DIVISION`, NaN by default: the figure is left out (of the label's figures and
of the macro-F1) rather than counted as 0, as scikit-learn's ``zero_division=np.nan``
does. The same rule holds in the point estimate and in every bootstrap draw, so a label
absent from a file counts the same way in both, and a draw that resamples no record of a
label says nothing about it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from framing.core.tasks import TaskSpec

BOTH = frozenset({"multilabel", "multiclass"})
#: The value of a figure whose denominator is 0 (scikit-learn's ``zero_division``): NaN
#: leaves it out (the default), 0 counts it as a miss, 1 as a success.
ZERO_DIVISION = float("nan")


@dataclass(frozen=True)
class Metric:
    """One figure of a task (``per_label``: one per label)."""

    name: str
    kinds: frozenset[str] = BOTH
    per_label: bool = False
    needs_scores: bool = False
    bootstrap: bool = False
    headline: bool = False
    higher_is_better: bool = True
    doc: str = ""


REGISTRY: tuple[Metric, ...] = (
    Metric("macro_f1", bootstrap=True, headline=True, doc="mean F1 over labels"),
    Metric("micro_f1", bootstrap=True, headline=True, doc="F1 over all label decisions"),
    Metric("accuracy", frozenset({"multiclass"}), bootstrap=True, headline=True),
    Metric("subset_accuracy", frozenset({"multilabel"}), bootstrap=True, headline=True,
           doc="records whose whole label set is right"),
    Metric("hamming_loss", frozenset({"multilabel"}), bootstrap=True, headline=True,
           higher_is_better=False),
    Metric("roc_auc", needs_scores=True, headline=True, doc="mean over labels"),
    Metric("log_loss", needs_scores=True, headline=True, higher_is_better=False),
    Metric("f1", per_label=True, bootstrap=True),
    Metric("precision", per_label=True),
    Metric("recall", per_label=True),
    Metric("support", per_label=True, doc="records carrying the label"),
    Metric("roc_auc", per_label=True, needs_scores=True),
)

HEADLINE = tuple(m.name for m in REGISTRY if m.headline and not m.per_label)
PER_LABEL = tuple(m.name for m in REGISTRY if m.per_label)


def key(task: str, metric: str, label: str | None = None, prefix: str = "",
        ci: str | None = None) -> str:
    """A metric's name: ``[prefix/]task[/label]/metric[/ci_low|ci_high]``."""
    parts = [prefix.strip("/")] if prefix else []
    parts += [task] + ([label] if label is not None else []) + [metric]
    if ci:
        parts.append(ci)
    return "/".join(parts)


def onehot(values: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    """Label strings to a 0/1 matrix (n, n_labels)."""
    return (np.asarray(values, dtype=object)[:, None] == np.asarray(labels, dtype=object)
            [None, :]).astype(np.int8)


def _ratio(a, b, zero_division: float):
    """``a / b``, or ``zero_division`` where ``b`` is 0."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return np.where(b > 0, a / np.maximum(b, 1), zero_division)


def _f1(tp, fp, fn, zero_division: float):
    """F1 per label, ``2 tp / (2 tp + fp + fn)``; ``zero_division`` where a label neither
    occurs nor is predicted."""
    tp = np.asarray(tp)
    return _ratio(2 * tp, 2 * tp + fp + fn, zero_division)


def _macro_f1(c) -> float:
    f1 = _f1(c.tp, c.fp, c.fn, c.zero_division)
    return float(np.nanmean(f1)) if not np.isnan(f1).all() else float("nan")


@dataclass
class _Counts:
    """What every metric is computed from: 0/1 truth and decisions, their counts."""

    task: TaskSpec
    y: np.ndarray
    pred: np.ndarray
    yo: np.ndarray
    po: np.ndarray
    scores: np.ndarray | None
    #: The value of a figure whose denominator is 0 (see :data:`ZERO_DIVISION`).
    zero_division: float = ZERO_DIVISION

    def __post_init__(self):
        y, p = self.yo.astype(bool), self.po.astype(bool)
        self.tp, self.fp, self.fn = (y & p).sum(0), (~y & p).sum(0), (y & ~p).sum(0)


def _auc_per_label(c: _Counts) -> np.ndarray:
    from sklearn.metrics import roc_auc_score

    out = np.full(c.yo.shape[1], np.nan)
    for j in range(c.yo.shape[1]):
        if 0 < c.yo[:, j].sum() < len(c.yo):
            out[j] = roc_auc_score(c.yo[:, j], c.scores[:, j])
    return out


def _auc(c: _Counts) -> float:
    aucs = _auc_per_label(c)
    if np.isnan(aucs).all():
        return float("nan")
    if c.task.kind == "multiclass" and len(c.task.labels) == 2:
        return float(aucs[-1])
    return float(np.nanmean(aucs))


def _log_loss(c: _Counts) -> float:
    eps = 1e-7
    s = np.clip(c.scores, eps, 1 - eps)
    if c.task.kind == "multilabel":
        return float(-np.mean(c.yo * np.log(s) + (1 - c.yo) * np.log(1 - s)))
    p = s / s.sum(axis=1, keepdims=True)
    return float(-np.mean(np.log(p[c.yo.astype(bool)])))


_COMPUTE: dict[tuple[str, bool], Callable[[_Counts], object]] = {
    ("macro_f1", False): _macro_f1,
    ("micro_f1", False): lambda c: float(_f1(c.tp.sum(), c.fp.sum(), c.fn.sum(),
                                             c.zero_division)),
    ("accuracy", False): lambda c: float(np.mean(np.asarray(c.y) == np.asarray(c.pred))),
    ("subset_accuracy", False): lambda c: float(np.mean((c.yo == c.po).all(axis=1))),
    ("hamming_loss", False): lambda c: float(np.mean(c.yo != c.po)),
    ("roc_auc", False): _auc,
    ("log_loss", False): _log_loss,
    ("f1", True): lambda c: _f1(c.tp, c.fp, c.fn, c.zero_division),
    ("precision", True): lambda c: _ratio(c.tp, c.tp + c.fp, c.zero_division),
    ("recall", True): lambda c: _ratio(c.tp, c.tp + c.fn, c.zero_division),
    ("support", True): lambda c: c.yo.sum(0),
    ("roc_auc", True): _auc_per_label,
}


def compute(task: TaskSpec, y, pred, scores: np.ndarray | None = None,
            only_bootstrap: bool = False, zero_division: float = ZERO_DIVISION
            ) -> dict[str, float]:
    """Every registered metric of one task, named ``metric`` or ``label/metric``.

    Parameters
    ----------
    task : TaskSpec
    y, pred : array
        Truth and decisions: label strings (multiclass) or 0/1 matrices (multilabel).
    scores : array (n, n_labels), optional
        Scores in label order; metrics that need them are left out without.
    only_bootstrap : bool, default=False
        Only the metrics that get bootstrap intervals (fast: no scores needed).
    zero_division : float, default=ZERO_DIVISION (NaN)
        The value of a figure whose denominator is 0, as scikit-learn's: the F1 of a label
        that neither occurs nor is predicted, the precision of a label never predicted,
        the recall of one that never occurs. NaN leaves the figure out (of the result and
        of the macro-F1); 0 counts it as a miss, 1 as a success.
    """
    if task.kind == "multiclass":
        yo, po = onehot(y, task.labels), onehot(pred, task.labels)
    else:
        yo, po = np.asarray(y), np.asarray(pred)
    c = _Counts(task, y, pred, yo, po, scores, zero_division)
    out: dict[str, float] = {}
    for m in REGISTRY:
        if task.kind not in m.kinds or (only_bootstrap and not m.bootstrap):
            continue
        if m.needs_scores and scores is None:
            continue
        value = _COMPUTE[(m.name, m.per_label)](c)
        if m.per_label:
            for lab, v in zip(task.labels, value, strict=True):
                if np.isfinite(v):
                    out[f"{lab}/{m.name}"] = int(v) if m.name == "support" else float(v)
        elif np.isfinite(value):
            out[m.name] = value
    return out


def bootstrap(task: TaskSpec, y, pred, groups: np.ndarray | None, n_boot: int = 1000,
              seed: int = 0, level: float = 0.95, zero_division: float = ZERO_DIVISION
              ) -> dict[str, tuple[float, float]]:
    """Percentile intervals of the bootstrapped metrics, resampling groups if given.

    Each draw is scored by :func:`compute` with the point estimate's ``zero_division``:
    by default a draw in which a label neither occurs nor is predicted (a resample of
    articles without it) leaves that label out of its figures and of its macro-F1, as
    the point estimate does with a label absent from the whole file."""
    rng = np.random.default_rng(seed)
    y, pred = np.asarray(y), np.asarray(pred)
    if groups is not None:
        uniq, inv = np.unique(groups, return_inverse=True)
        members = [np.flatnonzero(inv == g) for g in range(len(uniq))]
    draws: dict[str, list[float]] = {}
    for _ in range(n_boot):
        if groups is not None:
            pick = rng.integers(0, len(members), len(members))
            idx = np.concatenate([members[g] for g in pick])
        else:
            idx = rng.integers(0, len(y), len(y))
        for k, v in compute(task, y[idx], pred[idx], only_bootstrap=True,
                            zero_division=zero_division).items():
            draws.setdefault(k, []).append(v)
    a = (1 - level) / 2
    return {k: (float(np.quantile(v, a)), float(np.quantile(v, 1 - a)))
            for k, v in draws.items()}


def summary_line(task: TaskSpec, metrics: dict[str, float], prefix: str = "",
                 baselines: Sequence[str] = ()) -> str:
    """The terminal line of one task: its headline F1s, accuracy, interval and baselines."""
    def get(name, ci=None):
        return metrics.get(key(task.name, name, prefix=prefix, ci=ci))

    parts = []
    if get("accuracy") is not None:
        parts.append(f"accuracy {get('accuracy'):.4f}")
    macro = get("macro_f1")
    head = f"macro-F1 {macro:.3f}" if macro is not None else "macro-F1 — (no label occurs)"
    if get("macro_f1", "ci_low") is not None:
        head += f" [{get('macro_f1', 'ci_low'):.3f}, {get('macro_f1', 'ci_high'):.3f}]"
    parts.append(head)
    if task.kind == "multilabel" and get("micro_f1") is not None:
        parts.append(f"micro-F1 {get('micro_f1'):.3f}")
    for b in baselines:
        v = metrics.get(key(task.name, "macro_f1", prefix=f"{prefix}baseline/{b}"))
        if v is not None:
            parts.append(f"{b} {v:.3f}")
    where = f"{prefix.rstrip('/')} " if prefix else ""
    return f"{where}{task.name}: " + ", ".join(parts)
