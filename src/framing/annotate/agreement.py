"""Inter-annotator agreement, the adjudication file and the merge into a gold file.

Two or more annotators' files of the same units (matched by id) are read and checked
(:func:`read_annotations`); :func:`agreement` measures, per task and per label, raw
agreement, Cohen's kappa (two annotators; the mean over pairs with more) and
Krippendorff's alpha (nominal), with 95% bootstrap intervals that resample articles;
:func:`disagreements` lists the units to adjudicate, and :func:`merge` makes the gold
file once they are adjudicated. Kappa is scikit-learn's ``cohen_kappa_score``, alpha the
``krippendorff`` package's.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from framing.annotate.records import (
    NO_TEXT_WITHOUT_UNITS,
    UNIT_FIELDS,
    check_label,
    check_unit,
    read_jsonl,
    read_units,
    same_text,
    where,
)
from framing.core.errors import FramingDataError
from framing.core.tasks import TaskSpec


@dataclass
class Annotations:
    """Several annotators' labels of the same units.

    Attributes
    ----------
    annotators : list of str
        Annotator names (file names without suffix).
    units : list of dict
        Each unit's id, article, paragraph and text, as the first file has them.
    tasks : list of TaskSpec
        The tasks annotated.
    labels : dict
        ``labels[task][a][i]``: annotator ``a``'s labels of unit ``i`` (a list or a
        label).
    files : list of str
        The files read, in annotator order.
    """

    annotators: list[str]
    units: list[dict[str, Any]]
    tasks: list[TaskSpec]
    labels: dict[str, list[list[Any]]]
    files: list[str]

    @property
    def ids(self) -> list[str]:
        """Unit ids, in the first file's order."""
        return [u["id"] for u in self.units]

    @property
    def articles(self) -> np.ndarray:
        """Each unit's article (its id when the record names none)."""
        return np.array([str(u.get("article") if u.get("article") is not None else u["id"])
                         for u in self.units])

    def agreed(self, task: str, i: int) -> bool:
        """Whether every annotator gave unit ``i`` the same labels of ``task``."""
        first = self.labels[task][0][i]
        return all(a[i] == first for a in self.labels[task][1:])


def _names(paths: Sequence[str | Path]) -> list[str]:
    """Annotator names: file stems, made unique."""
    out: list[str] = []
    for p in paths:
        name, k = Path(p).stem, 2
        while name in out:
            name, k = f"{Path(p).stem}#{k}", k + 1
        out.append(name)
    return out


