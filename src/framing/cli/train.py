"""``framing-train``: compose the config with Hydra, train, write the model, log the run.

The Hydra entry point :func:`main` is a thin shell around :func:`train`, which tests and
sweeps call with a composed config and which returns the number a sweep optimises.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import signal
import sys
import time
from dataclasses import replace
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
    model; choose its path (:mod:`framing.cli.output`); write it to a staging folder and
    log everything to MLflow; once the run has ended well, publish the model at its path.
    """
    from framing.cli.output import check_overwrite, home_path, place, standing
    from framing.core.timing import Phases, process_seconds
    from framing.predict.storage import discard_staging, signals_held, staging
    from framing.track.runs import Tracker

    ctx = RunContext.current()
    phases = Phases(log)
    if not ctx.multirun:  # the interpreter, the imports and the config's composition
        phases.add("start-up", process_seconds())
    s = settings(cfg)  # ranges and missing values, before any data is read
    logging.getLogger("framing").setLevel(s.log_level)
    np.random.seed(s.seed)
    home = home_path(s, ctx)
    standing.start(home)
    explicit = home is not None and bool(s.output.model_path) and not ctx.multirun
    with phases("tracking store"):
        tracker = Tracker.from_config(s, ctx)  # fails fast on an unreachable server
    terminate_on_sigterm()
    corpus = None
    if s.stream.enabled:
        with phases("start-up"):
            from framing.scale.stream import StreamTrainer

        if explicit:  # before the pass over the file, the corpus named by the config
            check_overwrite(home, s, s.data.corpus_name, s.data.tasks)
        with phases("stream"):
            model, report = StreamTrainer(s).fit()
    else:
        with phases("start-up"):  # the learning side's imports (scikit-learn, scipy)
            from framing.pipeline.trainer import Trainer
        with phases("load"):
            trainer = Trainer(s)
            corpus, test = trainer.load_data()  # a mistake in the data is reported first
        if explicit:  # then a model of another corpus at the user's path
            check_overwrite(home, s, corpus.name, corpus.tasks)
        t = time.perf_counter()
        model, report = trainer.fit(corpus, test)
        rest = time.perf_counter() - t
        for name, key in (("evaluate", "eval"), ("learning curve", "curve"),
                          ("issues", "issues"), ("fit", "fit"), ("test", "test")):
            seconds = report.metrics.get(f"time/{key}_seconds")
            if seconds is not None:
                phases.add(name, seconds)
                rest -= seconds
        if rest > 0.005:
            phases.add("metrics", rest)
    for line in report.summary():
        log.info(line)
    if report.choice:
        from framing.predict.card import choice_table

        for line in choice_table(report.choice, per_label=False):
            if line:
                log.info(line)
    placement = path = None
    if home is not None:
        with phases("model path"):  # its name, and the model it would replace
            placement = place(s, ctx, model.card, home)
        placement.objective = report.objective
        standing.placement = placement
        path = placement.path
        model.card["model_path"] = str(path)
        if isinstance(model.card.get("config"), dict):
            model.card["config"].setdefault("output", {})["model_path"] = str(path)
    logged = replace(s, output=replace(s.output, model_path=str(path))) if path else s
    model_id = staged = None
    predictions: list[Path] = []
    try:
        with contextlib.ExitStack() as held:
            t = time.perf_counter()
            with tracker.run(s, model) as run:
                phases.add("log", time.perf_counter() - t)  # the run's start
                model.card["mlflow_run_id"] = run.run_id
                if path is not None:
                    with phases("save"):
                        staged = staging(path)
                        model.save(staged)
                    fault("train.saved", job=ctx.job_num)
                with phases("save"):
                    predictions = write_predictions(report, corpus, path, ctx, staged)
                with phases("log"):
                    model_id = run.log(logged, model, report, corpus, staged, path)
                    run.log_metrics({k: v for k, v in phases.metrics().items()
                                     if k not in report.metrics})
                # from the run's end to the publication, Ctrl-C and SIGTERM wait
                held.enter_context(signals_held())
                t = time.perf_counter()
            phases.add("log", time.perf_counter() - t)  # the run's end
            with phases("publish"):
                _publish(staged, placement)
    except TrackingError as e:
        ended = tracker.end_line()
        if path is None:
            raise TrackingError(f"{e} {_sentence(ended)}.") from None
        if not placement.published:  # the store failed: the model is kept all the same
            if staged is None or not staged.is_file():
                staged = staging(path)
                model.save(staged)
            if not predictions:
                predictions = write_predictions(report, corpus, path, ctx, staged)
            with signals_held():
                _publish(staged, placement)
        raise TrackingError(f"{e} The model is written to {path} all the same; "
                            f"{ended}.") from None
    except OSError as e:  # a file of the run's: named as the user knows it, not as staged
        e = _as_published(e, staged)
        ended = f"; {tracker.end_line()}" if tracker.enabled else ""
        raise FramingError(f"{describe_os_error(e)} {_sentence(standing.describe())}"
                           f"{ended}.") from None
    finally:
        discard_staging(staged)
    if report.issues is not None and corpus is not None:
        from framing.evaluate.issues import summary

        log.info(summary(report.issues, corpus.tasks))
        review = write_issues(report.issues, path)
        if review is not None:
            log.info("  review them, most suspect first: %s%s", review,
                     " (and label_issues.jsonl in the MLflow run)" if tracker.enabled else "")
    if predictions:
        log.info("out-of-fold predictions: %s (framing compare reads them)", predictions[0])
    log.info("objective %.4f", report.objective)
    log.info(phases.line(None if ctx.multirun else process_seconds()))
    if ctx.multirun and ctx.sweep_dir is not None:
        record_job(ctx, report.objective, model.card.get("mlflow_run_id"), path,
                   predictions[0] if predictions else None)
    else:
        for line in next_steps(path, model.card.get("mlflow_run_id"), model_id, tracker):
            log.info(line)
    return report.objective


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _as_published(e: OSError, staged: Path | None) -> OSError:
    """``e``, naming the file the user will find (``m.joblib``) rather than its staged copy
    (``.m.joblib.123.staged/m.joblib``)."""
    if staged is None or not e.filename:
        return e
    name = Path(os.fsdecode(e.filename))
    if name.parent != staged.parent:
        return e
    return OSError(e.errno, e.strerror, str(staged.parent.parent / name.name))


