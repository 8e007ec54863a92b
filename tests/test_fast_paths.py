"""The fast paths give what the plain ones give: word lists matched in one pass equal
their regular expressions; the runtime equals the scikit-learn path."""

import json
import random
import subprocess
import sys

import numpy as np
import pytest

import framing
from framing.text.terms import TermIndex, term_pattern

from conftest import SEEDS, word_lists


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



def test_one_pass_over_the_words_finds_what_the_expressions_find():
    book = word_lists()
    index = TermIndex(book)
    patterns = [term_pattern(v) for v in book.values()]
    for t in texts():
        spans = index.spans(t)
        expected = [[m.span() for m in p.finditer(t)] if p else [] for p in patterns]
        assert spans == expected, t[:80]


@pytest.mark.parametrize("params", [
    {"ngram_range": (2, 5), "max_features": 2000, "sublinear_tf": True, "dtype": np.float32},
    {"ngram_range": (1, 3), "min_df": 2, "max_df": 0.5},
    {"ngram_range": (3, 3), "lowercase": False, "strip_accents": "unicode", "binary": True},
    {"ngram_range": (6, 6), "use_idf": False, "norm": None}],
    ids=["default", "pruned", "cased-accents-binary", "longer-than-words"])
def test_character_ngrams_counted_by_word_equal_scikit_learns(params):
    """Character n-grams inside word boundaries, counted a distinct word at a time, give
    scikit-learn's vocabulary and matrix exactly, in fitting and in transforming (texts
    of odd white space, accents, one letter, none, words repeated, n-grams unseen)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from framing.learn.features import Tfidf

    odd = ["", " ", "a", "?!", "aaaa aaaa", "Trade\n\nTalks\t\u00a0 talks", "İstanbul ſtate",
           "naïve café — “quoted”", "talks talks talks talks", "zzzz qqqq", "x\u2003\u2003y"]
    corpus = texts()
    train, held = corpus[:150] + odd, corpus[150:400] + odd
    ours = Tfidf(analyzer="char_wb", **params)
    theirs = TfidfVectorizer(analyzer="char_wb", **params)
    fitted = ours.fit_transform(train), theirs.fit_transform(train)
    assert ours.vocabulary_ == theirs.vocabulary_
    for a, b in (fitted, (ours.transform(held), theirs.transform(held))):
        assert type(a) is type(b) and a.shape == b.shape and a.dtype == b.dtype
        assert a.indptr.tolist() == b.indptr.tolist()
        assert a.indices.tolist() == b.indices.tolist()
        assert a.data.tolist() == b.data.tolist()
    with pytest.raises(ValueError, match="empty vocabulary"):
        Tfidf(analyzer="char_wb").fit(["", "  "])


@pytest.mark.parametrize("params", [
    {"ngram_range": (1, 2), "sublinear_tf": True}, {"ngram_range": (1, 1)},
    {"ngram_range": (1, 3), "binary": True, "norm": "l1"}, {"ngram_range": (2, 3)},
    {"ngram_range": (1, 2), "min_df": 2, "max_features": 300},
    {"ngram_range": (1, 2), "token_pattern": r"(?u)\b\w+\b|[!?]", "lowercase": False,
     "use_idf": False, "norm": None},
    {"ngram_range": (1, 2), "dtype": np.float32},
    {"ngram_range": (1, 3), "lowercase": False, "token_pattern": r"(?u)\b\w+\b"}],
    ids=["default", "unigrams", "trigrams-binary-l1", "no-unigrams", "pruned", "tokens",
         "float32", "cased"])
def test_the_batch_tfidf_equals_scikit_learns(params):
    """The vectorised transform gives scikit-learn's matrix: same columns per row, same
    values (to 1e-15, float32 too)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from framing.learn.features import Tfidf

    corpus = texts()
    train, held = corpus[:150], corpus[150:] * 4 + [
        "", " ", "a", "?!", "qxframingsepqx", "trade qxframingsepqx talks", "İstanbul ſtate",
        "Trade\n\nTalks", "talks talks talks talks"]
    from framing.learn.features import _PLANS

    ours, theirs = Tfidf(**params).fit(train), TfidfVectorizer(**params).fit(train)
    ours.transform(held[:1])  # too few texts to pay for the lookup tables: scikit-learn's
    assert _PLANS[ours][1] is None
    for batch in (held, held[:1], held[-9:]):
        a, b = ours.transform(batch), theirs.transform(batch)
        assert type(a) is type(b) and a.shape == b.shape and a.dtype == b.dtype
        assert a.indptr.tolist() == b.indptr.tolist()
        assert a.indices.tolist() == b.indices.tolist()
        tol = 1e-15
        assert np.allclose(a.data, b.data, rtol=0, atol=tol)
        assert _PLANS[ours][1]  # the vectorised transform, from the first full batch on
    refit = Tfidf(**params).fit(train)
    refit.transform(held)
    refit.fit(held)  # a new vocabulary: the lookup tables follow it
    assert (refit.transform(train) != TfidfVectorizer(**params).fit(held).transform(train)
            ).nnz == 0


