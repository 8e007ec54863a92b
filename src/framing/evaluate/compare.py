"""Two models on the same units: per-label F1 and macro-F1 of each, their difference and a
paired bootstrap interval over groups (articles).

Everything here is a pure function of arrays or prediction records (the JSON lines of
out-of-fold predictions a training run writes, or a model's predictions on a test file):

* :func:`align` matches two sides' records by unit id and keeps the tasks they share;
* :func:`paired_bootstrap` resamples groups with replacement — one draw serves both
  sides and every task — and recomputes both sides' F1 on each draw;
* :class:`Comparison` holds the rows and writes them as a terminal table, Markdown,
  HTML, JSON and a figure.

A label that neither occurs nor is predicted (in the whole data or in a draw) gets the F1
``zero_division`` says, as scikit-learn's ``f1_score(zero_division=...)`` does: 0, 1, or
NaN (the label is then left out of that draw's figures and of its macro-F1).
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from framing.core.errors import FramingDataError

#: The out-of-fold predictions' file: a run's artifact and a file in its output folder.
PREDICTIONS = "oof_predictions.jsonl"


def predictions_path(model_path: str | Path) -> Path:
    """The out-of-fold predictions of a model file: ``<stem>.oof.jsonl`` beside it."""
    model_path = Path(model_path)
    return model_path.with_name(f"{model_path.stem}.oof.jsonl")


#: ``--zero-division`` values and the F1 each gives an absent label.
ZERO_DIVISION = {"0": 0.0, "1": 1.0, "nan": float("nan")}
#: Two figures closer than this are a tie: neither side wins the draw.
TIE = 1e-12
#: The row label of a task's macro-F1, and of the mean over tasks (the sweep objective).
MACRO, MEAN, ALL = "macro-F1", "mean macro-F1", "all tasks"


# -- metrics ---------------------------------------------------------------------------------
def f1(tp, fp, fn, zero_division: float = 0.0) -> np.ndarray:
    """F1 from counts (any shape, labels last): ``2tp / (2tp + fp + fn)``, and
    ``zero_division`` where the denominator is 0 (a label neither true nor predicted)."""
    tp, fp, fn = (np.asarray(x, dtype=float) for x in (tp, fp, fn))
    d = 2 * tp + fp + fn
    return np.where(d > 0, 2 * tp / np.where(d > 0, d, 1.0), zero_division)


def macro(values: np.ndarray) -> np.ndarray:
    """The mean over the last axis, leaving out NaN (NaN where every value is NaN)."""
    values = np.asarray(values, dtype=float)
    ok = np.isfinite(values)
    n = ok.sum(-1)
    total = np.where(ok, values, 0.0).sum(-1)
    return np.where(n > 0, total / np.maximum(n, 1), np.nan)


def counts(truth: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Per unit and label, true positives, false positives and false negatives:
    shape (3, n_units, n_labels) from 0/1 matrices."""
    y, p = np.asarray(truth).astype(bool), np.asarray(pred).astype(bool)
    return np.stack([y & p, ~y & p, y & ~p]).astype(np.int64)


def onehot(values: Sequence[Any], labels: Sequence[str]) -> np.ndarray:
    """Label strings (one per unit) to a 0/1 matrix (n_units, n_labels)."""
    v = np.asarray([str(x) for x in values], dtype=object)
    return (v[:, None] == np.asarray(labels, dtype=object)[None, :]).astype(np.int8)


# -- the bootstrap ---------------------------------------------------------------------------
def group_codes(groups: Sequence[Any]) -> tuple[np.ndarray, int]:
    """Each unit's group as a number 0..G-1 (groups in sorted order); (codes, G)."""
    uniq, codes = np.unique(np.asarray([str(g) for g in groups]), return_inverse=True)
    return codes.astype(np.int64), len(uniq)


def resample(n_groups: int, draws: int = 1000, seed: int = 0) -> np.ndarray:
    """How often each group is picked in each draw: shape (draws, n_groups).

    Draw ``d`` picks ``n_groups`` groups with replacement, ``rng.integers(0, G, G)`` of
    ``numpy.random.default_rng(seed)``, draw after draw.
    """
    rng = np.random.default_rng(seed)
    weights = np.zeros((draws, n_groups), dtype=np.int64)
    for d in range(draws):
        weights[d] = np.bincount(rng.integers(0, n_groups, n_groups), minlength=n_groups)
    return weights


