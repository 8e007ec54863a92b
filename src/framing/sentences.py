"""Sentences of a paragraph: splitting, quotations, attribution, the writer's own voice.

The tone rule of the annotation guidelines is sentence-level: a paragraph is
promotional when most of its sentences speak in the writer's own voice to praise,
advocate, argue or criticise; a statement credited to a source ("X said", a quotation,
"according to", "Raisi lauded …") is reportorial even when it praises. This module
finds those sentences:

* :func:`split_sentences` keeps abbreviations (``Mr.``, ``U.S.``, ``Jan.``), initials,
  decimals and quotations together;
* :func:`quote_spans` finds quotations, an unclosed one running to the end;
* :class:`Voice` marks each sentence attributed or own-voice and counts the evaluative
  and exhorting cues of its own voice (outside quotation marks), from word lists that
  come from the config (``conf/voice/default.yaml``).

Standard library only.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from framing.terms import TermIndex, split_words

_ABBREV = frozenset({
    "mr", "mrs", "ms", "dr", "prof", "gen", "lt", "col", "maj", "capt", "sgt", "adm", "brig",
    "cmdr", "gov", "sen", "rep", "pres", "st", "jr", "sr", "no", "nos", "vs", "v", "etc",
    "e.g", "i.e", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov",
    "dec", "inc", "ltd", "co", "corp", "mt", "ft", "approx", "hon", "supt", "dept", "govt",
    "min", "amb", "est", "fig", "al",
})
_OPEN_Q = "“\"«"
_CLOSE_Q = {"“": "”", "\"": "\"", "«": "»"}
_QUOTE_MARK = re.compile("[“\"«”]")
_BOUNDARY = re.compile(r"[.!?…]+[”\"’'»)\]]*(?=\s+[\"“‘'«(\[]?[A-Z0-9\-–•])")


def quote_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of quotations (“…”, "…", «…»); an unclosed quote runs to the end,
    a stray closing mark closes a quotation opened before the text."""
    spans, i, n = [], 0, len(text)
    while True:
        m = _QUOTE_MARK.search(text, i)
        if m is None:
            return spans
        ch, p = m.group(0), m.start()
        if ch == "”":  # a stray closing mark: the quotation began before this text
            spans.append((0, p + 1))
            i = p + 1
            continue
        j = text.find(_CLOSE_Q[ch], p + 1)
        if j < 0:
            spans.append((p, n))
            return spans
        spans.append((p, j + 1))
        i = j + 1


def _inside(pos: int, spans: Sequence[tuple[int, int]]) -> bool:
    return any(a < pos < b - 1 for a, b in spans)


def mask_quotes(text: str, spans: Sequence[tuple[int, int]] | None = None) -> str:
    """The text with quotations blanked (same length, so offsets still hold)."""
    spans = quote_spans(text) if spans is None else spans
    if not spans:
        return text
    chars = list(text)
    for a, b in spans:
        for i in range(a, min(b, len(chars))):
            chars[i] = " "
    return "".join(chars)


_ACRONYM = re.compile(r"(?:[a-z]\.)+[a-z]")
_INITIAL = re.compile(r"[a-z]")
_LIST_NUMBER = re.compile(r"(?:^|[:;\-–])\s*\d{1,2}\.$")
_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.")
_CLOSERS = "”\"’')]»"


def _abbreviation(text: str, end: int) -> str | None:
    """The lower-cased word before the full stop at ``end - 1`` (``Mr``, ``U.S``), as
    ``([A-Za-z][A-Za-z.]*)\\.$`` finds it in ``text[:end]``: the run of letters and
    full stops before it, from its first letter."""
    start = end - 1
    while start > 0 and text[start - 1] in _LETTERS:
        start -= 1
    while start < end - 1 and text[start] == ".":
        start += 1
    return text[start:end - 1].lower() if start < end - 1 else None


def _final(text: str) -> bool:
    """Whether a stripped text ends with sentence-final punctuation (and any closing
    quotes or brackets): ``[.!?…][”"’')\\]»]*$``."""
    return text.rstrip(_CLOSERS)[-1:] in (".", "!", "?", "…")


