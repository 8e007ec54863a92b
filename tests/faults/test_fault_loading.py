"""Loading never runs what a file names: a malicious model is refused before anything of
it runs; every model framing writes still loads; digests are checked and reported."""

import os
import warnings

import joblib
import numpy as np
import pytest

import framing
from framing.model import read_bundle, sha_path
from framing.storage import sha256_file


class Payload:
    """Pickles as a call of ``func(*args)``: what a malicious file does."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def with_digest(path):
    sha_path(path).write_text(f"{sha256_file(path)}  {path.name}\n")
    return path


@pytest.mark.parametrize("where", ["whole file", "inside a working model", "in an array"])
@pytest.mark.parametrize("func", [os.system, eval, exec], ids=["os.system", "eval", "exec"])
def test_a_malicious_model_is_refused_before_it_runs(tiny, tmp_path, where, func):
    marker = tmp_path / "pwned"
    arg = (f"touch {marker}" if func is os.system else
           f"open({str(marker)!r}, 'w').close()")
    payload = Payload(func, arg)
    if where == "whole file":
        obj = payload
    else:
        obj = read_bundle(tiny)
        if where == "inside a working model":
            obj["card"]["extra"] = payload
        else:
            obj["card"]["extra"] = np.array([payload, 1], dtype=object)
    path = tmp_path / "evil.joblib"
    joblib.dump(obj, path)
    with_digest(path)  # a matching digest does not make it trusted
    with pytest.raises(framing.ModelLoadError, match=r"refused to load: it names "
                                                     r"'(posix\.system|builtins\.e(val|xec))'"
                                                     r".*trusted=True"):
        framing.load(path)
    assert not marker.exists()


def test_trusted_loading_is_an_explicit_choice(tiny, tmp_path):
    bundle = read_bundle(tiny)
    bundle["card"]["extra"] = Payload(str, "harmless")  # builtins.str is allowed anyway
    bundle["card"]["other"] = Payload(os.getcwd)
    path = tmp_path / "odd.joblib"
    joblib.dump(bundle, path)
    with_digest(path)
    with pytest.raises(framing.ModelLoadError, match="'posix.getcwd'"):
        framing.load(path)
    assert framing.load(path, trusted=True).card["other"] == os.getcwd()


def test_missing_or_odd_digest_files(tiny, tmp_path):
    path = tmp_path / "m.joblib"
    path.write_bytes(tiny.read_bytes())
    with pytest.warns(UserWarning, match=r"no m\.joblib\.sha256 beside it"):
        framing.load(path)
    with pytest.raises(framing.ModelLoadError, match=r"no m\.joblib\.sha256 beside it"):
        framing.load(path, verify="strict")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        framing.load(path, verify=False)
    sha_path(path).mkdir()
    with pytest.raises(framing.ModelLoadError, match=r"m\.joblib\.sha256: is a folder"):
        framing.load(path)
    with pytest.raises(framing.ModelLoadError, match="is a folder. Give the .joblib"):
        framing.load(tmp_path)


def test_bad_loading_options_are_refused(tiny):
    with pytest.raises(ValueError, match="on_version_mismatch='bogus'"):
        framing.load(tiny, on_version_mismatch="bogus")
    with pytest.raises(ValueError, match="verify='maybe'"):
        framing.load(tiny, verify="maybe")


@pytest.mark.parametrize("overrides", [
    ["model=prior"], ["model=logreg"], ["model=linear_svm"], ["model=sgd"], ["model=ridge"],
    ["model=cnb"], ["model=nbsvm"], ["model=ensemble"],
    ["features=hashing", "features.hashing.n_features=4096"],
    ["features=text"], ["model=sgd", "model.sgd_loss=modified_huber"],
], ids=lambda o: " ".join(o))
def test_every_model_framing_writes_passes_the_safe_loader(tmp_path, overrides):
    texts = ["match goal team. They said it was great.", "minister vote law.",
             "coach league player!", "party election parliament?"] * 6
    model, _ = framing.fit(texts, {"topic": ["sport", "politics"] * 12,
                                   "tags": [["a"], ["b"], ["a", "b"], []] * 6},
                           overrides=["eval.n_boot=0", "features.voice.label=topic:sport",
                                      "features.voice.scorer=subjectivity", *overrides])
    back = framing.load(model.save(tmp_path / "m.joblib"), verify="strict")
    for t, p in model.predict_proba(texts).items():
        assert np.allclose(back.predict_proba(texts)[t], p)