@dataclass
class TaskUnits:
    """One task on the shared units: gold and each side's decisions as 0/1 matrices
    (n_units, n_labels); ``kind`` is ``multilabel`` or ``multiclass``."""

    name: str
    kind: str
    labels: list[str]
    truth: np.ndarray
    a: np.ndarray
    b: np.ndarray


@dataclass
class Row:
    """One figure of both sides: a label's F1 (``label``), a task's macro-F1
    (``label == MACRO``) or the mean macro-F1 over tasks (``task == ALL``).

    ``diff`` is B − A; ``low``/``high`` its interval (``widened``: moved to include
    ``diff``); ``a_wins``/``b_wins`` the shares of draws in which each side is better;
    ``draws`` how many draws define the figure on both sides.
    """

    task: str
    label: str
    a: float
    b: float
    diff: float
    low: float
    high: float
    widened: bool
    a_wins: float
    b_wins: float
    draws: int

    def to_dict(self) -> dict[str, Any]:
        return {k: _json_number(v) for k, v in self.__dict__.items()}


def summarise(task: str, label: str, point_a: float, point_b: float, draws_a: np.ndarray,
              draws_b: np.ndarray, level: float = 0.95) -> Row:
    """A row from both sides' point estimates and their figures on the same draws: the
    difference B − A, the percentile interval of the drawn differences (widened to
    include the point estimate if it does not), and each side's share of wins."""
    point = float(point_b - point_a)
    d = np.asarray(draws_b, dtype=float) - np.asarray(draws_a, dtype=float)
    d = d[np.isfinite(d)]
    if len(d) == 0:
        return Row(task, label, float(point_a), float(point_b), point, math.nan, math.nan,
                   False, math.nan, math.nan, 0)
    tail = (1 - level) / 2
    low, high = (float(x) for x in np.quantile(d, [tail, 1 - tail]))
    widened = False
    if math.isfinite(point) and not low <= point <= high:
        low, high, widened = min(low, point), max(high, point), True
    return Row(task, label, float(point_a), float(point_b), point, low, high, widened,
               float(np.mean(d < -TIE)), float(np.mean(d > TIE)), len(d))


def paired_bootstrap(tasks: Sequence[TaskUnits], groups: Sequence[Any], draws: int = 1000,
                     seed: int = 0, zero_division: float = 0.0, level: float = 0.95
                     ) -> list[Row]:
    """Per task, its macro-F1 and each label's F1 for both sides, and (with several
    tasks) the mean macro-F1 over tasks; each with the paired bootstrap interval of the
    difference B − A over ``groups`` (one group per unit).

    Every draw resamples the groups with replacement (:func:`resample`) and recomputes
    both sides on the same draw; the F1s of a draw come from the counts of the units of
    the groups drawn, a group drawn twice counting twice.
    """
    codes, n_groups = group_codes(groups)
    weights = resample(n_groups, draws, seed).astype(float)  # counts: exact in floats
    rows: list[Row] = []
    macros: dict[str, list[tuple[float, np.ndarray]]] = {"a": [], "b": []}
    for t in tasks:
        per_side = {}
        for side, pred in (("a", t.a), ("b", t.b)):
            c = counts(t.truth, pred)  # (3, n, L)
            by_group = np.zeros((3, n_groups, c.shape[2]))
            np.add.at(by_group, (slice(None), codes), c)
            drawn = np.stack([weights @ by_group[k] for k in range(3)])  # (3, draws, L)
            point_f1 = f1(*c.sum(axis=1), zero_division)
            draw_f1 = f1(*drawn, zero_division)
            per_side[side] = (point_f1, draw_f1)
            macros[side].append((float(macro(point_f1)), macro(draw_f1)))
        (pa, da), (pb, db) = per_side["a"], per_side["b"]
        rows.append(summarise(t.name, MACRO, float(macro(pa)), float(macro(pb)), macro(da),
                              macro(db), level))
        for j, lab in enumerate(t.labels):
            rows.append(summarise(t.name, lab, pa[j], pb[j], da[:, j], db[:, j], level))
    if len(tasks) > 1:
        point = {s: float(macro(np.array([p for p, _ in macros[s]]))) for s in macros}
        drawn = {s: macro(np.stack([d for _, d in macros[s]], axis=-1)) for s in macros}
        rows.append(summarise(ALL, MEAN, point["a"], point["b"], drawn["a"], drawn["b"],
                              level))
    return rows


