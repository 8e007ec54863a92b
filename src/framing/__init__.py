"""framing: theme and tone classification of news paragraphs.

The public surface is small: :func:`load` a trained bundle and call
:meth:`Predictor.predict`. Training (``framing-train``) lives in submodules that import
Hydra, MLflow and datasets only when used.
"""

from framing.errors import FramingConfigError, FramingDataError, FramingError, ModelLoadError
from framing.predictor import Predictor, load

__version__ = "0.1.0"

__all__ = ["FramingConfigError", "FramingDataError", "FramingError", "ModelLoadError",
           "Predictor", "__version__", "load"]
