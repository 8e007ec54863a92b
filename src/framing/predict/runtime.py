"""A trained model's scoring, in numpy and the standard library.

A :class:`Runtime` holds what scoring needs of a fitted model — the n-gram tables and
IDF weights, the word lists of the codebook, the cues and the sentence rule, each task's
weights — as plain arrays and lists. A model file carries it as a section of its own
(JSON and raw arrays, no pickle), so that :func:`framing.load` reads it in milliseconds
and labels texts without importing scikit-learn, scipy or joblib; the full model, with
its scikit-learn objects, is read only for what needs it (explanations, feature names,
the pipeline). :mod:`framing.learn.compile` compiles a fitted model into one, and a test
holds its scores equal to the scikit-learn path's to 1e-9.

The families are also the scikit-learn transformers' own computation
(:mod:`framing.learn.features` calls them), so the two paths cannot drift apart.

One module, over 600 lines, because the numpy scorer of every family and the file
section that stores them must agree array for array; each family's scoring and its
packing sit side by side.
"""

from __future__ import annotations

import json
import math
import re
import zlib
from collections import Counter
from collections.abc import Sequence
from itertools import chain, repeat
from typing import Any

import numpy as np

from framing.text.sentences import Voice
from framing.text.terms import TermIndex, split_words
from framing.text.tokens import Batch, batch

#: Tokens of the style cues' rates (words with inner apostrophes), numbers, quotation marks.
TOKEN = re.compile(r"\w+(?:[’']\w+)*")
NUMBER = re.compile(r"\b\d[\d,.:]*\b")
QUOTES = ("\"", "“", "”", "«", "»")
_APOSTROPHES = ("'", "’")
#: Joins a batch's texts for one tokenising pass: a word of its own between spaces.
SEPARATOR = "\n qxframingsepqx \n"
#: Token patterns whose tokens never hold a space, so that an n-gram's words are its
#: space-separated parts, and the same tokens by a faster expression: a maximal run of
#: word characters is what ``\b…\b`` around a run-matching expression finds anyway.
EQUIVALENT = {r"(?u)\b\w\w+\b": r"\w\w+", r"(?u)\b\w+\b": r"\w+",
              r"(?u)\b\w+\b|[!?]": r"\w+|[!?]"}
_WHITE = re.compile(r"\s\s+")


class FormatError(ValueError):
    """A runtime section that cannot be read (damaged, or written by other code)."""


