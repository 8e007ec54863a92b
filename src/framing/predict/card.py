"""The model card: what a saved model says about itself, as a dict and as Markdown.

The dict travels inside the model file (:attr:`framing.FramingModel.card`); the Markdown
is written beside it. Both are built here and nowhere else. numpy only.
"""

from __future__ import annotations

import platform
import time
from typing import Any

import numpy as np

from framing.core.metrics import HEADLINE, key


def versions() -> dict[str, str]:
    """Versions of the libraries a saved model depends on."""
    import joblib
    import scipy
    import sklearn

    from framing.core.version import __version__

    return {"framing": __version__, "scikit-learn": sklearn.__version__,
            "numpy": np.__version__, "scipy": scipy.__version__, "joblib": joblib.__version__,
            "python": platform.python_version()}


def build(data: dict[str, Any], evaluation: dict[str, Any], thresholds: dict[str, list[float]],
          config: dict[str, Any] | None, run_id: str | None = None) -> dict[str, Any]:
    """A model card.

    Parameters
    ----------
    data : dict
        The training data: ``name``, ``source``, ``n_records``, ``digest``,
        ``label_counts``, ``warnings``.
    evaluation : dict
        ``strategy``, ``n_folds``, ``metrics`` (flat, named by :func:`framing.core.metrics.key`),
        ``notes``, and ``test`` (the held-out corpus, if any).
    thresholds : dict
        Per multi-label task, its thresholds in label order.
    config : dict, optional
        The resolved config that made the model.
    run_id : str, optional
        The MLflow run.
    """
    return {"created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "versions": versions(), "data": data, "evaluation": evaluation,
            "thresholds": thresholds, "config": config, "mlflow_run_id": run_id}


def _figure_rows(m: dict[str, float], tasks: list[str], prefix: str = "") -> list[str]:
    rows = []
    for t in tasks:
        for k in HEADLINE:
            v = m.get(key(t, k, prefix=prefix))
            if v is None:
                continue
            lo, hi = (m.get(key(t, k, prefix=prefix, ci=c)) for c in ("ci_low", "ci_high"))
            ci = f"{lo:.3f}–{hi:.3f}" if lo is not None else ""
            b = [m.get(key(t, k, prefix=f"{prefix}baseline/{n}")) for n in ("majority",
                                                                            "codebook")]
            b = [f"{x:.3f}" if x is not None else "" for x in b]
            rows.append(f"| {t} | {k} | {v:.3f} | {ci} | {b[0]} | {b[1]} |")
    return rows


def choice_table(choice: dict[str, Any], per_label: bool | int = True) -> list[str]:
    """The model choice (``model=auto``) as Markdown lines: per task, each candidate's
    inner score with its 95% interval (per label too, for a multi-label task of at most
    ``per_label`` labels when true), for how many labels it was chosen, and its time."""
    lines: list[str] = []
    for t in choice.get("tasks") or []:
        units, chosen = t["units"], t["chosen"]
        many = len(units) > 1
        detail = per_label and many and (per_label is True or len(units) <= per_label)
        score = "mean label F1" if many else "macro-F1"
        lines += ["", f"Task {t['task']}: {t['scheme']}, inner {score} with 95% intervals "
                      "(bootstrap over articles); * chosen."]
        cols = ["candidate", "families", score, "chosen for", "seconds"]
        if detail:
            cols += list(units)
        lines += ["", "| " + " | ".join(cols) + " |", "|" + " --- |" * len(cols)]
        for row in t["candidates"]:
            name = row["candidate"]
            n_chosen = sum(c == name for c in chosen)
            mark = "*" if n_chosen else ""
            mean = row.get("mean")
            first = row.get("first_round")
            cell = (f"{mark}{mean['f1']:.3f} [{mean['ci'][0]:.3f}, {mean['ci'][1]:.3f}]"
                    if mean else f"out after round 1: {np.mean(list(first.values())):.3f}"
                    if first else "–")
            who = (f"{n_chosen} of {len(units)} labels" if many else
                   ("chosen" if n_chosen else "")) if n_chosen else ""
            secs = "–" if row.get("seconds") is None else f"{row['seconds']:.2f}"
            cells = [name, "+".join(row["families"]), cell, who, secs]
            if detail:
                for u, unit in enumerate(units):
                    v = row.get(unit)
                    cells.append("–" if v is None else
                                 f"{'*' if chosen[u] == name else ''}{v['f1']:.3f} "
                                 f"[{v['ci'][0]:.3f}, {v['ci'][1]:.3f}]")
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def curve_lines(curve: dict[str, Any]) -> str:
    """A learning curve (:meth:`framing.evaluate.curve.LearningCurve.to_dict`) as Markdown: macro-F1
    [95% interval] per size and task, then the expected gain of more annotation."""
    tasks = list(curve["points"])
    unit = curve["unit"]
    out = [f"Macro-F1 on held-out {unit} against {unit} annotated ({curve['draws']} draws "
           "a size; 95% normal intervals over folds and draws).", "",
           f"| {unit} | records | " + " | ".join(tasks) + " |", "|" + " --- |" * (len(tasks) + 2)]
    for k, m in enumerate(curve["sizes"]):
        cells = [f"{p['mean']:.3f} [{p['ci_low']:.3f}, {p['ci_high']:.3f}]"
                 for p in (curve["points"][t][k] for t in tasks)]
        out.append(f"| {m} | {curve['records'][k]:.0f} | " + " | ".join(cells) + " |")
    out.append("")
    for t, g in (curve.get("gain") or {}).items():
        if not g:
            out.append(f"- {t}: no curve could be fitted to these points (it needs three "
                       "sizes or more), so no gain is estimated.")
        else:
            out.append(f"- {t}: {g['more']} more {unit} (from {g['at']}): expected "
                       f"{g['gain']:+.3f} macro-F1 [{g['ci'][0]:+.3f}, {g['ci'][1]:+.3f}], "
                       "an estimate from the fitted curve")
    return "\n".join(out)


