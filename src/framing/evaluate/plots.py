"""Evaluation plots for a run: confusion matrices, per-label F1 with intervals beside the
baselines, and reliability curves (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

# A multi-label task of many labels: the confusion matrices and reliability curves show
# its most frequent labels (a figure of 90 matrices is neither readable nor quick to draw);
# the per-label F1 plot shows every label.
MAX_MATRICES = 24
MAX_CURVES = 10


def _most_frequent(y, k: int) -> list[int]:
    """The columns of the ``k`` most frequent labels of a 0/1 matrix, in label order."""
    counts = np.asarray(y).sum(0)
    keep = np.argsort(-counts, kind="stable")[:k]
    return sorted(int(j) for j in keep)


def write_plots(out: Path, evaluation) -> list[Path]:
    """Write the PNG plots of one evaluation into ``out``; return their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    written = []
    pred = evaluation.predictions
    ev = pred.evaluated
    m = evaluation.metrics
    for t in pred.tasks:
        y, p = pred.truth[t.name][ev], pred.preds[t.name][ev]
        s = pred.scores[t.name][ev]
        # confusion matrices
        if t.kind == "multiclass":
            k = len(t.labels)
            cm = np.zeros((k, k), dtype=int)
            for a, b in zip(y, p, strict=True):
                cm[t.labels.index(a), t.labels.index(b)] += 1
            mats, titles = [cm], [t.name]
            ticks = [t.labels]
        else:
            mats, titles, ticks = [], [], []
            shown = _most_frequent(y, MAX_MATRICES)
            for j in shown:
                cm = np.zeros((2, 2), dtype=int)
                np.add.at(cm, (np.asarray(y[:, j], int), np.asarray(p[:, j], int)), 1)
                mats.append(cm)
                titles.append(t.labels[j])
                ticks.append(["no", "yes"])
        cols = min(len(mats), 8)
        rows = -(-len(mats) // cols)
        fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.2 * rows), squeeze=False)
        for ax in axes.flat[len(mats):]:
            ax.set_visible(False)
        for ax, cm, title, tk in zip(axes.flat, mats, titles, ticks, strict=False):
            ax.imshow(cm, cmap="Blues")
            for (i, j), v in np.ndenumerate(cm):
                ax.text(j, i, str(v), ha="center", va="center",
                        color="white" if v > cm.max() / 2 else "black")
            ax.set_xticks(range(len(tk)), tk, rotation=30)
            ax.set_yticks(range(len(tk)), tk)
            ax.set_xlabel("predicted")
            ax.set_ylabel("true")
            ax.set_title(title)
        part = (f"; the {len(mats)} most frequent of {len(t.labels)} labels"
                if t.kind == "multilabel" and len(mats) < len(t.labels) else "")
        fig.suptitle(f"{t.name}: confusion ({evaluation.corpus}, {evaluation.strategy}{part})")
        written.append(_save(plt, fig, out / f"confusion_{t.name}.png"))
        # per-label F1 with intervals vs baselines
        fig, ax = plt.subplots(figsize=(min(1.4 * len(t.labels) + 2, 30), 3.4))
        x = np.arange(len(t.labels))
        f1 = np.array([m.get(f"{t.name}/{lab}/f1", np.nan) for lab in t.labels])
        lo = np.array([m.get(f"{t.name}/{lab}/f1/ci_low", np.nan) for lab in t.labels])
        hi = np.array([m.get(f"{t.name}/{lab}/f1/ci_high", np.nan) for lab in t.labels])
        ax.bar(x - 0.25, f1, 0.25, label="model",
               yerr=np.vstack([f1 - lo, hi - f1]) if np.isfinite(lo).all() else None,
               capsize=3)
        for off, b in ((0.0, "majority"), (0.25, "codebook")):
            v = [m.get(f"baseline/{b}/{t.name}/{lab}/f1", np.nan) for lab in t.labels]
            if np.isfinite(v).any():
                ax.bar(x + off, v, 0.25, label=b)
        ax.set_xticks(x, t.labels, rotation=90 if len(t.labels) > 20 else 0)
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("F1 (95% interval)")
        ax.set_title(f"{t.name}: per-label F1")
        ax.legend(fontsize=8)
        written.append(_save(plt, fig, out / f"f1_{t.name}.png"))
        # reliability
        yo = y if t.kind == "multilabel" else (np.asarray(y, dtype=object)[:, None]
                                               == np.asarray(t.labels)[None, :]).astype(int)
        fig, ax = plt.subplots(figsize=(4, 4))
        ax.plot([0, 1], [0, 1], "k--", lw=1)
        bins = np.linspace(0, 1, 6)
        curves = (_most_frequent(yo, MAX_CURVES) if len(t.labels) > MAX_CURVES
                  else range(len(t.labels)))
        for j in curves:
            lab = t.labels[j]
            idx = np.clip(np.digitize(s[:, j], bins) - 1, 0, len(bins) - 2)
            xs, ys = [], []
            for b in range(len(bins) - 1):
                sel = idx == b
                if sel.any():
                    xs.append(s[sel, j].mean())
                    ys.append(yo[sel, j].mean())
            ax.plot(xs, ys, marker="o", label=lab)
        ax.set_xlabel("mean predicted score")
        ax.set_ylabel("observed frequency")
        ax.set_title(f"{t.name}: reliability" + (
            f" ({len(curves)} most frequent of {len(t.labels)} labels)"
            if len(curves) < len(t.labels) else ""), fontsize=9 if len(curves) < len(
                t.labels) else None)
        ax.legend(fontsize=8)
        written.append(_save(plt, fig, out / f"reliability_{t.name}.png"))
    return written


def _save(plt, fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def save_png(fig, path: str | Path) -> Path:
    """Write a matplotlib figure as a PNG, atomically, and close it."""
    import matplotlib.pyplot as plt

    from framing.predict.storage import atomic_write

    def write(tmp: Path) -> None:
        fig.savefig(tmp, dpi=100, format="png")

    try:
        return atomic_write(path, write, step="plot")
    finally:
        plt.close(fig)
