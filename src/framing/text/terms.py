"""Word lists matched in one pass over a text's words.

A codebook or a cue list is a list of terms: a word, a phrase (words separated by spaces
or hyphens in the text), or a stem (``terror*``: any ending). Matched as one
case-insensitive regular-expression alternation per list, every list scans the whole
text at every position; with two dozen lists that was most of a model's prediction
time. :class:`TermIndex` finds the same matches by looking each word of the text up once:
an exact first word in a dictionary, a stem through a per-word cache, then the candidate
term verified with its own expression at that position. The counts (and positions) are
the ones ``re.findall`` of the list's alternation gives — leftmost, non-overlapping, the
longer pattern first — and a test holds them equal on the seeds and generated text.

:meth:`TermIndex.find` does the same for every text of a :class:`framing.text.tokens.Batch`
at once, with array operations on the batch's word numbers.

numpy and the standard library; the compiled index is rebuilt after unpickling.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from itertools import accumulate, compress

import numpy as np

_WORD = re.compile(r"\w+")
_LEAD = re.compile(r"\w+")
_SPLIT = re.compile(r"(\w+)")
_GAP = re.compile(r"[\s\-]+")
#: The split of the texts seen last: the codebook, the cues and the sentence rule each
#: look the same paragraph up, and split it once.
_RECENT: dict[str, list[str]] = {}
_RECENT_LIMIT = 4 * 2 ** 20  # characters of text remembered, at most
_recent_size = [0]


def _remember(text: str, parts: list[str]) -> None:
    if _recent_size[0] + len(text) > _RECENT_LIMIT:
        _RECENT.clear()
        _recent_size[0] = 0
    _RECENT[text] = parts
    _recent_size[0] += len(text)


def split_words(text: str) -> list[str] | None:
    """``re.split(r"(\\w+)", text.lower())``: the gaps and words in turn (the words
    lower-cased) — remembered, as the word lists look the same text up — or None where
    lower-casing changes the text's length (offsets would shift)."""
    parts = _RECENT.get(text)
    if parts is None:
        low = text.lower()
        if len(low) != len(text):
            return None
        parts = _SPLIT.split(low)
        _remember(text, parts)
    return parts


def term_regex(term: str) -> str | None:
    """The expression of one term: words joined by spaces or hyphens, ``*`` any ending."""
    term = str(term).strip().lower()
    if not term:
        return None
    stem = term.endswith("*")
    body = r"[\s\-]+".join(re.escape(w) for w in term.rstrip("*").split())
    return r"\b" + body + (r"\w*" if stem else r"\b")


def term_pattern(terms: Sequence[str], flags: int = re.IGNORECASE) -> re.Pattern | None:
    """One alternation for a list (longest expression first), as the lists were matched."""
    parts = [p for p in (term_regex(t) for t in terms) if p]
    if not parts:
        return None
    parts.sort(key=len, reverse=True)
    return re.compile("|".join(parts), flags)


