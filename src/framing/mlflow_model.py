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
        """A DataFrame with one column per task (labels) and ``<task>/<label>`` scores."""
        import pandas as pd

        if isinstance(model_input, pd.DataFrame):
            model_input = model_input["text"].tolist()
        elif isinstance(model_input, str):
            model_input = [model_input]
        return to_frame(self.predictor, [str(t) for t in model_input])


def _load_pyfunc(data_path: str) -> PyfuncPredictor:
    """MLflow's loader hook: the bundle file (its digest is checked)."""
    import framing

    path = Path(data_path)
    if path.is_dir():
        path = next(path.glob("*.joblib"))
    return PyfuncPredictor(framing.load(path))


def to_frame(predictor, texts):
    """Predictions as a DataFrame: ``<task>`` labels and ``<task>/<label>`` scores."""
    import pandas as pd

    rows = []
    for r in predictor.predict(list(texts)):
        row = {}
        for t in predictor.tasks:
            row[t] = r[t] if predictor.kinds[t] == "multiclass" else list(r[t])
            for lab in predictor.labels[t]:
                row[f"{t}/{lab}"] = float(r["scores"][t].get(lab, 0.0))
        rows.append(row)
    return pd.DataFrame(rows)


def log_pyfunc(bundle_path: str | Path, example_texts: list[str]):
    """Log the bundle as the run's model ``model`` with a signature and an input example."""
    import shutil
    import tempfile

    import mlflow.pyfunc
    import pandas as pd
    from mlflow.models import infer_signature

    import framing
    from framing.model import sha_path

    predictor = framing.load(bundle_path)
    example = pd.DataFrame({"text": list(example_texts)})
    signature = infer_signature(example, to_frame(predictor, example["text"]))
    package = Path(framing.__file__).resolve().parent
    versions = predictor.card["versions"]
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "bundle"
        data.mkdir()
        shutil.copy2(bundle_path, data / Path(bundle_path).name)
        shutil.copy2(sha_path(bundle_path), data / sha_path(bundle_path).name)
        return mlflow.pyfunc.log_model(
            name="model", loader_module="framing.mlflow_model", data_path=str(data),
            code_paths=[str(package)], signature=signature, input_example=example,
            pip_requirements=[f"{lib}=={versions[lib]}" for lib in
                              ("scikit-learn", "numpy", "scipy", "joblib")] + ["pandas"])
