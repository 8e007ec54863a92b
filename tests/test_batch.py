"""A batch's one word split, and every family computed for a whole batch, give what each
text gives on its own: the same words and places, the same term matches, the same
sentences, the same feature rows."""

import json
import random
import re

import numpy as np
import pytest
import yaml

import framing
from framing.predict.runtime import Cues, Lexicon, VoiceRule
from framing.text.sentences import _WORD, Voice, mask_quotes, quote_spans
from framing.text.terms import TermIndex
from framing.text.tokens import Batch, plain

from conftest import ROOT, SEEDS, word_lists

ODD = ["café", "İstanbul", "\x00", "“We must act,” he said.", "Iran’s", "—", "…", "1.", "2.5",
       "Jan.", "Mr. Khan", "U.S.", "A.", "e.g.", "?", "!", "Ⓐ", "٣", "ｗｏｒｄ", "rock'n'roll",
       "o'clock", "it’s", "counter-terrorism", "pave* the way", "\n\n", "  ", "\t", "we",
       "our", "US", "lauded", "officials", "according to", "it is time", ": Dawn",
       "— Reuters", "'", "’", "\"", "«", "»", "1,000,000", "3.5x", "x1", "_", "naïve",
       "border-market", "Foreign Ministers", "Raisi’s", "(", ")", "-", "–",
       "\ud83d"]  # a lone surrogate (legal in JSON, no UTF-8)


def _seeds():
    return [json.loads(x)["text"] for x in (SEEDS / "paragraphs.jsonl").read_text(
        encoding="utf-8").splitlines() if x.strip()]


def corpus():
    seeds = _seeds()
    words = sorted({w for t in seeds for w in t.split()})
    rng = random.Random(3)
    mixed = [rng.choice(["", " ", ". ", ", ", "\n"]).join(
        rng.choice(words + ODD) for _ in range(rng.randint(0, 40))) for _ in range(2500)]
    return seeds + mixed + ["", " ", "\x00", "a", "Hi. Yes? No!", "  Lead. Trail.  "]



def chunks(texts, seed=0):
    """The texts cut into batches of many sizes (one text, a few, many)."""
    rng = random.Random(seed)
    i = 0
    while i < len(texts):
        k = rng.choice([1, 2, 7, 40, 300])
        yield list(range(i, min(i + k, len(texts))))
        i += k


def test_the_byte_split_gives_each_plain_texts_words_and_places():
    texts = corpus()
    b = Batch(texts)
    assert sorted(b.index.tolist() + b.rest) == list(range(len(texts)))
    assert b.rest and len(b.index) > len(texts) // 2
    doc, start, end = (x.tolist() for x in (b.doc, b.start, b.end))
    by_doc = {}
    for w, d, a, e in zip(b.words, doc, start, end, strict=True):
        by_doc.setdefault(d, []).append((w.decode(), a - b.starts[d], e - b.starts[d]))
    for d, i in enumerate(b.index.tolist()):
        t = texts[i]
        expected = [(m.group(0).lower(), m.start(), m.end()) for m in re.finditer(r"\w+", t)]
        assert by_doc.get(d, []) == expected, t
    for i in b.rest:  # a word character outside ASCII, a NUL or a lone surrogate
        assert not plain(texts[i])
        assert "\x00" in texts[i] or re.search(r"[^\W\x00-\x7f]|[\ud800-\udfff]", texts[i])
    vocab, number = b.word_ids()
    assert [vocab[k] for k in number.tolist()] == b.words


def test_word_lists_over_a_batch_equal_each_texts():
    index = TermIndex(word_lists())
    texts = corpus()
    for part in chunks(texts):
        batch = [texts[i] for i in part]
        b = Batch(batch)
        found = index.find(b)
        for d, i in enumerate(b.index.tolist()):
            off = int(b.starts[d])
            got = [[(a - off, e - off) for dd, a, e in zip(*(x.tolist() for x in f),
                                                          strict=True) if dd == d]
                   for f in found]
            assert got == index.spans(batch[i]), batch[i][:80]


@pytest.fixture(scope="module")
def voice():
    return Voice(yaml.safe_load((ROOT / "conf" / "voice" / "default.yaml").read_text()))


def test_sentences_over_a_batch_equal_each_texts(voice):
    texts = corpus()
    for part in chunks(texts, seed=1):
        batch = [texts[i] for i in part]
        assert voice.analyse_batch(Batch(batch)) == [voice.analyse(t) for t in batch]


def test_the_families_over_a_batch_equal_each_text_alone(voice):
    """Codebook, cues and the sentence rule (with the shipped subjectivity model scoring
    the own-voice sentences from the batch's words) row by row against their one-text
    computation."""
    book = yaml.safe_load((ROOT / "conf" / "codebook" / "default.yaml").read_text())
    cue_lists = yaml.safe_load((ROOT / "conf" / "cues" / "default.yaml").read_text())
    lexicon = Lexicon(book, binary=False)
    flags = {"quotes": True, "numbers": True, "dates": True, "length": True}
    cues = Cues(cue_lists, flags)
    from framing.resources import model_path

    scorer = framing.load(model_path("subjectivity"))
    rule = VoiceRule(voice, scorer.runtime, ("label", scorer.labels["label"].index(
        "subjective")), cut=0.5)
    plain_rule = VoiceRule(voice)
    texts = corpus()
    for part in chunks(texts, seed=2):
        batch = [texts[i] for i in part]
        b = Batch(batch)
        assert np.array_equal(lexicon.counts(b),
                              np.asarray([lexicon.index.counts(t) for t in batch],
                                         dtype=float).reshape(len(batch), -1))
        assert np.array_equal(cues.block(b), np.asarray([cues.row(t) for t in batch]))
        for r in (rule, plain_rule):
            alone = np.asarray([r.row(s) for s in r.sentences(batch)])
            assert np.allclose(r.block(b), alone, rtol=0, atol=1e-12)


def test_a_subject_read_from_the_last_words_equals_one_read_from_all(voice):
    """The subject of a reporting verb is looked for in the 72, then 240 characters
    before it first; where the answer could depend on what lies before, the whole
    sentence is read."""
    _, sources = voice._patterns()
    vocab = ["the", "Minister", "of", "Iran", "and", "Pakistan", ",", "also", "has",
             "officials", "visit", "to", "Prime", "Shehbaz", "Sharif", "or", "quickly",
             "Raisi's", "F-16", "x", "leaders", "It", "A", "Foreign", "we", "2024"]
    rng = random.Random(4)
    for _ in range(5000):
        text = " ".join(rng.choice(vocab) for _ in range(rng.randint(20, 120)))
        start = max(0, len(text) - rng.randint(0, 40))
        whole = bool(voice._subject(_WORD.findall(text, 0, start), sources, whole=True))
        assert voice._source_subject(text, start, sources) == whole, (text, start)


def test_masking_quotations_blanks_each_character_inside_them():
    rng = random.Random(5)
    alphabet = list("ab “”\"«» .")
    for _ in range(5000):
        t = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        chars = list(t)
        for a, b in quote_spans(t):
            for i in range(a, min(b, len(chars))):
                chars[i] = " "
        assert mask_quotes(t) == "".join(chars), t
