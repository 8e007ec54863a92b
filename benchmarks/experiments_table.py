"""``python benchmarks/experiments_table.py`` (or ``make experiments``): the table of
``experiments/README.md``.

Each named experiment on the seeds is trained as ``framing-train experiment=NAME
test=devset`` would train it (tracking off, nothing written): leave-one-article-out
figures on the seeds, then the final model scored on the dev set of other articles, both
with 95% intervals resampling articles, beside the majority and codebook-rule baselines.
Sweeps, streaming, the benchmark corpora and the subjectivity resource are left out.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from framing.core.metrics import key

SKIP = ("bench_", "sweep_", "model_families", "streaming", "subjectivity")


def seed_experiments(folder: Path) -> list[str]:
    """The experiments that train on the seeds."""
    return sorted(p.stem for p in folder.glob("*.yaml") if not p.stem.startswith(SKIP))


def question(path: Path) -> str:
    """The first sentence of an experiment's ``Question:`` comment."""
    text, on = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# Question:"):
            on = True
            line = line.removeprefix("# Question:")
        elif not line.startswith("#") or line.startswith("# Run:"):
            on = False
        if on:
            text.append(line.lstrip("# ").strip())
    q = " ".join(text)
    return q.split("? ")[0].rstrip("?") + "?" if q else ""


def dev_set() -> Path | None:
    """The dev set's file, where the shared corpora are beside the project."""
    from framing.config.tree import compose

    path = Path(compose(["test=devset"]).test.path)
    return path if path.is_file() else None


def run(name: str, n_boot: int, overrides: list[str], dev: bool = True) -> dict[str, float]:
    """Every figure of one experiment (seeds out of fold, ``test/…`` on the dev set)."""
    from framing.config.tree import compose
    from framing.pipeline.trainer import Trainer

    cfg = compose([f"experiment={name}", "tracking=off", *(["test=devset"] if dev else []),
                   f"eval.n_boot={n_boot}", *overrides])
    trainer = Trainer(cfg)
    corpus, test = trainer.load_data()
    _, report = trainer.fit(corpus, test)
    return report.metrics


def _ci(m: dict[str, float], task: str, prefix: str = "") -> str:
    v = m.get(key(task, "macro_f1", prefix=prefix))
    lo = m.get(key(task, "macro_f1", prefix=prefix, ci="ci_low"))
    hi = m.get(key(task, "macro_f1", prefix=prefix, ci="ci_high"))
    if v is None:
        return "—"
    return f"{v:.3f} [{lo:.3f}, {hi:.3f}]" if lo is not None else f"{v:.3f}"


def _f(m: dict[str, float], k: str, absent: float | None = None) -> str:
    """A figure to three places; "—" where the run has none (no dev set)."""
    if not any(x.startswith("test/") for x in m):
        return "—"
    v = m.get(k, absent)
    return "—" if v is None else f"{v:.3f}"


def table(rows: list[tuple[str, str, dict[str, float]]]) -> list[str]:
    """Markdown: one row per experiment, then the baselines of the first."""
    labels = ("security", "economy", "diplomacy", "gaza")
    out = ["| experiment | question | seeds theme | seeds tone | dev theme | dev tone | "
           "dev promotional F1 | dev theme F1: security / economy / diplomacy / gaza |",
           "| --- " * 8 + "|"]
    for name, q, m in rows:
        per = " / ".join(_f(m, key("theme", "f1", lab, prefix="test")) for lab in labels)
        out.append(f"| `{name}` | {q} | {_ci(m, 'theme')} | {_ci(m, 'tone')} | "
                   f"{_ci(m, 'theme', 'test/')} | {_ci(m, 'tone', 'test/')} | "
                   f"{_f(m, key('tone', 'f1', 'promotional', prefix='test'))} | {per} |")
    if rows:
        m = rows[0][2]
        for b, what in (("majority", "training prior"), ("codebook", "codebook rules alone")):
            p, t = f"baseline/{b}/", f"test/baseline/{b}/"
            per = " / ".join(_f(m, key("theme", "f1", lab, prefix=t), 0) for lab in labels)
            promo = _f(m, key("tone", "f1", "promotional", prefix=t), 0)
            out.append(f"| *{b} baseline* | {what} | {_ci(m, 'theme', p)} | "
                       f"{_ci(m, 'tone', p)} | {_ci(m, 'theme', t)} | {_ci(m, 'tone', t)} | "
                       f"{promo} | {per} |")
    return out


def main(argv=None) -> int:
    from framing.config.tree import project_root
    from framing.predict.storage import atomic_write_text

    p = argparse.ArgumentParser(prog="python benchmarks/experiments_table.py",
                                description=__doc__.splitlines()[0])
    folder = project_root() / "experiments"
    p.add_argument("names", nargs="*", help="experiments (default: every seed experiment)")
    p.add_argument("--n-boot", type=int, default=1000)
    p.add_argument("--output", help="also write the table (Markdown) to this file")
    p.add_argument("overrides", nargs=argparse.REMAINDER, help="after --: config overrides")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("framing").setLevel(logging.ERROR)
    names = args.names or seed_experiments(folder)
    overrides = [o for o in args.overrides if o != "--"]
    rows = []
    t0 = time.perf_counter()
    dev = dev_set() is not None
    if not dev:
        print("no dev set (the shared corpora are not beside the project, or FRAMING_SHARED "
              "does not point to them): the dev columns stay empty", file=sys.stderr)
    for name in names:
        m = run(name, args.n_boot, overrides, dev)
        rows.append((name, question(folder / f"{name}.yaml"), m))
        print(table(rows[-1:])[2], flush=True)
    lines = table(rows)
    print("\n" + "\n".join(lines))
    print(f"\n{len(rows)} experiments in {time.perf_counter() - t0:.0f} s "
          f"({time.strftime('%Y-%m-%d', time.gmtime())})")
    if args.output:
        atomic_write_text(args.output, "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
