"""``framing compare``: two runs or models on the same units — per label and task, each
one's F1, the difference and its paired bootstrap interval over articles."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from framing.cli.common import check_output, load_model, write_text
from framing.core.errors import FramingDataError

REPORTS = (".md", ".html", ".json")


def cmd_compare(args) -> int:
    from framing.evaluate.compare import compare
    from framing.track.compare import log_comparison, newer, project_uri, resolve

    suffix = Path(args.output).suffix.lower() if args.output else None
    if args.output and suffix not in REPORTS:
        raise FramingDataError(f"-o {args.output}: the report's format is read from its "
                               "name; give a .md, .html or .json file.")
    check_output(args.output, [args.test] if args.test else [])
    uri = args.uri or project_uri()
    with tempfile.TemporaryDirectory(prefix="framing-compare-") as tmp:
        sides = [resolve(arg, uri, Path(tmp), need_model=bool(args.test))
                 for arg in args.sides]
        a, b = sides
        if _same(a, b):
            raise FramingDataError(f"A and B are both {a.name}; give two different runs or "
                                   "models.")
        if args.test:
            records = [predictions_on(s.model_path, args) for s in sides]
            unit = f"predictions on {args.test}"
        else:
            records = [s.records for s in sides]
            unit = "out-of-fold predictions"
        comparison = compare(records[0], records[1], a.name, b.name, args.draws, args.seed,
                             args.zero_division, unit)
    print("\n".join(comparison.table()), flush=True)
    if args.output:
        write_text(args.output, comparison.report(suffix))
        print(f"report written to {args.output}", file=sys.stderr)
    if a.kind == "run" and b.kind == "run" and not args.no_log:
        target, other = newer(a, b)
        folder = log_comparison(uri, target, other, comparison, args.test)
        print(f"logged to the newer run {target.run_id}: {folder}/comparison.md, .html, "
              ".json, .png", file=sys.stderr)
    return 0


def _same(a, b) -> bool:
    if a.run_id and a.kind == b.kind == "run":
        return a.run_id == b.run_id
    return Path(a.arg).resolve() == Path(b.arg).resolve()


def predictions_on(model_path: Path, args) -> list[dict]:
    """A model's predictions on the labelled ``--test`` file, as prediction records
    (grouped by the file's group column)."""
    from framing.cli.label import labelled_corpus
    from framing.evaluate.evaluation import evaluate

    model = load_model(str(model_path))
    corpus = labelled_corpus(model, args.test, args.text_column, args.id_column,
                             args.group_column)
    return evaluate(model, corpus, n_boot=0, baselines=()).predictions.records(corpus)
