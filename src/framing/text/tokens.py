"""A batch of texts split into words once, for every feature family.

The n-grams, the codebook, the cues and the sentence rule all read the same words of
the same paragraphs. :class:`Batch` finds them once for a whole call: the texts are
joined by a NUL character into one string, its UTF-8 bytes are lower-cased and every
byte that is not an ASCII word character is turned into a space, so that one
``bytes.split`` gives every word of every text, and array operations give each word's
place (in characters) and its text. That is several times faster than a regular
expression over each text, and gives the same words — ``re.findall(r"\\w+",
text.lower())`` — for every text whose word characters are all ASCII and that holds no
NUL. Other texts (``café``, ``İstanbul``, Arabic script) are left to each family's
per-text path: :attr:`Batch.rest`.

numpy and the standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import count, repeat

import numpy as np

#: A word byte stays, anything else becomes a space.
_WORD_BYTES = bytes(c if c < 128 and (chr(c).isalnum() or c == 95) else 32 for c in range(256))
#: A word character outside ASCII: its text takes the per-text path.
_FOREIGN_WORD = re.compile(r"[^\W\x00-\x7f]")
#: A lone surrogate (legal in JSON, no UTF-8 for it): its text too.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
JOIN = "\x00"
_NONE = np.zeros(0, dtype=np.int64)
#: Fewer texts than this take the per-text path.
SMALL = 12


def plain(text: str) -> bool:
    """Whether a text's words are found by the byte split (ASCII word characters only,
    no NUL, no lone surrogate)."""
    return _ascii_words(text) and (text.isascii() or _SURROGATE.search(text) is None)


def _ascii_words(text: str) -> bool:
    """:func:`plain` but for surrogates, which a batch finds when it encodes its text."""
    if text.isascii():
        return JOIN not in text
    return JOIN not in text and _FOREIGN_WORD.search(text) is None


class Batch:
    """The texts of one call and the words of its plain ones (see the module's note).

    Attributes
    ----------
    texts : list of str
        All the texts, in order.
    index : ndarray of int
        The place among ``texts`` of each plain text (the batch's documents).
    rest : list of int
        The places of the other texts.
    text : str
        The plain texts joined by NUL; ``starts[d]``:``ends[d]`` is document ``d``.
    words : list of bytes
        Every word of every document, lower-cased, in order.
    doc, start, end : ndarray of int
        Per word: its document, and its place in ``text`` (characters).
    bytes : ndarray of uint8
        ``text`` in UTF-8; ``bstart`` and ``bend`` are the words' places in it.
    """

    def __init__(self, texts: Sequence[str]):
        self.texts = list(texts)
        # a few texts cost less one at a time than the arrays' fixed cost
        flags = (list(map(_ascii_words, self.texts)) if len(self.texts) >= SMALL
                 else [False] * len(self.texts))
        self._place(flags)
        self._lists = self._cased = self._ids = None
        #: Word-list matches already found, per :class:`framing.text.terms.TermIndex`.
        self.found: dict = {}
        text = JOIN.join(self.docs)
        try:
            raw = text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate (rare): its text goes one at a time
            self._place([ok and plain(t) for ok, t in zip(flags, self.texts, strict=True)])
            text = JOIN.join(self.docs)
            raw = text.encode("utf-8")
        if not self.docs:  # all one at a time
            self.text, self._raw, self.words, self._cont = "", b"", [], None
            self.bytes = np.zeros(0, dtype=np.uint8)
            self.bstart = self.bend = self.doc = self.start = self.end = _NONE
            self.starts = self.ends = _NONE
            return
        self.text = text
        self._raw = raw
        masked = raw.lower().translate(_WORD_BYTES)
        self.words = masked.split()
        # where a run of word bytes begins or ends
        word = np.frombuffer(b" " + masked + b" ", dtype=np.uint8) != 32
        edges = np.flatnonzero(word[1:] != word[:-1])
        bstart, bend = edges[0::2], edges[1::2]
        self.bytes = np.frombuffer(raw, dtype=np.uint8)
        self.bstart, self.bend = bstart, bend
        seps = np.flatnonzero(self.bytes == 0)
        self.doc = np.searchsorted(seps, bstart)
        self._cont = None if len(raw) == len(self.text) else np.flatnonzero(
            (self.bytes & 0xC0) == 0x80)  # UTF-8 continuation bytes
        self.start, self.end, cseps = self.chars(bstart), self.chars(bend), self.chars(seps)
        self.starts = np.concatenate(([0], cseps + 1))
        self.ends = np.concatenate((cseps, [len(self.text)]))

    def _place(self, flags: list[bool]) -> None:
        """The plain texts (``flags``) as the batch's documents, the others as the rest."""
        self.index = np.flatnonzero(np.fromiter(flags, dtype=bool, count=len(flags)))
        self.rest = [i for i, ok in enumerate(flags) if not ok]
        self.docs = ([self.texts[i] for i in self.index.tolist()] if self.rest
                     else self.texts)

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def n_docs(self) -> int:
        """How many texts the batch path covers."""
        return len(self.index)

    def stretches(self, spans: Sequence[tuple[int, int] | str]) -> Batch:
        """A batch of units whose words are this batch's words in a stretch of its
        joined text — ``(start, end)``, whole words, in order and not overlapping — or,
        for a unit given as a string, that string's. Only the words (:meth:`lookup`,
        ``doc``, ``start``, ``end``) are those of the stretch: a family that reads the
        joined text itself must not be given it (the n-grams do not)."""
        out = object.__new__(Batch)
        places = [i for i, x in enumerate(spans) if not isinstance(x, str)]
        out.texts = [x if isinstance(x, str) else "" for x in spans]
        out.index = np.asarray(places, dtype=np.int64)
        out.rest = [i for i, x in enumerate(spans) if isinstance(x, str)]
        a = np.asarray([spans[i][0] for i in places], dtype=np.int64)
        b = np.asarray([spans[i][1] for i in places], dtype=np.int64)
        lo, hi = np.searchsorted(self.start, a), np.searchsorted(self.start, b)
        sizes = hi - lo  # each unit's words: lo to hi
        take = np.repeat(lo - (np.cumsum(sizes) - sizes), sizes) + np.arange(sizes.sum())
        vocab, wid = self.word_ids()
        out._ids = (vocab, wid[take])
        out.doc = np.repeat(np.arange(len(places), dtype=np.int64), sizes)
        out.start, out.end = self.start[take], self.end[take]
        out.docs = out.text = out.words = out.bytes = None  # not a joined text of its own
        out._lists = out._cased = out._cont = None
        out.found = {}
        return out

    def lists(self) -> tuple[list[int], list[int], list[int]]:
        """``doc``, ``start`` and ``end`` as lists (for loops over a few words)."""
        if self._lists is None:
            self._lists = (self.doc.tolist(), self.start.tolist(), self.end.tolist())
        return self._lists

    def chars(self, places: np.ndarray) -> np.ndarray:
        """Places in the joined text's bytes as places in its characters: a byte's,
        less the continuation bytes before it."""
        return places if self._cont is None else places - np.searchsorted(self._cont, places)

    def places(self, chars: str) -> np.ndarray:
        """Where any of ``chars`` occurs in the joined text (character places, in
        order): their UTF-8 first bytes found in one pass, the rest checked there."""
        codes = [np.frombuffer(c.encode("utf-8"), dtype=np.uint8) for c in chars]
        raw = self.bytes
        if not codes or not len(raw):
            return np.zeros(0, dtype=np.int64)
        first = raw == codes[0][0]
        for lead in {int(c[0]) for c in codes[1:]}:
            first |= raw == lead
        at = np.flatnonzero(first)
        hit = np.zeros(len(at), dtype=bool)
        for c in codes:
            ok = raw[at] == c[0]
            for k in range(1, len(c)):
                ok &= raw[np.minimum(at + k, len(raw) - 1)] == c[k]
            hit |= ok
        return self.chars(at[hit])

    def word_ids(self) -> tuple[list[bytes], np.ndarray]:
        """The distinct words, in order of first occurrence, and each word's number
        among them: a lookup then costs one per distinct word and an array gather."""
        if self._ids is None:
            # one dictionary operation per word: a word's first place, then renumbered
            seen: dict[bytes, int] = {}
            n = len(self.words)
            first = np.fromiter(map(seen.setdefault, self.words, count()), dtype=np.int64,
                                count=n)
            number = np.empty(n, dtype=np.int64)
            number[np.fromiter(seen.values(), dtype=np.int64, count=len(seen))] = np.arange(
                len(seen))
            self._ids = (list(seen), number[first])
        return self._ids

    def lookup(self, table: dict, default) -> np.ndarray:
        """``table.get(word, default)`` for every word (numbers), through the distinct
        words."""
        vocab, wid = self.word_ids()
        return np.fromiter(map(table.get, vocab, repeat(default)), dtype=np.int64,
                           count=len(vocab))[wid]

    def cased_words(self) -> list[bytes]:
        """The words as written (not lower-cased)."""
        if self._cased is None:
            self._cased = self._raw.translate(_WORD_BYTES).split()
        return self._cased

    def doc_of(self, places) -> np.ndarray:
        """The document of each place in :attr:`text`."""
        return np.searchsorted(self.starts, np.asarray(places, dtype=np.int64),
                               side="right") - 1

    def per_doc(self, doc: np.ndarray, weights=None) -> np.ndarray:
        """A count (or sum) per document."""
        return np.bincount(doc, weights=weights, minlength=self.n_docs)


def batch(texts) -> Batch:
    """``texts`` as a :class:`Batch` (itself if it is one)."""
    return texts if isinstance(texts, Batch) else Batch(texts)