# -- n-grams ------------------------------------------------------------------------------
class Ngrams:
    """TF-IDF rows of a fitted vectoriser (scikit-learn's ``TfidfVectorizer`` values).

    Word n-grams of a known token pattern are counted for a whole batch at once: the
    texts joined by a separator word, one regular-expression pass, then array
    operations on word ids (an n-gram is its word ids as one integer, looked up in a
    sorted table). Other analysers (character n-grams, another token pattern) count a
    text at a time against the vocabulary.

    Build one with :meth:`from_vocabulary`.
    """

    def __init__(self, settings: dict[str, Any], width: int, idf: np.ndarray | None,
                 words: list[str] | None = None, uni: np.ndarray | None = None,
                 codes: list[tuple[np.ndarray, np.ndarray]] | None = None,
                 terms: list[str] | None = None, ids: np.ndarray | None = None):
        self.settings = dict(settings)
        self.width = int(width)
        self.idf = idf
        self.dtype = np.dtype(settings["dtype"])
        self.lowercase = bool(settings["lowercase"])
        self.lo, self.hi = (int(x) for x in settings["ngram_range"])
        self.words, self.uni, self.codes = words, uni, codes
        self.terms, self.ids = terms, ids
        self._lookup: dict[str, int] | None = None
        self._table: dict[str, int] | None = None
        self._bytes: dict[bytes, int] | None = None
        self._pattern = re.compile(EQUIVALENT.get(settings["token_pattern"],
                                                  settings["token_pattern"]))

    @property
    def batched(self) -> bool:
        """Whether the words of a :class:`framing.text.tokens.Batch` are this analyser's
        tokens (word n-grams of ``\\w+`` or ``\\w\\w+``)."""
        return self.words is not None and self._pattern.pattern in (r"\w\w+", r"\w+")

    @staticmethod
    def vectorised(settings: dict[str, Any]) -> bool:
        """Whether word n-grams of these settings are counted for a batch at once."""
        lo, hi = settings["ngram_range"]
        return (settings["analyzer"] == "word" and settings["token_pattern"] in EQUIVALENT
                and 1 <= lo <= hi <= 3)

    @classmethod
    def from_vocabulary(cls, vocabulary: dict[str, int], settings: dict[str, Any],
                        idf: np.ndarray | None) -> Ngrams:
        """The tables of a vocabulary (n-gram to column) and the vectoriser's settings:
        ``analyzer``, ``token_pattern``, ``lowercase``, ``ngram_range``, ``binary``,
        ``sublinear_tf``, ``norm``, ``dtype``."""
        width = len(vocabulary)
        if cls.vectorised(settings) and width:
            hi = settings["ngram_range"][1]
            features = list(vocabulary)
            columns = np.fromiter(vocabulary.values(), dtype=np.int64, count=width)
            lengths = np.fromiter((f.count(" ") + 1 for f in features), dtype=np.int64,
                                  count=width)
            words: dict[str, int] = {}
            flat = " ".join(features).split(" ")  # an n-gram's words: its space-separated parts
            wid = np.fromiter((words.setdefault(w, len(words)) for w in flat), dtype=np.int64,
                              count=len(flat))
            size = max(len(words), 1)
            if lengths.max() <= hi and size ** hi < 2 ** 62:
                starts = np.cumsum(lengths) - lengths
                uni = np.full(size, -1, dtype=np.int64)
                one = lengths == 1
                uni[wid[starts[one]]] = columns[one]
                codes = []
                for n in range(2, hi + 1):
                    chosen = np.flatnonzero(lengths == n)
                    code = np.zeros(len(chosen), dtype=np.int64)
                    for k in range(n):
                        code = code * size + wid[starts[chosen] + k]
                    order = np.argsort(code, kind="stable")
                    codes.append((code[order], columns[chosen][order]))
                return cls(settings, width, idf, words=list(words), uni=uni, codes=codes)
        terms = list(vocabulary)
        ids = np.fromiter(map(vocabulary.__getitem__, terms), dtype=np.int64, count=len(terms))
        return cls(settings, width, idf, terms=terms, ids=ids)

    # The vectorised count ---------------------------------------------------------------
    def _word_ids(self) -> dict[str, int]:
        if self._lookup is None:
            self._lookup = {w: i for i, w in enumerate(self.words)}
            self._lookup.setdefault(SEPARATOR.strip(), -2)
        return self._lookup

    def _byte_ids(self) -> dict[bytes, int]:
        if self._bytes is None:
            self._bytes = {w.encode("utf-8"): i for i, w in enumerate(self.words)}
        return self._bytes

    def _count_batch(self, batch: Batch) -> tuple[np.ndarray, np.ndarray]:
        """(text, column) of every n-gram occurrence, the plain texts from the batch's
        words, the others one regular-expression pass over them."""
        if not batch.n_docs:  # all one at a time
            row, col = self._count_words(batch.texts)
            return (np.asarray(batch.rest, dtype=np.int64)[row] if len(row) else row), col
        ids = self._byte_ids()
        if self.lowercase:
            tid = batch.lookup(ids, -1)
        else:
            words = batch.cased_words()
            tid = np.fromiter(map(ids.get, words, repeat(-1)), dtype=np.int64,
                              count=len(words))
        doc = batch.doc
        if self._pattern.pattern == r"\w\w+":  # one-character words are no tokens
            keep = (batch.end - batch.start) >= 2
            tid, doc = tid[keep], doc[keep]
        row, col = self._count_ids(tid, np.bincount(doc, minlength=batch.n_docs))
        row = batch.index[row]
        if batch.rest:
            r2, c2 = self._count_words([batch.texts[i] for i in batch.rest])
            row = np.concatenate((row, np.asarray(batch.rest, dtype=np.int64)[r2]))
            col = np.concatenate((col, c2))
        return row, col

    def _count_words(self, docs: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(text, column) of every n-gram occurrence in the vocabulary."""
        words = self._word_ids()
        pattern = self._pattern
        n_docs = len(docs)
        # One pass over the batch: the texts joined by a separator word that no text
        # holds (checked), so that the separators' places give each text's tokens.
        text = SEPARATOR.join(docs)
        if self.lowercase:
            text = text.lower()
        if (n_docs > 1 and words.get(SEPARATOR.strip()) == -2
                and text.count(SEPARATOR.strip()) == n_docs - 1):
            flat = pattern.findall(text)
            tid = np.fromiter(map(words.get, flat, repeat(-1)), dtype=np.int64,
                              count=len(flat))
            sep = np.flatnonzero(tid == -2)
            lens = np.diff(np.concatenate(([-1], sep, [len(flat)]))) - 1
            tid = np.delete(tid, sep)
        else:
            toks = [pattern.findall(d.lower() if self.lowercase else d) for d in docs]
            lens = np.fromiter(map(len, toks), dtype=np.int64, count=n_docs)
            flat = list(chain.from_iterable(toks))
            tid = np.fromiter(map(words.get, flat, repeat(-1)), dtype=np.int64,
                              count=len(flat))
            tid[tid == -2] = -1  # the separator word, written in a text: no feature
        del flat
        return self._count_ids(tid, lens)

    def _count_ids(self, tid: np.ndarray, lens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(text, column) of the n-grams of texts given as word ids (-1: not in the
        vocabulary) and each text's word count."""
        size, uni = max(len(self.words), 1), self.uni
        lo, hi = self.lo, self.hi
        n_docs = len(lens)
        flat_len = len(tid)
        doc = np.repeat(np.arange(n_docs, dtype=np.int64), lens)
        rows, cols = [], []
        if lo == 1:
            f = np.where(tid >= 0, uni[np.maximum(tid, 0)], -1)
            keep = f >= 0
            rows.append(doc[keep])
            cols.append(f[keep])
        if hi >= 2:
            known = tid >= 0
            for n in range(max(lo, 2), hi + 1):
                sorted_codes, ids = self.codes[n - 2]
                if not len(sorted_codes) or flat_len < n:
                    continue
                head = flat_len - n + 1
                # inside one text, every word in the vocabulary's words
                ok = doc[:head] == doc[n - 1:]
                for k in range(n):
                    ok &= known[k:k + head]
                starts = np.flatnonzero(ok)
                code = tid[starts]
                for k in range(1, n):
                    code = code * size + tid[starts + k]
                at = np.searchsorted(sorted_codes, code)
                at[at >= len(sorted_codes)] = 0
                hit = sorted_codes[at] == code
                rows.append(doc[starts[hit]])
                cols.append(ids[at[hit]])
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(rows), np.concatenate(cols)

    # One text at a time ------------------------------------------------------------------
    def analyse(self, text: str) -> list[str]:
        """The n-grams of one text, as scikit-learn's analyser of these settings gives
        them (lower-casing, no accent stripping, no stop words)."""
        lo, hi = self.lo, self.hi
        if self.lowercase:
            text = text.lower()
        kind = self.settings["analyzer"]
        out: list[str] = []
        if kind == "word":
            tokens = self._pattern.findall(text)
            if lo == 1:
                out += tokens
            for n in range(max(lo, 2), min(hi, len(tokens)) + 1):
                out += [" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
        elif kind == "char_wb":
            for w in _WHITE.sub(" ", text).split():
                out += self._word_grams(w)
        else:  # "char"
            text = _WHITE.sub(" ", text)
            for n in range(lo, min(hi, len(text)) + 1):
                out += [text[i:i + n] for i in range(len(text) - n + 1)]
        return out

    def _word_grams(self, w: str) -> list[str]:
        """The character n-grams of one word inside its boundaries (``char_wb``)."""
        w = f" {w} "
        out: list[str] = []
        for n in range(self.lo, self.hi + 1):
            out += [w[i:i + n] for i in range(max(len(w) - n + 1, 1))]
            if len(w) <= n:  # a short word counts once, whole
                break
        return out

    def _count_each(self, docs: list[str]) -> tuple[np.ndarray, np.ndarray]:
        if self._table is None:
            self._table = dict(zip(self.terms, self.ids.tolist(), strict=True))
        get = self._table.get
        if self.settings["analyzer"] == "char_wb":
            return self._count_by_word(docs, get)
        rows, cols = [], []
        for i, d in enumerate(docs):
            found = [j for j in map(get, self.analyse(d)) if j is not None]
            rows.append(np.full(len(found), i, dtype=np.int64))
            cols.append(np.asarray(found, dtype=np.int64))
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(rows), np.concatenate(cols)

    def _count_by_word(self, docs: list[str], get) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of every n-gram occurrence of ``char_wb``: an n-gram never
        crosses a word boundary, so each distinct word's columns are looked up once per
        call and repeated as often as the word occurs in a text."""
        seen: dict[str, list[int]] = {}
        rows, cols = [], []
        for i, d in enumerate(docs):
            if self.lowercase:
                d = d.lower()
            found: list[int] = []
            for w, c in Counter(_WHITE.sub(" ", d).split()).items():
                ids = seen.get(w)
                if ids is None:
                    ids = seen[w] = [j for j in map(get, self._word_grams(w)) if j is not None]
                found += ids * c if c > 1 else ids
            rows.append(np.full(len(found), i, dtype=np.int64))
            cols.append(np.asarray(found, dtype=np.int64))
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(rows), np.concatenate(cols)

    def coo(self, docs: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row, column, value) of the texts' TF-IDF matrix, sorted by row then column:
        the entries of scikit-learn's ``transform``."""
        if self.batched:
            docs = batch(docs)
            row, col = self._count_batch(docs)
        else:
            docs = docs.texts if isinstance(docs, Batch) else list(docs)
            row, col = (self._count_words(docs) if self.words is not None
                        else self._count_each(docs))
        # per text: its columns sorted, repeats added (a stable sort is the fastest here)
        key = np.sort(row * self.width + col, kind="stable")
        first = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))[:len(key)]
        counts = np.diff(np.append(first, len(key)))
        key = key[first]
        row, col = np.divmod(key, self.width)
        data = counts.astype(self.dtype)
        s = self.settings
        if s["binary"]:
            data[:] = 1
        if s["sublinear_tf"]:
            np.log(data, out=data)
            data += 1.0
        if self.idf is not None:
            data *= self.idf[col]
        if s["norm"] is not None:
            weight = data * data if s["norm"] == "l2" else np.abs(data)
            norms = np.bincount(row, weights=weight, minlength=len(docs)).astype(np.float64)
            if s["norm"] == "l2":
                np.sqrt(norms, out=norms)
            norms[norms == 0.0] = 1.0
            data /= norms[row]
        return row, col, data

    def state(self, put) -> dict[str, Any]:
        meta = {"kind": "ngrams", "settings": self.settings, "width": self.width,
                "idf": put(self.idf) if self.idf is not None else None}
        if self.words is not None:
            _put_strings(meta, "words", self.words, put)
            meta["uni"] = put(self.uni)
            meta["codes"] = [[put(c), put(i)] for c, i in self.codes]
        else:
            _put_strings(meta, "terms", self.terms, put)
            meta["ids"] = put(self.ids)
        return meta

    @classmethod
    def from_state(cls, meta, get) -> Ngrams:
        idf = get(meta["idf"]) if meta["idf"] is not None else None
        if "words" in meta:
            return cls(meta["settings"], meta["width"], idf, words=_get_strings(meta, "words", get),
                       uni=get(meta["uni"]),
                       codes=[(get(c), get(i)) for c, i in meta["codes"]])
        return cls(meta["settings"], meta["width"], idf, terms=_get_strings(meta, "terms", get),
                   ids=get(meta["ids"]))


