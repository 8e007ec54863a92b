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

from framing.config import RunContext, config_dir, register, settings
from framing.errors import (
    FramingError,
    Terminated,
    TrackingError,
    describe_os_error,
    terminate_on_sigterm,
)
from framing.storage import fault

log = logging.getLogger("framing.train")


def train(cfg) -> float:
    """Evaluate, fit and save the model a config describes; return the sweep objective.

    Steps: check the config and the tracking store; load and validate the corpus;
    cross-validate with out-of-fold predictions, intervals and baselines; fit the final
    model; score the other corpus (``test=...``); write the model file; log everything
    to MLflow.
    """
    from framing.tracking import Tracker

    s = settings(cfg)  # ranges and missing values, before any data is read
    logging.getLogger("framing").setLevel(s.log_level)
    np.random.seed(s.seed)
    ctx = RunContext.current()
    tracker = Tracker.from_config(s, ctx)  # fails fast on an unreachable server
    terminate_on_sigterm()
    corpus = None
    if s.stream.enabled:
        from framing.stream import StreamTrainer

        model, report = StreamTrainer(s).fit()
    else:
        from framing.trainer import Trainer

        trainer = Trainer(s)
        corpus, test = trainer.load_data()
        model, report = trainer.fit(corpus, test)
    for line in report.summary():
        log.info(line)
    path = None
    if s.output.write_model:
        path = Path(s.output.model_path)
        if ctx.multirun and ctx.output_dir is not None:
            path = ctx.output_dir / path.name  # jobs of a sweep must not overwrite
    try:
        with tracker.run(s, model) as run:
            model.card["mlflow_run_id"] = run.run_id
            _save(model, path)
            run.log(s, model, report, corpus, path)
    except TrackingError as e:
        if path is None:
            raise
        if not path.is_file() or load_card_run(path) != model.card.get("mlflow_run_id"):
            _save(model, path)  # the store failed before the model was written
        raise TrackingError(f"{e} The model is written to {path} all the same; its run "
                            "was not (fully) logged.") from None
    log.info("objective %.4f", report.objective)
    return report.objective


def _save(model, path: Path | None) -> None:
    if path is not None:
        model.save(path)
        fault("train.saved")
        log.info("model written to %s", path)


def load_card_run(path: Path) -> str | None:
    """The MLflow run id a written model's card names."""
    from framing.model import load

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
    from framing.config import describe_config_error

    logging.basicConfig(format="[%(levelname)s] %(name)s: %(message)s", level=logging.INFO)
    register()
    # Composition errors reach us instead of Hydra's multi-line report: one line, exit 2.
    os.environ["HYDRA_FULL_ERROR"] = "1"
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