def read_annotations(paths: Sequence[str | Path], tasks: Sequence[TaskSpec],
                     units: str | Path | None = None) -> Annotations:
    """Read two or more annotators' files of the same units and check them.

    Parameters
    ----------
    paths : sequence of path
        JSON-lines files in the record format, one per annotator.
    tasks : sequence of TaskSpec
        The tasks and label sets every record must carry.
    units : path, optional
        A units file (JSON lines or CSV/TSV: ``id``, ``text``, ``article`` or ``group``;
        :func:`~framing.annotate.records.read_units`). With it, an annotator's record
        needs only its id and labels: the text and article come from the units file (a
        text the record does carry must be the same).

    Returns
    -------
    Annotations

    Raises
    ------
    FramingDataError
        A missing or malformed file, a record without id (or, without ``units``,
        without text), a repeated id, a label outside the label set, a unit in one file
        only, one id with different texts, or an id the units file lacks.
    """
    if len(paths) < 2:
        raise FramingDataError("agreement needs two or more annotators' files; give each "
                               "annotator's file of the same units.")
    known = read_units(units) if units is not None else None
    names = _names(paths)
    labels: dict[str, list[list[Any]]] = {t.name: [] for t in tasks}
    found: list[dict[str, Any]] = []
    first: dict[str, tuple[int, int]] = {}  # id -> (position, line in the first file)
    for a, path in enumerate(paths):
        seen: dict[str, int] = {}
        mine: dict[str, dict[str, Any]] = {}
        for line, rec in read_jsonl(path):
            if known is None:
                rid, text = check_unit(rec, where(path, line), NO_TEXT_WITHOUT_UNITS)
            else:
                rid, text = _unit_of(rec, path, line, known, units)
            loc = where(path, line, rid)
            if rid in seen:
                raise FramingDataError(f"{loc}: id {rid!r} again (first on line {seen[rid]}). "
                                       "Ids must be unique in a file.")
            seen[rid] = line
            got = {t.name: check_label(t, rec.get(t.name), loc) if t.name in rec else
                   _missing(t, loc) for t in tasks}
            if a == 0:
                first[rid] = (len(found), line)
                found.append(dict(known[rid]) if known is not None else
                             {**{k: rec[k] for k in UNIT_FIELDS if rec.get(k) is not None},
                              "id": rid, "text": text})
            elif rid not in first:
                raise FramingDataError(f"{loc}: id {rid!r} is not in {paths[0]}. Every "
                                       "annotator's file must hold the same units; add it "
                                       "there or remove it here.")
            elif not same_text(found[first[rid][0]]["text"], text):
                raise FramingDataError(f"{loc}: its text differs from {paths[0]}, line "
                                       f"{first[rid][1]} (same id). The files must hold the "
                                       "same units: annotate the same segmented file.")
            mine[rid] = got
        if not mine:
            raise FramingDataError(f"{path}: no records. The file is empty.")
        missing = [rid for rid in first if rid not in mine]
        if missing:
            raise FramingDataError(f"{path}: {len(missing)} id(s) of {paths[0]} are missing "
                                   f"(first {missing[0]!r}). Every annotator's file must hold "
                                   "the same units; annotate them or remove them from every "
                                   "file.")
        for t in tasks:
            labels[t.name].append([mine[u["id"]][t.name] for u in found])
    return Annotations(names, found, list(tasks), labels, [str(p) for p in paths])


def _unit_of(rec: dict[str, Any], path: str | Path, line: int,
             known: dict[str, dict[str, Any]], units: str | Path) -> tuple[str, str]:
    """An annotator's record's id and the unit's text, from the units file."""
    rid = rec.get("id")
    if rid is None or (isinstance(rid, str) and not rid.strip()) or \
            isinstance(rid, list | dict | bool):
        raise FramingDataError(f"{where(path, line)}: no id. Every record needs the \"id\" "
                               f"of its unit in {units}.")
    rid = str(rid)
    loc = where(path, line, rid)
    if rid not in known:
        raise FramingDataError(f"{loc}: id {rid!r} is not in the units file "
                               f"{units}. Give the units file the annotators labelled, or "
                               "add the unit to it.")
    text = known[rid]["text"]
    mine = rec.get("text")
    if isinstance(mine, str) and mine.strip() and not same_text(mine, text):
        raise FramingDataError(f"{loc}: its text differs from the units file "
                               f"{units} (same id). Annotate the units of that file.")
    return rid, text


def _missing(task: TaskSpec, loc: str):
    raise FramingDataError(f"{loc}: no field {task.name!r}. Annotate the task, or name the "
                           "tasks of these files with --task NAME:KIND:LABELS.")


# -- the statistics ----------------------------------------------------------------------
def _kappa(codes: np.ndarray, n_labels: int) -> float:
    """Cohen's kappa of two annotators, or its mean over pairs with more (scikit-learn)."""
    from sklearn.metrics import cohen_kappa_score

    vals = [cohen_kappa_score(codes[a], codes[b], labels=list(range(n_labels)))
            for a, b in itertools.combinations(range(len(codes)), 2)]
    vals = [v for v in vals if np.isfinite(v)]
    return float(np.mean(vals)) if vals else float("nan")


def _alpha(codes: np.ndarray, n_labels: int) -> float:
    """Krippendorff's alpha, nominal (the ``krippendorff`` package); nan when undefined."""
    import krippendorff

    try:
        return float(krippendorff.alpha(reliability_data=codes.astype(float),
                                        value_domain=list(range(n_labels)),
                                        level_of_measurement="nominal"))
    except (ValueError, ZeroDivisionError):  # one value only: alpha is undefined
        return float("nan")


@dataclass
class _Item:
    """One row's data: annotator x unit codes (0..n_labels-1)."""

    task: str
    label: str | None
    codes: np.ndarray
    n_labels: int


