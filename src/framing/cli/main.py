"""``framing``: label paragraphs with a model, and run the annotation loop around it.

Segment, predict, explain, evaluate, report; compare two runs or models; agree, adjudicate,
queue, export, import, simulate; open the MLflow UI.

``segment``, ``predict`` and ``explain`` need only the predictor's dependencies.
Errors a user can cause print one line (what, where, what to do) and exit with status 2.
"""

from __future__ import annotations

import argparse
import sys

from framing.cli.annotate import (
    cmd_adjudicate,
    cmd_agree,
    cmd_export,
    cmd_import,
    cmd_queue,
    cmd_simulate,
)
from framing.cli.common import (
    show_warning,
)
from framing.cli.compare import cmd_compare
from framing.cli.curve import _sizes, cmd_learning_curve
from framing.cli.label import cmd_evaluate, cmd_explain, cmd_info, cmd_predict, cmd_segment
from framing.cli.report import cmd_report
from framing.cli.ui import cmd_ui
from framing.core.errors import (
    FramingError,
    Terminated,
    describe_os_error,
    missing_extra,
    terminate_on_sigterm,
)


def _positive(value: str) -> int:
    """argparse type: a whole number of at least 1."""
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"{n} is too small; give 1 or more")
    return n


RECORDS_HELP = ("write to this file (atomically) instead of stdout, in the format its "
                "extension names: .jsonl or .json (JSON lines; also without an extension), "
                ".csv, .tsv or .parquet")


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: what is wrong and where to read more."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="framing", description=__doc__.splitlines()[0])
    from framing.core.version import __version__

    p.add_argument("--version", action="version", version=f"framing {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    s = sub.add_parser("segment", help="cut raw articles into paragraph records (JSON lines)")
    s.add_argument("files", nargs="+", help="article text files (UTF-8)")
    s.add_argument("-o", "--output", help=RECORDS_HELP)
    s.set_defaults(func=cmd_segment)

    s = sub.add_parser("predict", help="label paragraphs or whole articles")
    s.add_argument("model", help="predictor bundle (.joblib)")
    s.add_argument("files", nargs="*", help="JSON lines with a 'text' field, CSV/TSV or "
                   "Parquet with a 'text' column, or plain text with one paragraph a line; "
                   "'-' or nothing reads stdin")
    s.add_argument("--text-column", default="text",
                   help="the field or column holding the text (default: text)")
    s.add_argument("--id-column", default=None,
                   help="the field or column of the ids, kept in the output (default: id, "
                   "when present; else <file>-<line>)")
    s.add_argument("--article", action="store_true",
                   help="each file is one raw article: segment it and add its profile")
    s.add_argument("-o", "--output", help=RECORDS_HELP + "; a task's column holds its label "
                   "(a multi-label task's labels joined by ';'), then a <task>/<label> "
                   "column per score")
    s.add_argument("--batch-size", type=_positive, default=512,
                   help="paragraphs per batch: input is read and output written a batch at a "
                   "time, so files larger than memory stream through")
    s.add_argument("--progress", action="store_true", help="show a progress bar on stderr")
    s.add_argument("--engine", choices=("local", "dask"), default="local",
                   help="dask: label Parquet/JSON-lines shards on a Dask cluster into a "
                   "folder of Parquet shards (-o FOLDER)")
    s.add_argument("--scheduler", help="with --engine dask: a running scheduler's address "
                   "(default: a local cluster)")
    s.add_argument("--workers", type=_positive, default=2,
                   help="with --engine dask: workers of the local cluster (default 2)")
    s.set_defaults(func=cmd_predict)

    s = sub.add_parser("explain", help="show the features behind a prediction")
    s.add_argument("model", help="predictor bundle (.joblib)")
    s.add_argument("text", help="one paragraph")
    s.add_argument("--task", help="only this task")
    s.add_argument("--label", help="explain this label instead of the predicted one")
    s.add_argument("-k", type=_positive, default=10, help="how many features")
    s.set_defaults(func=cmd_explain)

    s = sub.add_parser("evaluate", help="score a saved model on a labelled file")
    s.add_argument("model", help="model file (.joblib)")
    s.add_argument("file", help="labelled JSON lines, CSV/TSV or Parquet with the model's "
                   "task columns")
    s.add_argument("--text-column", help="default: the training data's, else 'text'")
    s.add_argument("--id-column", help="default: 'id' when the file has one")
    s.add_argument("--group-column", help="resample these groups (articles) for the "
                   "intervals; default: the training data's group column, if the file has it")
    s.add_argument("--n-boot", type=int, default=1000, help="bootstrap draws (0: none)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--json", action="store_true", help="print JSON instead of tables")
    s.add_argument("--mlflow", nargs="?", const="project", metavar="URI",
                   help="also log a run (default store: the project's mlflow.db)")
    s.set_defaults(func=cmd_evaluate)

    s = sub.add_parser("report", help="an HTML page of how the model reads an article (one "
                       "page per article and an index for several)")
    s.add_argument("model", help="model file (.joblib)")
    s.add_argument("files", nargs="+", metavar="ARTICLE.txt",
                   help="raw article text files (UTF-8), cut into paragraphs as framing "
                   "segment does")
    s.add_argument("-o", "--output", required=True, metavar="FILE.html|FOLDER",
                   help="the page (one article), or a folder for a page per article and an "
                   "index.html (several articles, or a name ending in /)")
    s.add_argument("-k", type=_positive, default=8,
                   help="features explained per label (default 8)")
    s.add_argument("--mlflow", nargs="?", const="project", metavar="URI",
                   help="also log the pages as artifacts of a run (default store: the "
                   "project's mlflow.db)")
    s.set_defaults(func=cmd_report)

    s = sub.add_parser("compare", help="two runs or models on the same units: each label's "
                       "F1 and each task's macro-F1, the difference B - A with a paired "
                       "bootstrap interval over articles")
    s.add_argument("sides", nargs=2, metavar="RUN_OR_MODEL",
                   help="A, then B: an MLflow run id, a model file (.joblib) with its "
                   "out-of-fold predictions beside it, or a run's output folder")
    s.add_argument("--test", metavar="FILE", help="compare the two models' predictions on "
                   "this labelled file instead (JSON lines, CSV/TSV or Parquet)")
    s.add_argument("--text-column", help="with --test: default the training data's, else "
                   "'text'")
    s.add_argument("--id-column", help="with --test: default 'id' when the file has one")
    s.add_argument("--group-column", help="with --test: the groups (articles) to resample; "
                   "default the training data's group column, if the file has it")
    s.add_argument("--draws", type=_positive, default=1000, help="bootstrap draws "
                   "(default 1000)")
    s.add_argument("--seed", type=int, default=0, help="seed of the draws (default 0)")
    s.add_argument("--zero-division", choices=("0", "1", "nan"), default="0",
                   help="the F1 of a label that neither occurs nor is predicted, in the "
                   "estimate and in every draw (scikit-learn's zero_division; nan leaves "
                   "it out of the macro-F1; default 0)")
    s.add_argument("-o", "--output", metavar="REPORT", help="also write the report to this "
                   "file: Markdown (.md), HTML (.html) or JSON (.json)")
    s.add_argument("--no-log", action="store_true", help="when both sides are runs, do not "
                   "log the report and its figure to the newer run")
    s.add_argument("--uri", help="tracking store URI of the runs (default: the project's "
                   "mlflow.db)")
    s.set_defaults(func=cmd_compare)

    _annotation_parsers(sub)
    s = sub.add_parser("info", help="versions, the MLflow store and the models found")
    s.set_defaults(func=cmd_info)

    s = sub.add_parser("ui", help="start the MLflow UI on the project's store")
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=5000)
    s.add_argument("--uri", help="tracking store URI (default: the project's mlflow.db)")
    s.add_argument("--no-browser", dest="browser", action="store_false",
                   help="do not open the runs table in the desktop's browser")
    s.set_defaults(func=cmd_ui)
    return p


