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

:meth:`Voice.table` analyses every paragraph of a :class:`framing.text.tokens.Batch` at once
into a :class:`SentenceTable` (columns of arrays), with the same results.

numpy and the standard library.

One module, over 600 lines: sentence splitting, quotation and attribution and the voice
rule read the same spans, for one text and for a whole batch.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat

import numpy as np

from framing.text.terms import TermIndex, split_words

_ABBREV = frozenset({
    "mr", "mrs", "ms", "dr", "prof", "gen", "lt", "col", "maj", "capt", "sgt", "adm", "brig",
    "cmdr", "gov", "sen", "rep", "pres", "st", "jr", "sr", "no", "nos", "vs", "v", "etc",
    "e.g", "i.e", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov",
    "dec", "inc", "ltd", "co", "corp", "mt", "ft", "approx", "hon", "supt", "dept", "govt",
    "min", "amb", "est", "fig", "al",
})
_OPEN_Q = "“\"«"
_CLOSE_Q = {"“": "”", "\"": "\"", "«": "»"}
_QUOTE_MARKS = "“\"«”"
_QUOTE_MARK = re.compile(f"[{_QUOTE_MARKS}]")
#: Sentence-final punctuation (and closing quotes or brackets) before the next sentence;
#: group 1 is the space between them, so that ``m.end(1)`` is where the next one begins.
_BOUNDARY = re.compile(r"[.!?…]+[”\"’'»)\]]*(?=(\s+)[\"“‘'«(\[]?[A-Z0-9\-–•])")


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
    out, done = [], 0  # the text between quotations kept, each quotation's span blanked
    for a, b in sorted(spans):
        a, b = max(a, done), min(b, len(text))
        if b <= a:
            continue
        out += [text[done:a], " " * (b - a)]
        done = b
    out.append(text[done:])
    return "".join(out)


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


def _sentence_of(starts: list[int], places: list[int]) -> list[int]:
    """The sentence (by its start, in order) each place falls in; -1 before the first."""
    return [bisect_right(starts, x) - 1 for x in places]