def _publish(staged: Path | None, placement) -> None:
    """Publish the staged model at its path (with its digest and card), and say what it
    replaced or kept."""
    if staged is None or placement is None:
        return
    from framing.evaluate.compare import predictions_path
    from framing.predict.model import card_path
    from framing.predict.storage import publish_staged

    publish_staged(staged, placement.path, (
        (card_path(staged), card_path(placement.path)),
        (predictions_path(staged), predictions_path(placement.path))))
    placement.published = True
    fault("train.published", job=RunContext.current().job_num)
    log.info(placement.line())


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
    _record(ctx, {"status": "finished", "objective": objective, "run_id": run_id,
                  "model": str(path) if path else None,
                  "predictions": str(predictions) if predictions else None})


def _record(ctx: RunContext, fields: dict) -> None:
    """Append a record of this sweep job to the sweep's ``results.jsonl``: it started,
    finished or died (the last record of a job says where it stands)."""
    _append(ctx.sweep_dir, [{"job": ctx.job_num, "overrides": ctx.overrides, **fields}])


def _append(sweep_dir: Path, records: list[dict]) -> None:
    """Append records of jobs to the sweep's ``results.jsonl``, under its lock."""
    import json

    from framing.predict.storage import locked

    results = sweep_dir / "results.jsonl"
    with locked(results), open(results, "a", encoding="utf-8") as f:
        f.write("".join(json.dumps(r) + "\n" for r in records))


def write_predictions(report, corpus, model_path: Path | None, ctx: RunContext,
                      staged: Path | None = None) -> list[Path]:
    """Write the out-of-fold predictions (id, group, text, gold, decisions, scores per
    unit; what ``framing compare`` reads) beside the model and into the run's output
    folder, atomically; the paths they have once the model is published (the model's
    first). With ``staged``, the model's copy is written beside the staged model and
    published with it."""
    if corpus is None:  # the streaming path keeps no corpus
        return []
    import json

    from framing.evaluate.compare import PREDICTIONS, predictions_path
    from framing.predict.storage import atomic_write_text

    text = "".join(json.dumps(r, ensure_ascii=False) + "\n"
                   for r in report.evaluation.predictions.records(corpus))
    out, written = [], []
    if model_path is not None:
        out.append(predictions_path(model_path))
        written.append(predictions_path(staged or model_path))
    folder = ctx.output_dir  # a sweep job's model is in its folder already
    if folder is not None and (model_path is None or
                               model_path.parent.resolve() != folder.resolve()):
        out.append(folder / PREDICTIONS)
        written.append(folder / PREDICTIONS)
    for p in written:
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


