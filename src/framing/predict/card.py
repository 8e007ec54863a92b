"""The model card: what a saved model says about itself, as a dict and as Markdown.

The dict travels inside the model file (:attr:`framing.FramingModel.card`); the Markdown
is written beside it. Both are built here and nowhere else. numpy only.
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
from typing import Any

import numpy as np

from framing.core.metrics import HEADLINE, key

#: How to load the model, as the card says it (the README says the same).
LOADING = ("Load with `framing.load(path)`: it checks the file against its `.sha256` and "
           "reads it through an allow-list of the types a model is made of, refusing "
           "anything else before it runs. Plain `joblib.load` (and "
           "`framing.load(path, trusted=True)`) would run whatever the file names: use them "
           "only on files you trust.")


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


# Settings that change neither a model nor its figures: where files go, what is printed,
# tracking, bootstrap draws and workers, the other corpus scored, and which file the
# training data came from (the data are known by their digest instead).
NOT_MADE_BY = ("paths", "output", "tracking", "hydra", "run_name", "experiment_name",
               "log_level", "test", "data.path", "data.name", "data.source",
               "data.hub_config", "eval.n_boot", "eval.n_jobs", "eval.ovr_n_jobs",
               "eval.label_issues", "eval.learning_curve", "eval.curve_sizes",
               "eval.curve_draws", "stream.progress")


def makes_the_model(key_: str) -> bool:
    """Whether a dotted setting changes what a run makes (not in :data:`NOT_MADE_BY`)."""
    return not any(key_ == k or key_.startswith(k + ".") for k in NOT_MADE_BY)


def _flat(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(_flat(v, name + "."))
        else:
            out[name] = v
    return out


def made_by(card: dict[str, Any]) -> dict[str, Any] | None:
    """What made a model, as its card records it: the settings that change the model or
    its figures (dotted keys) and the digest of its training data's content; None when
    the card records neither (a model saved by hand, or by an old version)."""
    config = card.get("config")
    digest = (card.get("data") or {}).get("digest")
    if not isinstance(config, dict) or not digest:
        return None
    return {"config": {k: v for k, v in _flat(_per_task_as_applied(config)).items()
                       if makes_the_model(k)},
            "data": str(digest)}


def _per_task_as_applied(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` with the model's ``task_defaults`` folded into its ``per_task`` values
    (the user's on top), as the fit applies them: a card that records them apart and
    one that records them together in ``per_task`` (written before they were apart)
    describe the same settings alike."""
    model = config.get("model")
    if not isinstance(model, dict) or "task_defaults" not in model:
        return config
    model = dict(model)
    merged = {k: dict(v or {}) for k, v in (model.pop("task_defaults") or {}).items()}
    for task, values in (model.get("per_task") or {}).items():
        merged.setdefault(task, {}).update(values or {})
    model["per_task"] = merged
    return {**config, "model": model}


def made_by_id(made: dict[str, Any], length: int = 8) -> str:
    """A short hex digest of :func:`made_by`: equal settings and data, equal id."""
    text = json.dumps(made, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def difference(old: dict[str, Any] | None, new: dict[str, Any]) -> str:
    """How the model ``old`` was made differs from ``new`` (both :func:`made_by`), in a
    few words: "another configuration (model.family, …)", "other data", both, or "the
    same configuration and data"."""
    if old is None:
        return "a configuration its card does not record"
    missing = object()
    keys = sorted(k for k in set(old["config"]) | set(new["config"])
                  if old["config"].get(k, missing) != new["config"].get(k, missing))
    parts = []
    if keys:
        shown = ", ".join(keys[:4]) + (f" and {len(keys) - 4} more" if len(keys) > 4 else "")
        parts.append(f"another configuration ({shown})")
    if old["data"] != new["data"]:
        parts.append("other data (another content digest)")
    return " and ".join(parts) if parts else "the same configuration and data"


def objective_of(card: dict[str, Any]) -> float | None:
    """The objective a model's run reached (out of fold), if its card records it."""
    value = ((card.get("evaluation") or {}).get("metrics") or {}).get("objective")
    return None if value is None else float(value)


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
            # a candidate left in the last round for some labels only: its mean is over
            # those, not comparable with a mean over all
            part = mean.get("labels", len(units)) if mean else len(units)
            over = f" (its {part} of {len(units)} labels)" if many and part < len(units) else ""
            cell = (f"{mark}{mean['f1']:.3f} [{mean['ci'][0]:.3f}, {mean['ci'][1]:.3f}]{over}"
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
              *([f"Written to `{card['model_path']}` by framing-train.", ""]
                if card.get("model_path") else []),
              LOADING, ""]
    return "\n".join(lines)