def split_sentences(text: str) -> list[str]:
    """Split a paragraph into sentences.

    A boundary is sentence-final punctuation (with any closing quote or bracket) followed
    by whitespace and an upper-case letter, a digit, an opening quote or a bullet. It is
    not a boundary after a known abbreviation (``Mr.``, ``Jan.``), a dotted acronym
    (``U.S.``, ``a.m.``), a single-letter initial (``A.``), a list number (``1.``), or
    inside a quotation.
    """
    text = text.strip()
    if not text:
        return []
    return [text[a:b] for a, b in _sentence_spans(text)]


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of a stripped, non-empty paragraph (see
    :func:`split_sentences`)."""
    spans = quote_spans(text)
    cuts = [0]
    for m in _BOUNDARY.finditer(text):
        end = m.start() + 1  # the text up to the first final mark ("head")
        if text[end - 1] == ".":
            word = _abbreviation(text, end)
            if word and (word in _ABBREV or _ACRONYM.fullmatch(word) or _INITIAL.fullmatch(word)):
                continue
        if spans and _inside(m.end() - 1, spans):
            continue
        if (text[end - 1] == "." and end > 1 and text[end - 2].isdigit()
                and _LIST_NUMBER.search(text[:end])):
            continue
        cuts.append(m.end())
    cuts.append(len(text))
    out = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        part = text[a:b]
        body = part.strip()
        if body:
            start = a + len(part) - len(part.lstrip())
            out.append((start, start + len(body)))
    return out


# Grammar words the attribution check walks over or stops at (not word lists a
# researcher edits: those are in conf/voice).
_SKIP = frozenset({"also", "further", "has", "had", "have", "was", "is", "were", "been", "then",
                   "again", "later", "earlier", "once", "both", "all", "jointly",
                   "repeatedly", "and", "too", ","})
_NOT_SOURCE = frozenset({"the", "this", "these", "those", "that", "such", "it", "its", "which",
                         "what", "all", "each", "here", "there", "we", "our", "us", "you", "a",
                         "an"})
_PREP = frozenset({"to", "of", "in", "with", "for", "from", "by", "at", "on", "between",
                   "during", "about", "against", "toward", "towards", "over", "among",
                   "across", "into", "through", "within", "without", "after", "before",
                   "since", "like", "via", "amid", "amidst"})
_WORD = re.compile(r"[A-Za-z][\w\-]*(?:[’'][A-Za-z]+)?|,")
_HEADLINE_SOURCE = re.compile(r"(?::|\s[-–—])\s*(?:[A-Z][\w\-’']+\s*){1,3}$")
_FIRST_PERSON = re.compile(r"\b(?:[Ww]e|[Oo]ur|[Oo]urs|us|[Oo]urselves)\b")
_PEOPLE = frozenset({"we", "our", "ours", "us", "ourselves"})  # what it can find, lower-cased


@dataclass(frozen=True)
class Sentence:
    """One sentence: its text, whether it is attributed, and its own-voice cues."""

    text: str
    attributed: bool
    evaluative: int = 0
    exhorting: int = 0
    question: bool = False

    @property
    def headline(self) -> bool:
        """No sentence-final punctuation: a headline or a heading-like unit."""
        return not _final(self.text.strip())

    @property
    def own_voice(self) -> bool:
        """Not credited to a source."""
        return not self.attributed

    @property
    def cued(self) -> bool:
        """Own voice with an evaluative or exhorting cue, or a question."""
        return self.own_voice and bool(self.evaluative or self.exhorting or self.question)


class Voice:
    """Attribution and own-voice cues of sentences, from word lists.

    Parameters
    ----------
    lists : mapping of str to list of str
        ``reporting`` (verbs and phrases that credit a source on their own: said,
        according to), ``reporting_subject`` (verbs that credit a source only when one is
        their subject: lauded, urged), ``sources`` (nouns that name a source: minister,
        officials), ``evaluative`` (value-laden wording of either polarity) and
        ``exhorting`` (advocacy: must, should, it is time). A trailing ``*`` matches any
        ending. The writer's "we/our/us" count as exhorting (case-sensitive, so that "US"
        is not "us").
    """

    KEYS = ("reporting", "reporting_subject", "sources", "evaluative", "exhorting")

    def __init__(self, lists: Mapping[str, Sequence[str]]):
        missing = [k for k in self.KEYS if k not in lists]
        if missing:
            raise ValueError(f"the voice word lists lack {missing}; give all of {self.KEYS}")
        self.lists = {k: [str(x) for x in lists[k]] for k in self.KEYS}
        self._compiled = None

    def __getstate__(self):
        return {"lists": self.lists, "_compiled": None}

    def _patterns(self):
        if self._compiled is None:
            # reporting, reporting_subject, evaluative, exhorting: matched in one pass
            self._compiled = (TermIndex({k: self.lists[k] for k in self.KEYS
                                         if k != "sources"}),
                              frozenset(s.lower() for s in self.lists["sources"]))
        return self._compiled

    def _is_source(self, tok: str, sources: frozenset[str]) -> bool:
        low = tok.lower()
        if tok == "," or low in _NOT_SOURCE or re.search(r"[’']s$", tok):
            return False
        return low in sources or tok[:1].isupper()

    def _source_subject(self, own: str, start: int, sources: frozenset[str]) -> bool:
        """Whether the words right before ``start`` name a source (the verb's subject).

        Walks back over auxiliaries, adverbs and a comma-delimited aside ("Zardari, for
        his part, reciprocated"); a proper-noun chain inside a prepositional phrase ("a
        visit to Pakistan underscores") is not a subject unless the phrase hangs on a
        source noun ("the leaders of Iran and Pakistan agreed"); a possessive ("Raisi's
        words underscore") is not either.
        """
        words = _WORD.findall(own[:start])
        k = len(words) - 1
        while k >= 0:
            low = words[k].lower()
            if words[k] == "," and k > 0:
                back = [i for i in range(max(0, k - 6), k) if words[i] == ","]
                if back and back[-1] > 0 and self._is_source(words[back[-1] - 1], sources):
                    k = back[-1] - 1
                    break
            if low in _SKIP or low.endswith("ly"):
                k -= 1
                continue
            break
        if k < 0 or not self._is_source(words[k], sources):
            return False
        if not words[k][:1].isupper():
            return True
        j = k
        while j - 1 >= 0 and (words[j - 1][:1].isupper() or words[j - 1].lower() in ("and",
                                                                                     "or")):
            j -= 1
        while j < k and words[j].lower() in ("and", "or"):
            j += 1
        before = words[j - 1].lower() if j > 0 else ""
        if re.search(r"[’']s$", before):
            return False
        if before in _PREP:
            return before == "of" and j > 1 and words[j - 2].lower() in sources
        return True

    def attributed(self, sentence: str) -> bool:
        """Whether a sentence credits its content to a source: mostly quotation, a
        reporting cue outside its quotes, a subject-reporting verb whose subject names a
        source, or a headline's trailing ``: Name``."""
        return self._read(sentence)[0]

    def _read(self, sentence: str) -> tuple[bool, str, list]:
        """(attributed, own-voice text, the term matches of its own voice)."""
        index, sources = self._patterns()
        spans = quote_spans(sentence)
        own = mask_quotes(sentence, spans)
        strong, subject, evaluative, exhorting = index.spans(own)
        matches = [evaluative, exhorting]
        if sum(b - a for a, b in spans) >= 0.5 * len(sentence):
            return True, own, matches
        if strong or _HEADLINE_SOURCE.search(own.strip()):
            return True, own, matches
        return any(self._source_subject(own, a, sources) for a, _ in subject), own, matches

    def analyse(self, paragraph: str) -> list[Sentence]:
        """The sentences of a paragraph with attribution and own-voice cue counts."""
        if _QUOTE_MARK.search(paragraph) is None:
            plain = self._analyse_unquoted(paragraph)
            if plain is not None:
                return plain
        out = []
        for s in split_sentences(paragraph) or [paragraph]:
            attributed, own, (evaluative, exhorting) = self._read(s)
            out.append(Sentence(s, attributed, len(evaluative),
                                len(exhorting) + len(_FIRST_PERSON.findall(own)), "?" in own))
        return out

    def _analyse_unquoted(self, paragraph: str) -> list[Sentence] | None:
        """:meth:`analyse` of a paragraph without quotation marks, its word lists matched
        once over the whole paragraph: a sentence's own voice is then all of it, and a
        match never spans two sentences (checked; None where one would)."""
        text = paragraph.strip()
        if not text:
            return None
        bounds = _sentence_spans(text)
        index, sources = self._patterns()
        strong, subject, evaluative, exhorting = index.spans(text)
        words = split_words(text)
        first = ([] if words is not None and _PEOPLE.isdisjoint(words[1::2]) else
                 [m.start() for m in _FIRST_PERSON.finditer(text)])
        starts = [a for a, _ in bounds]
        where = {}  # each match's sentence, or None when it would span two
        for found in (strong, subject, evaluative, exhorting):
            for a, b in found:
                k = bisect_right(starts, a) - 1
                if k < 0 or b > bounds[k][1]:
                    return None
                where[a, b] = k
        n = len(bounds)
        counts = [[0] * n for _ in range(4)]
        for li, found in enumerate((strong, subject, evaluative, exhorting)):
            for span in found:
                counts[li][where[span]] += 1
        people = [0] * n
        for a in first:
            people[bisect_right(starts, a) - 1] += 1
        out = []
        for k, (a, b) in enumerate(bounds):
            s = text[a:b]
            attributed = bool(counts[0][k]) or bool(_HEADLINE_SOURCE.search(s)) or any(
                self._source_subject(s, x - a, sources) for x, _ in subject
                if counts[1][k] and a <= x < b)
            out.append(Sentence(s, attributed, counts[2][k], counts[3][k] + people[k],
                                "?" in s))
        return out

    def own_voice_text(self, sentence: str) -> str:
        """A sentence with its quotations blanked and squeezed (what a scorer reads)."""
        return " ".join(mask_quotes(sentence).split())
