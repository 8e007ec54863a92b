"""framing: theme and tone classification of news paragraphs.

The public surface is small: :func:`load` a trained model and call
:meth:`FramingModel.predict`; :func:`fit` trains one from Python (the training side:
Hydra, MLflow and datasets are imported only then).
"""

from framing.core import moved as _moved
from framing.core.errors import FramingConfigError, FramingDataError, FramingError, ModelLoadError
from framing.core.version import __version__
from framing.predict.model import FramingModel, load

_moved.install()  # framing 0.2's module paths (framing.model, framing.features …), for now


#: The name of the model class in framing 0.1, kept for code written against it.
Predictor = FramingModel

__all__ = ["FramingConfigError", "FramingDataError", "FramingError", "FramingModel",
           "ModelLoadError", "Predictor", "__version__", "fit", "load"]


def __getattr__(name: str):
    # framing.fit lives on the training side: import it on first use only.
    if name == "fit":
        from framing.pipeline.trainer import fit

        return fit
    raise AttributeError(f"module 'framing' has no attribute {name!r}")