def _sentence_spans(text: str, found: Sequence[tuple[int, int]] | None = None
                    ) -> list[tuple[int, int]]:
    """(start, end) of each sentence of a stripped, non-empty paragraph (see
    :func:`split_sentences`); ``found``: the (start, end) of ``_BOUNDARY``'s matches in
    it, if already known (then the text holds no quotation mark)."""
    cuts = [0]
    if found is None:
        spans = quote_spans(text)
        found = [m.span() for m in _BOUNDARY.finditer(text)]
    else:
        spans = []
    for m_start, m_end in found:
        end = m_start + 1  # the text up to the first final mark ("head")
        if text[end - 1] == ".":
            word = _abbreviation(text, end)
            if word and (word in _ABBREV or _ACRONYM.fullmatch(word) or _INITIAL.fullmatch(word)):
                continue
        if spans and _inside(m_end - 1, spans):
            continue
        if (text[end - 1] == "." and end > 1 and text[end - 2].isdigit()
                and _LIST_NUMBER.search(text[:end])):
            continue
        cuts.append(m_end)
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
_POSSESSIVE = re.compile(r"[’']s$")
_WORD = re.compile(r"[A-Za-z][\w\-]*(?:[’'][A-Za-z]+)?|,")
_HEADLINE_SOURCE = re.compile(r"(?::|\s[-–—])\s*(?:[A-Z][\w\-’']+\s*){1,3}$")
_NAME_END = "_-’'"  # with the letters and digits: how a stripped match of it can end
_FIRST_PERSON = re.compile(r"\b(?:[Ww]e|[Oo]ur|[Oo]urs|us|[Oo]urselves)\b")
#: Characters before a subject-reporting verb read for its subject, at first.
_WINDOWS = (72, 240)
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
        if tok == "," or low in _NOT_SOURCE or _POSSESSIVE.search(tok):
            return False
        return low in sources or tok[:1].isupper()

    def _source_subject(self, own: str, start: int, sources: frozenset[str],
                        begin: int = 0) -> bool:
        """Whether the words right before ``start`` name a source (the verb's subject);
        ``own`` from ``begin`` on is the sentence.

        Walks back over auxiliaries, adverbs and a comma-delimited aside ("Zardari, for
        his part, reciprocated"); a proper-noun chain inside a prepositional phrase ("a
        visit to Pakistan underscores") is not a subject unless the phrase hangs on a
        source noun ("the leaders of Iran and Pakistan agreed"); a possessive ("Raisi's
        words underscore") is not either.
        """
        for window in _WINDOWS:  # the last words before it are enough, nearly always
            if start - window <= begin:
                break
            found = self._subject(_WORD.findall(own, start - window, start), sources,
                                  whole=False)
            if found is not None:
                return found
        return bool(self._subject(_WORD.findall(own, begin, start), sources, whole=True))

    def _subject(self, words: list[str], sources: frozenset[str], whole: bool
                 ) -> bool | None:
        """:meth:`_source_subject` from the words before the verb: all of them
        (``whole``) or those of a stretch of text just before it, whose first word may be
        cut; then None where the answer would read that first word or look before it."""
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
        if not whole and k - 6 < 1:  # an aside looks back six words
            return None
        if k < 0 or not self._is_source(words[k], sources):
            return False
        if not words[k][:1].isupper():
            return True
        j = k
        while j - 1 >= 0:
            if not whole and j - 1 < 1:
                return None
            if not (words[j - 1][:1].isupper() or words[j - 1].lower() in ("and", "or")):
                break
            j -= 1
        while j < k and words[j].lower() in ("and", "or"):
            j += 1
        if not whole and j - 2 < 1:
            return None
        before = words[j - 1].lower() if j > 0 else ""
        if _POSSESSIVE.search(before):
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
        index, _ = self._patterns()
        words = split_words(text)
        first = ([] if words is not None and _PEOPLE.isdisjoint(words[1::2]) else
                 [m.start() for m in _FIRST_PERSON.finditer(text)])
        return self._assemble(text, _sentence_spans(text), index.spans(text), first)

    def analyse_batch(self, texts) -> list[list[Sentence]]:
        """:meth:`analyse` of each text of a :class:`framing.text.tokens.Batch` (see
        :meth:`table`)."""
        t = self.table(texts)
        out: list[list[Sentence]] = [[] for _ in range(len(texts))]
        for i, body, *fields in zip(t.para.tolist(), t.texts(), t.attributed.tolist(),
                                    t.evaluative.tolist(), t.exhorting.tolist(),
                                    t.question.tolist(), strict=True):
            out[i].append(Sentence(body, *fields))
        return out

    def table(self, texts) -> SentenceTable:
        """The sentences of the texts of a :class:`framing.text.tokens.Batch`, as columns (a
        :class:`SentenceTable`): what :meth:`analyse` finds.

        The plain texts without quotation marks are read from the batch's words and its
        joined text: one pass of the sentence boundaries, each word list matched once
        (:meth:`framing.text.terms.TermIndex.find`), each match's sentence by its place. Only
        a sentence that may end with a headline's source, or has a subject-reporting
        verb and no other attribution, is looked at on its own. A text where a match
        spans two sentences, and every other text, is analysed alone.
        """
        index, sources = self._patterns()
        n_texts = len(texts)
        table = SentenceTable.empty()
        alone = range(n_texts)
        if texts.n_docs and index.batchable:
            table, alone = self._table(texts, index, sources)
        if not index.batchable:
            rows = [(i, sent) for i in alone for sent in self.analyse(texts.texts[i])]
        else:
            rows = self._sentence_by_sentence([texts.texts[i] for i in alone], list(alone))
        if rows:
            table = table.extend(rows)
        return table

    def _sentence_by_sentence(self, paragraphs: list[str], places: list[int]
                              ) -> list[tuple[int, Sentence]]:
        """(place, sentence) of paragraphs read a sentence at a time (:meth:`analyse`'s
        general reading, which quotations need): each split alone, the own voices of all
        their sentences then matched against the word lists in one batch."""
        from framing.text.tokens import Batch

        index, sources = self._patterns()
        owner, body, own, quoted = [], [], [], []
        for i, t in zip(places, paragraphs, strict=True):
            for sent in split_sentences(t) or [t]:
                spans = quote_spans(sent)
                owner.append(i)
                body.append(sent)
                own.append(mask_quotes(sent, spans))
                quoted.append(sum(b - a for a, b in spans) >= 0.5 * len(sent))
        b = Batch(own)  # one text per sentence: its own voice
        n = len(own)
        counts = [[0] * n for _ in range(4)]
        subjects: dict[int, list[int]] = {}
        people = [False] * n
        if b.n_docs:
            where = b.index.tolist()
            starts = b.starts.tolist()
            for li, (ds, ma, _) in enumerate(index.find(b)):
                for d, a in zip(ds.tolist(), ma.tolist(), strict=True):
                    counts[li][where[d]] += 1
                    if li == 1:
                        subjects.setdefault(where[d], []).append(a - starts[d])
            mark = dict.fromkeys((w.encode("ascii") for w in _PEOPLE), 1)
            for d in set(b.doc[b.lookup(mark, 0) > 0].tolist()):
                people[where[d]] = True
        for j in b.rest:  # a word character outside ASCII: matched alone
            for li, found in enumerate(index.spans(own[j])):
                counts[li][j] = len(found)
                if li == 1 and found:
                    subjects[j] = [a for a, _ in found]
            people[j] = True
        strong, subject, evaluative, exhorting = counts
        rows = []
        for j in range(n):
            text = own[j]
            said = quoted[j] or bool(strong[j])
            if not said:
                stripped = text.strip()
                said = bool(stripped) and (stripped[-1].isalnum() or stripped[-1] in _NAME_END
                                           ) and bool(_HEADLINE_SOURCE.search(stripped))
            if not said and subject[j]:
                said = any(self._source_subject(text, a, sources) for a in subjects[j])
            first = len(_FIRST_PERSON.findall(text)) if people[j] else 0
            rows.append((owner[j], Sentence(body[j], said, evaluative[j], exhorting[j] + first,
                                            "?" in text)))
        return rows

    def _table(self, texts, index, sources):
        text, nd = texts.text, texts.n_docs
        live = np.ones(nd, dtype=bool)  # analysed here (the rest: alone)
        live[texts.doc_of(texts.places(_QUOTE_MARKS))] = False
        lead = np.fromiter((len(t) - len(t.lstrip()) for t in texts.docs), dtype=np.int64,
                           count=nd)
        trail = np.fromiter((len(t) - len(t.rstrip()) for t in texts.docs), dtype=np.int64,
                            count=nd)
        d_start, d_end = texts.starts + lead, texts.ends - trail
        live &= d_start < d_end
        # the boundaries that cut: not after an abbreviation, an initial or a list number
        # a boundary begins a run of final marks: tried there only, as finditer would
        at = texts.places(".!?…")
        at = at[np.concatenate(([True], at[1:] != at[:-1] + 1))] if len(at) else at
        marks = [(m.start(), m.end(), m.end(1))
                 for m in map(_BOUNDARY.match, repeat(text), at.tolist()) if m]
        m_start, m_end, m_next = np.asarray(marks, dtype=np.int64).reshape(-1, 3).T
        mark_doc = texts.doc_of(m_start)
        ok, digit = self._not_abbreviated(texts, m_start)
        cut = live[mark_doc] & ok
        for j in np.flatnonzero(cut & digit).tolist():  # a list number: "1." after a colon
            end, d = int(m_start[j]) + 1, int(mark_doc[j])
            off = int(d_start[d])
            if (end - off > 1
                    # (three digits before the full stop: no list number)
                    and not (end - 4 >= off and text[end - 4:end - 1].isdigit())
                    and _LIST_NUMBER.search(text[off:end])):
                cut[j] = False
        ends, nexts = m_end[cut], m_next[cut]
        on = np.flatnonzero(live)
        s_start = np.sort(np.concatenate((d_start[on], nexts)))
        s_end = np.sort(np.concatenate((ends, d_end[on])))
        s_doc = texts.doc_of(s_start)
        n = len(s_start)
        # each match's sentence
        counts, subject_at = [], None
        some_doc = s_doc if n else np.full(1, -1)  # (no sentence: no text here either)
        some_end = s_end if n else np.zeros(1, dtype=np.int64)
        for li, (md, ma, mb) in enumerate(index.find(texts)):
            k = np.searchsorted(s_start, ma, side="right") - 1
            mine = live[md]
            kk = np.maximum(k, 0)
            bad = mine & ((k < 0) | (some_doc[kk] != md) | (mb > some_end[kk]))
            live[md[bad]] = False  # a match over two sentences: that text alone
            ok = mine & ~bad
            counts.append(np.bincount(k[ok], minlength=n))
            if li == 1:
                subject_at = (k[ok], ma[ok])
        strong, subject, evaluative, exhorting = counts
        people = dict.fromkeys((w.encode("ascii") for w in _PEOPLE), 1)
        first = []
        for d in np.unique(texts.doc[texts.lookup(people, 0) > 0]).tolist():
            if live[d]:
                a, b = int(d_start[d]), int(d_end[d])
                first += [m.start() for m in _FIRST_PERSON.finditer(text, a, b)]
        if first:
            exhorting = exhorting + np.bincount(
                np.searchsorted(s_start, np.asarray(first, dtype=np.int64), side="right") - 1,
                minlength=n)
        asks = np.zeros(n, dtype=bool)
        marks_q = texts.chars(np.flatnonzero(texts.bytes == 0x3F))  # "?"
        if len(marks_q):
            k = np.searchsorted(s_start, marks_q, side="right") - 1
            k = k[(k >= 0) & (marks_q < s_end[np.maximum(k, 0)])]
            asks[k] = True
        # attribution: a reporting cue, a headline's source, a subject-reporting verb
        said = strong > 0
        starts, stops = s_start.tolist(), s_end.tolist()
        for j in np.flatnonzero(~said).tolist():
            last = text[stops[j] - 1]
            if ((last.isalnum() or last in _NAME_END)
                    and _HEADLINE_SOURCE.search(text[starts[j]:stops[j]])):
                said[j] = True
        if subject_at is not None and subject.any():
            by_sentence: dict[int, list[int]] = {}
            for j, x in zip(*(v.tolist() for v in subject_at), strict=True):
                by_sentence.setdefault(j, []).append(x)
            for j, places in by_sentence.items():
                if not said[j]:
                    said[j] = any(self._source_subject(text, x, sources, starts[j])
                                  for x in places)
        # a text's last sentence may lack final punctuation (a headline); the others
        # end with it
        last = s_end == d_end[s_doc]
        final = np.ones(n, dtype=bool)
        for j in np.flatnonzero(last).tolist():
            e = stops[j]
            while e > starts[j] and text[e - 1] in _CLOSERS:
                e -= 1
            final[j] = e > starts[j] and text[e - 1] in ".!?…"
        keep = live[s_doc]
        index_of = texts.index
        table = SentenceTable(index_of[s_doc[keep]], said[keep], evaluative[keep],
                              exhorting[keep], asks[keep], final[keep], s_start[keep],
                              s_end[keep], [None] * int(keep.sum()), text)
        alone = list(texts.rest) + index_of[np.flatnonzero(~live)].tolist()
        return table, alone

    @staticmethod
    def _not_abbreviated(texts, m_start) -> tuple[np.ndarray, np.ndarray]:
        """Per boundary match (by its start), whether it does not follow a known
        abbreviation, a dotted acronym or an initial (:func:`_sentence_spans`' test):
        read from the batch's words where the word before a full stop is all letters,
        by :func:`_abbreviation` elsewhere; and whether a digit comes right before its
        full stop (a list number, maybe)."""
        text = texts.text
        ok = np.ones(len(m_start), dtype=bool)
        digit = np.zeros(len(m_start), dtype=bool)
        dots = np.flatnonzero(np.fromiter((text[p] == "." for p in m_start.tolist()),
                                          dtype=bool, count=len(m_start)))
        if not len(dots):
            return ok, digit
        vocab, number = texts.word_ids()
        known = {w.encode("ascii") for w in _ABBREV if "." not in w}
        letters = np.fromiter((w.isalpha() for w in vocab), dtype=bool, count=len(vocab))
        short = np.fromiter((w in known or len(w) == 1 for w in vocab), dtype=bool,
                            count=len(vocab))
        n = len(texts.end)
        k = np.minimum(np.searchsorted(texts.end, m_start[dots]), max(n - 1, 0))
        word = (texts.end[k] == m_start[dots]) if n else np.zeros(len(dots), dtype=bool)
        raw = texts.bytes
        after_dot = raw[np.maximum(texts.bstart[k] - 1, 0)] == 0x2E if n else word
        plain = word & letters[number[k]] & ~after_dot if n else word
        ok[dots[plain]] = ~short[number[k[plain]]]
        for j in dots[word & ~plain].tolist():  # digits, or a dotted acronym: as written
            w = _abbreviation(text, int(m_start[j]) + 1)
            ok[j] = not (w and (w in _ABBREV or _ACRONYM.fullmatch(w) or _INITIAL.fullmatch(w)))
        if n:
            last = raw[np.maximum(texts.bend[k] - 1, 0)]
            digit[dots[word]] = ((last >= 0x30) & (last <= 0x39))[word]
        return ok, digit

    def _assemble(self, text: str, bounds, found, first) -> list[Sentence] | None:
        """The sentences of a stripped paragraph without quotation marks, from its
        sentence bounds, the matches of its four word lists and the places of its
        first-person words (None where a match spans two sentences)."""
        _, sources = self._patterns()
        strong, subject, evaluative, exhorting = found
        starts = [a for a, _ in bounds]
        where = {}  # each match's sentence, or None when it would span two
        for matches in (strong, subject, evaluative, exhorting):
            for a, b in matches:
                k = bisect_right(starts, a) - 1
                if k < 0 or b > bounds[k][1]:
                    return None
                where[a, b] = k
        n = len(bounds)
        counts = [[0] * n for _ in range(4)]
        for li, matches in enumerate((strong, subject, evaluative, exhorting)):
            for span in matches:
                counts[li][where[span]] += 1
        people = [0] * n
        for a in first:
            people[bisect_right(starts, a) - 1] += 1
        out = []
        for k, (a, b) in enumerate(bounds):
            s = text[a:b]
            # a headline's source ends the sentence with a word: test the end first
            attributed = bool(counts[0][k]) or ((s[-1].isalnum() or s[-1] in _NAME_END)
                                                and bool(_HEADLINE_SOURCE.search(s)))
            if not attributed and counts[1][k]:
                attributed = any(self._source_subject(s, x - a, sources)
                                 for x, _ in subject if a <= x < b)
            out.append(Sentence(s, attributed, counts[2][k], counts[3][k] + people[k],
                                "?" in s))
        return out

    def own_voice_text(self, sentence: str) -> str:
        """A sentence with its quotations blanked and squeezed (what a scorer reads)."""
        return " ".join(mask_quotes(sentence).split())