def _put_strings(meta: dict[str, Any], key: str, strings: list[str], put) -> None:
    """Store a list of strings as one UTF-8 byte array, NUL-separated; where a string
    holds a NUL itself (a character n-gram of a text with one), each one's size in
    bytes too (``<key>_sizes``), which then delimits them."""
    meta[key] = put(np.frombuffer("\x00".join(strings).encode("utf-8"), dtype=np.uint8))
    if any("\x00" in x for x in strings):
        meta[f"{key}_sizes"] = put(np.fromiter((len(x.encode("utf-8")) for x in strings),
                                               dtype=np.int64, count=len(strings)))


def _get_strings(meta: dict[str, Any], key: str, get) -> list[str]:
    data = get(meta[key]).tobytes()
    if f"{key}_sizes" not in meta:
        return data.decode("utf-8").split("\x00") if data else []
    out, at = [], 0
    for n in get(meta[f"{key}_sizes"]).tolist():
        if n < 0 or at + n > len(data):
            raise FormatError(f"{key}: string sizes out of bounds")
        out.append(data[at:at + n].decode("utf-8"))
        at += n + 1  # and its separator
    return out


# -- word lists and the sentence rule -------------------------------------------------------
def _numbers(b: Batch) -> list[int]:
    """Where ``NUMBER`` matches in the batch's text, as ``finditer`` finds them: a match
    begins where a word begins with a digit, so only there is it tried."""
    digit = b.bytes[b.bstart] if len(b.bstart) else np.zeros(0, dtype=np.uint8)
    found, free, text = [], 0, b.text
    for pos in b.start[(digit >= 0x30) & (digit <= 0x39)].tolist():
        if pos >= free:
            m = NUMBER.match(text, pos)
            if m:
                found.append(pos)
                free = m.end()
    return found