# -- prediction records ----------------------------------------------------------------------
@dataclass
class Matched:
    """Two sides' records matched by id: the shared units' ids and groups, the tasks both
    have (same name, kind and labels), and notes on what was left out."""

    ids: list[str]
    groups: list[str]
    grouped: bool
    tasks: list[TaskUnits]
    notes: list[str] = field(default_factory=list)


def read_records(path: str | Path, what: str = "predictions") -> list[dict[str, Any]]:
    """Prediction records from a JSON-lines file; a line that is not a JSON object is an
    error naming the file and line."""
    path = Path(path)
    out = []
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                rec = json.loads(raw.decode("utf-8").rstrip("\r\n"))
            except UnicodeDecodeError as e:
                raise FramingDataError(f"{path}, line {n}: not UTF-8 (byte {e.start} of the "
                                       f"line); the {what} file is damaged or not framing's: "
                                       "train the run again to write it.") from None
            except json.JSONDecodeError as e:
                raise FramingDataError(f"{path}, line {n}: malformed JSON ({e.msg} at column "
                                       f"{e.colno}); the {what} file is damaged: train the "
                                       "run again to write it.") from None
            if not isinstance(rec, dict) or rec.get("id") is None:
                raise FramingDataError(f"{path}, line {n}: not a prediction record (an "
                                       "object with an id); give the out-of-fold predictions "
                                       "of a run (oof_predictions.jsonl).")
            out.append(rec)
    if not out:
        raise FramingDataError(f"{path}: no prediction records; give the out-of-fold "
                               "predictions of a run (oof_predictions.jsonl).")
    return out


def record_tasks(records: Sequence[Mapping[str, Any]]) -> dict[str, tuple[str, list[str]]]:
    """The tasks of prediction records: ``{name: (kind, labels)}`` from their
    ``<task>_true``, ``<task>_pred`` and ``<task>_scores`` fields (the labels in the
    scores' order; a list of labels per unit makes a task multi-label)."""
    first = records[0]
    out = {}
    for k in first:
        if not k.endswith("_true") or f"{k[:-5]}_pred" not in first:
            continue
        name = k[:-5]
        kind = "multilabel" if isinstance(first[k], list) else "multiclass"
        scores = first.get(f"{name}_scores")
        if isinstance(scores, Mapping) and scores:
            labels = [str(x) for x in scores]
        else:  # no scores: the labels seen
            seen: set[str] = set()
            for r in records:
                for f_ in (f"{name}_true", f"{name}_pred"):
                    v = r.get(f_)
                    seen.update(map(str, v) if isinstance(v, list) else [str(v)])
            labels = sorted(seen)
        out[name] = (kind, labels)
    return out


def _matrix(records: Sequence[Mapping[str, Any]], field_: str, kind: str,
            labels: list[str], where: str) -> np.ndarray:
    index = {lab: j for j, lab in enumerate(labels)}
    out = np.zeros((len(records), len(labels)), dtype=np.int8)
    for i, r in enumerate(records):
        v = r.get(field_)
        values = v if isinstance(v, list) else [v]
        if v is None:
            raise FramingDataError(f"{where}: unit {r['id']!r}: no {field_} (missing or "
                                   "null), which its other units have; the predictions are "
                                   "damaged: train the run again to write them.")
        if kind == "multilabel" and not isinstance(v, list):
            raise FramingDataError(f"{where}: unit {r['id']!r}: {field_} is not a list of "
                                   "labels, as its other units'.")
        if kind == "multiclass" and isinstance(v, list):
            raise FramingDataError(f"{where}: unit {r['id']!r}: {field_} is a list {v!r}, but "
                                   "the task is single-label (its other units have one "
                                   "label); the predictions are damaged: train the run "
                                   "again to write them.")
        for lab in values:
            j = index.get(str(lab))
            if j is None:
                raise FramingDataError(f"{where}: unit {r['id']!r}: {field_} has label "
                                       f"{lab!r}, not one of {labels}.")
            out[i, j] = 1
    return out


