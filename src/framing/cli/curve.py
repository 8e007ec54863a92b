"""``framing learning-curve``: macro-F1 against the number of annotated articles."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from framing.cli.common import (
    check_output,
    log_curve_run,
    write_text,
)
from framing.core.errors import (
    FramingDataError,
)


def _data_overrides(items: list[str]) -> list[str]:
    """A first word without ``=`` is the corpus file: ``data.path`` (with ``data=jsonl``,
    ``csv`` or ``parquet`` by its ending when tasks are given and no data group is)."""
    if not items or "=" in items[0]:
        return list(items)
    path, rest = items[0], list(items[1:])
    if not Path(path).exists():
        raise FramingDataError(f"{path}: no such file. Give the labelled corpus (JSON lines, "
                               "CSV or Parquet) or overrides such as data=jsonl data.path=FILE.")
    group = {".jsonl": "jsonl", ".json": "jsonl", ".csv": "csv", ".parquet": "parquet"}.get(
        Path(path).suffix.lower())
    head = []
    if group and not any(o.startswith("data=") for o in rest) and any(
            o.startswith("data.tasks=") for o in rest):
        head.append(f"data={group}")
    return [*head, f"data.path={Path(path).resolve()}", *rest]


def cmd_learning_curve(args) -> int:
    from framing.config.tree import compose, settings
    from framing.data.corpus import load_corpus
    from framing.evaluate.curve import learning_curve, plot
    from framing.learn.fitting import Fitter

    for out in (args.plot, args.output):
        check_output(out, [])
    overrides = _data_overrides(args.overrides)
    cfg = settings(compose(["tracking=off", "eval.n_boot=0", *overrides]))
    corpus = load_corpus(cfg.data)
    if corpus.split is not None:
        corpus = corpus.subset([i for i, v in enumerate(corpus.split) if v == "train"])
    sizes = args.sizes or cfg.eval.curve_sizes
    curve = learning_curve(corpus, Fitter.from_config(cfg), sizes, args.draws or
                           cfg.eval.curve_draws, cfg.eval.n_splits, cfg.seed, more=args.more)
    print(f"{corpus.name}: {len(corpus)} records, {curve.n_groups} {curve.unit}; macro-F1 on "
          f"held-out {curve.unit} (mean over folds and {curve.draws} draws, 95% intervals)")
    print("\n".join(curve.table()))
    print("\n".join(curve.gain_lines()))
    if args.output:
        write_text(args.output, json.dumps(curve.to_dict(), indent=2) + "\n")
    if args.plot:
        plot(curve, args.plot)
        print(f"figure -> {args.plot}", file=sys.stderr)
    if args.mlflow:
        from framing.track.runs import log_curve

        log_curve_run(args, curve, plot, log_curve, overrides)
    return 0


def _sizes(value: str) -> list[int]:
    try:
        sizes = [int(x) for x in value.split(",") if x.strip()]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 0:
        raise argparse.ArgumentTypeError(f"{value!r}: give whole numbers of articles "
                                         "separated by commas, e.g. 1,2,4,8")
    return sizes