def _task_options(s, model: bool = False, default: str = "the guidelines' theme and tone"
                  ) -> None:
    s.add_argument("--task", action="append", metavar="NAME:KIND:LABELS",
                   help="a task and its labels, e.g. theme:multilabel:security,economy,"
                   f"diplomacy,gaza (repeat for each task; default: {default}"
                   + (", or the model's tasks with --model" if model else "") + ")")
    s.add_argument("--data-config", metavar="YAML",
                   help="take the tasks from a data config (e.g. conf/data/seeds.yaml)")


def _units_option(s) -> None:
    s.add_argument("--units", metavar="FILE",
                   help="the units the annotators labelled (JSON lines or CSV/TSV: id, "
                   "text, article or group): then each annotator's file needs only ids and "
                   "labels")


def _annotation_parsers(sub) -> None:
    s = sub.add_parser("agree", help="inter-annotator agreement of two or more annotators' "
                       "files; write the disagreements to adjudicate")
    s.add_argument("files", nargs="+", metavar="ANNOTATOR.jsonl",
                   help="each annotator's file of the same units (record format, matched "
                   "by id)")
    _units_option(s)
    _task_options(s)
    s.add_argument("-o", "--output", metavar="DISAGREEMENTS.jsonl",
                   help="write the units they disagree on, each with every annotator's "
                   "labels and an empty \"adjudicated\" field")
    s.add_argument("--n-boot", type=int, default=1000,
                   help="bootstrap draws over articles for the 95%% intervals (0: none)")
    s.add_argument("--seed", type=int, default=0)
    out = s.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print JSON instead of a table")
    out.add_argument("--markdown", action="store_true",
                     help="print the datasheet's table (label | agreement | kappa)")
    s.set_defaults(func=cmd_agree)

    s = sub.add_parser("adjudicate", help="merge adjudicated disagreements and the "
                       "annotators' files into a gold file")
    s.add_argument("adjudicated", metavar="DISAGREEMENTS.jsonl",
                   help="the file framing agree -o wrote, its \"adjudicated\" fields filled")
    s.add_argument("files", nargs="+", metavar="ANNOTATOR.jsonl",
                   help="the annotators' files it was written from")
    _units_option(s)
    _task_options(s)
    s.add_argument("-o", "--output", help="the gold file (atomically; default: stdout)")
    s.set_defaults(func=cmd_adjudicate)

    from framing.annotate.selection import STRATEGIES

    s = sub.add_parser("queue", help="choose the unlabelled paragraphs to annotate next")
    s.add_argument("model", help="model file (.joblib)")
    s.add_argument("files", nargs="+", metavar="FILE",
                   help="unlabelled paragraphs: JSON lines (id, text, article) or raw "
                   "articles (.txt, cut into paragraphs as framing segment does)")
    s.add_argument("-n", type=_positive, default=50, help="how many units (default 50)")
    s.add_argument("--strategy", choices=STRATEGIES, default="uncertainty",
                   help="uncertainty: closest to a decision; disagreement: model and "
                   "codebook rules disagree; diverse: across TF-IDF clusters; random")
    s.add_argument("--per-article", type=_positive, metavar="K",
                   help="at most K units of one article")
    s.add_argument("--exclude", action="append", metavar="FILE",
                   help="leave out the ids of this file (e.g. the gold file); repeatable")
    s.add_argument("--seed", type=int, default=0, help="seed of diverse and random")
    s.add_argument("-o", "--output", help="write to this file (atomically) instead of stdout")
    s.set_defaults(func=cmd_queue)

    s = sub.add_parser("export", help="write units as tasks of an annotation tool")
    s.add_argument("format", choices=["labelstudio"], help="the tool: labelstudio")
    s.add_argument("file", help="units to annotate (JSON lines, e.g. framing queue's output)")
    s.add_argument("--model", help="pre-annotate with this model (default: the file's "
                   "model_guess fields, if any); its tasks become the controls")
    _task_options(s, model=True, default="the task set framing queue wrote into the file")
    s.add_argument("-o", "--output", help="the tasks JSON (atomically; default: stdout)")
    s.add_argument("--config", metavar="LABELING.xml",
                   help="also write the labeling config the tasks fit")
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("import", help="read an annotation tool's export into the record "
                       "format")
    s.add_argument("format", choices=["labelstudio"], help="the tool: labelstudio")
    s.add_argument("file", help="Label Studio's JSON export of the project")
    s.add_argument("--model", help="take the tasks and labels from this model")
    _task_options(s, model=True)
    s.add_argument("--annotator", metavar="ID",
                   help="this annotator's annotations (completed_by: id or e-mail), when "
                   "tasks have several")
    s.add_argument("--skip-unannotated", action="store_true",
                   help="leave out tasks nobody annotated (default: an error)")
    s.add_argument("-o", "--output", help="write to this file (atomically) instead of stdout")
    s.set_defaults(func=cmd_import)

    s = sub.add_parser("simulate", help="simulate the annotation loop on a labelled corpus: "
                       "each strategy against random")
    s.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                   help="framing-train overrides (data, features, model; default: the seeds "
                   "and the default model, thresholds fixed)")
    s.add_argument("--strategies", default=",".join(STRATEGIES),
                   help=f"comma-separated (default {','.join(STRATEGIES)})")
    s.add_argument("--start", type=_positive, default=2, help="articles labelled at the start")
    s.add_argument("--batch", type=_positive, default=10, help="units added per batch")
    s.add_argument("--random-repeats", type=_positive, default=3,
                   help="seeds of the random strategy (averaged)")
    s.add_argument("--per-article", type=_positive, metavar="K",
                   help="at most K units of one article per batch")
    s.add_argument("--max-starts", type=_positive,
                   help="at most this many start sets per held-out article (default: all)")
    s.add_argument("--jobs", type=int, default=1, help="parallel processes (-1: all cores)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--plot", metavar="PNG", help="draw the learning curves")
    s.add_argument("-o", "--output", metavar="JSON", help="write the curves as JSON")
    s.add_argument("--mlflow", nargs="?", const="project", metavar="URI",
                   help="also log a run with the table and the figure (default store: the "
                   "project's mlflow.db)")
    s.set_defaults(func=cmd_simulate)
    s = sub.add_parser("learning-curve", help="macro-F1 against annotated articles, and what "
                       "annotating more is expected to gain")
    s.add_argument("overrides", nargs="*", metavar="[DATA] KEY=VALUE",
                   help="the labelled corpus file, then framing-train overrides (data.tasks, "
                   "model, features; default: the seeds and the default model)")
    s.add_argument("--draws", type=_positive, help="random draws of articles a size "
                   "(default eval.curve_draws, 5)")
    s.add_argument("--sizes", metavar="N,N,...", type=_sizes, help="articles per training "
                   "set (default: about five from 1 to a fold's training part)")
    s.add_argument("--more", type=_positive, metavar="N", help="state the expected gain of N "
                   "more articles (default: as many as the corpus has, at least 5)")
    s.add_argument("--plot", metavar="PNG", help="draw the curve")
    s.add_argument("-o", "--output", metavar="JSON", help="write the curve as JSON")
    s.add_argument("--mlflow", nargs="?", const="project", metavar="URI",
                   help="also log a run with the table and the figure (default store: the "
                   "project's mlflow.db)")
    s.set_defaults(func=cmd_learning_curve)


