"""Where each module of framing 0.2's flat package now lives.

Model files written by framing 0.2 name their classes by the old paths
(``framing.features.CodebookLexicon``); :func:`framing.load` reads them through this
table. Code that imports an old path (``import framing.model``) gets the new module and a
``DeprecationWarning``; the old paths go in the next release.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

#: old module (under ``framing.``) -> new module
MOVED: dict[str, str] = {
    "errors": "core.errors", "tasks": "core.tasks", "metrics": "core.metrics",
    "tokens": "text.tokens", "terms": "text.terms", "sentences": "text.sentences",
    "corpus": "text.segment",
    "runtime": "predict.runtime", "safeload": "predict.safeload",
    "storage": "predict.storage", "model": "predict.model", "card": "predict.card",
    "schema": "config.schema", "config": "config.tree", "data": "data.corpus",
    "features": "learn.features", "models": "learn.estimators", "fastpath": "learn.compile",
    "fitting": "learn.fitting", "choice": "learn.choice",
    "splits": "evaluate.splits", "baselines": "evaluate.baselines",
    "evaluation": "evaluate.evaluation", "curve": "evaluate.curve",
    "issues": "evaluate.issues", "plots": "evaluate.plots",
    "trainer": "pipeline.trainer",
    "annotation": "annotate.records", "agreement": "annotate.agreement",
    "selection": "annotate.selection", "labelstudio": "annotate.labelstudio",
    "loop_sim": "annotate.simulate",
    "scale": "scale.shards", "stream": "scale.stream",
    "tracking": "track.runs", "mlflow_model": "track.pyfunc",
    "train": "cli.train", "cli": "cli.main",
}


def renamed(module: str) -> str:
    """The current name of a module a 0.2 file or import names (unchanged if current)."""
    head, _, rest = module.partition(".")
    if head != "framing" or rest not in MOVED:
        return module
    return "framing." + MOVED[rest]


class _OldPaths(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``framing.<old>`` for the old names that are no package of their own now."""

    def find_spec(self, fullname, path=None, target=None):
        head, _, rest = fullname.partition(".")
        if head != "framing" or rest not in MOVED or "." in rest:
            return None
        if rest in _PACKAGES:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        new = "framing." + MOVED[spec.name.split(".", 1)[1]]
        warnings.warn(f"{spec.name} moved to {new}; the old path goes in the next release",
                      DeprecationWarning, stacklevel=3)
        return importlib.import_module(new)

    def exec_module(self, module):
        pass


#: old names that are packages now (they answer for themselves)
_PACKAGES = {"config", "data", "scale", "cli"}


def install() -> None:
    """Put the old paths' finder at the end of ``sys.meta_path`` (once)."""
    if not any(isinstance(f, _OldPaths) for f in sys.meta_path):
        sys.meta_path.append(_OldPaths())
