"""The predictor as an MLflow pyfunc model: ``mlflow.pyfunc.load_model`` and
``mlflow models serve`` take a column ``text`` and return labels and scores per task.

The model is logged with ``loader_module`` (this module) and the bundle as its data, so
loading it runs :func:`_load_pyfunc` on the bundle: no pickled wrapper object.
"""

from __future__ import annotations

from pathlib import Path


class PyfuncPredictor:
    """What MLflow calls: ``predict(model_input, params=None)``."""

    def __init__(self, predictor):
        self.predictor = predictor

    def predict(self, model_input, params=None):
        """A DataFrame with one column per task (labels) and ``<task>/<label>`` scores; a
        blank text's scores are None (JSON ``null`` from the scoring server), not NaN,
        which JSON has no word for."""
        import pandas as pd

        if isinstance(model_input, pd.DataFrame):
            out = self.predictor.predict_frame(model_input, "text").reset_index(drop=True)
        else:
            if isinstance(model_input, str):
                model_input = [model_input]
            out = to_frame(self.predictor, [str(t) for t in model_input])
        return json_ready(out)


def json_ready(frame):
    """``frame`` with each missing value (a blank text's scores, NaN, and its single
    label, which pandas' string columns hold as NaN too) as None, so that ``json.dumps``
    of its records, as the scoring server writes them, is valid JSON."""
    for c in frame.columns:
        col = frame[c]
        if col.isna().any():
            frame[c] = col.astype(object).where(col.notna(), None)
    return frame


def _load_pyfunc(data_path: str) -> PyfuncPredictor:
    """MLflow's loader hook: the bundle file (its digest is checked)."""
    import framing

    path = Path(data_path)
    if path.is_dir():
        path = next(path.glob("*.joblib"))
    return PyfuncPredictor(framing.load(path))


def to_frame(predictor, texts):
    """Predictions as a DataFrame — :meth:`framing.FramingModel.predict_frame`'s columns:
    ``<task>`` labels and ``<task>/<label>`` scores."""
    import pandas as pd

    return predictor.predict_frame(pd.DataFrame({"text": [str(t) for t in texts]})
                                   ).reset_index(drop=True)


def log_pyfunc(bundle_path: str | Path, example_texts: list[str], name: str = "model",
               registered_model_name: str | None = None, model=None):
    """Log the model file as the run's MLflow model ``name`` (registered under
    ``registered_model_name`` if given) with a signature and an input example; return
    MLflow's ``ModelInfo`` (its ``model_id`` names it: ``models:/<model_id>``).

    ``model``: the model the file holds, in memory, whose predictions on the examples
    give the signature (a large model file is then not read once more for it); None
    reads the file. The file is linked into the MLflow model where the file system
    allows, else copied."""
    import shutil
    import tempfile

    import mlflow.pyfunc
    import pandas as pd
    from mlflow.models import infer_signature

    import framing
    from framing.predict.model import sha_path

    predictor = model if model is not None else framing.load(bundle_path)
    example = pd.DataFrame({"text": list(example_texts)})
    signature = infer_signature(example, to_frame(predictor, example["text"]))
    package = Path(framing.__file__).resolve().parent
    versions = predictor.card["versions"]
    try:  # beside the file, where it can be linked
        workdir = tempfile.TemporaryDirectory(dir=Path(bundle_path).parent)
    except OSError:
        workdir = tempfile.TemporaryDirectory()
    with workdir as tmp:
        data = Path(tmp) / "bundle"
        data.mkdir()
        _link_or_copy(Path(bundle_path), data / Path(bundle_path).name)
        shutil.copy2(sha_path(bundle_path), data / sha_path(bundle_path).name)
        card = Path(bundle_path).with_name(f"{Path(bundle_path).stem}.card.md")
        if card.is_file():
            shutil.copy2(card, data / card.name)
        code = Path(tmp) / "framing"  # the package's code, without compiled caches
        shutil.copytree(package, code, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        return mlflow.pyfunc.log_model(
            name=name, registered_model_name=registered_model_name,
            loader_module="framing.track.pyfunc", data_path=str(data),
            code_paths=[str(code)], signature=signature, input_example=example,
            pip_requirements=[f"{lib}=={versions[lib]}" for lib in
                              ("scikit-learn", "numpy", "scipy", "joblib")] + ["pandas"])


def _link_or_copy(src: Path, dst: Path) -> None:
    """``dst`` as a hard link to ``src`` (no copy of a large file), else a copy."""
    import os
    import shutil

    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