def _matched(b: Batch, index: TermIndex, out: np.ndarray, columns, local: bool = False):
    """Add each list's matches in the plain texts of ``b`` to ``out`` (rows: all texts,
    or with ``local`` the plain ones) and return the places of the texts left to do
    one at a time."""
    if not (b.n_docs and index.batchable):
        return range(len(b))
    for col, (docs, _, _) in zip(columns, index.find(b), strict=False):
        if len(docs):
            counted = b.per_doc(docs)
            if local:
                out[:, col] = counted
            else:
                out[b.index, col] = counted
    return b.rest


class Lexicon:
    """Per codebook label, whether (``binary``) or how often (``log1p``) its terms occur."""

    def __init__(self, book: dict[str, list[str]], binary: bool, index: TermIndex | None = None):
        self.book = {str(k): [str(t) for t in v] for k, v in book.items()}
        self.binary = bool(binary)
        self.index = index if index is not None else TermIndex(self.book)
        self.width = len(self.book)

    def counts(self, texts: Sequence[str] | Batch) -> np.ndarray:
        """Term matches per text and label, (n, n_labels)."""
        texts = batch(texts)
        out = np.zeros((len(texts), self.width))
        rest = _matched(texts, self.index, out, range(self.width))
        for i in rest:
            out[i] = self.index.counts(texts.texts[i])
        return out

    def block(self, texts: Sequence[str]) -> np.ndarray:
        out = self.counts(texts)
        return (out > 0).astype(float) if self.binary else np.log1p(out)

    def state(self, put) -> dict[str, Any]:
        return {"kind": "lexicon", "book": self.book, "binary": self.binary}

    @classmethod
    def from_state(cls, meta, get) -> Lexicon:
        return cls(meta["book"], meta["binary"])


