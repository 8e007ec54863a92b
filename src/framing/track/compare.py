"""The two sides of ``framing compare``: MLflow runs, model files and run folders, each
to its out-of-fold predictions (or its model, to predict a test file); the comparison's
report logged to the newer of two runs.

MLflow is imported only when a side is a run id (or the report is logged), so a
comparison of files needs no store.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framing.core.errors import FramingDataError, TrackingError
from framing.evaluate.compare import PREDICTIONS, predictions_path, read_records
from framing.track.runs import _first_line, check_server

RUN_ID = re.compile(r"[0-9a-f]{32}")


@dataclass
class Side:
    """One side: what it is (``run``, ``model``, ``folder``, ``predictions``), how it
    is named in the report, its out-of-fold records (None until read) and, for a run, its
    id and start time."""

    arg: str
    kind: str
    name: str
    records: list[dict[str, Any]] | None = None
    run_id: str | None = None
    start: int = 0
    model_path: Path | None = None


def project_uri() -> str:
    """The project's local store (as ``framing ui`` opens it)."""
    from framing.config.tree import project_root

    return f"sqlite:///{project_root() / 'mlflow.db'}"


def resolve(arg: str, uri: str, tmp: Path, need_model: bool = False) -> Side:
    """A command-line argument to a side: a folder (a run's output folder, a sweep job's
    folder), a file (a model ``.joblib``, or out-of-fold predictions ``.jsonl``) or an
    MLflow run id. With ``need_model`` the side's model file is found (``--test``);
    otherwise its out-of-fold predictions are read."""
    path = Path(arg)
    if path.is_dir():
        return _folder(path, need_model)
    if path.is_file():
        if path.suffix == ".jsonl":
            if need_model:
                raise FramingDataError(f"{path}: predictions, not a model; with --test give "
                                       "two model files (.joblib) or run ids.")
            return Side(arg, "predictions", str(path), read_records(path))
        return _model(path, uri, tmp, need_model)
    if RUN_ID.fullmatch(arg):
        return _run(arg, uri, tmp, need_model)
    raise FramingDataError(f"{arg}: no such file or folder, and not an MLflow run id (32 "
                           "hexadecimal digits); give a run id (framing ui lists them), a "
                           "model file (.joblib) or a run's output folder.")


def load_model(path: Path):
    """``framing.load``; its warnings about the file (no digest beside it) are given
    only when the file then loads: a file that is not a model gets its error alone."""
    import warnings

    import framing

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = framing.load(path)  # not a model: ModelLoadError, one line
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return model


def _model(path: Path, uri: str, tmp: Path, need_model: bool) -> Side:
    model = load_model(path)
    side = Side(str(path), "model", f"model {path}", model_path=path,
                run_id=model.card.get("mlflow_run_id"))
    if need_model:
        return side
    oof = predictions_path(path)
    if oof.is_file():
        side.records = read_records(oof)
        return side
    if side.run_id and _store_exists(uri):  # a model written before the file beside it
        try:
            side.records = _run(side.run_id, uri, tmp, False).records
            return side
        except FramingDataError:
            pass
    raise FramingDataError(f"{path}: no out-of-fold predictions beside the model ({oof.name}) "
                           "nor in its MLflow run; train it again with framing-train to "
                           "write them, or compare the two models on a labelled file with "
                           "--test FILE.")


def _folder(folder: Path, need_model: bool) -> Side:
    if need_model:
        models = sorted(folder.glob("*.joblib"))
        if len(models) != 1:
            raise FramingDataError(f"{folder}: {'no' if not models else len(models)} model "
                                   "files (.joblib) in this folder; with --test give the "
                                   "model file itself.")
        load_model(models[0])
        return Side(str(folder), "folder", f"folder {folder}", model_path=models[0])
    found = [folder / PREDICTIONS] if (folder / PREDICTIONS).is_file() else sorted(
        folder.glob("*.oof.jsonl"))
    if len(found) != 1:
        what = "no out-of-fold predictions" if not found else \
            f"{len(found)} files of out-of-fold predictions ({', '.join(p.name for p in found)})"
        raise FramingDataError(f"{folder}: {what} in this folder ({PREDICTIONS} or "
                               "<model>.oof.jsonl); give a run's output folder, a sweep "
                               "job's folder, one file of them, a model file or a run id.")
    return Side(str(folder), "folder", f"folder {folder}", read_records(found[0]))