def _hydra_main():
    import hydra

    @hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="train")
    def _main(cfg) -> float:
        ctx = RunContext.current()
        if ctx.multirun and ctx.sweep_dir is not None:
            _record(ctx, {"status": "started", "pid": os.getpid()})
            if _in_pool_worker():
                return _job_apart(cfg, ctx)
        return _run(cfg, ctx)

    return _main


def _run(cfg, ctx: RunContext) -> float:
    from framing.cli.output import standing

    try:
        return train(cfg)
    except FramingError as e:  # one clear message, no traceback, non-zero exit
        message = str(e)
    except OSError as e:
        message = f"{describe_os_error(e)} {_sentence(standing.describe())}."
    if ctx.multirun and ctx.sweep_dir is not None:  # for the sweep's summary
        _record(ctx, {"status": "failed", "error": message})
    _exit(message, 2)


def _in_pool_worker() -> bool:
    """Whether this process is a worker of a process pool (the joblib launcher's)."""
    import multiprocessing

    return hasattr(os, "fork") and multiprocessing.parent_process() is not None


def _job_apart(cfg, ctx: RunContext) -> float:
    """Run a sweep job of a pool's worker in a process of its own (a fork of the worker),
    so that its death (SIGKILL, the out-of-memory killer) fails this job alone: the
    worker, and with it the pool and the other jobs, lives on. A job that died has no
    objective (NaN); its run is marked FAILED and its death recorded for the sweep's
    end, which names it. Otherwise the job ends as it would in the worker (its result,
    its exit status, its signal)."""
    import multiprocessing

    fork = multiprocessing.get_context("fork")
    read, write = fork.Pipe(duplex=False)
    job = fork.Process(target=_job, args=(cfg, ctx, write, os.getpid()),
                       name=f"sweep job #{ctx.job_num}")
    # Ctrl-C reaches every process of the command at once: the job's process starts with
    # it held, and takes it where it can end as an interrupted run (_job)
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)
    try:
        job.start()
    except BaseException:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        raise
    write.close()
    try:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # one held meanwhile comes here
        value = read.recv()
    except EOFError:  # it ended without an objective
        value = None
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        read.close()
        job.join()
    code = job.exitcode
    if code is not None and code < 0:  # killed: no objective; the sweep's end reports it
        _died(cfg, ctx, job.pid, signal.Signals(-code).name)
        return float("nan")
    if code == 0 and value is not None:
        return value
    if code == 130:
        raise KeyboardInterrupt
    if code == 143:
        raise Terminated
    if code == 1:
        raise RuntimeError(f"sweep job #{ctx.job_num} failed; its traceback is above")
    sys.exit(code)


#: The signals that stop a command: Ctrl-C and SIGTERM.
_STOPS = {signal.SIGINT, signal.SIGTERM}


def _job(cfg, ctx: RunContext, out, worker: int) -> None:
    """The process of one sweep job (:func:`_job_apart`): its objective sent on ``out``;
    its one-line error, its interruption or its traceback as its exit status. It starts
    with Ctrl-C and SIGTERM held, takes them once it can end as an interrupted run, and
    holds them again from its end on (an interrupt there would be a traceback)."""
    from framing.evaluate.evaluation import die_with_parent

    try:
        try:
            die_with_parent(worker)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPS)  # one held since the fork
            value = _run(cfg, ctx)
        finally:
            signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)
    except KeyboardInterrupt:
        sys.exit(130)
    except Terminated:
        sys.exit(143)
    out.send(float(value))
    out.close()


def _died(cfg, ctx: RunContext, pid: int, signame: str) -> None:
    """Record the death of a sweep job whose process was killed, with the one line that
    reports it at the sweep's end; its runs marked FAILED when the store lets us."""
    from framing.track.runs import job_overrides, mark_runs_of, rerun_command

    s = settings(cfg)
    runs: list[str] = []
    marked = ""
    if s.tracking.enabled:
        try:
            runs = mark_runs_of(s.tracking.uri, s.mlflow_experiment, pid)
            marked = (f"; its run {', '.join(runs)} is marked FAILED" if runs else
                      "; it had no run yet")
        except Exception as e:  # noqa: BLE001 - the store may be down too
            marked = f"; its run could not be marked FAILED ({_first_line(e)})"
    over = job_overrides({"overrides": ctx.overrides})
    message = (f"sweep job #{ctx.job_num} ({over or 'no overrides'}) died: its process was "
               f"killed by {signame} (the system's out-of-memory killer sends it){marked}; "
               "the other jobs ran on (the summary above). Rerun it alone: "
               f"{rerun_command(ctx.overrides)}")
    _record(ctx, {"status": "died", "signal": signame, "pid": pid,
                  "run_id": runs[0] if runs else None, "message": message})
    log.error(message)


