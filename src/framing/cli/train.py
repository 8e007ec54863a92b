"""``framing-train``: compose the config with Hydra, train, write the model, log the run.

The Hydra entry point :func:`main` is a thin shell around :func:`train`, which tests and
sweeps call with a composed config and which returns the number a sweep optimises.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import numpy as np

from framing.config.tree import RunContext, compose, config_dir, register, settings
from framing.core.errors import (
    FramingError,
    Terminated,
    TrackingError,
    describe_os_error,
    require_extra,
    terminate_on_sigterm,
)
from framing.predict.storage import fault

log = logging.getLogger("framing.train")


def train(cfg) -> float:
    """Evaluate, fit and save the model a config describes; return the sweep objective.

    Steps: check the config and the tracking store; load and validate the corpus;
    cross-validate with out-of-fold predictions, intervals and baselines; fit the final
    model; score the other corpus (``test=...``); write the model file; log everything
    to MLflow.
    """
    from framing.track.runs import Tracker

    s = settings(cfg)  # ranges and missing values, before any data is read
    logging.getLogger("framing").setLevel(s.log_level)
    np.random.seed(s.seed)
    ctx = RunContext.current()
    path = model_path(s, ctx)
    if path is not None:
        check_overwrite(path, s)  # before any work: a model of another corpus stays
    tracker = Tracker.from_config(s, ctx)  # fails fast on an unreachable server
    terminate_on_sigterm()
    corpus = None
    if s.stream.enabled:
        from framing.scale.stream import StreamTrainer

        model, report = StreamTrainer(s).fit()
    else:
        from framing.pipeline.trainer import Trainer

        trainer = Trainer(s)
        corpus, test = trainer.load_data()
        model, report = trainer.fit(corpus, test)
    for line in report.summary():
        log.info(line)
    if report.choice:
        from framing.predict.card import choice_table

        for line in choice_table(report.choice, per_label=False):
            if line:
                log.info(line)
    model_id = None
    predictions: list[Path] = []

    def save() -> None:
        _save(model, path)
        predictions[:] = write_predictions(report, corpus, path, ctx)

    try:
        with tracker.run(s, model) as run:
            model.card["mlflow_run_id"] = run.run_id
            save()
            model_id = run.log(s, model, report, corpus, path)
    except TrackingError as e:
        if path is None:
            raise
        if not path.is_file() or load_card_run(path) != model.card.get("mlflow_run_id"):
            save()  # the store failed before the model was written
        raise TrackingError(f"{e} The model is written to {path} all the same; its run "
                            "was not (fully) logged.") from None
    if report.issues is not None and corpus is not None:
        from framing.evaluate.issues import summary

        log.info(summary(report.issues, corpus.tasks))
        review = write_issues(report.issues, path)
        if review is not None:
            log.info("  review them, most suspect first: %s (and label_issues.jsonl in the "
                     "MLflow run)", review)
    if predictions:
        log.info("out-of-fold predictions: %s (framing compare reads them)", predictions[0])
    log.info("objective %.4f", report.objective)
    if ctx.multirun and ctx.sweep_dir is not None:
        record_job(ctx, report.objective, model.card.get("mlflow_run_id"), path,
                   predictions[0] if predictions else None)
    else:
        for line in next_steps(path, model.card.get("mlflow_run_id"), model_id, tracker):
            log.info(line)
    return report.objective


def model_name(cfg, ctx: RunContext) -> str:
    """What made the model: the data's name, with the experiment's if one is chosen; the
    seeds' default is ``framing``."""
    data = cfg.data.corpus_name
    experiment = ctx.experiment if ctx.experiment not in (None, "default") else None
    if data == "seeds":
        return experiment or "framing"
    return f"{data}-{experiment}" if experiment else data


def model_path(cfg, ctx: RunContext) -> Path | None:
    """Where this run writes its model (None: it writes none)."""
    if not cfg.output.write_model:
        return None
    path = Path(cfg.output.model_path or Path(cfg.paths.root) / "models" /
                f"{model_name(cfg, ctx)}.joblib")
    if ctx.multirun and ctx.output_dir is not None:
        path = ctx.output_dir / path.name  # jobs of a sweep must not overwrite each other
    return path


def check_overwrite(path: Path, cfg) -> None:
    """Refuse to replace a model of another corpus or task set (``output.overwrite``)."""
    if cfg.output.overwrite or not path.is_file():
        return
    from framing.predict.model import load

    try:
        card = load(path, verify=False, on_version_mismatch="ignore").card
    except Exception:  # noqa: BLE001 - not a model we can read: the user decides
        raise FramingError(f"{path} exists and is not a framing model this version reads; "
                           "choose another output.model_path, or output.overwrite=true to "
                           "replace it.") from None
    old_data = (card.get("data") or {}).get("name")
    old_tasks = {t: list(c) for t, c in ((card.get("data") or {}).get("label_counts") or {}
                                         ).items()}
    new_tasks = {t.name: t.labels for t in cfg.data.tasks}
    same_tasks = set(old_tasks) == set(new_tasks) and all(
        new_tasks[t] is None or list(new_tasks[t]) == old_tasks[t] for t in new_tasks)
    if old_data == cfg.data.corpus_name and same_tasks:
        return
    raise FramingError(
        f"{path} holds a model of corpus {old_data!r} (tasks {', '.join(old_tasks)}); this "
        f"run trains on {cfg.data.corpus_name!r} (tasks {', '.join(new_tasks)}). Give it its "
        "own output.model_path=..., or output.overwrite=true to replace it.")


