"""The sentence-level tone rule's parts on hand-written cases."""

import pytest
import yaml

from framing.text.sentences import Voice, mask_quotes, quote_spans, split_sentences

from conftest import ROOT


@pytest.fixture(scope="module")
def voice():
    return Voice(yaml.safe_load((ROOT / "conf" / "voice" / "default.yaml").read_text()))


def test_split_keeps_abbreviations_initials_decimals_and_quotes():
    text = ('Mr. Sharif met Asif A. Zardari in the U.S. capital on Jan. 5. "We are '
            'friends. We will stay friends," he said. The talks ended at 5 p.m. on Friday. '
            'Prices rose 2.5 percent.')
    assert split_sentences(text) == [
        "Mr. Sharif met Asif A. Zardari in the U.S. capital on Jan. 5.",
        '"We are friends. We will stay friends," he said.',
        "The talks ended at 5 p.m. on Friday.",
        "Prices rose 2.5 percent.",
    ]
    assert split_sentences("Outreach: 1. Reconciliation: the visit signals a commitment.") \
        == ["Outreach: 1. Reconciliation: the visit signals a commitment."]
    assert split_sentences("Is this wise? We doubt it! Time will tell.") == [
        "Is this wise?", "We doubt it!", "Time will tell."]
    assert split_sentences("   ") == []


def test_quotations_and_their_mask():
    text = 'He said “we are ready” and left. “Unclosed quote runs on'
    spans = quote_spans(text)
    assert [text[a:b] for a, b in spans] == ["“we are ready”", "“Unclosed quote runs on"]
    masked = mask_quotes(text)
    assert len(masked) == len(text) and "ready" not in masked and "He said" in masked
    # a stray closing mark: the quotation opened before this text
    assert quote_spans("the end of it,” he added.") == [(0, 15)]


@pytest.mark.parametrize("sentence", [
    "President Raisi lauded the resilience of Islamic youth.",
    "The leaders of Iran and Pakistan have agreed to strengthen ties.",
    "Zardari, for his part, reciprocated the warm greetings.",
    "Dominating powers seek insecurity between Iran and Pakistan: Raisi",
    "“This is a new chapter,” the minister told reporters.",
    "According to officials, the pipeline is delayed.",
    "“We will never accept such violations of our sovereignty and we will respond.”",
], ids=["source lauded", "source noun of a chain", "aside", "headline source", "told",
        "according to", "all quotation"])
def test_attributed_sentences(voice, sentence):
    assert voice.attributed(sentence)


@pytest.mark.parametrize("sentence", [
    "This sentiment underscores the enduring bond between the two nations.",
    "President Raisi’s heartfelt declaration during his visit underscores the depth of "
    "the relationship.",
    "The exchange of strikes between Iran and Pakistan highlights the urgency of "
    "cooperation.",
    "It is time Islamabad stopped this reckless drift.",
], ids=["abstract subject", "possessive subject", "subject inside a phrase", "exhortation"])
def test_own_voice_sentences(voice, sentence):
    assert not voice.attributed(sentence)


def test_own_voice_cues_count_praise_and_criticism_alike(voice):
    praise, critique, plain = voice.analyse(
        "This visit underscores the enduring bond. This reckless policy is shameful. "
        "The US imposed sanctions in 2023.")
    assert praise.cued and critique.cued
    assert not plain.cued  # "US" is not the writer's "us"
    quoted, = voice.analyse('Raisi said: "This shameful attack must stop."')
    assert quoted.attributed and not quoted.cued
    assert voice.analyse("Gas Pipeline Negotiations")[0].headline


def test_missing_word_list_is_a_clear_error():
    with pytest.raises(ValueError, match="lack \\['sources'"):
        Voice({"reporting": [], "reporting_subject": [], "evaluative": [], "exhorting": []})


def test_one_pass_reading_equals_the_sentence_by_sentence_reading(voice):
    """A paragraph without quotation marks is read in one pass; every sentence's text,
    attribution and cue counts are those of reading each sentence on its own."""
    import json
    import random

    from framing.text.sentences import _FIRST_PERSON, Sentence

    from conftest import SEEDS

    def one_by_one(paragraph):
        out = []
        for s in split_sentences(paragraph) or [paragraph]:
            attributed, own, (evaluative, exhorting) = voice._read(s)
            out.append(Sentence(s, attributed, len(evaluative),
                                len(exhorting) + len(_FIRST_PERSON.findall(own)), "?" in own))
        return out

    seeds = [json.loads(x)["text"] for x in (SEEDS / "paragraphs.jsonl").read_text(
        ).splitlines()]
    words = sorted({w for t in seeds for w in t.split()})
    rng = random.Random(2)
    generated = [" ".join(rng.choice(words + ["Mr.", "U.S.", "said.", "We", "?", "1."])
                          for _ in range(rng.randint(1, 70))) for _ in range(3000)]
    unquoted = [t for t in seeds + generated if not any(q in t for q in "“\"«”")]
    assert len(unquoted) > 1000
    for t in unquoted:
        assert voice.analyse(t) == one_by_one(t), t[:120]