class SentenceTable:
    """Sentences as columns (see :meth:`Voice.table`): the place of each one's text,
    attributed, evaluative and exhorting counts, question, final (ends with sentence-final
    punctuation: not a headline), and (start, end) in ``source`` (-1 for a sentence whose
    text is in ``body``). A text's sentences are together and in order."""

    def __init__(self, para, attributed, evaluative, exhorting, question, final, start,
                 end, body, source=""):
        self.para = np.asarray(para, dtype=np.int64)
        self.attributed = np.asarray(attributed, dtype=bool)
        self.evaluative = np.asarray(evaluative, dtype=np.int64)
        self.exhorting = np.asarray(exhorting, dtype=np.int64)
        self.question = np.asarray(question, dtype=bool)
        self.final = np.asarray(final, dtype=bool)
        self.start = np.asarray(start, dtype=np.int64)
        self.end = np.asarray(end, dtype=np.int64)
        self.body = list(body)
        self.source = source

    @classmethod
    def empty(cls) -> SentenceTable:
        return cls(*([[]] * 9))

    def __len__(self) -> int:
        return len(self.para)

    def extend(self, rows: list[tuple[int, Sentence]]) -> SentenceTable:
        """This table and the sentences of texts analysed alone, (text place, sentence)."""
        add = SentenceTable([i for i, _ in rows], [s.attributed for _, s in rows],
                            [s.evaluative for _, s in rows], [s.exhorting for _, s in rows],
                            [s.question for _, s in rows], [not s.headline for _, s in rows],
                            [-1] * len(rows), [-1] * len(rows), [s.text for _, s in rows])
        return SentenceTable(*(np.concatenate((getattr(self, f), getattr(add, f)))
                               for f in ("para", "attributed", "evaluative", "exhorting",
                                         "question", "final", "start", "end")),
                             self.body + add.body, self.source)

    def texts(self) -> list[str]:
        """Each sentence's text."""
        return [b if b is not None else self.source[a:e] for b, a, e in
                zip(self.body, self.start.tolist(), self.end.tolist(), strict=True)]

    def rows(self, chosen) -> list[tuple[str | None, int, int]]:
        """(text given, start, end) of the chosen sentences (positions)."""
        return [(self.body[j], a, e) for j, a, e in
                zip(chosen.tolist(), self.start[chosen].tolist(), self.end[chosen].tolist(),
                    strict=True)]
