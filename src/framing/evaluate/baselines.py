"""Baselines scored beside every model, on the same folds: the training prior and the
codebook's rules alone."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from framing.core.metrics import onehot
from framing.core.tasks import TaskSpec
from framing.learn.features import CodebookLexicon


def majority(task: TaskSpec, prior: np.ndarray, n: int) -> np.ndarray:
    """Predict the training prior: the most frequent class, or the labels on >= half.

    ``prior`` is the share of training records carrying each label (in label order).
    """
    prior = np.asarray(prior, dtype=float)
    if task.kind == "multilabel":
        return np.tile(prior >= 0.5, (n, 1)).astype(np.int8)
    return np.array([task.labels[int(np.argmax(prior))]] * n, dtype=object)


def prior_of(task: TaskSpec, y_train) -> np.ndarray:
    """Share of training records carrying each label."""
    if task.kind == "multilabel":
        return np.asarray(y_train, dtype=float).mean(axis=0)
    return onehot(y_train, task.labels).mean(axis=0)


def codebook_keys(task: TaskSpec, codebook: Mapping[str, Any] | None) -> list[str] | None:
    """Codebook entries of a task's labels (``task:label``), or None if any is missing."""
    keys = [f"{task.name}:{lab}" for lab in task.labels]
    if not codebook or not all(k in codebook for k in keys):
        return None
    return keys


def codebook_counts(task: TaskSpec, codebook: Mapping[str, Sequence[str]],
                    texts: Sequence[str]) -> np.ndarray:
    """Term matches of each of the task's labels in each text, (n, n_labels)."""
    keys = codebook_keys(task, codebook)
    return CodebookLexicon({k: codebook[k] for k in keys}).fit(list(texts)).counts(list(texts))


def rules(task: TaskSpec, counts: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """The codebook's rules on term counts: a label if any of its terms occurs
    (multilabel), the label with most matches, ties to the training majority
    (single-label)."""
    if task.kind == "multilabel":
        return (counts > 0).astype(np.int8)
    fallback = majority(task, prior, 1)[0]
    out = []
    for row in counts:
        top = np.flatnonzero(row == row.max())
        out.append(task.labels[top[0]] if row.max() > 0 and len(top) == 1 else fallback)
    return np.array(out, dtype=object)


def predict(name: str, task: TaskSpec, texts: Sequence[str], prior: np.ndarray,
            codebook: Mapping[str, Sequence[str]] | None) -> np.ndarray | None:
    """The decisions of baseline ``name`` on ``texts``; None where it does not apply."""
    if name == "majority":
        return majority(task, prior, len(texts))
    if name == "codebook":
        if codebook_keys(task, codebook) is None:
            return None
        return rules(task, codebook_counts(task, codebook, texts), prior)
    raise ValueError(f"unknown baseline {name!r}")