def test_the_token_count_from_the_shared_split_equals_its_expression():
    """The cues' rates divide by the tokens of ``\\w+(?:[’']\\w+)*``; the count taken from
    the word lists' split of the text is the same."""
    from framing.predict.runtime import TOKEN, Cues

    cues = Cues({}, {"quotes": False, "numbers": False, "dates": False, "length": True})
    rng = random.Random(2)
    odd = ["rock'n'roll", "it’s", "'quoted'", "a''b", "x' y", "İstanbul's", "ﬁle's", "", " "]
    for t in texts() + odd + [" ".join(rng.choice(odd + ["w", "'", "’"]) for _ in range(9))
                              for _ in range(2000)]:
        assert np.expm1(cues.row(t)[0]) == pytest.approx(max(len(TOKEN.findall(t)), 1)), t


def test_sentence_shortcuts_equal_their_expressions():
    """The tail checks of sentence splitting give what their expressions give."""
    import re

    from framing.text.sentences import _abbreviation, _final

    rng = random.Random(1)
    alphabet = list("abcXY .,;:!?…\"“”«»’')]-–0123456789\n") + ["Mr.", "U.S.", "a" * 70 + "."]
    final = re.compile(r"[.!?…][”\"’')\]»]*$")
    word = re.compile(r"([A-Za-z][A-Za-z.]*)\.$")
    for _ in range(20000):
        t = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 60)))
        assert _final(t.strip()) == bool(final.search(t.strip())), t
        for end in [i + 1 for i, c in enumerate(t) if c == "."]:
            m = word.search(t[:end])
            assert _abbreviation(t, end) == (m.group(1).lower() if m else None), t


@pytest.mark.parametrize("overrides", [[], ["model=logreg"], ["model=ensemble"],
                                       ["features.char.enabled=true"],
                                       ["features.word.token_pattern='(?u)\\b\\w+\\b|[?!]'"]],
                         ids=["default", "logreg", "ensemble", "chars", "tokens"])
def test_the_runtime_equals_the_scikit_learn_path(overrides, tmp_path):
    """The runtime (numpy alone) gives the scikit-learn path's scores to 1e-9: compiled
    from a model just trained, and read back from its file."""
    seeds = [json.loads(x) for x in (SEEDS / "paragraphs.jsonl").read_text().splitlines()]
    model, _ = framing.fit(
        seeds, tasks=[{"name": "theme", "kind": "multilabel",
                       "labels": ["security", "economy", "diplomacy", "gaza"]},
                      {"name": "tone", "labels": ["promotional", "reportorial"]}],
        group_column="article", overrides=["eval.n_boot=0", *overrides])
    sample = texts()[:200]
    plain = model.scores(X=model.transform(sample))  # scikit-learn's estimators
    runtime = model.runtime
    assert runtime is not None
    loaded = framing.load(model.save(tmp_path / "m.joblib"))
    one = [runtime.scores([t]) for t in sample[:20]]  # one text at a time
    for scores, rows in [(runtime.scores(sample), slice(None)),
                         (loaded.scores(sample), slice(None)),
                         *[(s, slice(i, i + 1)) for i, s in enumerate(one)]]:
        for task in model.tasks:
            assert np.allclose(scores[task], plain[task][rows], rtol=0, atol=1e-9)
    assert model.predict(sample[0]) == model.predict(sample[:20])[0]
    assert loaded.predict(sample[:20]) == model.predict(sample[:20])


def test_a_vocabulary_with_a_nul_is_written_and_read_back(tmp_path):
    """Character n-grams of a text holding a NUL hold one: the file delimits the
    vocabulary's strings by their sizes then, and the model labels as before saving."""
    texts = ["goal team a\x00b", "vote law", "match goal", "party vote"] * 5
    labels = ["sport", "politics"] * 10
    model, _ = framing.fit(texts, labels, overrides=["eval.n_boot=0", "features=ngrams",
                                                     "features.char.enabled=true",
                                                     "model=logreg"])
    assert any("\x00" in t for t in model.runtime.parts[1][0].terms)
    loaded = framing.load(model.save(tmp_path / "m.joblib"))
    probe = ["goal a\x00b", "vote", "x\x00"]
    assert loaded.predict(probe) == model.predict(probe)
    for a, b in zip(loaded.predict_proba(probe).values(), model.predict_proba(probe).values(),
                    strict=True):
        assert np.allclose(a, b, rtol=0, atol=1e-12)