def _items(ann: Annotations) -> list[_Item]:
    """The rows of the table: per task, and per label (a label against the rest)."""
    out = []
    for t in ann.tasks:
        per = ann.labels[t.name]
        if t.kind == "multilabel":
            for lab in t.labels:
                out.append(_Item(t.name, lab, np.array([[int(lab in v) for v in a]
                                                        for a in per]), 2))
        else:
            codes = np.array([[t.labels.index(v) for v in a] for a in per])
            out.append(_Item(t.name, None, codes, len(t.labels)))
            if len(t.labels) > 2:  # with two labels each label's row is the task's
                for j, lab in enumerate(t.labels):
                    out.append(_Item(t.name, lab, (codes == j).astype(int), 2))
    return out


def _stats(item: _Item, idx: np.ndarray | None = None) -> tuple[float, float, float]:
    """(agreement share, kappa, alpha) of a row, on the units ``idx`` (default: all)."""
    codes = item.codes if idx is None else item.codes[:, idx]
    agree = float(np.mean((codes == codes[0]).all(axis=0)))
    return agree, _kappa(codes, item.n_labels), _alpha(codes, item.n_labels)


def _draws(groups: np.ndarray, n_boot: int, seed: int) -> list[np.ndarray]:
    """Unit indices of each bootstrap draw, resampling groups (articles) with replacement."""
    rng = np.random.default_rng(seed)
    uniq = np.unique(groups)
    members = {g: np.flatnonzero(groups == g) for g in uniq}
    return [np.concatenate([members[g] for g in rng.choice(uniq, len(uniq))])
            for _ in range(n_boot)]


def _interval(values: Sequence[float]) -> tuple[float, float] | None:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if not len(v):
        return None
    return float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))


def agreement(ann: Annotations, n_boot: int = 1000, seed: int = 0) -> list[dict[str, Any]]:
    """Agreement per task and per label, with 95% bootstrap intervals.

    Parameters
    ----------
    ann : Annotations
        Two or more annotators' labels of the same units.
    n_boot : int, default=1000
        Bootstrap draws; each resamples the articles (all their units together) with
        replacement. 0: no intervals.
    seed : int, default=0
        Seed of the draws: the same files and seed give the same intervals.

    Returns
    -------
    list of dict
        One row per single-label task (all its labels), per label of a single-label task
        with more than two labels (that label against the rest), per label of a
        multi-label task (present or absent) and per multi-label task (``label`` None:
        ``agree`` counts units with the same label set; kappa and alpha are the means over
        its labels). Keys: ``task``, ``label``, ``n``, ``agree``, ``agreement``,
        ``kappa``, ``alpha`` and, with draws, ``kappa_ci``, ``alpha_ci``,
        ``agreement_ci`` (low, high). Kappa is Cohen's with two annotators, the mean of
        the pairs' otherwise; alpha is Krippendorff's, nominal. An undefined figure (one
        category only) is nan.
    """
    from sklearn import config_context
    from sklearn.exceptions import UndefinedMetricWarning

    items = _items(ann)
    draws = _draws(ann.articles, n_boot, seed) if n_boot else []
    rows = []
    with warnings.catch_warnings(), config_context(skip_parameter_validation=True):
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        boot = {id(it): np.array([_stats(it, d) for d in draws]).reshape(-1, 3)
                for it in items}
        for t in ann.tasks:
            mine = [it for it in items if it.task == t.name]
            if t.kind == "multilabel":
                # the task's row: same label set; kappa and alpha averaged over its labels
                sets = np.array([[str(v) for v in a] for a in ann.labels[t.name]])
                same = (sets == sets[0]).all(axis=0)
                point = [_stats(it) for it in mine]
                row = {"task": t.name, "label": None, "n": len(same),
                       "agree": int(same.sum()), "agreement": float(same.mean()),
                       "kappa": _nanmean([p[1] for p in point]),
                       "alpha": _nanmean([p[2] for p in point])}
                if draws:
                    stack = np.stack([boot[id(it)] for it in mine])  # labels x draws x 3
                    row["agreement_ci"] = _interval([same[d].mean() for d in draws])
                    row["kappa_ci"] = _interval(_nanmean_axis(stack[:, :, 1]))
                    row["alpha_ci"] = _interval(_nanmean_axis(stack[:, :, 2]))
                rows.append(row)
            for it in mine:
                agree, kappa, alpha = _stats(it)
                row = {"task": it.task, "label": it.label, "n": it.codes.shape[1],
                       "agree": round(agree * it.codes.shape[1]), "agreement": agree,
                       "kappa": kappa, "alpha": alpha}
                if draws:
                    b = boot[id(it)]
                    row["agreement_ci"] = _interval(b[:, 0])
                    row["kappa_ci"] = _interval(b[:, 1])
                    row["alpha_ci"] = _interval(b[:, 2])
                rows.append(row)
    return rows