def markdown(card: dict[str, Any]) -> str:
    """The card as Markdown (``<model>.card.md`` beside the model file)."""
    ev = card["evaluation"]
    m = ev["metrics"]
    d = card["data"]
    tasks = list(d["label_counts"])
    head = ["| task | metric | value | 95% interval | majority | codebook rules |",
            "| --- | --- | --- | --- | --- | --- |"]
    lines = [f"# Model card: framing model ({card['created']})", "",
             "## Data", "",
             f"- corpus: {d['name']} ({d['source']}), {d['n_records']} records",
             f"- digest (SHA-256): `{d['digest']}`",
             f"- label counts: {d['label_counts']}"]
    lines += [f"- warning: {w}" for w in d.get("warnings") or []]
    lines += ["", "## Evaluation", "",
              f"{ev['strategy']} ({ev['n_folds']} folds); 95% bootstrap intervals.", "",
              *head, *_figure_rows(m, tasks)]
    test = ev.get("test")
    if test:
        lines += ["", f"### Other corpus: {test['name']} ({test['n_records']} records)", "",
                  "The final model, trained on all of the training data, scored there.", "",
                  *head, *_figure_rows(m, tasks, "test/")]
    lines += ["", "| task | label | precision | recall | F1 | support | threshold |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for t in tasks:
        thr = card["thresholds"].get(t)
        for j, lab in enumerate(d["label_counts"][t]):
            def g(k, t=t, lab=lab):
                return m.get(key(t, k, lab), float("nan"))
            th = f"{thr[j]:.2f}" if thr else "argmax"
            sup = g("support")
            figs = " | ".join("—" if np.isnan(g(k)) else f"{g(k):.3f}"  # undefined: 0/0
                              for k in ("precision", "recall", "f1"))
            lines.append(f"| {t} | {lab} | {figs} | {'' if np.isnan(sup) else int(sup)} | "
                         f"{th} |")
    choice = ev.get("model_choice")
    if choice:
        lines += ["", "## Model choice", "",
                  "Chosen from the training data by inner cross-validation on the "
                  f"training part ({choice.get('seconds', 0):.1f} s for all candidates)."]
        lines += choice_table(choice, per_label=12)
    curve = ev.get("learning_curve")
    if curve:
        lines += ["", "## Learning curve", "", curve_lines(curve)]
    if ev.get("notes"):
        lines += ["", "## Notes", ""] + [f"- {n}" for n in ev["notes"]]
    v = card["versions"]
    lines += ["", "## Versions", "", ", ".join(f"{k} {val}" for k, val in v.items()), "",
              f"MLflow run: {card.get('mlflow_run_id') or '(not tracked)'}", "",
              "Load with `framing.load(path)`. A joblib file runs code when loaded: load only "
              "files you trust.", ""]
    return "\n".join(lines)
