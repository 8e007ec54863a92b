"""Label issues: the gold labels the out-of-fold model keeps contradicting.

After cross-validation every unit has a score from a model that never saw it.
:func:`label_issues` finds the units whose given label that model finds unlikely, by
confident learning (Northcutt et al., 2021): per label, the threshold is the mean score
of the units given that label; a unit is an issue when another label's score reaches
that label's threshold and the model's own decision is not the given label. A
multi-label task is one such binary problem per label. Issues are ranked by the score
of the given label (self-confidence), lowest first: the top of the list is worth a
second look.

``method="cleanlab"`` asks the cleanlab package instead (``find_label_issues``,
``find_multilabel_issues_per_class``; ``pip install 'framing[issues]'``). The built-in
method needs numpy only. Both are deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from framing.core.errors import FramingConfigError
from framing.core.tasks import TaskSpec

METHODS = ("confident_learning", "cleanlab")


def _confident(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Confident learning's off-diagonal units: given label ``y`` (codes), scores ``p``
    (n, k); a boolean mask."""
    k = p.shape[1]
    thr = np.array([p[y == j, j].mean() if (y == j).any() else np.inf for j in range(k)])
    above = p >= thr
    confident = np.where(above, p, -np.inf).argmax(axis=1)
    return above.any(axis=1) & (confident != y) & (p.argmax(axis=1) != y)


def _issues_multiclass(y: np.ndarray, p: np.ndarray, method: str) -> np.ndarray:
    if method == "cleanlab":
        from cleanlab.filter import find_label_issues

        return np.asarray(find_label_issues(labels=y, pred_probs=p, n_jobs=1), dtype=bool)
    return _confident(y, p)


def _issues_multilabel(y: np.ndarray, p: np.ndarray, method: str) -> np.ndarray:
    """(n, n_labels) mask: the labels of each unit that look wrong."""
    if method == "cleanlab":
        from cleanlab.multilabel_classification.filter import (
            find_multilabel_issues_per_class,
        )

        given = [list(np.flatnonzero(row)) for row in y]
        return np.asarray(find_multilabel_issues_per_class(labels=given, pred_probs=p,
                                                           n_jobs=1), dtype=bool)
    out = np.zeros(y.shape, dtype=bool)
    for j in range(y.shape[1]):
        out[:, j] = _confident(y[:, j].astype(int), np.column_stack([1 - p[:, j], p[:, j]]))
    return out


def check_method(method: str) -> str:
    """The method, checked: cleanlab must be installed to be chosen."""
    if method not in METHODS:
        raise FramingConfigError(f"label issues method {method!r}: choose one of "
                                 f"{', '.join(METHODS)}.")
    if method == "cleanlab":
        try:
            import cleanlab  # noqa: F401
        except ImportError:
            raise FramingConfigError("eval.label_issues=cleanlab needs the cleanlab package: "
                                     "pip install 'framing[issues]', or use the built-in "
                                     "eval.label_issues=confident_learning.") from None
    return method


def label_issues(corpus: Any, evaluation: Any, method: str = "confident_learning"
                 ) -> list[dict[str, Any]]:
    """Rank the gold units whose given label the out-of-fold model finds least likely.

    Parameters
    ----------
    corpus : Corpus
        The corpus cross-validated (its gold labels).
    evaluation : Evaluation
        Its out-of-fold evaluation (:func:`framing.evaluate.evaluation.cross_validate`); only the
        units it scored are considered.
    method : {"confident_learning", "cleanlab"}, default="confident_learning"
        The built-in confident learning, or cleanlab's (an optional extra).

    Returns
    -------
    list of dict
        One record per unit and task flagged, most suspect first: ``rank``, ``id``,
        ``article`` (the group, if any), ``text``, ``task``, ``given`` (the gold labels),
        ``suggested`` (what the model says instead), ``suspect`` (the labels in
        question: the given one of a single-label task, those to add or remove of a
        multi-label one), ``quality`` (the score of the given labels, lowest first),
        ``scores`` (the out-of-fold scores) and ``method``.
    """
    check_method(method)
    pred = evaluation.predictions
    idx = np.flatnonzero(pred.evaluated)
    found: list[dict[str, Any]] = []
    for t in corpus.tasks:
        y = corpus.targets[t.name][idx]
        p = np.clip(np.nan_to_num(pred.scores[t.name][idx], nan=0.0), 0.0, 1.0)
        if len(idx) < 2:
            continue
        if t.kind == "multilabel":
            y = np.asarray(y, dtype=int)
            mask = _issues_multilabel(y, p, method)
            own = np.where(y == 1, p, 1 - p)  # the score of each given value
            for r in np.flatnonzero(mask.any(axis=1)):
                flagged = np.flatnonzero(mask[r])
                given = [lab for lab, v in zip(t.labels, y[r], strict=True) if v]
                suggested = [lab for j, lab in enumerate(t.labels)
                             if bool(y[r, j]) != (j in flagged)]
                found.append(_record(corpus, idx[r], t, given, suggested,
                                     [t.labels[j] for j in flagged],
                                     float(own[r, flagged].min()), p[r], method))
        else:
            codes = np.array([t.labels.index(v) for v in y])
            mask = _issues_multiclass(codes, p, method)
            for r in np.flatnonzero(mask):
                found.append(_record(corpus, idx[r], t, t.labels[codes[r]],
                                     t.labels[int(p[r].argmax())], [t.labels[codes[r]]],
                                     float(p[r, codes[r]]), p[r], method))
    found.sort(key=lambda rec: (rec["quality"], rec["id"], rec["task"]))
    for rank, rec in enumerate(found, 1):
        rec["rank"] = rank
    return [{"rank": r.pop("rank"), **r} for r in found]


def _record(corpus: Any, i: int, task: TaskSpec, given: Any, suggested: Any,
            suspect: list[str], quality: float, scores: np.ndarray, method: str
            ) -> dict[str, Any]:
    rec: dict[str, Any] = {"id": corpus.ids[i]}
    if corpus.groups is not None:
        rec["article"] = str(corpus.groups[i])
    rec.update({"text": corpus.texts[i], "task": task.name, "given": given,
                "suggested": suggested, "suspect": suspect, "quality": round(quality, 6),
                "scores": {lab: round(float(s), 6) for lab, s in
                           zip(task.labels, scores, strict=True)},
                "method": method})
    return rec


def issue_counts(records: Sequence[dict[str, Any]], tasks: Sequence[TaskSpec]
                 ) -> dict[str, int]:
    """How many issues per label, as metrics: ``issues/<task>/<label>`` (every label of
    every task, zeros too) and ``issues/total``."""
    out = {f"issues/{t.name}/{lab}": 0 for t in tasks for lab in t.labels}
    for rec in records:
        for lab in rec["suspect"]:
            out[f"issues/{rec['task']}/{lab}"] += 1
    out["issues/total"] = len(records)
    return out


def summary(records: Sequence[dict[str, Any]], tasks: Sequence[TaskSpec]) -> str:
    """One line: how many issues, per task and label."""
    counts = issue_counts(records, tasks)
    parts = []
    for t in tasks:
        labs = [f"{lab} {counts[f'issues/{t.name}/{lab}']}" for lab in t.labels
                if counts[f"issues/{t.name}/{lab}"]]
        if labs:
            parts.append(f"{t.name}: {', '.join(labs)}")
    if not records:
        return "label issues: none found (the out-of-fold model agrees with the gold labels)"
    return f"label issues: {len(records)} ({'; '.join(parts)})"