def main() -> None:
    """Console entry point ``framing-train`` (the Hydra command line)."""
    from framing.config.tree import describe_config_error

    atexit.register(_leave)  # the first exit handler registered is the last to run
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
        line = _stopped_line("interrupted")
        _sweep_stopped("KILLED")
        _exit(line, 130)
    except Terminated:
        line = _stopped_line("terminated")
        _sweep_stopped("KILLED")
        _exit(line, 143)
    except FramingError as e:
        _sweep_stopped("FAILED")
        _exit(str(e), 2)
    except SystemExit as e:  # a sweep job's error, its line printed by the job
        if e.code:
            _sweep_stopped("FAILED")
        raise
    except Exception as e:
        from concurrent.futures.process import BrokenProcessPool

        from hydra.errors import HydraException
        from omegaconf.errors import OmegaConfBaseException

        # a worker itself died, not a job's process: the jobs it took down are named
        lost = (_record_unfinished("lost", "the launcher lost a worker process")
                if isinstance(e, BrokenProcessPool) else None)
        _sweep_stopped("FAILED")
        if isinstance(e, HydraException | OmegaConfBaseException):  # before OSError:
            _exit(describe_config_error(e), 2)  # a missing config is both
        if isinstance(e, OSError):
            _exit(_hydra_os_error(e), 2)
        if lost is not None:
            _exit(_lost_line(e, *lost), 2)
        raise
    died = _sweep_died()
    if died:
        _exit(died, 2)
    _done(0)
    fault("train.end")


def _record_unfinished(status: str, why: str) -> tuple[list[dict], bool]:
    """The sweep this process ran stopped (``why``: its launcher lost a worker process,
    it was interrupted): record every job that had not ended (under way, or not started
    yet) as ``status`` in the sweep's ``results.jsonl``, with the command that reruns
    it; those records, and whether they cover the jobs not started yet (the sweep's
    plan is known)."""
    runs = sys.modules.get("framing.track.runs")  # Hydra loads it for a sweep's callback
    if runs is None or runs.SweepSummary.started is None:
        return [], False
    from framing.track.runs import SweepSummary, rerun_command, sweep_jobs

    sweep_dir, plan = SweepSummary.started[0], SweepSummary.plan
    try:
        known = {j["job"]: j for j in sweep_jobs(sweep_dir)}
    except (OSError, ValueError):
        known = {}
    jobs = (dict(enumerate(plan)) if plan is not None else
            {n: j["overrides"] for n, j in known.items()})
    left = []
    for n, overrides in sorted(jobs.items()):
        last = known.get(n, {}).get("status")
        if last in ("finished", "failed", "died"):
            continue
        left.append({"job": n, "overrides": list(overrides), "status": status,
                     "started": last == "started", "why": why,
                     "rerun": rerun_command(overrides)})
    if left:
        try:
            _append(sweep_dir, left)
        except OSError as e:  # the line names them all the same
            log.warning("cannot record the unfinished jobs in %s: %s",
                        sweep_dir / "results.jsonl", describe_os_error(e))
    return left, plan is not None


def _unfinished(left: list[dict], planned: bool) -> str:
    """The jobs of ``left`` (:func:`_record_unfinished`) by number and what tells their
    overrides apart: which did not finish, which did not start."""
    from framing.track.runs import varying_overrides

    shown = dict(zip((j["job"] for j in left),
                     varying_overrides([j["overrides"] for j in left]), strict=True))
    parts = []
    for began, what in ((True, "did not finish"), (False, "did not start")):
        jobs = [f"#{j['job']} ({shown[j['job']] or 'no overrides'})" for j in left
                if j["started"] == began]
        if jobs:
            parts.append(f"job{'s' if len(jobs) > 1 else ''} {', '.join(jobs)} {what}")
    return " and ".join(parts) + ("" if planned else " (and any job not started yet)")


def _lost_line(e: BaseException, lost: list[dict], planned: bool) -> str:
    """The line of a sweep whose launcher lost a worker process: the jobs it took down,
    by number and overrides, and the commands that rerun them."""
    why = _first_line(e).split(". ")[0].rstrip(".")
    head = ("a worker process of the sweep's launcher died (killed: the system's "
            f"out-of-memory killer, say), and the launcher stopped the sweep ({why})")
    if not lost:
        return f"{head}; the summary above says which jobs finished"
    again = "; ".join(j["rerun"] for j in lost[:4])
    more = (f"; and {len(lost) - 4} more: results.jsonl in the sweep's folder lists each "
            "with its command (status lost)") if len(lost) > 4 else ""
    return (f"{head}: {_unfinished(lost, planned)}; they are marked lost in the summary "
            f"above. Rerun {'it' if len(lost) == 1 else 'them'}: {again}{more}")


