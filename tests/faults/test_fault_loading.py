"""Loading never runs what a file names: a malicious model is refused before anything of
it runs; every model framing writes still loads; digests are checked and reported."""

import os
import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest

import framing
from framing.predict.model import read_bundle, sha_path
from framing.predict.storage import sha256_file

from conftest import ROOT, run_cli


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
    for garbled in ("", "not a digest\n"):  # said so, not "the model was changed"
        sha_path(path).write_text(garbled)
        with pytest.raises(framing.ModelLoadError, match=r"m\.joblib\.sha256: holds no "
                           r"SHA-256 digest \(empty or damaged\)"):
            framing.load(path)
    sha_path(path).unlink()
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


def _version_3(path, head: bytes, body: bytes):
    """A model file of the current format from its two sections (and its digest)."""
    from framing.predict.model import MAGIC

    path.write_bytes(MAGIC + len(head).to_bytes(8, "little") + len(body).to_bytes(8, "little")
                     + head + body)
    return with_digest(path)


def _sections(path):
    from framing.predict.model import _sections

    head, body = _sections(path, path.read_bytes())
    return bytes(head), body


def test_a_malicious_rest_of_a_model_file_is_refused_when_it_is_read(tiny, tmp_path):
    """The runtime section labels; the scikit-learn part, read on first use, goes through
    the same restricted reader: refused there, before anything of it runs."""
    import io

    marker = tmp_path / "pwned"
    bundle = read_bundle(tiny)
    bundle["card"]["extra"] = Payload(os.system, f"touch {marker}")
    body = io.BytesIO()
    joblib.dump(bundle, body, compress=3)
    head, _ = _sections(tiny)
    path = _version_3(tmp_path / "evil.joblib", head, body.getvalue())
    model = framing.load(path)
    assert model.predict(["match goal team"]) == framing.load(tiny).predict(["match goal team"])
    with pytest.raises(framing.ModelLoadError, match="refused to load: it names 'posix.system'"):
        model.explain("match goal team", "topic")
    assert not marker.exists()


def test_a_damaged_runtime_section_is_one_clear_error(tiny, tmp_path):
    import json
    import zlib

    def section(head: dict, data: bytes = b"") -> bytes:
        text = json.dumps(head).encode()
        return zlib.compress(len(text).to_bytes(8, "little") + text + data)

    head, body = _sections(tiny)
    meta = {"format": "framing-predictor"}
    cases = {"bytes": head[:10] + bytes(40) + head[50:],
             "description": zlib.compress(b"\x05" + bytes(7) + b"[1,2,"),
             "no tasks": section({"meta": meta, "arrays": []}),
             "array out of bounds": section({"meta": meta, "arrays": [["<f8", [3], 0, 24]]},
                                            bytes(16)),
             "object array": section({"meta": meta, "arrays": [["|O", [1], 0, 8]]}, bytes(8))}
    for name, damaged in cases.items():
        path = _version_3(tmp_path / f"{name.replace(' ', '-')}.joblib", damaged, body)
        with pytest.raises(framing.ModelLoadError, match="its runtime section cannot be read"):
            framing.load(path)


def _data_files(tmp_path):
    import pandas as pd

    frame = pd.DataFrame({"id": ["r1", "r2"], "text": ["goal", "vote"],
                          "topic": ["sport", "politics"]})
    frame.to_csv(tmp_path / "labelled.csv", index=False)
    frame.to_json(tmp_path / "labelled.jsonl", orient="records", lines=True)
    frame.to_parquet(tmp_path / "labelled.parquet")
    (tmp_path / "notes.txt").write_text("goal\nvote\n")
    (tmp_path / "empty.joblib").write_bytes(b"")
    return {"labelled.csv": "a CSV text file (first line: 'id,text,topic')",
            "labelled.jsonl": "a JSON lines text file (first line: "
                              "'{\"id\":\"r1\",\"text\":\"goal\",\"topic\":\"sport\"}')",
            "labelled.parquet": "a Parquet file",
            "notes.txt": "a text file (first line: 'goal')",
            "empty.joblib": "an empty file (0 bytes)"}


def test_a_data_file_given_as_the_model_is_named_for_what_it_is(tiny, tmp_path):
    """Not a message about pickles: the file is not a model, it looks like X, pass Y."""
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "goal"}\n')
    for name, looks in _data_files(tmp_path).items():
        path = tmp_path / name
        message = (f"{path}: not a framing model file: it looks like {looks}. Give the "
                   ".joblib file that framing-train or FramingModel.save wrote (framing's "
                   "commands take it first, before the data).")
        with pytest.raises(framing.ModelLoadError) as e:
            framing.load(path)
        assert str(e.value) == message
        code, out, err = run_cli("framing", "predict", path, src)
        assert code == 2 and out == "" and err == f"framing: error: {message}\n", err
        assert "pickle" not in err and "trusted" not in err
    # the order mixed up: the data file first, the model second
    code, _, err = run_cli("framing", "predict", src, tiny)
    assert code == 2 and f"{src}: not a framing model file: it looks like a JSON" in err


