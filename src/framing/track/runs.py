"""MLflow tracking: one run per job, a parent run per sweep, everything a comparison needs.

Params are the composed config flattened; metrics are every figure of the run's
:class:`~framing.pipeline.trainer.Report` under the registry's names; artifacts are the config,
Hydra's folder, the codebook, the per-label report, out-of-fold predictions, plots, top
features, the model card and the model file; the model is logged as an MLflow pyfunc with
a signature; the corpus as a dataset input.

Tracking sits on the side of the data flow: it imports the rest of the package, and
nothing but the entry points (``framing-train``, ``framing``) imports it.

One module, over 600 lines: every MLflow call (runs, sweeps, curves, the store's errors)
sits behind one connection helper and one error policy.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import fcntl
import hashlib
import json
import logging
import os
import re
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from framing.config.tree import RunContext, plain
from framing.core.errors import Terminated, TrackingError
from framing.core.version import __version__
from framing.predict.card import markdown
from framing.predict.model import card_path, sha_path
from framing.predict.storage import alive, fault, remove_stale_staging, wait_gone

log = logging.getLogger(__name__)

MAX_PARAM_VALUE = 6000
#: The experiment tag that tells the MLflow UI this is model training (its runs table),
#: not GenAI development (traces).
KIND_TAG, KIND = "mlflow.experimentKind", "custom_model_development"
#: A shared view of the runs table (``#/experiments/<id>/runs?viewStateShareKey=framing``)
#: with the columns a user compares; ``framing ui`` prints its address.
VIEW_KEY = "framing"
VIEW_TAG = f"mlflow.sharedViewState.{VIEW_KEY}"
#: How long MLflow's HTTP client waits and retries (unless the environment says otherwise).
HTTP_LIMITS = {"MLFLOW_HTTP_REQUEST_TIMEOUT": "5", "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
               "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1"}
SWEEP_TAG = "framing.sweep_dir"
#: A baseline's run carries the digest of its corpus and figures; a model run names the
#: baseline runs it was measured against.
BASELINE_TAG, BASELINE_RUNS_TAG = "framing.baseline_key", "framing.baseline_runs"


def flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts to dotted keys; lists stay values."""
    out: dict[str, Any] = {}
    if isinstance(d, dict):
        for k, v in d.items():
            key = f"{prefix}.{k}" if prefix else str(k)
            if isinstance(v, dict) and v:
                out.update(flatten(v, key))
            else:
                out[key] = v
    return out


def _git_commit(root: Path) -> str | None:
    try:
        r = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                           text=True, timeout=5)
        return r.stdout.strip() or None if r.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def check_server(uri: str, timeout: float = 5.0) -> None:
    """Fail fast if an http(s) tracking server does not answer its health check."""
    if not uri.startswith(("http://", "https://")):
        return
    url = uri.rstrip("/") + "/health"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310 - user's URI
            if r.status >= 400:
                raise TrackingError(f"tracking server {uri} answered {r.status} on /health.")
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise TrackingError(
            f"tracking server {uri} is unreachable ({reason}). Start it, fix tracking.uri, "
            "or run with tracking=sqlite (local store) or tracking=off.") from None


def sqlite_advice(e: BaseException) -> str | None:
    """What to do about an SQLite store's error (locked, full, read-only), or None."""
    text = str(e)
    if "locked" in text:
        return ("another program holds a lock on it; wait for it to finish or close it, or "
                "log elsewhere with tracking.uri=sqlite:///other.db")
    if "full" in text or "disk I/O" in text or getattr(e, "errno", None) == errno.ENOSPC:
        return ("the disk it is on is full; free some space or log elsewhere with "
                "tracking.uri=sqlite:///other/mlflow.db")
    if "unable to open" in text or "readonly" in text or "read-only" in text:
        return ("it cannot be opened for writing; check the file's and its folder's "
                "permissions, or set tracking.uri=sqlite:///other.db")
    return None