def align(records_a: Sequence[Mapping[str, Any]], records_b: Sequence[Mapping[str, Any]],
          name_a: str = "A", name_b: str = "B") -> Matched:
    """Match two sides' prediction records by id and keep the tasks both have.

    Refused (:class:`FramingDataError`) when no unit is shared, when no task is, and when
    a shared unit's text or gold labels differ (the sides were made from different
    corpora). Units of one side only are left out, with a note. Groups are A's (B's where
    A's records have none); without groups each unit is its own.
    """
    by_id = []
    for records, name in ((records_a, name_a), (records_b, name_b)):
        index: dict[str, Mapping[str, Any]] = {}
        for r in records:
            rid = str(r["id"])
            if rid in index:
                raise FramingDataError(f"{name}: unit id {rid!r} occurs twice in its "
                                       "predictions; each unit needs one id.")
            index[rid] = r
        by_id.append(index)
    ia, ib = by_id
    ids = [i for i in ia if i in ib]
    if not ids:
        raise FramingDataError(
            f"{name_a} and {name_b} share no unit: none of {name_a}'s {len(ia)} unit ids "
            f"(e.g. {next(iter(ia))!r}) is among {name_b}'s {len(ib)} (e.g. "
            f"{next(iter(ib))!r}); compare runs or models of the same corpus.")
    notes = []
    if len(ids) < max(len(ia), len(ib)):
        notes.append(f"compared on the {len(ids)} units both have ({len(ia) - len(ids)} "
                     f"of {name_a} only, {len(ib) - len(ids)} of {name_b} only left out)")
    ra, rb = [ia[i] for i in ids], [ib[i] for i in ids]
    for x, y in zip(ra, rb, strict=True):
        if "text" in x and "text" in y and x["text"] != y["text"]:
            raise FramingDataError(
                f"unit {x['id']!r} has another text in {name_b} than in {name_a}: the two "
                "were made from different corpora (the same ids, other units); compare "
                "runs or models of the same corpus.")
    tasks_a, tasks_b = record_tasks(ra), record_tasks(rb)
    shared = []
    for t, (kind, labels) in tasks_a.items():
        other = tasks_b.get(t)
        if other is None:
            continue
        if other[0] != kind or set(other[1]) != set(labels):
            notes.append(f"task {t!r} left out: {kind} with labels {labels} in {name_a}, "
                         f"{other[0]} with {other[1]} in {name_b}")
            continue
        shared.append((t, kind, labels))
    if not shared:
        raise FramingDataError(
            f"{name_a} and {name_b} share no task: {name_a} has "
            f"{_task_list(tasks_a)}, {name_b} has {_task_list(tasks_b)}; compare runs or "
            "models trained for the same task and labels.")
    only = sorted(set(tasks_a) ^ set(tasks_b))
    if only:
        notes.append(f"task{'s' if len(only) > 1 else ''} of one side only left out: "
                     f"{', '.join(only)}")
    units = []
    for t, kind, labels in shared:
        truth = _matrix(ra, f"{t}_true", kind, labels, name_a)
        gold_b = _matrix(rb, f"{t}_true", kind, labels, name_b)
        differ = np.flatnonzero((truth != gold_b).any(axis=1))
        if len(differ):
            raise FramingDataError(
                f"{len(differ)} shared unit{'s' if len(differ) > 1 else ''} (e.g. "
                f"{ids[differ[0]]!r}) {'have' if len(differ) > 1 else 'has'} other gold "
                f"labels of task {t!r} in {name_b} than in {name_a}: they were trained on "
                "different labels; compare runs or models of the same corpus.")
        units.append(TaskUnits(t, kind, list(labels), truth,
                               _matrix(ra, f"{t}_pred", kind, labels, name_a),
                               _matrix(rb, f"{t}_pred", kind, labels, name_b)))
    grouped = True
    if all(r.get("group") is not None for r in ra):
        groups = [str(r["group"]) for r in ra]
    elif all(r.get("group") is not None for r in rb):
        groups = [str(r["group"]) for r in rb]
    else:
        groups, grouped = list(ids), False
        notes.append("the predictions name no group (article): units are resampled one "
                     "by one, which overstates the certainty when units of an article "
                     "are alike")
    return Matched(ids, groups, grouped, units, notes)


