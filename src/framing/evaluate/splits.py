"""Evaluation splits: no group (article, outlet) in both a training and a test part."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import GroupKFold, KFold, LeaveOneGroupOut, StratifiedKFold

from framing.config.schema import Strategy
from framing.core.errors import FramingConfigError
from framing.data.corpus import Corpus

STRATEGIES = tuple(s.value for s in Strategy)


def _stratify_labels(corpus: Corpus) -> np.ndarray | None:
    for t in corpus.tasks:
        if t.kind == "multiclass":
            return corpus.targets[t.name]
    return None


def resolve(corpus: Corpus, strategy: str = "auto", max_logo_groups: int = 10) -> str:
    """The strategy ``auto`` stands for on this corpus; a missing column is an error.

    ``auto`` takes given train/test splits, else the fold column, else leave-one-group-out
    (at most ``max_logo_groups`` groups) or grouped k-fold when there is a group column,
    else stratified k-fold on the first single-label task.
    """
    strategy = str(getattr(strategy, "value", strategy))
    if strategy not in STRATEGIES:
        raise FramingConfigError(f"eval.strategy {strategy!r} is not one of {STRATEGIES}.")
    if strategy == "auto":
        if corpus.split is not None:
            return "split"
        if corpus.folds is not None:
            return "fold_column"
        if corpus.groups is not None:
            n_groups = len(np.unique(corpus.groups))
            if n_groups < 2:
                raise FramingConfigError(one_group(corpus, "eval.strategy=auto"))
            return "logo" if n_groups <= max_logo_groups else "group_kfold"
        return "stratified_kfold" if _stratify_labels(corpus) is not None else "kfold"
    need = {"split": corpus.split, "fold_column": corpus.folds,
            "logo": corpus.groups, "group_kfold": corpus.groups}
    if strategy in need and need[strategy] is None:
        col = {"split": "split_column", "fold_column": "fold_column"}.get(strategy,
                                                                         "group_column")
        raise FramingConfigError(f"eval.strategy={strategy} needs data.{col} to be set.")
    if strategy in ("logo", "group_kfold") and len(np.unique(corpus.groups)) < 2:
        raise FramingConfigError(one_group(corpus, f"eval.strategy={strategy}"))
    return strategy


def one_group(corpus: Corpus, what: str) -> str:
    """Why a grouped evaluation cannot run on a corpus whose records share one group,
    and what to do instead."""
    column = (f"column {corpus.group_column!r}, " if corpus.group_column else "")
    return (f"{what}: the group column has one value only ({str(corpus.groups[0])!r}: "
            f"{column}all {len(corpus)} records); grouped evaluation keeps "
            "each group out of the folds it is tested on, so it needs at least two groups. "
            "Add labelled records of other articles, or evaluate without groups: "
            "eval.strategy=stratified_kfold (folds that do not keep articles apart), or a "
            "given train/test split (data.split_column).")


def make_splits(corpus: Corpus, strategy: str = "auto", n_splits: int = 5, seed: int = 0,
                max_logo_groups: int = 10) -> tuple[str, list[tuple[np.ndarray, np.ndarray]]]:
    """Train/test index pairs for evaluation, and the strategy actually used."""
    strategy = resolve(corpus, strategy, max_logo_groups)
    n = len(corpus)
    idx = np.arange(n)
    if strategy == "split":
        tr, te = idx[corpus.split == "train"], idx[corpus.split == "test"]
        if not len(tr) or not len(te):
            raise FramingConfigError("the split column must have both 'train' and 'test' rows.")
        return strategy, [(tr, te)]
    if strategy == "fold_column":
        folds = np.unique(corpus.folds)
        if len(folds) < 2:
            raise FramingConfigError("the fold column has one value only; give at least two "
                                     "folds or unset data.fold_column.")
        return strategy, [(idx[corpus.folds != f], idx[corpus.folds == f]) for f in folds]
    if strategy == "logo":
        return strategy, list(LeaveOneGroupOut().split(idx, groups=corpus.groups))
    if strategy == "group_kfold":
        k = min(n_splits, len(np.unique(corpus.groups)))
        return strategy, list(GroupKFold(n_splits=k).split(idx, groups=corpus.groups))
    if strategy == "stratified_kfold":
        y = _stratify_labels(corpus)
        if y is None:
            raise FramingConfigError("stratified_kfold needs a single-label task.")
        k = min(n_splits, int(np.min(np.unique(y, return_counts=True)[1])))
        if k >= 2:
            cv = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
            return strategy, list(cv.split(idx, y))
    if n < 2:
        raise FramingConfigError("a corpus of one record cannot be cross-validated.")
    return "kfold", list(KFold(n_splits=min(n_splits, n), shuffle=True,
                               random_state=seed).split(idx))