class Cues:
    """Tone cues as rates per token (and the token count's ``log1p``), optionally
    divided by a scale (a fitted ``MaxAbsScaler``)."""

    MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
              "september", "october", "november", "december", "monday", "tuesday",
              "wednesday", "thursday", "friday", "saturday", "sunday")

    def __init__(self, cues: dict[str, list[str]], flags: dict[str, bool],
                 scale: np.ndarray | None = None, index: TermIndex | None = None):
        self.cues = {str(k): [str(t) for t in v] for k, v in cues.items()}
        self.flags = {k: bool(flags[k]) for k in ("quotes", "numbers", "dates", "length")}
        self.scale = scale
        self.index = index if index is not None else self.make_index(self.cues)
        self.width = len(self.cues) + sum(self.flags.values())

    @classmethod
    def make_index(cls, cues: dict[str, list[str]]) -> TermIndex:
        # the dates are one more list, looked up in the same pass
        return TermIndex({**{f"cue:{k}": v for k, v in cues.items()},
                          "_dates": list(cls.MONTHS)})

    def row(self, t: str) -> list[float]:
        """The cues of one text, unscaled."""
        k = len(self.cues)
        parts = split_words(t)
        if parts is None:
            n = max(len(TOKEN.findall(t)), 1)
        else:  # TOKEN's tokens: the words, less those an apostrophe joins to the last
            n = max((len(parts) - 1) // 2 - sum(1 for g in parts[2:-1:2] if g in _APOSTROPHES),
                    1)
        counts = self.index.counts(t)
        row = [c / n for c in counts[:k]]
        if self.flags["quotes"]:
            row.append(sum(t.count(q) for q in QUOTES) / n)
        if self.flags["numbers"]:
            row.append(len(NUMBER.findall(t)) / n)
        if self.flags["dates"]:
            row.append(counts[k] / n)
        if self.flags["length"]:
            row.append(math.log1p(n))
        return row

    def block(self, texts: Sequence[str] | Batch) -> np.ndarray:
        texts = batch(texts)
        out = np.zeros((len(texts), self.width))
        if texts.n_docs and self.index.batchable:
            out[texts.index] = self._rows(texts)
            rest = texts.rest
        else:
            rest = range(len(texts))
        for i in rest:
            out[i] = self.row(texts.texts[i])
        return out / self.scale if self.scale is not None else out

    def _rows(self, b: Batch) -> np.ndarray:
        """:meth:`row` of each plain text of a batch."""
        k, nd = len(self.cues), b.n_docs
        counts = np.zeros((nd, k + 1))
        _matched(b, self.index, counts, range(k + 1), local=True)
        # TOKEN's tokens: the words, less those an apostrophe joins to the one before
        doc, raw = b.doc, b.bytes
        gap = b.bstart[1:] - b.bend[:-1]  # in bytes: ' is one, ’ three (E2 80 99)
        at = np.minimum(b.bend[:-1, None] + np.arange(3), max(len(raw) - 1, 0))
        head = raw[at] if len(raw) else np.zeros((0, 3), dtype=np.uint8)
        joined = (doc[1:] == doc[:-1]) & (
            ((gap == 1) & (head[:, 0] == 0x27))
            | ((gap == 3) & (head[:, 0] == 0xE2) & (head[:, 1] == 0x80) & (head[:, 2] == 0x99)))
        n = np.maximum(b.per_doc(doc) - b.per_doc(doc[1:][joined]), 1).astype(float)
        cols = [counts[:, j] / n for j in range(k)]
        if self.flags["quotes"]:
            cols.append(b.per_doc(b.doc_of(b.places("".join(QUOTES)))) / n)
        if self.flags["numbers"]:
            cols.append(b.per_doc(b.doc_of(_numbers(b))) / n)
        if self.flags["dates"]:
            cols.append(counts[:, k] / n)
        if self.flags["length"]:
            cols.append(np.fromiter(map(math.log1p, n.tolist()), dtype=float, count=nd))
        return np.column_stack(cols) if cols else np.zeros((nd, 0))

    def state(self, put) -> dict[str, Any]:
        return {"kind": "cues", "cues": self.cues, "flags": self.flags,
                "scale": put(self.scale) if self.scale is not None else None}

    @classmethod
    def from_state(cls, meta, get) -> Cues:
        scale = get(meta["scale"]) if meta["scale"] is not None else None
        return cls(meta["cues"], meta["flags"], scale)