def _task_list(tasks: Mapping[str, tuple[str, list[str]]]) -> str:
    if not tasks:
        return "no task"
    return ", ".join(f"{t} ({', '.join(labels)})" for t, (_, labels) in tasks.items())


# -- the comparison and its reports ----------------------------------------------------------
@dataclass
class Comparison:
    """The rows of a comparison of A and B and how they were computed."""

    a: str
    b: str
    rows: list[Row]
    n_units: int
    n_groups: int
    grouped: bool
    draws: int
    seed: int
    zero_division: str
    level: float = 0.95
    notes: list[str] = field(default_factory=list)
    unit: str = "out-of-fold predictions"

    @property
    def widened(self) -> bool:
        """Whether any interval was widened to include its point estimate."""
        return any(r.widened for r in self.rows)

    def row(self, task: str, label: str = MACRO) -> Row | None:
        """The row of a task's label (default: its macro-F1), or None."""
        return next((r for r in self.rows if r.task == task and r.label == label), None)

    def header(self) -> list[str]:
        """What was compared and how, and how to read the columns."""
        what = "articles" if self.grouped else "units"
        where = f"in {self.n_groups} articles" if self.grouped else "(no articles named)"
        return [f"A: {self.a}", f"B: {self.b}",
                f"{self.n_units} shared units ({self.unit}) {where}; {self.draws} paired "
                f"draws of {what}, seed {self.seed}",
                f"difference B − A (positive: B is better), its {self.level:.0%} paired "
                "bootstrap interval, and the",
                "share of draws each side wins (A wins, B wins); an absent label's F1 is "
                f"{self.zero_division} (zero_division)"]

    def footnotes(self) -> list[str]:
        out = [f"note: {n}" for n in self.notes]
        if self.widened:
            out.append("* the percentile interval did not contain the difference; it is "
                       "widened to include it")
        return out

    def _cells(self, r: Row) -> list[str]:
        ci = "—" if not math.isfinite(r.low) else f"[{r.low:+.4f}, {r.high:+.4f}]" + (
            "*" if r.widened else "")
        return [r.task, r.label, _fmt(r.a), _fmt(r.b), _fmt(r.diff, sign=True), ci,
                _pct(r.a_wins), _pct(r.b_wins)]

    COLUMNS = ("task", "F1 of", "A", "B", "B − A", "95% interval", "A wins", "B wins")

    def table(self) -> list[str]:
        """The terminal table, with its header and footnotes."""
        cells = [list(self.COLUMNS)] + [self._cells(r) for r in self.rows]
        widths = [max(len(c[i]) for c in cells) for i in range(len(self.COLUMNS))]
        lines = self.header() + [""]
        for c in cells:
            lines.append("  ".join(
                x.ljust(w) if i in (0, 1, 5) else x.rjust(w)
                for i, (x, w) in enumerate(zip(c, widths, strict=True))).rstrip())
        foot = self.footnotes()
        return lines + ([""] + foot if foot else [])

    def markdown(self) -> str:
        """The report as Markdown."""
        lines = ["# Comparison", ""] + [f"- {x}" for x in self.header()] + [""]
        lines.append("| " + " | ".join(self.COLUMNS) + " |")
        lines.append("| " + " | ".join(["---"] * 2 + ["---:"] * 4 + ["---:"] * 2) + " |")
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in self._cells(r)) + " |"
                  for r in self.rows]
        foot = self.footnotes()
        return "\n".join(lines + ([""] + foot if foot else [])) + "\n"

    def html(self) -> str:
        """The report as a standalone HTML page."""
        e = html.escape
        head = "".join(f"<li>{e(x)}</li>" for x in self.header())
        cols = "".join(f"<th>{e(c)}</th>" for c in self.COLUMNS)
        body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in self._cells(r)) +
                       "</tr>" for r in self.rows)
        foot = "".join(f"<p>{e(x)}</p>" for x in self.footnotes())
        return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Comparison"
                "</title><style>body{font-family:sans-serif}table{border-collapse:collapse}"
                "td,th{padding:2px 8px;border-bottom:1px solid #ddd}td:nth-child(n+3)"
                "{text-align:right;font-variant-numeric:tabular-nums}</style></head><body>"
                f"<h1>Comparison</h1><ul>{head}</ul><table><tr>{cols}</tr>{body}</table>"
                f"{foot}</body></html>\n")

    def to_dict(self) -> dict[str, Any]:
        """Everything, JSON-ready (NaN as null)."""
        return {"a": self.a, "b": self.b, "difference": "B - A", "unit": self.unit,
                "n_units": self.n_units, "n_groups": self.n_groups, "grouped": self.grouped,
                "draws": self.draws, "seed": self.seed, "zero_division": self.zero_division,
                "level": self.level, "notes": self.notes,
                "rows": [r.to_dict() for r in self.rows]}

    def report(self, suffix: str) -> str:
        """The report in the format a file suffix names (``.md``, ``.html``, ``.json``)."""
        if suffix == ".json":
            return json.dumps(self.to_dict(), indent=2) + "\n"
        return self.html() if suffix in (".html", ".htm") else self.markdown()

    def figure(self):
        """Each difference with its interval, per task and label (a matplotlib figure,
        headless)."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        rows = self.rows[::-1]
        fig, ax = plt.subplots(figsize=(7, 0.32 * len(rows) + 1.4))
        y = np.arange(len(rows))
        diff = np.array([r.diff for r in rows], dtype=float)
        low = np.array([r.low for r in rows], dtype=float)
        high = np.array([r.high for r in rows], dtype=float)
        ok = np.isfinite(low) & np.isfinite(diff)
        ax.axvline(0, color="grey", lw=1)
        ax.errorbar(diff[ok], y[ok], xerr=np.vstack([diff[ok] - low[ok], high[ok] - diff[ok]]),
                    fmt="o", capsize=3, color="tab:blue")
        strong = np.array([r.label in (MACRO, MEAN) for r in rows])
        ax.plot(diff[ok & strong], y[ok & strong], "s", color="tab:red", zorder=3)
        ax.set_yticks(y, [f"{r.task} {r.label}" + ("*" if r.widened else "") for r in rows],
                      fontsize=8)
        ax.set_xlabel(f"F1 difference B − A ({self.level:.0%} paired bootstrap interval)")
        ax.set_title(f"B: {_short(self.b)}\nminus A: {_short(self.a)}", fontsize=9)
        fig.tight_layout()
        return fig


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"


def _fmt(v: float, sign: bool = False) -> str:
    if not math.isfinite(v):
        return "—"
    return f"{v:+.4f}" if sign else f"{v:.4f}"


def _pct(v: float) -> str:
    return "—" if not math.isfinite(v) else f"{v:.0%}"


def _json_number(v: Any) -> Any:
    if isinstance(v, float | np.floating):
        return float(v) if math.isfinite(v) else None
    if isinstance(v, np.integer | np.bool_):
        return v.item()
    return v


def compare(records_a: Sequence[Mapping[str, Any]], records_b: Sequence[Mapping[str, Any]],
            name_a: str = "A", name_b: str = "B", draws: int = 1000, seed: int = 0,
            zero_division: str = "0", unit: str = "out-of-fold predictions") -> Comparison:
    """Align two sides' prediction records and compare them (:func:`align`,
    :func:`paired_bootstrap`)."""
    if zero_division not in ZERO_DIVISION:
        raise FramingDataError(f"zero_division {zero_division!r}: give 0, 1 or nan.")
    if draws < 1:
        raise FramingDataError(f"draws {draws}: give 1 or more.")
    m = align(records_a, records_b, f"A ({name_a})", f"B ({name_b})")
    rows = paired_bootstrap(m.tasks, m.groups, draws, seed, ZERO_DIVISION[zero_division])
    return Comparison(name_a, name_b, rows, len(m.ids), len(set(m.groups)), m.grouped, draws,
                      seed, zero_division, notes=m.notes, unit=unit)
