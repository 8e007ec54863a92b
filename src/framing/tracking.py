"""MLflow tracking: one run per job, a parent run per sweep, everything a comparison needs.

Params are the composed config flattened; metrics are every evaluation figure under stable
names; artifacts are the config, Hydra's folder, the codebook, the per-label report,
out-of-fold predictions, plots, top features, the model card and the bundle; the model is
logged as an MLflow pyfunc with a signature; the corpus as a dataset input.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf

from framing import __version__
from framing.errors import TrackingError

log = logging.getLogger(__name__)

MAX_PARAM_VALUE = 6000
SWEEP_TAG = "framing.sweep_dir"


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


def run_name(cfg: DictConfig) -> str:
    """The experiment name (or config) and the command-line overrides."""
    if cfg.get("run_name"):
        return str(cfg.run_name)
    base, overrides = "default", []
    with contextlib.suppress(Exception):  # no Hydra context: a plain call of train()
        from hydra.core.hydra_config import HydraConfig

        if HydraConfig.initialized():
            hc = HydraConfig.get()
            base = hc.runtime.choices.get("experiment") or "default"
            overrides = [o for o in hc.overrides.task
                         if not o.startswith(("experiment=", "hydra", "tracking", "output.",
                                              "paths."))]
    return " ".join([base, *overrides])[:250]


@dataclass
class Tracker:
    """Where runs go; ``enabled=False`` makes every call a no-op."""

    enabled: bool
    uri: str | None = None
    artifact_location: str | None = None
    experiment_name: str = "framing"
    log_model: bool = True

    @classmethod
    def from_config(cls, cfg: DictConfig) -> Tracker:
        """Build from ``cfg.tracking`` and check the store before any training."""
        t = cfg.tracking
        tracker = cls(bool(t.enabled), t.get("uri"), t.get("artifact_location"),
                      str(t.get("experiment_name") or "framing"), bool(t.get("log_model", True)))
        if tracker.enabled:
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
        db.parent.mkdir(parents=True, exist_ok=True)
        with open(db.with_name(db.name + ".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            from mlflow.tracking import MlflowClient

            try:
                MlflowClient(self.uri).search_experiments(max_results=1)
            except Exception as e:
                raise TrackingError(f"cannot open the MLflow store {self.uri}: {e}. Move the "
                                    "file away to start a new store.") from None

    def _experiment_id(self, client) -> str:
        exp = client.get_experiment_by_name(self.experiment_name)
        if exp is not None:
            return exp.experiment_id
        try:
            return client.create_experiment(self.experiment_name,
                                            artifact_location=self._artifact_uri())
        except Exception:  # noqa: BLE001 - a parallel job created it first
            exp = client.get_experiment_by_name(self.experiment_name)
            if exp is None:
                raise
            return exp.experiment_id

    def _artifact_uri(self) -> str | None:
        if not self.artifact_location:
            return None
        loc = str(self.artifact_location)
        return loc if "://" in loc else Path(loc).resolve().as_uri()

    def _parent(self, client, exp_id: str, cfg: DictConfig) -> str | None:
        """The sweep's parent run id (created once, under a file lock), or None."""
        from hydra.core.hydra_config import HydraConfig
        from hydra.types import RunMode

        if not HydraConfig.initialized() or HydraConfig.get().mode != RunMode.MULTIRUN:
            return None
        sweep_dir = Path(HydraConfig.get().sweep.dir).resolve()
        sweep_dir.mkdir(parents=True, exist_ok=True)
        with open(sweep_dir / ".mlflow_parent.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            id_file = sweep_dir / ".mlflow_parent_run"
            if id_file.is_file():
                return id_file.read_text().strip()
            choices = HydraConfig.get().runtime.choices
            name = f"sweep {choices.get('experiment') or 'default'} {sweep_dir.name}"
            parent = client.create_run(exp_id, run_name=name, tags={
                SWEEP_TAG: str(sweep_dir), "framing.version": __version__,
                "framing.role": "sweep"})
            client.set_terminated(parent.info.run_id)
            id_file.write_text(parent.info.run_id)
            return parent.info.run_id

    @contextlib.contextmanager
    def run(self, cfg: DictConfig, corpus) -> Iterator[RunLogger]:
        """A started MLflow run (child of the sweep's parent in a multirun)."""
        if not self.enabled:
            yield RunLogger(None, None, self)
            return
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        import mlflow
        from mlflow.tracking import MlflowClient

        mlflow.set_tracking_uri(self.uri)
        client = MlflowClient(self.uri)
        try:
            exp_id = self._experiment_id(client)
            parent = self._parent(client, exp_id, cfg)
        except Exception as e:
            raise TrackingError(f"cannot use the MLflow store {self.uri}: {e}") from None
        tags = {"framing.version": __version__, "framing.data_digest": corpus.digest(),
                "framing.data_name": corpus.name}
        commit = _git_commit(Path(cfg.paths.root))
        if commit:
            tags["framing.git_commit"] = commit
            tags["mlflow.source.git.commit"] = commit
        if parent:
            tags["mlflow.parentRunId"] = parent
        with mlflow.start_run(experiment_id=exp_id, run_name=run_name(cfg), tags=tags) as r:
            yield RunLogger(mlflow, r.info.run_id, self)

    @contextlib.contextmanager
    def run_plain(self, cfg: DictConfig, data_name: str) -> Iterator[RunLogger]:
        """A run for the streaming path (no in-memory corpus to digest)."""

        class _Named:
            name = data_name

            @staticmethod
            def digest():
                return "streamed"

        with self.run(cfg, _Named) as r:
            yield r


@dataclass
class RunLogger:
    """Logs one run's params, metrics, artifacts, model and dataset."""

    mlflow: Any
    run_id: str | None
    tracker: Tracker

    def log_all(self, cfg, corpus, evaluation, metrics, fitted, card, model_path) -> None:
        """Everything of one training run (no-op when tracking is off)."""
        if self.mlflow is None:
            return
        mlflow = self.mlflow
        container = OmegaConf.to_container(cfg, resolve=True)
        self._log_params_metrics(cfg, metrics)
        self._log_dataset(corpus)
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            _write_artifacts(tmp, cfg, container, corpus, evaluation, fitted, card)
            mlflow.log_artifacts(str(tmp))
        with contextlib.suppress(Exception):
            from hydra.core.hydra_config import HydraConfig

            if HydraConfig.initialized():
                hydra_dir = Path(HydraConfig.get().runtime.output_dir) / ".hydra"
                if hydra_dir.is_dir():
                    mlflow.log_artifacts(str(hydra_dir), artifact_path="hydra")
        if model_path is not None:
            self._log_bundle(model_path, corpus.texts[:3])

    def log_plain(self, cfg, metrics, model_path) -> None:
        """Params, metrics and the bundle of a streaming run (no-op when tracking is off)."""
        if self.mlflow is None:
            return
        self._log_params_metrics(cfg, metrics)
        if model_path is not None:
            self._log_bundle(model_path, ["example text"])

    def _log_params_metrics(self, cfg, metrics) -> None:
        self.mlflow.log_params(_params(cfg))
        self.mlflow.log_metrics({k.replace(":", "_"): float(v) for k, v in metrics.items()
                                 if v is not None and np.isfinite(v)})

    def _log_bundle(self, model_path, examples) -> None:
        mlflow = self.mlflow
        mlflow.log_artifact(str(model_path), artifact_path="predictor")
        for extra in (Path(str(model_path) + ".sha256"), model_path.parent / "MODEL_CARD.md"):
            if extra.is_file():
                mlflow.log_artifact(str(extra), artifact_path="predictor")
        if self.tracker.log_model:
            from framing.mlflow_model import log_pyfunc

            log_pyfunc(model_path, examples)

    def _log_dataset(self, corpus) -> None:
        import pandas as pd

        df = pd.DataFrame({"id": corpus.ids, "text": corpus.texts})
        for t in corpus.tasks:
            y = corpus.targets[t.name]
            df[t.name] = ([[lab for lab, v in zip(t.labels, row, strict=True) if v]
                           for row in y] if t.kind == "multilabel" else list(y))
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


def _params(cfg) -> dict[str, str]:
    """The composed config flattened to dotted keys, within MLflow's limits; the codebook
    and cue lists (artifacts) appear as digests."""
    container = OmegaConf.to_container(cfg, resolve=True)
    params = {}
    for k, v in flatten(container).items():
        if k.startswith(("codebook", "cues", "features.style.cues")):
            continue
        s = json.dumps(v) if isinstance(v, list | dict) else str(v)
        params[k[:250]] = s[:MAX_PARAM_VALUE]
    params["codebook.digest"] = _digest(container.get("codebook"))
    params["cues.digest"] = _digest(container.get("cues"))
    return params


def _digest(obj: Any) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


def _write_artifacts(out: Path, cfg, container, corpus, evaluation, fitted, card) -> None:
    """Config, codebook, report, out-of-fold predictions, top features, card, plots."""
    import csv

    import yaml

    (out / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    (out / "codebook.yaml").write_text(yaml.safe_dump(container.get("codebook") or {},
                                                      sort_keys=False, allow_unicode=True))
    (out / "cues.yaml").write_text(yaml.safe_dump(container.get("cues") or {},
                                                  sort_keys=False, allow_unicode=True))
    report = evaluation.report
    (out / "report.json").write_text(json.dumps({"strategy": evaluation.strategy,
                                                 "metrics": evaluation.metrics,
                                                 "labels": report, "notes": evaluation.notes},
                                                indent=2))
    keys = sorted({k for r in report for k in r}, key=lambda k: (k not in ("task", "label"), k))
    with open(out / "report.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        w.writerows(report)
    oof = evaluation.oof
    with open(out / "oof_predictions.jsonl", "w") as f:
        for i in np.flatnonzero(oof["evaluated"]):
            rec: dict[str, Any] = {"id": corpus.ids[i], "text": corpus.texts[i]}
            for t in corpus.tasks:
                y, p = corpus.targets[t.name][i], oof["preds"][t.name][i]
                if t.kind == "multilabel":
                    rec[f"{t.name}_true"] = [lab for lab, v in zip(t.labels, y, strict=True) if v]
                    rec[f"{t.name}_pred"] = [lab for lab, v in zip(t.labels, p, strict=True) if v]
                else:
                    rec[f"{t.name}_true"], rec[f"{t.name}_pred"] = str(y), str(p)
                rec[f"{t.name}_scores"] = {lab: round(float(s), 6) for lab, s in
                                           zip(t.labels, oof["scores"][t.name][i], strict=True)}
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    (out / "top_features.json").write_text(json.dumps(top_features(fitted, 20), indent=2,
                                                      ensure_ascii=False))
    (out / "model_card.json").write_text(json.dumps(card, indent=2, default=str))
    from framing.train import card_markdown

    (out / "MODEL_CARD.md").write_text(card_markdown(card))
    from framing.plots import write_plots

    write_plots(out / "plots", corpus, evaluation)


def top_features(fitted, k: int = 20) -> dict[str, dict[str, list]]:
    """Per task and label, the k features with the largest positive weight."""
    from framing.features import feature_names

    names = feature_names(fitted.features)
    out: dict[str, dict[str, list]] = {}
    for t in fitted.tasks:
        if t.name not in fitted.models:
            continue
        m = fitted.models[t.name]
        rows: dict[str, np.ndarray] = {}
        if t.kind == "multilabel":
            for lab, est in zip(t.labels, m.estimators_, strict=True):
                if hasattr(est, "coef_"):
                    rows[lab] = np.asarray(est.coef_).ravel()
        else:
            coef, classes = np.asarray(m.coef_), list(m.classes_)
            if coef.shape[0] == 1:
                rows[str(classes[1])], rows[str(classes[0])] = coef[0], -coef[0]
            else:
                rows = {str(c): coef[j] for j, c in enumerate(classes)}
        out[t.name] = {lab: [[str(names[i]), round(float(w[i]), 5)]
                             for i in np.argsort(-w, kind="stable")[:k]]
                       for lab, w in rows.items()}
    return out


def ui(root: Path, uri: str, host: str = "127.0.0.1", port: int = 5000) -> int:
    """Run the MLflow UI on a store until it is stopped; returns its exit status."""
    cmd = ["mlflow", "server", "--backend-store-uri", uri, "--host", host, "--port", str(port)]
    if uri.startswith("sqlite:"):
        cmd += ["--default-artifact-root", (root / "mlartifacts").as_uri()]
    exe = Path(sys.executable).with_name("mlflow")
    if exe.is_file():
        cmd[0] = str(exe)
    return subprocess.call(cmd)