class TermIndex:
    """Several term lists, matched in one pass over a text's words.

    Parameters
    ----------
    lists : mapping of str to list of str
        A name per list, and its terms.
    """

    def __init__(self, lists: Mapping[str, Sequence[str]]):
        self.lists = {str(k): [str(t) for t in (v or [])] for k, v in lists.items()}
        self._built = None
        self._fast = None

    def __getstate__(self):
        return {"lists": self.lists, "_built": None}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._fast = None

    def _build(self):
        names = list(self.lists)
        exact: dict[str, list] = {}
        prefix: list[tuple[str, tuple]] = []
        fallback: list[int] = []  # lists with a term that starts with no word character
        for li, name in enumerate(names):
            # the alternation's order: the terms' order, stably by length, longest first
            exprs = [p for p in (term_regex(t) for t in self.lists[name]) if p]
            exprs.sort(key=len, reverse=True)
            for rank, expr in enumerate(exprs):
                body = expr[2:]  # without the leading \b
                compiled = re.compile(expr, re.IGNORECASE)
                words = _literal_words(body)
                lead = _LEAD.match(words[0]) if words else None
                if lead is None or lead.start() != 0:
                    fallback.append(li)
                    continue
                key = lead.group(0)
                # A term of whole words (the last may be a stem) is checked against the
                # text's next words and the gaps between them; any other by its expression.
                plain = all(_LEAD.fullmatch(w) for w in words)
                alt = (li, rank, compiled, tuple(words[1:]) if plain else None,
                       expr.endswith(r"\w*"))
                if len(words) == 1 and plain and expr.endswith(r"\w*"):
                    prefix.append((key, alt))
                else:
                    exact.setdefault(key, []).append(alt)
        stems: dict[str, list] = {}
        for key, alt in prefix:
            stems.setdefault(key, []).append(alt)
        lengths = sorted({len(k) for k in stems})
        # looked up by a word's beginnings; most words begin no stem's shortest beginning
        prefix = (stems, lengths, {k[:lengths[0]] for k in stems} if stems else set())
        self._built = (names, exact, prefix, sorted(set(fallback)),
                       [term_pattern(self.lists[n]) for n in names], {})
        return self._built

    @property
    def batchable(self) -> bool:
        """Whether :meth:`find` applies: no term holds the NUL that joins a batch."""
        return not any("\x00" in t for terms in self.lists.values() for t in terms)

    @property
    def names(self) -> list[str]:
        """The lists' names, in order."""
        return list(self.lists)

    def spans(self, text: str) -> list[list[tuple[int, int]]]:
        """Per list, the (start, end) of each match in ``text``."""
        names, exact, prefix, fallback, patterns, cache = self._built or self._build()
        out: list[list[tuple[int, int]]] = [[] for _ in names]
        parts = split_words(text)  # one split gives the words and what lies between
        if parts is not None:
            words = parts[1::2]
        else:  # a character whose lower case is longer: offsets would shift
            parts = None
            found = list(_WORD.finditer(text))
            words = [m.group(0).lower() for m in found]
        missing = set(words).difference(cache)
        if missing:
            if len(cache) + len(missing) > 200000:  # a huge vocabulary: bounded memory
                cache.clear()
                missing = set(words)
            for word in missing:  # the terms each new word may start, each list's in order
                cache[word] = _candidates(word, exact, prefix)
        looked = list(map(cache.__getitem__, words))
        hits = list(compress(range(len(words)), looked))  # words that may start a term
        if hits:
            # word i spans ends[2i] to ends[2i + 1]; the gap before it is parts[2i]
            ends = list(accumulate(map(len, parts))) if parts is not None else None
            n_words = len(words)
            free = [0] * len(names)  # where each list may match next (no overlaps)
            for i in hits:
                pos = ends[2 * i] if ends is not None else found[i].start()
                done = -1
                for li, _rank, compiled, tail, stem in looked[i]:
                    if li == done or pos < free[li]:
                        continue
                    if tail is not None and ends is not None:
                        last = i + len(tail)
                        if last >= n_words or not _follows(words, parts, i, tail, stem):
                            continue
                        end = ends[2 * last + 1]
                    else:
                        hit = compiled.match(text, pos)
                        if not hit:
                            continue
                        end = hit.end()
                    out[li].append((pos, end))
                    free[li] = end
                    done = li
        for li in fallback:  # rare: a term that starts with punctuation
            out[li] = [m.span() for m in patterns[li].finditer(text)] if patterns[li] else []
        return out

    def counts(self, text: str) -> list[int]:
        """Per list, how many times its terms occur in ``text``."""
        return [len(s) for s in self.spans(text)]

    def find(self, batch) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Per list, the (document, start, end) arrays of its matches in the plain texts
        of a :class:`framing.text.tokens.Batch` (places in its joined text, in order):
        :meth:`spans` of each text, from the batch's words.

        Every (word, term) pair a word may start is checked with array operations — a
        one-word term matches at once, a phrase when the next words are its words — save
        the rare terms with punctuation or a stem after the first word, checked by their
        expression. Then, per list and word, the first term that matches in the list's
        order wins, and a phrase hides the matches of its list that start inside it, as
        the leftmost, non-overlapping matching of an alternation does.
        """
        known = batch.found.get(self)
        if known is not None:  # matched already, with other lists in one pass
            return known
        names, exact, prefix, fallback, patterns, _ = self._built or self._build()
        fast = self._fast or self._make_fast(exact, prefix)
        cache = self._bytes
        words = batch.words
        vocab, _ = batch.word_ids()
        missing = set(vocab).difference(cache)
        if missing:
            if len(cache) + len(missing) > 200000:  # a huge vocabulary: bounded memory
                cache.clear()
                missing = set(vocab)
            for word in missing:
                cache[word] = self._entry(_candidates(word.decode("ascii"), exact, prefix))
        alts, (a_li, a_kind, a_len, a_tail), tail_ids = fast
        offsets = np.asarray(self._offsets, dtype=np.int64)
        flat = np.asarray(self._flat, dtype=np.int64)
        n, n_words = len(names), len(words)
        doc, start, end = batch.doc, batch.start, batch.end
        code = batch.lookup(cache, 0)
        hits = np.flatnonzero(code)
        # every (word, term) pair: the word's terms in their lists' order
        first, count = offsets[code[hits]], offsets[code[hits] + 1] - offsets[code[hits]]
        word = np.repeat(hits, count)
        within = np.arange(len(word)) - np.repeat(np.cumsum(count) - count, count)
        alt = flat[np.repeat(first, count) + within]
        kind = a_kind[alt]
        ok = kind == 0
        stop = end[word]
        text = batch.text
        phrase = np.flatnonzero(kind == 1)
        if len(phrase):  # the next words are the phrase's words, in the same text
            wid = batch.lookup(tail_ids, -1)
            w, a = word[phrase], alt[phrase]
            length = a_len[a]
            last = np.minimum(w + length, n_words - 1)
            good = (w + length < n_words) & (doc[last] == doc[w])
            for k in range(1, a_tail.shape[1] + 1):
                at = np.minimum(w + k, n_words - 1)
                good &= (length < k) | (wid[at] == a_tail[a, k - 1])
            found = phrase[good]
            for p in found.tolist():  # and only spaces or hyphens between them
                i, m = int(word[p]), int(a_len[alt[p]])
                if all(_GAP.fullmatch(text, int(end[i + k - 1]), int(start[i + k]))
                       for k in range(1, m + 1)):
                    ok[p] = True
                    stop[p] = end[i + m]
        for p in np.flatnonzero(kind == 2).tolist():  # a stem or punctuation: one by one
            i = int(word[p])
            _li, _rank, compiled, tail, stem = alts[alt[p]]
            pos, d = int(start[i]), int(doc[i])
            if tail is not None:
                m = i + len(tail)
                if m >= n_words or doc[m] != d or not all(
                        (words[i + k].startswith(t) if stem and k == len(tail)
                         else words[i + k] == t)
                        and _GAP.fullmatch(text, int(end[i + k - 1]), int(start[i + k]))
                        for k, t in enumerate(tail, 1)):
                    continue
                ok[p], stop[p] = True, end[m]
            else:
                hit = compiled.match(text, pos)
                if hit:
                    ok[p], stop[p] = True, hit.end()
        # per word and list, the first term that matches
        m = np.flatnonzero(ok)
        key = word[m] * n + a_li[alt[m]]
        m = m[np.concatenate(([True], key[1:] != key[:-1]))] if len(m) else m
        w_m, li_m, stop_m = word[m], a_li[alt[m]], stop[m]
        out = []
        for li in range(n):
            if li in fallback:  # a term that starts with punctuation: its expression
                spans = ([x.span() for x in patterns[li].finditer(text)]
                         if patterns[li] is not None else [])
                a = np.asarray([x for x, _ in spans], dtype=np.int64)
                b = np.asarray([y for _, y in spans], dtype=np.int64)
                out.append((batch.doc_of(a), a, b))
                continue
            mine = li_m == li
            w, b = w_m[mine], stop_m[mine]
            a = start[w]
            long = np.flatnonzero(b > end[w])
            if len(long):  # a match over several words hides those inside it
                keep = np.ones(len(w), dtype=bool)
                free, shown = 0, []
                for j in long.tolist():
                    if a[j] >= free:
                        free = int(b[j])
                        shown.append(j)
                    else:
                        keep[j] = False
                sa, sb = a[shown], b[shown]
                k = np.searchsorted(sa, a, side="right") - 1
                keep &= ~((k >= 0) & (sb[np.maximum(k, 0)] > a) & (sa[np.maximum(k, 0)] < a))
                w, a, b = w[keep], a[keep], b[keep]
            out.append((doc[w], a, b))
        return out

    def _make_fast(self, exact, prefix):
        """The terms as arrays: per term its list, its kind (0: one word, 1: a phrase
        of plain words, 2: checked by its expression), its words after the first as
        ids; and the words' cache."""
        alts = {}
        for group in (*exact.values(), *prefix[0].values()):
            for alt in group:
                alts[alt[0], alt[1]] = alt
        keys = sorted(alts)
        tail_ids: dict[bytes, int] = {}
        rows, kinds, lens = [], [], []
        for key in keys:
            _li, _rank, _c, tail, stem = alts[key]
            if tail == ():
                kinds.append(0)
            elif tail is not None and not stem:
                kinds.append(1)
            else:
                kinds.append(2)
            ids = ([tail_ids.setdefault(t.encode("utf-8"), len(tail_ids)) for t in tail]
                   if kinds[-1] == 1 else [])
            rows.append(ids)
            lens.append(len(ids))
        width = max(lens, default=0)
        table = np.full((len(keys), max(width, 1)), -2, dtype=np.int64)
        for k, ids in enumerate(rows):
            table[k, :len(ids)] = ids
        bytes_alts = [(li, rank, c, None if tail is None else
                       tuple(t.encode("utf-8") for t in tail), stem)
                      for li, rank, c, tail, stem in (alts[k] for k in keys)]
        self._ids = {k: i for i, k in enumerate(keys)}
        self._bytes, self._keys = {}, {(): 0}
        self._offsets, self._flat = [0, 0], []
        arrays = (np.asarray([k[0] for k in keys], dtype=np.int64),
                  np.asarray(kinds, dtype=np.int64), np.asarray(lens, dtype=np.int64), table)
        self._fast = (bytes_alts, arrays, tail_ids)
        return self._fast

    def _entry(self, alts) -> int:
        """The number of a word's candidate terms (the same terms, the same number; 0:
        none)."""
        key = tuple(self._ids[a[0], a[1]] for a in alts) if alts else ()
        k = self._keys.get(key)
        if k is None:
            k = self._keys[key] = len(self._offsets) - 1
            self._flat.extend(key)
            self._offsets.append(len(self._flat))
        return k