class VoiceRule:
    """The guidelines' sentence-level tone rule per paragraph (see
    :class:`framing.learn.features.VoiceFeatures` for its columns).

    ``scorer`` is anything with ``scores(texts)`` giving per task an (n, n_labels) array
    (a :class:`framing.FramingModel` or a :class:`Runtime`); ``column`` the (task,
    column) of its score that marks a sentence evaluative.
    """

    def __init__(self, voice: Voice, scorer=None, column: tuple[str, int] | None = None,
                 cut: float = 0.5, score_headlines: bool = False):
        self.voice = voice
        self.scorer = scorer
        self.column = column
        self.cut = float(cut)
        self.score_headlines = bool(score_headlines)
        self.width = 8 if scorer is not None else 6

    def sentences(self, texts: Sequence[str]) -> list[list[tuple[Any, float]]]:
        """Per paragraph, its sentences with their scorer score (0 without a scorer)."""
        paras = self.voice.analyse_batch(batch(texts))
        scores = [[0.0] * len(p) for p in paras]
        if self.scorer is not None:
            where = [(i, j) for i, p in enumerate(paras) for j, s in enumerate(p)
                     if s.own_voice and (self.score_headlines or not s.headline)]
            if where:
                task, col = self.column
                own = [self.voice.own_voice_text(paras[i][j].text) or "." for i, j in where]
                values = self.scorer.scores(own)[task][:, col]
                for (i, j), v in zip(where, values.tolist(), strict=True):
                    scores[i][j] = v
        return [list(zip(p, s, strict=True)) for p, s in zip(paras, scores, strict=True)]

    def row(self, sents) -> list[float]:
        """One paragraph's columns from its sentences."""
        n = len(sents)
        own = [(s, v) for s, v in sents if s.own_voice]
        scored = self.scorer is not None
        evaluative = sum(1 for s, v in own if s.cued or (scored and v >= self.cut))
        row = [float(evaluative >= n - evaluative), evaluative / n, 1 - len(own) / n,
               sum(1 for s, _ in own if s.cued) / n]
        if scored:
            vals = [v for s, v in own if self.score_headlines or not s.headline] or [0.0]
            row += [sum(vals) / len(vals), max(vals)]
        return row + [float(any(s.question for s, _ in own)), math.log1p(n)]

    def block(self, texts: Sequence[str] | Batch) -> np.ndarray:
        """:meth:`row` of each paragraph, from the sentences' columns
        (:meth:`framing.text.sentences.Voice.table`) with array operations."""
        b = batch(texts)
        t = self.voice.table(b)
        n_texts = len(b)
        if not n_texts:
            return np.zeros((0, self.width))
        para = t.para  # a paragraph's sentences are together
        own, asks = ~t.attributed, t.question
        cued = own & ((t.evaluative > 0) | (t.exhorting > 0) | asks)
        n = np.bincount(para, minlength=n_texts)

        def per_text(mask):
            return np.bincount(para, weights=mask.astype(float), minlength=n_texts)

        marked = cued
        cols = []
        if self.scorer is not None:
            scored = own if self.score_headlines else own & t.final
            values = np.zeros(len(t))
            chosen = np.flatnonzero(scored)
            if len(chosen):
                task, col = self.column
                own_text = self.voice.own_voice_text
                if self._words_only():  # a sentence of the batch: its words are at hand
                    units = b.stretches([(a, e) if body is None else (own_text(body) or ".")
                                         for body, a, e in t.rows(chosen)])
                else:
                    units = [own_text(t.source[a:e] if body is None else body) or "."
                             for body, a, e in t.rows(chosen)]
                values[chosen] = self.scorer.scores(units)[task][:, col]
            marked = cued | (own & (values >= self.cut))
            k = per_text(scored)
            mean = np.bincount(para[chosen], weights=values[chosen], minlength=n_texts)
            mean = np.divide(mean, k, out=np.zeros(n_texts), where=k > 0)
            top = np.full(n_texts, -np.inf)
            np.maximum.at(top, para[chosen], values[chosen])
            top[k == 0] = 0.0
            cols = [mean, top]
        count = per_text(marked)
        return np.column_stack(
            [(count >= n - count).astype(float), count / n, 1 - per_text(own) / n,
             per_text(cued) / n, *cols, (per_text(own & asks) > 0).astype(float),
             np.fromiter(map(math.log1p, n.tolist()), dtype=float, count=n_texts)])

    def _words_only(self) -> bool:
        """Whether the scorer reads nothing but word n-grams of the batch's words (of
        lower-cased text): then a sentence of a plain, unquoted paragraph is scored from
        the paragraph's words, its own voice being the sentence with its spaces
        squeezed, which has the same words."""
        parts = getattr(self.scorer, "parts", None)
        return bool(parts) and all(isinstance(p, Ngrams) and p.batched and p.lowercase
                                   for p, _ in parts)

    def state(self, put) -> dict[str, Any]:
        return {"kind": "voice", "lists": self.voice.lists,
                "scorer": self.scorer.state(put) if self.scorer is not None else None,
                "column": list(self.column) if self.column else None, "cut": self.cut,
                "score_headlines": self.score_headlines}

    @classmethod
    def from_state(cls, meta, get) -> VoiceRule:
        scorer = Runtime.from_state(meta["scorer"], get) if meta["scorer"] else None
        column = (str(meta["column"][0]), int(meta["column"][1])) if meta["column"] else None
        return cls(Voice(meta["lists"]), scorer, column, meta["cut"], meta["score_headlines"])


_PARTS = {"ngrams": Ngrams, "lexicon": Lexicon, "cues": Cues, "voice": VoiceRule}


# -- the model --------------------------------------------------------------------------------
def _indexes(part) -> list[TermIndex]:
    """The word-list indexes a family matches."""
    if isinstance(part, (Lexicon, Cues)):
        return [part.index]
    if isinstance(part, VoiceRule):
        return [part.voice._patterns()[0]]
    return []


#: Texts scored together at most (larger calls go a batch of this many at a time).
CHUNK = 2048
_DENSE = 2 ** 16  # n-gram blocks up to this many cells are scored as dense matrices
_FEW = 4  # batches up to this many texts are scored from their nonzero entries alone


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