@pytest.mark.parametrize("params", [
    {"analyzer": "word", "ngram_range": (1, 3), "token_pattern": r"(?u)\b\w\w+\b|[,;]"},
    {"analyzer": "word", "ngram_range": (2, 2), "lowercase": False},
    {"analyzer": "char_wb", "ngram_range": (2, 5)}, {"analyzer": "char_wb", "ngram_range": (1, 1)},
    {"analyzer": "char", "ngram_range": (1, 4)}, {"analyzer": "char", "ngram_range": (3, 6)}],
    ids=["word-pattern", "bigrams-cased", "char_wb", "char_wb-1", "char", "char-3-6"])
def test_the_runtime_analysers_equal_scikit_learns(params):
    from sklearn.feature_extraction.text import TfidfVectorizer

    from framing.learn.features import Tfidf
    from framing.predict.runtime import Ngrams

    vec = TfidfVectorizer(**params).fit(texts()[:100])
    ngrams = Ngrams.from_vocabulary(vec.vocabulary_, Tfidf.runtime_settings(vec), vec.idf_)
    analyse = vec.build_analyzer()
    for t in texts()[:300] + ["", " a ", "ab", "Tab\tand  two   spaces\n\nhere"]:
        assert sorted(ngrams.analyse(t)) == sorted(analyse(t)), t[:60]
    batch = texts()[100:400]
    row, col, val = ngrams.coo(batch)
    expected = vec.transform(batch).tocoo()
    order = np.lexsort((expected.col, expected.row))
    assert row.tolist() == expected.row[order].tolist()
    assert col.tolist() == expected.col[order].tolist()
    assert np.allclose(val, expected.data[order], rtol=0, atol=1e-15)


def test_a_loaded_model_labels_without_scikit_learn(trained):
    """Loading and labelling import neither scikit-learn nor scipy nor joblib; an
    explanation reads the rest of the file then, and agrees with the labels."""
    code = ("import json, sys, framing; m = framing.load(sys.argv[1]); "
            "r = m.predict(['Iran and Pakistan signed eight agreements on trade.'] * 30); "
            "before = sorted(k for k in ('sklearn', 'scipy', 'joblib') if k in sys.modules); "
            "e = m.explain('Iran and Pakistan signed eight agreements on trade.', 'theme'); "
            "print(json.dumps([before, 'sklearn' in sys.modules, r[0], e['score']]))")
    out = subprocess.run([sys.executable, "-c", code, str(trained[0])], capture_output=True,
                         text=True, check=True)
    before, after, first, score = json.loads(out.stdout)
    assert before == [] and after is True
    assert score == pytest.approx(max(first["scores"]["theme"].values()), abs=1e-6)


@pytest.mark.slow
def test_the_general_pipeline_does_not_collapse_on_many_rare_labels(tmp_path):
    """A long tail of label frequencies (the rarest with a handful of documents): the
    general-purpose pipeline's macro-F1 on the test split is at least that of
    scikit-learn's TF-IDF + one-vs-rest LinearSVC with balanced class weights."""
    from bench import generate_multilabel, multilabel_row

    path = generate_multilabel(tmp_path / "many.jsonl", n_docs=900, n_labels=15)
    row = multilabel_row(path, 15, ["experiment=text_classifier"])
    assert row["framing_macro_f1"] >= row["sklearn_macro_f1"]
    default = multilabel_row(path, 15, [])
    assert default["framing_macro_f1"] >= default["sklearn_macro_f1"] - 0.02


def test_the_model_file_stores_each_weight_array_once(trained):
    """The runtime section and the scikit-learn part share their arrays: the joblib
    stream refers to the runtime's weights instead of repeating them, and a loaded model
    holds them once in memory."""
    model = framing.load(trained[0])
    model.explain("Iran and Pakistan signed eight agreements on trade.", "theme")  # all read
    weights = model.runtime.heads["theme"][1]
    for sub, w in zip(model.estimators["theme"].estimators_, weights, strict=True):
        assert np.shares_memory(sub.coef_, w)