class _ReportedByFraming(logging.Filter):
    """MLflow logs a database error of its SQL store, with its traceback, before it raises
    it; framing reports the error raised, in one line, so the record is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < logging.ERROR


def quiet_store_errors() -> None:
    """Drop MLflow's own report of a store's database error (framing reports it)."""
    store_log = logging.getLogger("mlflow.store.db.utils")
    if not any(isinstance(f, _ReportedByFraming) for f in store_log.filters):
        store_log.addFilter(_ReportedByFraming())


#: The libraries whose exceptions, raised while a run is logged, are the store's failure.
STORE_LIBRARIES = frozenset({"mlflow", "sqlalchemy", "sqlite3", "requests", "urllib3"})


def is_store_error(e: BaseException) -> bool:
    """Whether ``e`` is the tracking store's failure (or a file's), not a bug of ours."""
    return isinstance(e, OSError) or type(e).__module__.split(".")[0] in STORE_LIBRARIES


def store_error(uri: str, e: BaseException) -> TrackingError:
    """One line for a store that failed while a run was logged: the store (an SQLite
    store's file, a server's address) or the file, what went wrong, what to do."""
    from framing.core.errors import describe_os_error

    if isinstance(e, OSError) and not isinstance(e, ConnectionError) and e.filename:
        return TrackingError(f"cannot log the run's files: {describe_os_error(e)}")
    why = _store_line(e)
    if uri.startswith("sqlite:///"):
        db = uri.removeprefix("sqlite:///")
        advice = sqlite_advice(e) or "it failed"
        return TrackingError(f"cannot log the run to the MLflow store {db}: {advice} "
                             f"({why}).")
    if uri.startswith(("http://", "https://")):
        return TrackingError(f"cannot log the run to the tracking server {uri}: it stopped "
                             f"answering ({why}). Check that it runs, or log with "
                             "tracking=sqlite (a local store) or tracking=off.")
    return TrackingError(f"cannot log the run to the MLflow store {uri}: {why}.")


def _store_line(e: BaseException) -> str:
    """What a store's error says: the database's own line (SQLAlchemy puts it after its
    own notes), without its ``(sqlite3.OperationalError)``; else the first line."""
    for line in str(e).splitlines():
        found = re.match(r"^\((?:sqlite3|psycopg2?|pymysql|MySQLdb)[\w.]*\) (.+)", line.strip())
        if found:
            return found.group(1)[:400]
    first = _first_line(e)
    request = re.match(r"API request to (\S+) failed with exception (.*)", first)
    if request:  # MLflow's HTTP client: the endpoint, and the innermost reason
        endpoint = request.group(1).split("/mlflow/")[-1].split("?")[0]
        cause = request.group(2)
        errno_text = re.findall(r"\[Errno -?\d+\] [^'\")]+", cause)
        quoted = re.findall(r"\w+\('([^']*)'\)", cause)
        why = errno_text[-1] if errno_text else quoted[-1] if quoted else cause[:200]
        return f"{endpoint}: {why}"
    return first


def params(config: dict[str, Any]) -> dict[str, str]:
    """The resolved config flattened to dotted keys, within MLflow's limits; the codebook
    and cue lists (logged as artifacts) appear as digests."""
    out = {}
    for k, v in flatten(config).items():
        if k.startswith(("codebook", "cues", "voice")):
            continue
        s = json.dumps(v) if isinstance(v, list | dict) else str(v)
        out[k[:250]] = s[:MAX_PARAM_VALUE]
    out["codebook.digest"] = _digest(config.get("codebook"))
    out["cues.digest"] = _digest(config.get("cues"))
    out["voice.digest"] = _digest(config.get("voice"))
    return out


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class Tracker:
    """Where runs go; ``enabled=False`` makes every call a no-op."""

    enabled: bool
    uri: str | None = None
    artifact_location: str | None = None
    experiment_name: str = "framing"
    log_model: bool = True
    context: RunContext | None = None
    root: Path | None = None
    register: str | None = None
    columns: tuple[str, ...] = ()
    #: The last run's end: (its id, the status it was to get, why it could not, or None).
    ended: tuple[str, str, str | None] | None = None

    @classmethod
    def from_config(cls, cfg, context: RunContext | None = None) -> Tracker:
        """Build from the typed config's ``tracking`` and check the store before training."""
        t = cfg.tracking
        tasks = [x.name for x in cfg.data.tasks]
        columns = ("objective", *(f"{x}/macro_f1" for x in tasks),
                   *(f"test/{x}/macro_f1" for x in tasks if cfg.test is not None))
        tracker = cls(bool(t.enabled), t.uri, t.artifact_location, cfg.mlflow_experiment,
                      bool(t.log_model), context or RunContext(), Path(cfg.paths.root),
                      t.register, columns)
        if tracker.enabled:
            quiet_store_errors()
            os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
            for k, v in HTTP_LIMITS.items():  # a dead server fails in seconds, not minutes
                os.environ.setdefault(k, v)
            if not tracker.uri or tracker.uri == "???":
                raise TrackingError("tracking.uri is not set: give tracking.uri=http://host:5000"
                                    " (or set MLFLOW_TRACKING_URI), or use tracking=sqlite "
                                    "or tracking=off.")
            if "://" not in tracker.uri and tracker.uri != "databricks":
                raise TrackingError(f"tracking.uri {tracker.uri!r} is a folder; MLflow's file "
                                    "store is not supported. Use sqlite:///path/to/mlflow.db or "
                                    "a server URI.")
            check_server(tracker.uri)
            if tracker.uri.startswith("sqlite:///"):
                tracker._init_sqlite(Path(tracker.uri.removeprefix("sqlite:///")))
        return tracker

    def _init_sqlite(self, db: Path) -> None:
        """Create or migrate the SQLite store once, under a file lock.

        MLflow creates its tables on first use; parallel sweep jobs doing that at the same
        time corrupt the store, so the first job does it while the others wait.
        """
        try:
            db.parent.mkdir(parents=True, exist_ok=True)
            lock = open(db.with_name(db.name + ".lock"), "w")  # noqa: SIM115 - held below
        except OSError as e:
            raise TrackingError(f"cannot create the MLflow store {db}: {e.strerror}. Choose a "
                                "folder you can write to: tracking.uri=sqlite:///path/mlflow.db"
                                ", or tracking=off.") from None
        with lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            from mlflow.tracking import MlflowClient

            try:
                MlflowClient(self.uri).search_experiments(max_results=1)
            except Exception as e:  # noqa: BLE001 - SQLAlchemy and MLflow raise many types
                advice = sqlite_advice(e) or ("it is not a store this MLflow can read; if it "
                                              "is damaged, move it away to start a new one")
                raise TrackingError(f"cannot open the MLflow store {db}: {advice} "
                                    f"({_store_line(e)}).") from None

    def _experiment_id(self, client) -> str:
        exp = client.get_experiment_by_name(self.experiment_name)
        if exp is None:
            try:
                exp_id = client.create_experiment(self.experiment_name,
                                                  artifact_location=self._artifact_uri())
            except Exception:  # noqa: BLE001 - a parallel job created it first
                exp = client.get_experiment_by_name(self.experiment_name)
                if exp is None:
                    raise
                exp_id = exp.experiment_id
        else:
            exp_id = exp.experiment_id
        self._set_view(client, exp_id, exp)
        return exp_id

    def _set_view(self, client, exp_id: str, exp) -> None:
        """Make the UI open this experiment on its runs table with the columns a user
        compares (the ``framing`` shared view): a model-training experiment, not GenAI."""
        tags = dict(getattr(exp, "tags", None) or {})
        if tags.get(KIND_TAG) != KIND:
            client.set_experiment_tag(exp_id, KIND_TAG, KIND)
        view = json.loads(tags.get(VIEW_TAG, "{}") or "{}")
        have = list(view.get("selectedColumns") or [])
        wanted = [f"metrics.`{c}`" for c in self.columns] + [
            "attributes.`Dataset`", "attributes.`Models`", "params.`model.family`"]
        columns = have + [c for c in wanted if c not in have]
        if columns != have or not view:
            order = ["attributes.`Run Name`", *columns]
            view = {**view, "selectedColumns": columns, "columnOrder": order,
                    "hideEmptyCharts": True, "runsHiddenMode": "SHOW_ALL"}
            client.set_experiment_tag(exp_id, VIEW_TAG, json.dumps(view))

    def _artifact_uri(self) -> str | None:
        if not self.artifact_location:
            return None
        loc = str(self.artifact_location)
        return loc if "://" in loc else Path(loc).resolve().as_uri()

    def _parent(self, client, exp_id: str) -> str | None:
        """The sweep's parent run id (created once, under a file lock), or None."""
        ctx = self.context
        if ctx is None or not ctx.multirun or ctx.sweep_dir is None:
            return None
        sweep_dir = ctx.sweep_dir
        sweep_dir.mkdir(parents=True, exist_ok=True)
        with open(sweep_dir / ".mlflow_parent.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            id_file = sweep_dir / ".mlflow_parent_run"
            if id_file.is_file():
                return id_file.read_text().strip()
            name = f"sweep {ctx.experiment or 'default'} {sweep_dir.name}"
            parent = client.create_run(exp_id, run_name=name, tags={
                SWEEP_TAG: str(sweep_dir), "framing.version": __version__,
                "framing.role": "sweep"})
            client.set_terminated(parent.info.run_id)
            id_file.write_text(parent.info.run_id)
            return parent.info.run_id

    @contextlib.contextmanager
    def run(self, cfg, model) -> Iterator[RunLogger]:
        """A started MLflow run (child of the sweep's parent in a multirun), ended as
        FINISHED, FAILED (an error) or KILLED (Ctrl-C, SIGTERM)."""
        if not self.enabled:
            yield RunLogger(None, None, self)
            return
        import mlflow
        from mlflow.tracking import MlflowClient

        mlflow.set_tracking_uri(self.uri)
        client = MlflowClient(self.uri)
        try:
            exp_id = self._experiment_id(client)
            self._end_stale_runs(client, exp_id)
            parent = self._parent(client, exp_id)
            data = model.card.get("data") or {}
            tags = {"framing.version": __version__,
                    "framing.data_digest": str(data.get("digest")),
                    "framing.data_name": str(data.get("name")),
                    "framing.host": socket.gethostname(), "framing.pid": str(os.getpid()),
                    "framing.role": "model"}
            commit = _git_commit(self.root) if self.root else None
            if commit:
                tags["framing.git_commit"] = commit
                tags["mlflow.source.git.commit"] = commit
            if parent:
                tags["mlflow.parentRunId"] = parent
            name = (self.context or RunContext()).run_name(cfg.run_name)
            active = mlflow.start_run(experiment_id=exp_id, run_name=name, tags=tags)
        except TrackingError:
            raise
        except Exception as e:  # noqa: BLE001 - MLflow raises many types
            raise TrackingError(f"cannot use the MLflow store {self.uri}: "
                                f"{_store_line(e)}.") from None
        status = "FINISHED"
        run_id = active.info.run_id
        try:
            yield RunLogger(mlflow, run_id, self)
        except (KeyboardInterrupt, Terminated):
            status = "KILLED"
            raise
        except BaseException:
            status = "FAILED"
            raise
        finally:
            self.ended = (run_id, status, None)
            try:
                mlflow.end_run(status)
            except Exception as e:  # noqa: BLE001 - the store may be the failure
                self.ended = (run_id, status, _store_line(e))
                log.warning("could not mark run %s %s: %s", run_id, status, _store_line(e))

    def end_line(self) -> str:
        """What became of the last run, for the line of a failed one."""
        if not self.enabled:
            return "tracking is off"
        if self.ended is None:
            return "no run was started"
        run_id, status, why = self.ended
        if why is None:
            return f"its run {run_id} is marked {status}"
        return (f"its run {run_id} could not be marked {status} ({why}); the next "
                "framing-train on this host and store marks it KILLED")

    def _end_stale_runs(self, client, exp_id: str) -> None:
        """Mark KILLED the runs this host left RUNNING from a process that is gone (a
        training killed with SIGKILL or a machine that went down)."""
        host = socket.gethostname()
        try:
            runs = client.search_runs([exp_id], filter_string=(
                "attributes.status = 'RUNNING' and tags.`framing.host` = "
                f"'{host}'"), max_results=200)
        except Exception:  # noqa: BLE001 - an old store without tags: nothing to do
            return
        for r in runs:
            pid = r.data.tags.get("framing.pid", "")
            if pid.isdigit() and not alive(int(pid)):
                client.set_terminated(r.info.run_id, "KILLED")
                log.warning("run %s was left RUNNING by process %s, which is gone: marked "
                            "KILLED", r.info.run_id, pid)


def split_baselines(metrics: dict[str, float]) -> tuple[dict[str, float],
                                                        dict[str, dict[str, float]]]:
    """The model's own metrics, and each baseline's under the model's metric names
    (``baseline/codebook/theme/macro_f1`` -> ``codebook``: ``theme/macro_f1``)."""
    own: dict[str, float] = {}
    baselines: dict[str, dict[str, float]] = {}
    for k, v in metrics.items():
        test, rest = ("test/", k[5:]) if k.startswith("test/") else ("", k)
        if rest.startswith("baseline/") and rest.count("/") >= 2:
            _, name, metric = rest.split("/", 2)
            baselines.setdefault(name, {})[test + metric] = v
        else:
            own[k] = v
    return own, baselines


def log_baselines(mlflow, uri: str, baselines: dict[str, dict[str, float]],
                  data: dict[str, Any]) -> list[str]:
    """One run per baseline and corpus, logged once; the ids of the runs.

    The baselines' figures live in runs of their own (``baseline: codebook``), under the
    model's metric names, so the runs table lists them beside the models, and a model
    run's compare and chart views start with the model's own figures. A later run whose
    baselines score the same on the same data links to the existing run instead of
    repeating its figures.
    """
    from mlflow.entities import Metric

    client = mlflow.tracking.MlflowClient(uri)
    exp_id = mlflow.active_run().info.experiment_id
    ids = []
    with _store_lock(uri):
        for name, metrics in sorted(baselines.items()):
            key = _digest({"data": data.get("digest"), "baseline": name,
                           "metrics": sorted(metrics.items())})
            found = client.search_runs([exp_id], filter_string=(
                f"tags.`{BASELINE_TAG}` = '{key}' and attributes.status = 'FINISHED'"),
                max_results=1)
            if found:
                ids.append(found[0].info.run_id)
                continue
            run = client.create_run(exp_id, run_name=f"baseline: {name}", tags={
                BASELINE_TAG: key, "framing.role": "baseline",
                "framing.data_digest": str(data.get("digest")),
                "framing.data_name": str(data.get("name")), "framing.version": __version__})
            items = sorted(metrics.items())
            now = int(1000 * time.time())
            try:
                for start in range(0, len(items), 900):
                    client.log_batch(run.info.run_id, metrics=[
                        Metric(k, v, now, 0) for k, v in items[start:start + 900]])
            except BaseException:
                with contextlib.suppress(Exception):  # not left RUNNING, if the store lets us
                    client.set_terminated(run.info.run_id, "FAILED")
                raise
            client.set_terminated(run.info.run_id)
            ids.append(run.info.run_id)
    return ids


@contextlib.contextmanager
def _store_lock(uri: str) -> Iterator[None]:
    """Parallel jobs on one SQLite store log a corpus's baselines once."""
    if not uri.startswith("sqlite:///"):
        yield
        return
    db = Path(uri.removeprefix("sqlite:///"))
    with open(db.with_name(db.name + ".baselines.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0][:400] if text else type(e).__name__


@dataclass
class RunLogger:
    """Logs one run's params, metrics, artifacts, model and dataset."""

    mlflow: Any
    run_id: str | None
    tracker: Tracker

    def log(self, cfg, model, report, corpus, model_path: Path | None,
            published_as: Path | None = None) -> str | None:
        """Everything of one training run (no-op when tracking is off); the id of the
        logged MLflow model, if one was logged.

        ``model_path`` is the file logged (a staged copy while the run is under way);
        ``published_as``, the path the model is published at once the run has ended (the
        tag ``framing.model_path``)."""
        if self.mlflow is None:
            return None
        try:
            return self._log(cfg, model, report, corpus, model_path, published_as)
        except Exception as e:
            if isinstance(e, TrackingError) or not is_store_error(e):
                raise
            raise store_error(self.tracker.uri, e) from None

    def log_metrics(self, metrics: dict[str, float]) -> None:
        """More metrics of the run (no-op when tracking is off)."""
        if self.mlflow is None or not metrics:
            return
        try:
            self.mlflow.log_metrics({k: float(v) for k, v in metrics.items()})
        except Exception as e:
            if isinstance(e, TrackingError) or not is_store_error(e):
                raise
            raise store_error(self.tracker.uri, e) from None

    def _log(self, cfg, model, report, corpus, model_path: Path | None,
             published_as: Path | None) -> str | None:
        mlflow = self.mlflow
        config = plain(cfg)
        mlflow.log_params(params(config))
        final = published_as or model_path
        if final is not None:
            mlflow.set_tag("framing.model_path", str(final))
        choice = getattr(report, "choice", None)
        if choice:
            mlflow.log_params(choice_params(choice))
        metrics = {k.replace(":", "_"): float(v) for k, v in report.metrics.items()
                   if v is not None and np.isfinite(v)}
        own, baselines = split_baselines(metrics)
        mlflow.log_metrics(own)
        if baselines:
            ids = log_baselines(mlflow, self.tracker.uri, baselines,
                                model.card.get("data") or {})
            mlflow.set_tag(BASELINE_RUNS_TAG, ",".join(ids))
        fault("track.logging", job=self.tracker.context.job_num if self.tracker.context else None)
        if corpus is not None:
            self._log_dataset(corpus)
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            write_artifacts(tmp, config, model, report, corpus)
            mlflow.log_artifacts(str(tmp))
        hydra_dir = self.tracker.context.hydra_dir if self.tracker.context else None
        if hydra_dir is not None:
            mlflow.log_artifacts(str(hydra_dir), artifact_path="hydra")
        if model_path is not None:
            return self._log_model(model_path, corpus.texts[:3] if corpus is not None else
                                   ["example text"], model)
        return None

    def _log_model(self, model_path: Path, examples: list[str], model=None) -> str | None:
        """The model file, once: inside the MLflow model (its id is returned), or as a
        ``predictor/`` artifact when no MLflow model is logged."""
        mlflow = self.mlflow
        if not self.tracker.log_model:
            for extra in (model_path, sha_path(model_path), card_path(model_path)):
                if extra.is_file():
                    mlflow.log_artifact(str(extra), artifact_path="predictor")
            return None
        from framing.track.pyfunc import log_pyfunc

        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", model_path.stem) or "model"
        info = log_pyfunc(model_path, examples, name, self.tracker.register, model)
        return info.model_id

    def _log_dataset(self, corpus) -> None:
        import pandas as pd

        df = pd.DataFrame({"id": corpus.ids, "text": corpus.texts})
        for t in corpus.tasks:
            df[t.name] = corpus.label_lists(t)
        source = str(corpus.source)
        if Path(source).exists():
            source = Path(source).resolve().as_uri()
        with warnings.catch_warnings():
            # MLflow warns that a file URI fits two of its (equivalent) source classes.
            warnings.filterwarnings("ignore", message=".*can be interpreted in multiple ways")
            ds = self.mlflow.data.from_pandas(df, source=source, name=corpus.name,
                                              digest=corpus.digest()[:32],
                                              targets=corpus.tasks[0].name)
        self.mlflow.log_input(ds, context="training")


def choice_params(choice: dict[str, Any]) -> dict[str, str]:
    """The model choice as run params: ``choice/<task>`` is the chosen candidate (per
    label, ``label=candidate``, where the labels chose differently)."""
    out = {}
    for t in choice.get("tasks") or []:
        picks = t["chosen"]
        value = picks[0] if len(set(picks)) == 1 else ", ".join(
            f"{u}={p}" for u, p in zip(t["units"], picks, strict=True))
        out[f"choice/{t['task']}"] = value[:5000]
    out["choice/scheme"] = str(choice.get("scheme"))
    return out


def write_artifacts(out: Path, config: dict[str, Any], model, report, corpus) -> None:
    """Config, codebook, report, out-of-fold predictions, label issues, top features, card,
    plots."""
    import yaml

    from framing.evaluate.plots import write_plots

    def dump(obj):
        return yaml.safe_dump(obj, sort_keys=False, allow_unicode=True)

    (out / "config.yaml").write_text(dump(config))
    (out / "codebook.yaml").write_text(dump(config.get("codebook") or {}))
    (out / "cues.yaml").write_text(dump(config.get("cues") or {}))
    (out / "voice.yaml").write_text(dump(config.get("voice") or {}))
    ev = report.evaluation
    (out / "report.json").write_text(json.dumps(
        {"strategy": ev.strategy, "metrics": report.metrics, "labels": ev.report,
         "test_labels": report.test.report if report.test else None,
         "notes": report.notes}, indent=2))
    _write_csv(out / "report.csv", ev.report)
    if corpus is not None:
        from framing.evaluate.compare import PREDICTIONS

        with open(out / PREDICTIONS, "w", encoding="utf-8") as f:
            for rec in ev.predictions.records(corpus):
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    if getattr(report, "issues", None) is not None:
        with open(out / "label_issues.jsonl", "w", encoding="utf-8") as f:
            for rec in report.issues:
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    (out / "top_features.json").write_text(json.dumps(model.top_features(20), indent=2,
                                                      ensure_ascii=False))
    (out / "model_card.json").write_text(json.dumps(model.card, indent=2, default=str))
    (out / "MODEL_CARD.md").write_text(markdown(model.card))
    choice = getattr(report, "choice", None)
    if choice:
        from framing.predict.card import choice_table

        (out / "model_choice.json").write_text(json.dumps(choice, indent=2))
        (out / "model_choice.md").write_text("# Model choice\n" + "\n".join(
            choice_table(choice)) + "\n")
    write_plots(out / "plots", ev)
    curve = getattr(report, "curve", None)
    if curve is not None:
        from framing.evaluate.curve import plot as plot_curve

        (out / "learning_curve.json").write_text(json.dumps(curve.to_dict(), indent=2))
        (out / "learning_curve.md").write_text("# Learning curve\n\n" + "\n".join(
            curve.table()) + "\n\n" + "\n".join(f"- {g}" for g in curve.gain_lines()) + "\n")
        plot_curve(curve, out / "plots" / "learning_curve.png")
    if report.test is not None:
        write_plots(out / "plots" / "test", report.test)


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    keys = sorted({k for r in rows for k in r}, key=lambda k: (k not in ("task", "label"), k))
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)


def _connect(uri: str):
    """MLflow, pointed at ``uri`` (a SQLite store's folder made; a server checked)."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    import mlflow

    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    check_server(uri)
    mlflow.set_tracking_uri(uri)
    return mlflow


def log_evaluation(uri: str, model_path: Path, corpus, evaluation) -> str:
    """Log ``framing evaluate``'s figures as a run of the experiment ``framing-evaluate``;
    return the run id."""
    mlflow = _connect(uri)
    try:
        exp = mlflow.set_experiment("framing-evaluate")
        with mlflow.start_run(experiment_id=exp.experiment_id,
                              run_name=f"{model_path.stem} on {corpus.name}") as run:
            mlflow.set_tags({"framing.version": __version__, "framing.model": str(model_path),
                             "framing.role": "evaluation",
                             "framing.data_digest": corpus.digest(),
                             "framing.data_name": corpus.name})
            own, baselines = split_baselines({
                f"test/{k}".replace(":", "_"): float(v) for k, v in evaluation.metrics.items()
                if v is not None and np.isfinite(v)})
            mlflow.log_metrics(own)
            if baselines:
                ids = log_baselines(mlflow, uri, baselines, {"digest": corpus.digest(),
                                                             "name": corpus.name})
                mlflow.set_tag(BASELINE_RUNS_TAG, ",".join(ids))
            mlflow.log_dict({"labels": evaluation.report}, "report.json")
            return run.info.run_id
    except Exception as e:  # noqa: BLE001 - MLflow raises many types
        raise TrackingError(f"cannot log to {uri}: {e}") from None


def log_report(uri: str, model_path: Path, pages: list[Path], profiles: dict[str, Any]
               ) -> str:
    """Log ``framing report``'s pages as artifacts (``report/``) of a run of the experiment
    ``framing-report``, with each article's profile (``report/profiles.json``); return the
    run id."""
    mlflow = _connect(uri)
    try:
        exp = mlflow.set_experiment("framing-report")
        name = f"{model_path.stem} report of {len(profiles)} article" + \
            ("s" if len(profiles) != 1 else "")
        with mlflow.start_run(experiment_id=exp.experiment_id, run_name=name) as run:
            mlflow.set_tags({"framing.version": __version__, "framing.model": str(model_path),
                             "framing.role": "report"})
            mlflow.log_params({"articles": len(profiles),
                               "paragraphs": sum(p["n_paragraphs"]
                                                 for p in profiles.values())})
            for page in pages:
                mlflow.log_artifact(str(page), artifact_path="report")
            mlflow.log_dict(profiles, "report/profiles.json")
            return run.info.run_id
    except Exception as e:  # noqa: BLE001 - MLflow raises many types
        raise TrackingError(f"cannot log to {uri}: {_first_line(e)}") from None


def log_simulation(uri: str, curve, figure: Path, overrides: str = "") -> str:
    """Log a simulated annotation loop (``framing simulate``) as a run of the experiment
    ``framing-simulate``: per strategy, macro-F1 at each batch (metric steps), the table,
    the curves as JSON and the figure; return the run id."""
    mlflow = _connect(uri)
    settings = curve.settings
    try:
        exp = mlflow.set_experiment("framing-simulate")
        name = f"{settings.get('corpus')} start {settings.get('start_articles')} batch " \
               f"{settings.get('batch')}" + (f" {overrides}" if overrides else "")
        with mlflow.start_run(experiment_id=exp.experiment_id, run_name=name[:250]) as run:
            mlflow.set_tags({"framing.version": __version__, "framing.role": "simulation"})
            mlflow.log_params({k: json.dumps(v) if isinstance(v, list) else str(v)
                               for k, v in {**settings, "overrides": overrides}.items()})
            for strategy, rows in curve.scores.items():
                for step, row in enumerate(rows):
                    mlflow.log_metrics({f"{strategy}/{k}": float(v) for k, v in row.items()},
                                       step=step)
                mlflow.log_metric(f"{strategy}/mean_macro_f1",
                                  float(np.mean([r["macro_f1"] for r in rows])))
            mlflow.log_dict(curve.to_dict(), "learning_curve.json")
            mlflow.log_text("\n".join(curve.table()) + "\n", "learning_curve.txt")
            mlflow.log_artifact(str(figure))
            return run.info.run_id
    except Exception as e:  # noqa: BLE001 - MLflow raises many types
        raise TrackingError(f"cannot log to {uri}: {_first_line(e)}") from None


def log_curve(uri: str, curve, figure: Path, overrides: str = "") -> str:
    """Log a learning curve (``framing learning-curve``) as a run of the experiment
    ``framing-learning-curve``: per task, mean macro-F1 at each size (the size as the
    metric's step), the expected gain, the table, the curve as JSON and the figure; return
    the run id."""
    mlflow = _connect(uri)
    try:
        exp = mlflow.set_experiment("framing-learning-curve")
        name = f"{curve.corpus} learning curve" + (f" {overrides}" if overrides else "")
        with mlflow.start_run(experiment_id=exp.experiment_id, run_name=name[:250]) as run:
            mlflow.set_tags({"framing.version": __version__, "framing.role": "learning-curve"})
            mlflow.log_params({"corpus": curve.corpus, "unit": curve.unit,
                               "draws": curve.draws, "sizes": json.dumps(curve.sizes),
                               "overrides": overrides[:5000]})
            for t in curve.scores:
                for k, m in enumerate(curve.sizes):
                    mlflow.log_metric(f"{t}/macro_f1", curve.point(t, k)[0], step=int(m))
                g = curve.gain.get(t)
                if g is not None:
                    mlflow.log_metric(f"{t}/gain_{g['more']}_more", g["gain"])
            mlflow.log_dict(curve.to_dict(), "learning_curve.json")
            mlflow.log_text("\n".join(curve.table() + [""] + curve.gain_lines()) + "\n",
                            "learning_curve.md")
            mlflow.log_artifact(str(figure))
            return run.info.run_id
    except Exception as e:  # noqa: BLE001 - MLflow raises many types
        raise TrackingError(f"cannot log to {uri}: {_first_line(e)}") from None


def best_margin(jobs: list[dict[str, Any]], optimize: str | None = None,
                draws: int = 1000, seed: int = 0) -> tuple[str, Any]:
    """The line naming a sweep's best job (``jobs`` best first) and its margin over the
    runner-up: the difference of the objective's F1 on their out-of-fold predictions,
    its paired bootstrap interval over articles and the share of draws the best wins;
    (line, the comparison's row or None)."""
    from framing.core.errors import FramingError
    from framing.evaluate.compare import ALL, MACRO, MEAN, compare, read_records

    best = jobs[0]
    head = f"best: job #{best['job']} (objective {best['objective']:.4f})"
    if len(jobs) < 2:
        return head, None
    runner = jobs[1]
    files = [j.get("predictions") for j in (runner, best)]
    if not all(f and Path(f).is_file() for f in files):
        return f"{head}; no out-of-fold predictions to compare it with the runner-up", None
    parts = (optimize or "").split("/")
    if optimize and not (len(parts) == 2 and parts[1] == "macro_f1" or
                         len(parts) == 3 and parts[2] == "f1"):
        return (f"{head}; eval.optimize={optimize} is not an F1 of the out-of-fold "
                "predictions: no paired margin over the runner-up"), None
    try:
        c = compare(read_records(files[0]), read_records(files[1]), f"job #{runner['job']}",
                    f"job #{best['job']}", draws, seed)
    except (FramingError, OSError) as e:
        return f"{head}; no paired margin over the runner-up: {_first_line(e)}", None
    if optimize:
        task, label = parts[0], MACRO if len(parts) == 2 else parts[1]
    else:
        tasks = {r.task for r in c.rows} - {ALL}
        task, label = (ALL, MEAN) if len(tasks) > 1 else (tasks.pop(), MACRO)
    row = c.row(task, label)
    if row is None:
        return f"{head}; the runner-up has no {optimize} to compare", None
    what = MEAN if task == ALL else f"{task} {label}" + ("" if label == MACRO else " F1")
    ci = (f" [{row.low:+.4f}, {row.high:+.4f}]{'*' if row.widened else ''}"
          if np.isfinite(row.low) else "")
    return (f"{head}, over the runner-up (job #{runner['job']}) by {row.diff:+.4f} {what}"
            f"{ci}, better in {row.b_wins:.0%} of {row.draws} paired draws over "
            f"{'articles' if c.grouped else 'units'} (worse in {row.a_wins:.0%})"), row


def sweep_jobs(sweep_dir: Path) -> list[dict[str, Any]]:
    """A sweep's jobs in the order of their numbers, each as its last record in the
    sweep's ``results.jsonl``: ``status`` started (not finished: under way, or stopped
    by the launcher), finished (with its objective, run, model and predictions), failed
    (its ``error``), died (its process was killed: ``signal``), lost (the launcher
    lost a worker process before it finished) or stopped (the sweep was interrupted
    before it finished); a job lost or stopped says whether it ``started``, ``why`` it
    did not finish and the command that runs it again (``rerun``)."""
    results = sweep_dir / "results.jsonl"
    if not results.is_file():
        return []
    jobs: dict[int, dict[str, Any]] = {}
    for x in results.read_text(encoding="utf-8").splitlines():
        if x:
            record = json.loads(x)
            record.setdefault("status", "finished")
            jobs[record["job"]] = record
    return [jobs[k] for k in sorted(jobs)]


def job_overrides(job: dict[str, Any]) -> str:
    """A sweep job's overrides as a user gave them (not Hydra's, not where it logs)."""
    return " ".join(o for o in job["overrides"] if not o.startswith(("hydra", "tracking")))


def rerun_command(overrides: Sequence[str]) -> str:
    """The command that runs one sweep job again, alone (its overrides, not Hydra's)."""
    return " ".join(["framing-train", *(o for o in overrides if not o.startswith("hydra"))])


def varying_overrides(jobs: Sequence[Sequence[str]]) -> list[str]:
    """Each job's overrides as :func:`job_overrides` gives them, less those every job of
    ``jobs`` shares when there are several (what tells them apart)."""
    shown = [job_overrides({"overrides": list(j)}).split() for j in jobs]
    if len(shown) < 2:
        return [" ".join(j) for j in shown]
    common = set(shown[0]).intersection(*shown[1:])
    return [" ".join(o for o in j if o not in common) for j in shown]


def sweep_summary(sweep_dir: Path, uri: str | None, optimize: str | None = None
                  ) -> list[str]:
    """Rank a sweep's finished jobs by objective (lines to print) and list those that
    died or did not finish, say by how much the best beats the runner-up
    (:func:`best_margin`) and, when the sweep was tracked, give its parent run the best
    child's id, overrides, params, objective and margin."""
    every = sweep_jobs(sweep_dir)
    if not every:
        return []
    jobs = [j for j in every if j["status"] == "finished"]
    jobs.sort(key=lambda j: -j["objective"])
    lines = ["sweep results, best first (objective; job; overrides; run):" if jobs else
             "sweep results: no job finished"]
    for j in jobs:
        lines.append(f"  {j['objective']:.4f}  #{j['job']}  {job_overrides(j)}  "
                     f"{j['run_id'] or ''}")
    for j in every:
        if j["status"] == "died":
            lines.append(f"  died    #{j['job']}  {job_overrides(j)}  (its process was "
                         f"killed by {j.get('signal')}; run {j.get('run_id') or 'none'})")
        elif j["status"] == "failed":
            lines.append(f"  failed  #{j['job']}  {job_overrides(j)}  "
                         f"({str(j.get('error'))[:300]})")
        elif j["status"] == "started":
            lines.append(f"  stopped #{j['job']}  {job_overrides(j)}  (did not finish)")
        elif j["status"] in ("lost", "stopped"):
            lines.append(f"  {j['status']:<7} #{j['job']}  {job_overrides(j)}  ("
                         f"{'did not finish' if j.get('started') else 'did not start'}: "
                         f"{j.get('why') or 'the sweep stopped'})")
    if not jobs:
        return lines
    parent_file = sweep_dir / ".mlflow_parent_run"
    best = jobs[0]
    line, margin = best_margin(jobs, optimize)
    lines.append(line)
    if best.get("model"):
        lines.append(f"best model: {best['model']}")
    if uri and parent_file.is_file() and best.get("run_id"):
        from mlflow.entities import Metric, Param, RunTag
        from mlflow.tracking import MlflowClient

        client = MlflowClient(uri)
        parent = parent_file.read_text().strip()
        child = client.get_run(best["run_id"])
        stamp = int(child.info.end_time or 0)
        # the parent's row shows the best child's figures (its objective and the rest)
        figures = {**child.data.metrics, "best_objective": best["objective"]}
        if margin is not None:
            figures.update({k: float(v) for k, v in (
                ("best_margin", margin.diff), ("best_margin/ci_low", margin.low),
                ("best_margin/ci_high", margin.high), ("best_margin/win_share", margin.b_wins))
                if np.isfinite(v)})
        metrics = [Metric(k, v, stamp, 0) for k, v in figures.items()]
        for start in range(0, len(metrics), 900):  # MLflow's batch limit is 1,000
            client.log_batch(parent, metrics=metrics[start:start + 900])
        client.log_batch(parent, params=[Param(k, v) for k, v in child.data.params.items()],
                         tags=[RunTag("framing.best_run_id", best["run_id"]),
                               RunTag("framing.best_overrides", " ".join(best["overrides"]))])
        lines.append(f"best run {best['run_id']} is tagged on the sweep's parent run {parent}")
    return lines


def sweep_plan(hydra) -> list[list[str]] | None:
    """The overrides of every job of a sweep, in the order of their numbers, as Hydra's
    basic sweeper makes them from the sweep's config (``hydra``: its ``hydra`` node);
    None for another sweeper, or where they cannot be known."""
    try:
        from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
        from hydra.core.override_parser.overrides_parser import OverridesParser

        if hydra.sweeper.get("_target_") != f"{BasicSweeper.__module__}.BasicSweeper":
            return None
        given = [f"{k}={v}" for k, v in (hydra.sweeper.get("params") or {}).items()]
        parsed = OverridesParser.create().parse_overrides([*given, *hydra.overrides.task])
        batches = BasicSweeper.split_arguments(parsed, hydra.sweeper.get("max_batch_size"))
    except Exception:  # noqa: BLE001 - without a plan, the jobs' own records name them
        return None
    return [list(job) for batch in batches for job in batch]


def mark_runs_of(uri: str, experiment: str, pid: int, status: str = "FAILED") -> list[str]:
    """Mark ``status`` the runs that process ``pid`` of this host left unfinished (a sweep
    job whose process was killed); their ids. The store's errors are the caller's."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    exp = client.get_experiment_by_name(experiment)
    if exp is None:
        return []
    runs = client.search_runs([exp.experiment_id], filter_string=(
        f"tags.`framing.pid` = '{pid}' and tags.`framing.host` = '{socket.gethostname()}'"),
        max_results=100)
    # RUNNING, or KILLED already by another job's start (_end_stale_runs)
    runs = [r for r in runs if r.info.status not in ("FINISHED", "FAILED")]
    for r in runs:
        client.set_terminated(r.info.run_id, status)
    return [r.info.run_id for r in runs]


#: Seconds a stopped sweep waits for its jobs' processes to end.
STOPPED_JOB_WAIT = 10.0


def end_failed_sweep(sweep_dir: Path, uri: str | None, optimize: str | None = None,
                     status: str = "FAILED") -> list[str]:
    """A sweep that stopped on an error (``FAILED``) or a signal (``KILLED``): the summary
    of what finished, died or did not finish (:func:`sweep_summary`), its jobs' runs left
    RUNNING by processes that are gone marked KILLED, and its parent run marked
    ``status``; the lines to print."""
    try:
        lines = sweep_summary(sweep_dir, uri, optimize)
    except Exception as e:  # noqa: BLE001 - the summary of a broken sweep is a bonus
        lines = [f"no sweep summary: {_first_line(e)}"]
    # the jobs' processes the launcher stopped (killed, or ending on the same Ctrl-C)
    # are given a moment to end; the staged models they leave are removed
    for folder in sweep_dir.iterdir() if sweep_dir.is_dir() else ():
        if folder.is_dir():
            remove_stale_staging(folder, wait=STOPPED_JOB_WAIT)
    parent_file = sweep_dir / ".mlflow_parent_run"
    if not uri or not parent_file.is_file():
        return lines
    parent = parent_file.read_text().strip()
    try:
        from mlflow.tracking import MlflowClient

        client = MlflowClient(uri)
        exp_id = client.get_run(parent).info.experiment_id
        host = socket.gethostname()

        def left_running() -> list[tuple[Any, int]]:  # the runs and their processes
            found = client.search_runs([exp_id], filter_string=(
                f"attributes.status = 'RUNNING' and tags.`mlflow.parentRunId` = '{parent}'"),
                max_results=1000)
            return [(r, int(r.data.tags["framing.pid"])) for r in found
                    if r.data.tags.get("framing.host") == host
                    and r.data.tags.get("framing.pid", "").isdigit()]

        # a job's process that ends meanwhile marks its own run
        wait_gone({pid for _, pid in left_running()}, STOPPED_JOB_WAIT)
        for r, pid in left_running():
            if not alive(pid):
                client.set_terminated(r.info.run_id, "KILLED")
                lines.append(f"run {r.info.run_id} ({r.info.run_name}) was left RUNNING "
                             "by a job the launcher stopped: marked KILLED")
        client.set_terminated(parent, status)
        lines.append(f"the sweep's parent run {parent} is marked {status}")
    except Exception as e:  # noqa: BLE001 - the store may be what failed
        lines.append(f"the sweep's parent run {parent} could not be marked {status}: "
                     f"{_first_line(e)}")
    return lines


class SweepSummary:
    """Hydra callback: at the end of a multirun, print the ranked jobs and mark the best.

    Hydra instantiates it from ``hydra.callbacks`` (``conf/train.yaml``). At the start it
    notes where the sweep writes and logs (:attr:`started`), for the summary of a sweep
    that stops on an error (:func:`end_failed_sweep`).
    """

    #: The sweep this process runs: (its folder, the tracking URI or None, the objective).
    started: tuple[Path, str | None, str | None] | None = None
    #: The overrides of each job of the sweep this process runs (:func:`sweep_plan`).
    plan: list[list[str]] | None = None
    #: The records of the jobs of the sweep that ended whose processes died.
    died: list[dict[str, Any]] = []

    def on_multirun_start(self, config, **kwargs) -> None:
        """Note the sweep's folder and store, and its jobs."""
        try:
            SweepSummary.started = self._where(config)
        except Exception as e:  # noqa: BLE001 - a summary must not fail the sweep
            log.warning("no sweep summary: %s", _first_line(e))
        SweepSummary.plan = sweep_plan(config.hydra)

    def on_multirun_end(self, config, **kwargs) -> None:
        """Print the ranking; tag the parent run when tracking is on."""
        SweepSummary.started = None
        try:
            where = self._where(config)
            jobs = sweep_jobs(where[0])
            SweepSummary.died = [j for j in jobs if j["status"] == "died"]
            if any(j["status"] != "finished" for j in jobs):  # its parent run FAILED
                lines = end_failed_sweep(*where)
            else:
                lines = sweep_summary(*where)
        except Exception as e:  # noqa: BLE001 - a summary must not fail the sweep
            log.warning("no sweep summary: %s", _first_line(e))
            return
        for line in lines:
            print(line, flush=True)

    @staticmethod
    def _where(config) -> tuple[Path, str | None, str | None]:
        uri = config.tracking.uri if config.tracking.enabled else None
        optimize = (config.get("eval") or {}).get("optimize")
        return Path(config.hydra.sweep.dir).resolve(), uri, optimize

    def __getattr__(self, name):
        # The other callback hooks (on_job_start, ...) do nothing.
        if name.startswith("on_"):
            return lambda *a, **k: None
        raise AttributeError(name)