def test_the_card_and_the_readme_say_the_same_true_thing_about_loading(tiny, tmp_path):
    """The card beside a model and the README: framing.load refuses what is not on its
    allow-list before it runs; plain joblib.load runs whatever the file names."""
    from framing.predict.card import LOADING
    from framing.predict.model import card_path
    from framing.resources import model_path

    readme = " ".join((ROOT / "README.md").read_text().split())
    assert "refuses anything else *before* it runs" in readme
    assert "`framing.load(path, trusted=True)` reads with plain joblib" in readme
    for card in (card_path(tiny), card_path(model_path("subjectivity"))):
        text = " ".join(Path(card).read_text().split())
        assert LOADING in text and "A joblib file runs code when loaded" not in text
    assert "refusing anything else before it runs" in LOADING and "joblib.load" in LOADING
    # and both hold: framing.load refuses a file that runs code; plain joblib runs it
    marker = tmp_path / "ran"
    bundle = read_bundle(tiny)
    bundle["card"]["extra"] = Payload(open, str(marker), "w")
    path = tmp_path / "odd.joblib"
    joblib.dump(bundle, path)
    with_digest(path)
    with pytest.raises(framing.ModelLoadError, match="refused to load: it names 'io.open'"):
        framing.load(path)
    assert not marker.exists()
    joblib.load(path)["card"]["extra"].close()
    assert marker.exists()


def _one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize("bundle, lacks", [
    ({"format": "framing-predictor"}, "'format_version', 'tasks', 'features', 'estimators'"),
    ({"format": "framing-predictor", "format_version": 2}, "'tasks', 'features', "
                                                           "'estimators'"),
    ({"format": "framing-predictor", "format_version": 1, "tasks": [], "models": {}},
     "'features'"),
], ids=["the marker alone", "marker and version", "version 1 without features"])
def test_a_model_file_with_only_the_format_marker_is_incomplete(tmp_path, bundle, lacks):
    path = tmp_path / "part.joblib"
    joblib.dump(bundle, path)
    with_digest(path)
    said = (f"{path}: not a complete model file: it carries framing's format marker, but it "
            f"lacks {lacks}. Retrain the model, or restore the file framing-train or "
            "FramingModel.save wrote.")
    with pytest.raises(framing.ModelLoadError) as e:
        framing.load(path)
    assert str(e.value) == said
    with pytest.raises(framing.ModelLoadError, match="not a complete model file"):
        read_bundle(path)
    code, out, err = run_cli("framing", "predict", path, "-", stdin="goal\n")
    assert code == 2 and out == "" and _one_line_error(err) == f"framing: error: {said}"


def test_a_model_file_of_a_newer_framing_says_to_upgrade(tiny, tmp_path):
    """A version-4 header (or a version-4 dict) with a matching digest: named as a newer
    framing's file, with the versions this one reads — not as a damaged file."""
    from framing import __version__

    head = tiny.read_bytes()
    assert head.startswith(b"FRAMING-MODEL-3\n")
    newer = with_digest_bytes(tmp_path / "v4.joblib", b"FRAMING-MODEL-4\n" + head[16:])
    dict_v4 = tmp_path / "v4-dict.joblib"
    joblib.dump({**read_bundle(tiny), "format_version": 4}, dict_v4)
    with_digest(dict_v4)
    for path in (newer, dict_v4):
        said = (f"{path}: model file format version 4, written by a newer framing; this "
                f"framing ({__version__}) reads versions 1, 2, 3. Upgrade framing (pip "
                "install -U framing) to load it.")
        with pytest.raises(framing.ModelLoadError) as e:
            framing.load(path)
        assert str(e.value) == said
        code, out, err = run_cli("framing", "predict", path, "-", stdin="goal\n")
        assert code == 2 and _one_line_error(err) == f"framing: error: {said}"
    garbled = with_digest_bytes(tmp_path / "garbled.joblib", b"FRAMING-MODEL-x\n" + head[16:])
    with pytest.raises(framing.ModelLoadError, match="begins as a framing model file, but its "
                                                     "header .* names no format version"):
        framing.load(garbled)


def with_digest_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return with_digest(path)
