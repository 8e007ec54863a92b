"""The fast paths give what the plain ones give: word lists matched in one pass equal
their regular expressions; the one-text scorer equals the batch path."""

import json
import random

import numpy as np
import pytest
import yaml

import framing
from framing.terms import TermIndex, term_pattern

from conftest import ROOT, SEEDS


def texts():
    seeds = [json.loads(x)["text"] for x in (SEEDS / "paragraphs.jsonl").read_text(
        ).splitlines()]
    rng = random.Random(0)
    vocab = sorted({w for t in seeds for w in t.split()}) + [
        "counter-terrorism", "Counter terrorism", "let's", "U.S.", "al-Quds", "İstanbul",
        "MoUs", "border-fencing", "Terror", "TERRORISTS", "pave* the way", "“quoted”"]
    generated = [" ".join(rng.choice(vocab) for _ in range(rng.randint(3, 90)))
                 for _ in range(1500)]
    return seeds + generated


def lists():
    out = {}
    for f in ("codebook/default.yaml", "codebook/guidelines.yaml", "cues/default.yaml",
              "voice/default.yaml"):
        for k, v in yaml.safe_load((ROOT / "conf" / f).read_text()).items():
            out[f"{f}:{k}"] = v
    return out


def test_one_pass_over_the_words_finds_what_the_expressions_find():
    book = lists()
    index = TermIndex(book)
    patterns = [term_pattern(v) for v in book.values()]
    for t in texts():
        spans = index.spans(t)
        expected = [[m.span() for m in p.finditer(t)] if p else [] for p in patterns]
        assert spans == expected, t[:80]


@pytest.mark.parametrize("overrides", [[], ["model=logreg"], ["model=ensemble"],
                                       ["features.char.enabled=true"],
                                       ["features.word.token_pattern='(?u)\\b\\w+\\b|[?!]'"]],
                         ids=["default", "logreg", "ensemble", "chars", "tokens"])
def test_the_one_text_scorer_equals_the_batch_path(overrides):
    seeds = [json.loads(x) for x in (SEEDS / "paragraphs.jsonl").read_text().splitlines()]
    model, _ = framing.fit(
        seeds, tasks=[{"name": "theme", "kind": "multilabel",
                       "labels": ["security", "economy", "diplomacy", "gaza"]},
                      {"name": "tone", "labels": ["promotional", "reportorial"]}],
        group_column="article", overrides=["eval.n_boot=0", *overrides])
    fast = model._fast_scorer()
    assert fast is not None
    sample = texts()[:200]
    batch = model.scores(sample)  # more than FAST_MAX texts: the batch path
    for i, t in enumerate(sample):
        one = fast.scores(t)
        for task in model.tasks:
            assert np.allclose(one[task], batch[task][i], rtol=0, atol=1e-9)
    assert model.predict(sample[0]) == model.predict(sample[:20])[0]


@pytest.mark.slow
def test_the_general_pipeline_does_not_collapse_on_many_rare_labels(tmp_path):
    """A long tail of label frequencies (the rarest with a handful of documents): the
    general-purpose pipeline's macro-F1 on the test split is at least that of
    scikit-learn's TF-IDF + one-vs-rest LinearSVC with balanced class weights."""
    from framing.bench import generate_multilabel, multilabel_row

    path = generate_multilabel(tmp_path / "many.jsonl", n_docs=900, n_labels=15)
    row = multilabel_row(path, 15, ["experiment=text_classifier"])
    assert row["framing_macro_f1"] >= row["sklearn_macro_f1"]
    default = multilabel_row(path, 15, [])
    assert default["framing_macro_f1"] >= default["sklearn_macro_f1"] - 0.02