def next_steps(path: Path | None, run_id: str | None, model_id: str | None, tracker
               ) -> list[str]:
    """What the run made and the commands that use it."""
    lines = []
    if path is not None:
        lines += [f"model: {path}", f"  label a file:  framing predict {path} FILE.jsonl",
                  f"  score a file:  framing evaluate {path} LABELLED.jsonl"]
    if run_id:
        lines.append(f"MLflow run: {run_id} (experiment {tracker.experiment_name!r}; "
                     "framing ui shows it)")
    if model_id:
        lines.append(f"MLflow model: models:/{model_id}")
        lines.append(f"  serve it:  MLFLOW_TRACKING_URI={tracker.uri} mlflow models serve "
                     f"-m models:/{model_id} --env-manager local -p 5001")
    return lines


def record_job(ctx: RunContext, objective: float, run_id: str | None, path: Path | None,
               predictions: Path | None = None) -> None:
    """Append this sweep job's result to the sweep's results file (read at its end)."""
    import json

    from framing.predict.storage import locked

    results = ctx.sweep_dir / "results.jsonl"
    with locked(results), open(results, "a", encoding="utf-8") as f:
        f.write(json.dumps({"job": ctx.job_num, "overrides": ctx.overrides,
                            "objective": objective, "run_id": run_id,
                            "model": str(path) if path else None,
                            "predictions": str(predictions) if predictions else None}) + "\n")


def write_predictions(report, corpus, model_path: Path | None, ctx: RunContext
                      ) -> list[Path]:
    """Write the out-of-fold predictions (id, group, text, gold, decisions, scores per
    unit; what ``framing compare`` reads) beside the model and into the run's output
    folder, atomically; the paths written (the model's first)."""
    if corpus is None:  # the streaming path keeps no corpus
        return []
    import json

    from framing.evaluate.compare import PREDICTIONS, predictions_path
    from framing.predict.storage import atomic_write_text

    text = "".join(json.dumps(r, ensure_ascii=False) + "\n"
                   for r in report.evaluation.predictions.records(corpus))
    out = [predictions_path(model_path)] if model_path is not None else []
    folder = ctx.output_dir  # a sweep job's model is in its folder already
    if folder is not None and (model_path is None or
                               model_path.parent.resolve() != folder.resolve()):
        out.append(folder / PREDICTIONS)
    for p in out:
        atomic_write_text(p, text)
    return out


def issues_path(model_path: Path) -> Path:
    """The review file of a model's label issues: ``<stem>.issues.jsonl`` beside it."""
    return model_path.with_name(f"{model_path.stem}.issues.jsonl")


def write_issues(issues: list, model_path: Path | None) -> Path | None:
    """Write the label issues beside the model (atomically); its path, or None."""
    if model_path is None:
        return None
    import json

    from framing.predict.storage import atomic_write_text

    path = issues_path(model_path)
    atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in issues))
    return path


def _save(model, path: Path | None) -> None:
    if path is not None:
        model.save(path)
        fault("train.saved")
        log.info("model written to %s", path)


def load_card_run(path: Path) -> str | None:
    """The MLflow run id a written model's card names."""
    from framing.predict.model import load

    try:
        return load(path, verify=False).card.get("mlflow_run_id")
    except Exception:  # noqa: BLE001 - an unreadable file: write it again
        return "(unreadable)"


def _hydra_main():
    import hydra

    @hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="train")
    def _main(cfg) -> float:
        try:
            return train(cfg)
        except FramingError as e:  # one clear message, no traceback, non-zero exit
            print(f"framing-train: error: {e}", file=sys.stderr)
            sys.exit(2)
        except OSError as e:
            print(f"framing-train: error: {describe_os_error(e)}", file=sys.stderr)
            sys.exit(2)

    return _main


def main() -> None:
    """Console entry point ``framing-train`` (the Hydra command line)."""
    from framing.config.tree import describe_config_error

    logging.basicConfig(format="[%(levelname)s] %(name)s: %(message)s", level=logging.INFO)
    try:
        require_extra("train", "framing-train")
    except FramingError as e:
        _exit(str(e), 2)
    register()
    # Composition errors reach us instead of Hydra's multi-line report: one line, exit 2.
    os.environ["HYDRA_FULL_ERROR"] = "1"
    args = sys.argv[1:]
    if not any(a.startswith("-") for a in args):
        # A plain run: check the config before Hydra creates the run's folder, so that a
        # mistake leaves nothing behind. (Sweeps and flags go straight to Hydra.)
        try:
            settings(compose(args))
        except FramingError as e:
            _exit(str(e), 2)
    try:
        _hydra_main()()
    except KeyboardInterrupt:
        _exit("interrupted", 130)
    except Terminated:
        _exit("terminated", 143)
    except FramingError as e:
        _exit(str(e), 2)
    except Exception as e:
        from hydra.errors import HydraException
        from omegaconf.errors import OmegaConfBaseException

        if isinstance(e, HydraException | OmegaConfBaseException):  # before OSError:
            _exit(describe_config_error(e), 2)  # a missing config is both
        if isinstance(e, OSError):
            _exit(describe_os_error(e), 2)
        raise


def _exit(message: str, code: int) -> None:
    print(f"framing-train: error: {message}", file=sys.stderr)
    sys.exit(code)


if __name__ == "__main__":
    main()