class Runtime:
    """A fitted model's scoring: feature families side by side, one linear head per task.

    Parameters
    ----------
    specs : list of (name, kind, labels)
        The tasks.
    parts : list of (part, weight)
        The feature families in column order, each an :class:`Ngrams`, :class:`Lexicon`,
        :class:`Cues` or :class:`VoiceRule`, with its weight in the union.
    heads : dict of str to tuple
        Per task: ``("constant", row)``; ``("labels", [w, …], b)`` for one-vs-rest (a
        sigmoid per label, each with its own (1, n_features) weights); or ``(how, W, b,
        order)`` with ``how`` one of ``sigmoid`` (binary: one weight row for the second
        class), ``ovr`` (sigmoids normalised) or ``softmax``, and ``order`` the label
        index of each class.
    """

    def __init__(self, specs, parts, heads):
        self.specs = [(str(n), str(k), [str(x) for x in labels]) for n, k, labels in specs]
        self.parts = list(parts)
        self.heads = dict(heads)
        self.n_features = sum(p.width for p, _ in self.parts)
        self._lists = None

    def coo(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row, column, value) of the texts' feature matrix."""
        texts = batch(texts)  # split into words once for every family
        rows, cols, vals, offset = [], [], [], 0
        for part, weight in self.parts:
            if isinstance(part, Ngrams):
                r, c, v = part.coo(texts)
            else:
                block = part.block(texts)
                r, c = np.nonzero(block)
                v = block[r, c]
            rows.append(r)
            cols.append(c + offset)
            vals.append(v.astype(np.float64) * weight if weight != 1.0
                        else v.astype(np.float64))
            offset += part.width
        return np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)

    def scores(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Per task, (n, n_labels) scores in label order (as ``FramingModel.scores``)."""
        if not isinstance(texts, Batch):
            texts = list(texts)
            if len(texts) > CHUNK:  # a batch's arrays fit the processor's caches
                parts = [self.scores(texts[i:i + CHUNK]) for i in range(0, len(texts), CHUNK)]
                return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        n = len(texts)
        # per family: its block, dense, or the n-grams' (row, column, value) where a
        # dense block would be large. A few texts (one paragraph in a loop): every family
        # as (row, column, value), scored by sums over its nonzero entries — a matrix
        # product that small costs more in the BLAS's threads than in arithmetic, the
        # more so on a busy machine.
        few = n <= _FEW
        families, offset = [], 0
        if n:
            texts = batch(texts)  # split into words once for every family
            self._match_lists(texts)
            for part, weight in self.parts:
                if isinstance(part, Ngrams):
                    r, c, v = part.coo(texts)
                    if weight != 1.0:
                        v = v * weight
                    if few:
                        families.append((r, c + offset, v))
                    elif n * part.width <= _DENSE:
                        block = np.zeros((n, part.width))
                        block[r, c] = v  # one entry per (row, column)
                        families.append((block, offset))
                    else:
                        families.append((r, c + offset, v))
                else:
                    block = part.block(texts)
                    if weight != 1.0:
                        block = block * weight
                    if few:
                        r, c = np.nonzero(block)
                        families.append((r, c + offset, block[r, c]))
                    else:
                        families.append((block, offset))
                offset += part.width
        if few and families:
            fr, fc, fv = (np.concatenate(x) for x in zip(*families, strict=True))

        def linear(rows, b):  # rows: one weight vector per output column
            if few:
                d = np.zeros((n, len(rows))) + b
                if families:
                    for k, w in enumerate(rows):
                        d[:, k] += np.bincount(fr, weights=np.ravel(w)[fc] * fv, minlength=n)
                return d
            W = np.vstack([w.reshape(1, -1) for w in rows])
            d = np.zeros((n, len(W))) + b
            for fam in families:
                if len(fam) == 3:
                    r, c, v = fam
                    for k, w in enumerate(W):
                        d[:, k] += np.bincount(r, weights=w[c] * v, minlength=n)
                else:
                    block, at = fam
                    d += block @ W[:, at:at + block.shape[1]].T
            return d

        out = {}
        for name, _kind, labels in self.specs:
            head = self.heads[name]
            how = head[0]
            if how == "constant":
                out[name] = np.tile(head[1], (n, 1))
            elif how == "labels":
                out[name] = _sigmoid(linear(head[1], head[2]))
            else:
                _, W, b, order = head
                d = linear(list(W), b)
                if how == "sigmoid":
                    p1 = _sigmoid(d[:, 0])
                    p = np.column_stack([1.0 - p1, p1])
                elif how == "ovr":
                    p = _sigmoid(d)
                    p = p / p.sum(axis=1, keepdims=True)
                else:
                    e = np.exp(d - d.max(axis=1, keepdims=True))
                    p = e / e.sum(axis=1, keepdims=True)
                s = np.zeros((n, len(labels)))
                s[:, order] = p
                out[name] = s
        return out

    def _match_lists(self, b: Batch) -> None:
        """Match the word lists of every family (codebook, cues, sentence rule) in one
        pass over the batch's words, each family then reading its own lists' matches."""
        if self._lists is None:
            indexes = [i for part, _ in self.parts for i in _indexes(part)]
            merged = {}
            where = []
            for k, index in enumerate(indexes):
                first = len(merged)
                for name, terms in index.lists.items():
                    merged[f"{k}:{name}"] = terms
                where.append((index, first, len(merged)))
            self._lists = (TermIndex(merged), where) if len(indexes) > 1 and all(
                i.batchable for i in indexes) else False
        if self._lists and b.n_docs:
            index, where = self._lists
            found = index.find(b)
            for part_index, first, last in where:
                b.found[part_index] = found[first:last]

    # -- state --------------------------------------------------------------------------
    def state(self, put) -> dict[str, Any]:
        """A JSON-ready description; ``put(array)`` stores an array and returns its key."""
        heads = {}
        for name, head in self.heads.items():
            how = head[0]
            if how == "constant":
                heads[name] = {"how": how, "row": put(head[1])}
            elif how == "labels":
                heads[name] = {"how": how, "W": [put(w) for w in head[1]], "b": put(head[2])}
            else:
                heads[name] = {"how": how, "W": put(head[1]), "b": put(head[2]),
                               "order": [int(x) for x in head[3]]}
        return {"specs": [list(s) for s in self.specs], "heads": heads,
                "parts": [{**p.state(put), "weight": w} for p, w in self.parts]}

    @classmethod
    def from_state(cls, meta, get) -> Runtime:
        try:
            parts = [(_PARTS[p["kind"]].from_state(p, get), float(p["weight"]))
                     for p in meta["parts"]]
            heads = {}
            for name, h in meta["heads"].items():
                how = h["how"]
                if how == "constant":
                    heads[name] = (how, get(h["row"]))
                elif how == "labels":
                    heads[name] = (how, [get(k) for k in h["W"]], get(h["b"]))
                elif how in ("sigmoid", "ovr", "softmax"):
                    heads[name] = (how, get(h["W"]), get(h["b"]), list(h["order"]))
                else:
                    raise FormatError(f"unknown head {how!r}")
            return cls(meta["specs"], parts, heads)
        except (KeyError, TypeError, IndexError) as e:
            raise FormatError(f"incomplete runtime description ({type(e).__name__}: {e})"
                              ) from None


# -- the file section ---------------------------------------------------------------------------
_KINDS = "biuf"  # array dtypes a section may hold: no objects, no strings


class Deflate:
    """A write-only file that zlib-compresses what it is given into ``raw``; ``size``
    counts the compressed bytes written. Its position cannot be told."""

    def __init__(self, raw, level: int):
        self.raw, self.size = raw, 0
        self._z = zlib.compressobj(level)

    def write(self, data) -> int:
        out = self._z.compress(data)
        self.raw.write(out)
        self.size += len(out)
        return memoryview(data).nbytes

    def tell(self):
        import io

        raise io.UnsupportedOperation("a compressed stream has no position to tell")

    def finish(self) -> int:
        """Write what is left; the compressed size."""
        out = self._z.flush()
        self.raw.write(out)
        self.size += len(out)
        return self.size


#: Arrays of more bytes than this in all are written uncompressed (zlib's stored blocks,
#: read by the same reader): the weights of a model of many labels and a large vocabulary
#: (a 90-label model of 407,007 n-grams: 303 MB) shrink by a quarter at the least level
#: but take seconds to compress at every save and to inflate at every load.
STORE_ABOVE = 32 * 2 ** 20


def pack(raw, meta: dict[str, Any], arrays: list[np.ndarray], level: int = 1) -> int:
    """Write a JSON description and its arrays to ``raw`` as one compressed section, a
    piece at a time (no copy of the arrays); the section's size. Arrays of more than
    :data:`STORE_ABOVE` bytes in all are stored (level 0) whatever ``level`` says."""
    arrays = [np.ascontiguousarray(a) for a in arrays]
    if sum(a.nbytes for a in arrays) > STORE_ABOVE:
        level = 0
    table, offset = [], 0
    for a in arrays:
        table.append([a.dtype.str, list(a.shape), offset, a.nbytes])
        offset += a.nbytes
    head = json.dumps({"meta": meta, "arrays": table}, separators=(",", ":"),
                      default=_plain).encode("utf-8")
    out = Deflate(raw, level)
    out.write(len(head).to_bytes(8, "little") + head)
    for a in arrays:
        if a.nbytes:
            out.write(a.reshape(-1).view(np.uint8))
    return out.finish()


def _plain(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, tuple | set | frozenset):
        return list(obj)
    return str(obj)


def unpack(data: bytes) -> tuple[dict[str, Any], list[np.ndarray]]:
    """The description and arrays of a section; :class:`FormatError` if it is damaged."""
    try:
        raw = bytearray(zlib.decompress(data))  # writable arrays, shared with the model
        n = int.from_bytes(raw[:8], "little")
        head = json.loads(raw[8:8 + n].decode("utf-8"))
        body = memoryview(raw)[8 + n:]
        arrays = []
        for dtype, shape, offset, nbytes in head["arrays"]:
            dt = np.dtype(dtype)
            count = math.prod(shape)
            if (dt.kind not in _KINDS or count * dt.itemsize != nbytes or offset < 0
                    or offset + nbytes > len(body) or any(d < 0 for d in shape)):
                raise FormatError("an array entry out of bounds")
            arrays.append(np.frombuffer(body, dtype=dt, count=count, offset=offset
                                        ).reshape(shape))
        return head["meta"], arrays
    except FormatError:
        raise
    except (zlib.error, ValueError, TypeError, KeyError, UnicodeDecodeError) as e:
        raise FormatError(f"{type(e).__name__}: {e}") from None


class Store:
    """Collects arrays while a description is written (``put``) or read (``get``)."""

    def __init__(self, arrays: list[np.ndarray] | None = None):
        self.arrays = list(arrays or [])

    def put(self, array) -> int:
        self.arrays.append(np.asarray(array))
        return len(self.arrays) - 1

    def get(self, key) -> np.ndarray:
        if isinstance(key, bool) or not isinstance(key, int) or not 0 <= key < len(
                self.arrays):
            raise FormatError(f"no array {key!r}")
        return self.arrays[key]