def _store_exists(uri: str) -> bool:
    return not uri.startswith("sqlite:///") or Path(uri.removeprefix("sqlite:///")).is_file()


def _client(uri: str):
    if not _store_exists(uri):
        raise FramingDataError(f"no MLflow store at {uri.removeprefix('sqlite:///')}: give the "
                               "store that holds the runs with --uri (e.g. "
                               "--uri sqlite:///path/mlflow.db), or give model files.")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    check_server(uri)
    from mlflow.tracking import MlflowClient

    return MlflowClient(uri)


def _run(run_id: str, uri: str, tmp: Path, need_model: bool) -> Side:
    client = _client(uri)
    try:
        run = client.get_run(run_id)
    except Exception as e:  # noqa: BLE001 - MLflow raises many types
        if "RESOURCE_DOES_NOT_EXIST" in str(getattr(e, "error_code", "")) or \
                "not found" in str(e):
            raise FramingDataError(f"run {run_id} is not in the MLflow store {uri}; check the "
                                   "id (framing ui lists the runs), or give the store that "
                                   "holds it with --uri.") from None
        raise TrackingError(f"cannot read the MLflow store {uri}: {_first_line(e)}") from None
    exp = client.get_experiment(run.info.experiment_id)
    name = f"run {run_id} {run.info.run_name!r} ({exp.name if exp else 'experiment ?'})"
    side = Side(run_id, "run", name, run_id=run_id, start=int(run.info.start_time or 0))
    dest = tmp / run_id
    dest.mkdir(parents=True, exist_ok=True)
    if need_model:
        side.model_path = _run_model(client, run, dest, uri)
        return side
    try:
        local = client.download_artifacts(run_id, PREDICTIONS, str(dest))
    except Exception:  # noqa: BLE001 - a missing artifact, by MLflow's many errors
        role = run.data.tags.get("framing.role")
        why = f" (it is a {role} run)" if role else ""
        raise FramingDataError(f"run {run_id} has no out-of-fold predictions ({PREDICTIONS})"
                               f"{why}; give a training run of framing-train.") from None
    side.records = read_records(local)
    return side


def _run_model(client, run, dest: Path, uri: str) -> Path:
    """A run's model file: from its logged MLflow model, or its ``predictor/`` artifact."""
    from mlflow.artifacts import download_artifacts

    run_id = run.info.run_id
    try:
        models = client.search_logged_models(
            [run.info.experiment_id], filter_string=f"source_run_id = '{run_id}'")
    except Exception:  # noqa: BLE001 - an old store without logged models
        models = []
    sources = [f"{m.artifact_location.rstrip('/')}/data/bundle" for m in models]
    sources.append(f"{run.info.artifact_uri.rstrip('/')}/predictor")
    for src in sources:
        try:
            local = Path(download_artifacts(artifact_uri=src, dst_path=str(dest),
                                            tracking_uri=uri))
        except Exception:  # noqa: BLE001 - not there: the next place
            continue
        found = sorted(local.glob("*.joblib")) if local.is_dir() else [local]
        if found:
            return found[0]
    raise FramingDataError(f"run {run_id} has no model file (no logged model, no predictor/ "
                           "artifact); give its model file (.joblib) instead.")


def newer(a: Side, b: Side) -> tuple[Side, Side]:
    """(the run that started later, the other)."""
    return (b, a) if b.start >= a.start else (a, b)


def log_comparison(uri: str, target: Side, other: Side, comparison, test: str | None = None
                   ) -> str:
    """Log the comparison (``comparison.md``, ``.html``, ``.json``, ``.png``) to the run
    ``target`` under ``comparisons/<other run id>/`` (``<other run id>-on-<test file>``
    for a comparison on a test file); return that artifact folder."""
    from framing.evaluate.plots import save_png

    client = _client(uri)
    folder = f"comparisons/{other.run_id}"
    if test:
        folder += "-on-" + re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(test).stem)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp)
            for suffix in (".md", ".html", ".json"):
                (out / f"comparison{suffix}").write_text(comparison.report(suffix),
                                                          encoding="utf-8")
            save_png(comparison.figure(), out / "comparison.png")
            client.log_artifacts(target.run_id, str(out), artifact_path=folder)
    except OSError:
        raise
    except Exception as e:  # noqa: BLE001 - MLflow raises many types
        raise TrackingError(f"cannot log the comparison to run {target.run_id} in {uri}: "
                            f"{_first_line(e)}") from None
    return folder