def _stopped_line(word: str) -> str:
    """The line of a command stopped by Ctrl-C or SIGTERM (``word``): for a sweep, the
    jobs that had not finished, recorded with the commands that rerun them."""
    from framing.cli.output import standing

    runs = sys.modules.get("framing.track.runs")
    sweep = runs.SweepSummary.started if runs is not None else None
    left, planned = _record_unfinished("stopped", word)
    if sweep is None or not left:
        return f"{word}; {standing.describe()}"
    return (f"{word}; the sweep stopped: {_unfinished(left, planned)} (the summary above; "
            f"{sweep[0] / 'results.jsonl'} holds the command that reruns each)")


def _sweep_stopped(status: str) -> None:
    """A sweep this process ran stopped on an error or a signal: print what finished, died
    or did not, and mark its parent run ``status`` (:func:`end_failed_sweep`)."""
    runs = sys.modules.get("framing.track.runs")  # Hydra loads it for a sweep's callback
    if runs is None or runs.SweepSummary.started is None:  # no sweep, or its end reported
        return
    SweepSummary, end_failed_sweep = runs.SweepSummary, runs.end_failed_sweep
    where, SweepSummary.started = SweepSummary.started, None
    for line in end_failed_sweep(*where, status=status):
        print(line, flush=True)


def _hydra_os_error(e: OSError) -> str:
    """One line for an OS error of Hydra's own writes (the run's folder: its config files,
    its log), which name no file: the run's folder named."""
    if e.filename is None:
        try:
            from hydra.core.hydra_config import HydraConfig
            from hydra.types import RunMode

            hc = HydraConfig.get()  # the job's settings are gone: the run's (or sweep's)
            out = hc.sweep.dir if hc.mode == RunMode.MULTIRUN else hc.run.dir
            out = os.path.abspath(out) if out else None
        except Exception:  # noqa: BLE001 - no folder to name
            out = None
        if out:
            return (f"{describe_os_error(OSError(e.errno, e.strerror, out))} It is the "
                    "run's folder, for Hydra's config and log files (hydra.run.dir sets it; "
                    "hydra.sweep.dir for a sweep). No model is written.")
    return describe_os_error(e)


def _sweep_died() -> str | None:
    """The line for the sweep this process ran when a job of it died (None: none did)."""
    runs = sys.modules.get("framing.track.runs")
    died = runs.SweepSummary.died if runs is not None else []
    if not died:
        return None
    others = (f" ({len(died) - 1} other job{'s' if len(died) > 2 else ''} died too: "
              f"{', '.join('#' + str(j['job']) for j in died[1:])})" if len(died) > 1 else "")
    return died[0]["message"] + others


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0][:300] if text else type(e).__name__


def _exit(message: str, code: int) -> None:
    print(f"framing-train: error: {message}", file=sys.stderr)
    _done(code)
    sys.exit(code)


# The end of the process. Once the command is done, the interpreter's teardown of the
# loaded libraries takes seconds, and Python has by then given SIGINT back to the system:
# Ctrl-C there would kill the process without a word. So from the command's end a signal
# is noted, not raised; the last exit handler reports it and leaves at once.
_leaving: dict[str, int | None] = {"code": None, "signal": None}


def _note_signal(signum, frame) -> None:
    if _leaving["signal"] is None:
        _leaving["signal"] = signum


def _done(code: int) -> None:
    """The command is done with exit status ``code``."""
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _note_signal)
        signal.signal(signal.SIGTERM, _note_signal)
    _leaving["code"] = code


def _leave() -> None:
    """The last exit handler: a signal noted since the command's end is one line and
    exit status 130 (Ctrl-C) or 143 (SIGTERM); then the process leaves, without the
    teardown."""
    code = _leaving["code"]
    if code is None:  # not through main's end (an unexpected error): the usual exit
        return
    if _leaving["signal"] is not None and code == 0:
        from framing.cli.output import standing

        word, code = (("interrupted", 130) if _leaving["signal"] == signal.SIGINT else
                      ("terminated", 143))
        print(f"framing-train: error: {word}; {standing.describe()}", file=sys.stderr)
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