def main(argv: list[str] | None = None) -> int:
    """Console entry point ``framing``."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    # argparse leaves file names given after an option (predict MODEL --article FILE).
    if extra and args.command in ("predict", "segment", "report", "agree", "adjudicate",
                                  "queue", "simulate") and not any(
            e.startswith("-") and e != "-" for e in extra):
        if args.command == "simulate":
            args.overrides = [*args.overrides, *extra]
        else:
            args.files = [*args.files, *extra]
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    terminate_on_sigterm()
    import warnings

    shown, warnings.showwarning = warnings.showwarning, show_warning
    try:
        return _run(args)
    finally:
        warnings.showwarning = shown


def _run(args) -> int:
    """A parsed command, its errors as one line and an exit status."""
    try:
        return int(args.func(args) or 0)
    except (FramingError, ValueError) as e:
        return _fail(str(e), e, 2)
    except OSError as e:
        if isinstance(e, BrokenPipeError):  # the reader (e.g. `head`) stopped early
            sys.stderr.close()
            return 0
        return _fail(describe_os_error(e), e, 2)
    except ModuleNotFoundError as e:
        message = missing_extra(e, f"framing {args.command}")
        if message is None:
            raise
        return _fail(message, e, 2)
    except KeyboardInterrupt as e:
        return _fail("interrupted", e, 130)
    except Terminated as e:
        return _fail("terminated", e, 143)


def _fail(message: str, e: BaseException, code: int) -> int:
    """Print the one-line error (and, after a partial stream on stdout, say so)."""
    print(f"framing: error: {message}", file=sys.stderr)
    n = getattr(e, "incomplete", None)
    if n:
        print(f"framing: the output is incomplete: {n} records were written before the "
              "error", file=sys.stderr)
    return code


def _entry() -> None:
    sys.exit(main())

if __name__ == "__main__":
    sys.exit(main())