def _nanmean(values: Sequence[float]) -> float:
    v = np.asarray(values, dtype=float)
    return float(np.nanmean(v)) if np.isfinite(v).any() else float("nan")


def _nanmean_axis(a: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(a, axis=0)


# -- tables --------------------------------------------------------------------------------
def _fmt(v: float, digits: int = 2) -> str:
    return "—" if v is None or not np.isfinite(v) else f"{v:.{digits}f}"


def _ci(row: dict[str, Any], k: str) -> str:
    ci = row.get(f"{k}_ci")
    return f"[{ci[0]:.2f}, {ci[1]:.2f}]" if ci else ""


def table(ann: Annotations, rows: Sequence[dict[str, Any]]) -> list[str]:
    """The terminal table: per task and label, agreement, kappa and alpha with intervals."""
    k = len(ann.annotators)
    kappa = "Cohen's kappa" if k == 2 else "mean pairwise kappa"
    lines = [f"{k} annotators ({', '.join(ann.annotators)}), {len(ann.units)} units in "
             f"{len(set(ann.articles))} articles"]
    labels = [r["label"] or ("(same set)" if _multilabel(ann, r["task"]) else "(all)")
              for r in rows]
    w = max([len(r["task"]) for r in rows] + [4])
    lw = max([len(x) for x in labels] + [5])
    lines.append(f"{'task':<{w}}  {'label':<{lw}}  {'agreement':>9}  {kappa:<26}  "
                 "Krippendorff's alpha")
    for r, label in zip(rows, labels, strict=True):
        frac = f"{r['agree']}/{r['n']}"
        lines.append(f"{r['task']:<{w}}  {label:<{lw}}  {frac:>9}  "
                     f"{_fmt(r['kappa']):>5} {_ci(r, 'kappa'):<20}  "
                     f"{_fmt(r['alpha']):>5} {_ci(r, 'alpha')}".rstrip())
    if any("kappa_ci" in r for r in rows):
        lines.append("95% intervals: bootstrap over articles; — : undefined (one category "
                     "only)")
    return lines


def _multilabel(ann: Annotations, task: str) -> bool:
    return next(t for t in ann.tasks if t.name == task).kind == "multilabel"


def markdown(ann: Annotations, rows: Sequence[dict[str, Any]]) -> list[str]:
    """The datasheet's table (``seeds/README.md``): a row per single-label task and per
    label of a multi-label task, with agreement and kappa (alpha with three or more)."""
    k = len(ann.annotators)
    name = "Cohen's kappa" if k == 2 else "Krippendorff's alpha"
    col = "kappa" if k == 2 else "alpha"
    lines = [f"| label | agreement | {name} |", "| --- | --- | --- |"]
    for r in rows:
        ml = _multilabel(ann, r["task"])
        if (ml and r["label"] is None) or (not ml and r["label"] is not None):
            continue
        lines.append(f"| {r['label'] or r['task']} | {r['agree']}/{r['n']} | "
                     f"{_fmt(r[col])} |")
    return lines


# -- adjudication --------------------------------------------------------------------------
def disagreements(ann: Annotations) -> list[dict[str, Any]]:
    """The units to adjudicate: each with every annotator's labels and an ``adjudicated``
    field holding the disputed tasks, empty (``null``) for the adjudicator to fill."""
    out = []
    for i, unit in enumerate(ann.units):
        disputed = [t.name for t in ann.tasks if not ann.agreed(t.name, i)]
        if not disputed:
            continue
        out.append({**unit, "disagree": disputed,
                    "annotators": {a: {t.name: ann.labels[t.name][k][i] for t in ann.tasks}
                                   for k, a in enumerate(ann.annotators)},
                    "adjudicated": dict.fromkeys(disputed)})
    return out


def _repeated(path, rid: str, first: int, line: int, before: dict[str, Any],
              now: dict[str, Any]) -> dict[str, Any]:
    """A unit adjudicated on two lines: refused when the two give one task different
    labels (which one is meant cannot be told); a warning, and both kept, when they agree
    on every task both name."""
    clash = [name for name in now if name in before and now[name] != before[name]]
    if clash:
        name = clash[0]
        raise FramingDataError(
            f"{path}, lines {first} and {line}: unit {rid!r} is adjudicated twice with "
            f"different {name} labels ({before[name]!r}, then {now[name]!r}). Keep one line "
            "per unit, then merge again.")
    warnings.warn(f"{path}, lines {first} and {line}: unit {rid!r} is adjudicated twice, "
                  "with the same labels; merged once", stacklevel=3)
    return {**before, **now}


def merge(adjudicated: str | Path, ann: Annotations) -> list[dict[str, Any]]:
    """The gold records: agreed labels as annotated, disputed ones as adjudicated.

    Parameters
    ----------
    adjudicated : path
        The file :func:`disagreements` wrote, its ``adjudicated`` fields filled.
    ann : Annotations
        The annotators' files the adjudication was made from.

    Returns
    -------
    list of dict
        One record per unit, in the first file's order: id, article, paragraph, text and
        one field per task.

    Raises
    ------
    FramingDataError
        An adjudication left empty or outside the label set, an id of no annotated
        unit, a unit adjudicated twice with different labels (twice with the same labels
        is a warning), or a disputed unit the file lacks.
    """
    tasks = {t.name: t for t in ann.tasks}
    pos = {rid: i for i, rid in enumerate(ann.ids)}
    decided: dict[str, dict[str, Any]] = {}
    first_line: dict[str, int] = {}
    for line, rec in read_jsonl(adjudicated):
        rid = rec.get("id")
        loc = where(adjudicated, line, rid)
        if rid is None or str(rid) not in pos:
            raise FramingDataError(f"{loc}: not a unit of the annotators' files "
                                   f"({', '.join(ann.files)}). Adjudicate the file framing "
                                   "agree -o wrote from these files.")
        rid = str(rid)
        adj = rec.get("adjudicated")
        if not isinstance(adj, dict):
            raise FramingDataError(f"{loc}: no \"adjudicated\" object. Keep the field framing "
                                   "agree wrote and fill in its labels.")
        got = {}
        for name, value in adj.items():
            if name not in tasks:
                raise FramingDataError(f"{loc}: adjudicated task {name!r} is not one of "
                                       f"{list(tasks)}. Fix the field name.")
            if value is None:
                raise FramingDataError(f"{loc}: adjudicated {name} is still empty. Fill it "
                                       "with the label(s) the guidelines give, then merge "
                                       "again.")
            got[name] = check_label(tasks[name], value, loc, "adjudicated ")
        if rid in decided:
            got = _repeated(adjudicated, rid, first_line[rid], line, decided[rid], got)
        else:
            first_line[rid] = line
        decided[rid] = got
    gold = []
    for i, unit in enumerate(ann.units):
        rec = dict(unit)
        for t in ann.tasks:
            if t.name in decided.get(unit["id"], {}):
                rec[t.name] = decided[unit["id"]][t.name]
            elif ann.agreed(t.name, i):
                rec[t.name] = ann.labels[t.name][0][i]
            else:
                raise FramingDataError(
                    f"{adjudicated}: unit {unit['id']!r} is disputed on {t.name} but not "
                    "adjudicated there. Write the file again with framing agree -o and "
                    "adjudicate every unit in it.")
        gold.append(rec)
    return gold