def _candidates(word: str, exact, prefix):
    """The terms a word may start (exact first words and stems: ``prefix`` is the stems
    by their beginning and those beginnings' lengths), each list's in its alternation's
    order; None if none."""
    stems, lengths, heads = prefix
    found = list(exact.get(word, ()))
    if not lengths or word[:lengths[0]] not in heads:
        return sorted(found, key=lambda a: (a[0], a[1])) or None
    for n in lengths:
        if n > len(word):
            break
        found += stems.get(word[:n], ())
    return sorted(found, key=lambda a: (a[0], a[1])) or None


def _follows(words: list[str], parts: list[str], i: int, tail: tuple[str, ...],
             stem: bool) -> bool:
    """Whether the words after word ``i`` are ``tail`` (the last one a stem's beginning
    when ``stem``), each after a gap of spaces or hyphens only."""
    for k, w in enumerate(tail, 1):
        word = words[i + k]
        if not (word.startswith(w) if stem and k == len(tail) else word == w):
            return False
        if not _GAP.fullmatch(parts[2 * (i + k)]):
            return False
    return True


def _literal_words(body: str) -> list[str]:
    """The literal words of a term's expression (unescaped), lower-case."""
    body = body.removesuffix(r"\w*").removesuffix(r"\b")
    return [re.sub(r"\\(.)", r"\1", w) for w in body.split(r"[\s\-]+")]
