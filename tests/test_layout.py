"""The package's move into subpackages changed no result and broke no old path."""

import importlib
import json
import subprocess
import sys
import warnings

import numpy as np
import pytest

import framing

from conftest import ROOT

DATA = ROOT / "tests" / "data"


def _seed_texts():
    return [json.loads(line)["text"] for line in
            (ROOT / "seeds" / "paragraphs.jsonl").read_text().splitlines() if line.strip()]


def test_a_model_saved_before_the_move_loads_and_scores_as_it_did():
    # model-0.2.0.joblib: framing-train's default on the seeds, written by framing 0.2
    # with the flat package (its scikit-learn part names framing.features, framing.models)
    want = json.loads((DATA / "model-0.2.0.scores.json").read_text())
    texts = _seed_texts()
    assert len(texts) == want["texts"] == 55
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # read through the table, no deprecation warning
        model = framing.load(DATA / "model-0.2.0.joblib")
        fast = model.scores(texts)
        slow = model.scores(X=model.features.transform(texts))  # the unpickled sklearn part
    # the same labels, and the same scores up to the last bits of a float sum (another
    # CPU's BLAS may add in another order; a changed computation moves them far more)
    assert model.predict(texts) == want["labels"]
    for task in ("theme", "tone"):
        np.testing.assert_allclose(fast[task], want["scores"][task], rtol=0, atol=1e-12)
        np.testing.assert_allclose(slow[task], want["sklearn_scores"][task], rtol=0, atol=1e-12)
    assert type(model.features.transformer_list[0][1]).__module__.startswith("framing.learn.")


@pytest.mark.parametrize("old, new", [("framing.model", "framing.predict.model"),
                                      ("framing.features", "framing.learn.features"),
                                      ("framing.tracking", "framing.track.runs")])
def test_old_module_paths_still_import_with_a_deprecation_warning(old, new):
    code = (f"import warnings; warnings.simplefilter('always'); import {old} as m; "
            f"import {new} as n; assert m is n, (m, n)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert f"DeprecationWarning: {old} moved to {new}" in r.stderr


def test_old_names_of_what_became_packages_still_answer():
    from framing.config import tree
    from framing.data import Corpus, load_corpus

    config = importlib.import_module("framing.config")
    # framing 0.2's framing.config.compose and framing.config.config_dir
    assert config.config_dir is tree.config_dir and config.compose is tree.compose
    assert Corpus.__module__ == "framing.data.corpus" and callable(load_corpus)
