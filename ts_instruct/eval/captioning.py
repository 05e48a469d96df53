"""Caption metrics: BLEU-1..4, ROUGE-L and CIDEr, equal to pycocoevalcap's on the same tokenised text.

The scorers mirror pycocoevalcap 1.2 (``bleu/bleu_scorer.py``, ``rouge/rouge.py``, ``cider/cider_scorer.py``)
operation for operation, so the numbers are the same to the last bit on the same input:

* BLEU: corpus-level, clipped n-gram counts summed over all captions, the brevity penalty from the sum of the
  *closest* reference lengths (ties to the shorter one), ``1e-15``/``1e-9`` smoothing; words by ``str.split()``.
* ROUGE-L: per caption, the LCS against each reference, ``F = (1 + b^2) P R / (R + b^2 P)`` with ``b = 1.2``
  using the *best* precision and the *best* recall over references, averaged over captions; words by
  ``str.split(" ")`` (so an empty caption is one empty word, as there).
* CIDEr (pycocoevalcap's ``Cider``, i.e. CIDEr-D's clipping and Gaussian length penalty, sigma 6): tf-idf n-gram
  vectors (n = 1..4) with document frequencies over the references of the evaluated set, averaged over n and
  references, times 10. Its length penalty counts the *bigrams* of each sentence, as the original does.

METEOR is not reported: pycocoevalcap runs the Java METEOR 1.5 with its paraphrase tables, and no Java-free
implementation gives its numbers (nltk's ``meteor_score`` differs and needs the WordNet download).

Tokenisation (:func:`ptb_tokenize`) mirrors what pycocoevalcap's ``PTBTokenizer`` (Stanford CoreNLP 3.4.1,
``-preserveLines -lowerCase``) followed by its punctuation filter produces: lower case; clitics split
(``it's`` → ``it 's``, ``don't`` → ``do n't``, ``cannot`` → ``can not``); ``, ; : ? !`` split off words (not inside
numbers such as ``1,000`` or ``3:30``); a word's final period split off unless the word is an abbreviation
(``u.s.``, ``p.m.``, ``st.``, ``e.g.``); ``% $ #`` split off numbers; then the tokens pycocoevalcap drops are
removed (``'' ' `` ` . ? ! , : - -- ... ;`` and the quotes). Brackets become ``-lrb-``, ``-rrb-``, ``-lsb-``...
and are *kept*, because pycocoevalcap's filter lists them in upper case while the tokenizer lower-cases them.
Known differences from the Java tokenizer, rare in captions: a decimal number glued to a unit (``12.5m``, which
CoreNLP splits) and some sentence-internal abbreviations followed by a capital.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

#: Tokens pycocoevalcap removes after tokenising (its ``PUNCTUATIONS``), in the lower case the tokenizer emits.
DROPPED_TOKENS = frozenset(["''", "'", "``", "`", ".", "?", "!", ",", ":", "-", "--", "...", ";"])

_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "st",
        "mt",
        "co",
        "inc",
        "ltd",
        "jr",
        "sr",
        "vs",
        "etc",
        "prof",
        "gen",
        "rep",
        "sen",
        "gov",
        "corp",
        "bros",
        "no",
        "ft",
        "ave",
        "blvd",
        "rd",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
    ]
)
_BRACKETS = {"(": "-lrb-", ")": "-rrb-", "[": "-lsb-", "]": "-rsb-", "{": "-lcb-", "}": "-rcb-"}
_CLITIC = re.compile(r"(?<=[^\W_])('s|'re|'ve|'ll|'m|'d)\b|(?<=[^\W_])(n't)\b")
_CLITICS = frozenset(["'s", "'re", "'ve", "'ll", "'m", "'d"])
_SPECIAL = {"cannot": "can not", "gonna": "gon na", "wanna": "wan na", "gotta": "got ta"}
_SPLIT_ALWAYS = re.compile(r"(;|--|\.\.\.|[\"“”]|[()\[\]{}])")
_COMMA_COLON = re.compile(r"(?<!\d)([,:])|([,:])(?!\d)")
_TRAILING = re.compile(r"([%$])?([?!]+)?$")
_LEADING = re.compile(r"^([$]|#(?=\d))")
_ABBREV_DOTTED = re.compile(r"^(?:[^\W\d_]\.){2,}$|^[^\W\d_]\.$")


def ptb_tokenize(text: str) -> str:
    """Lower-case, PTB-style tokens joined by single spaces, punctuation removed as pycocoevalcap does.

    Args:
        text: one caption.

    Returns:
        The tokenised caption (possibly ``""``).

    >>> ptb_tokenize("It's a big airport (with 3 planes), isn't it?")
    "it 's a big airport -lrb- with 3 planes -rrb- is n't it"
    """
    text = text.replace("\n", " ").lower().replace("\u2014", " -- ").replace("\u2013", " -- ")
    text = _SPLIT_ALWAYS.sub(r" \1 ", text)
    text = _COMMA_COLON.sub(lambda m: f" {m.group(1) or m.group(2)} ", text)
    text = _CLITIC.sub(lambda m: f" {m.group(1) or m.group(2)}", text)
    tokens: list[str] = []
    for word in text.split():
        word = _SPECIAL.get(word, word)
        if " " in word:
            tokens.extend(word.split())
            continue
        tokens.extend(_split_word(word))
    out = [_BRACKETS.get(t, t) for t in tokens]
    out = ["''" if t in ('"', "\u201c", "\u201d") else t for t in out]
    return " ".join(t for t in out if t not in DROPPED_TOKENS and not _is_quote(t))


def _is_quote(token: str) -> bool:
    return bool(token) and set(token) <= {"'", "`"}


def _split_word(word: str) -> list[str]:
    """Split one whitespace-free word: leading ``$``/``#``, final period, trailing ``%``/``$`` and ``?!`` runs."""
    if word in DROPPED_TOKENS or len(word) == 1:
        return [word]
    out: list[str] = []
    head = _LEADING.match(word)
    if head:
        out.append(head.group(1))
        word = word[1:]
    if word.endswith(".") and not word.endswith(".."):
        if word[:-1] in _ABBREVIATIONS or _ABBREV_DOTTED.match(word):
            return [*out, word]
        word = word[:-1]  # the split-off period is dropped anyway
    tail = _TRAILING.search(word)
    tail_tokens: list[str] = []
    if tail and tail.start() > 0:
        tail_tokens = [t for t in tail.groups() if t]
        word = word[: tail.start()]
    if len(word) > 1 and word != "--":
        word = word.strip("-") or word
    return [*out, *_strip_quotes(word), *tail_tokens]


def _strip_quotes(word: str) -> list[str]:
    if word in _CLITICS or re.match(r"'\d", word):  # clitics and decades ('90s) keep their apostrophe
        return [word]
    core = word.strip("'`")
    return [core] if core else []


# ------------------------------------------------------------------------------------------------ BLEU


def _precook(s: str, n: int) -> tuple[int, dict[tuple[str, ...], int]]:
    words = s.split()
    counts: dict[tuple[str, ...], int] = defaultdict(int)
    for k in range(1, n + 1):
        for i in range(len(words) - k + 1):
            counts[tuple(words[i : i + k])] += 1
    return len(words), counts


def bleu(references: Sequence[Sequence[str]], hypotheses: Sequence[str], n: int = 4) -> list[float]:
    """Corpus BLEU-1..n of tokenised captions, pycocoevalcap's ``Bleu(n)`` with ``option="closest"``.

    Args:
        references: for each caption, one or more tokenised reference captions.
        hypotheses: one tokenised caption per entry of ``references``.
        n: largest n-gram.

    Returns:
        ``[BLEU-1, ..., BLEU-n]``.

    >>> [round(b, 4) for b in bleu([["a plane on the runway"]], ["a plane on the runway"])]
    [1.0, 1.0, 1.0, 1.0]
    """
    _check(references, hypotheses)
    small, tiny = 1e-9, 1e-15
    testlen_sum, reflen_sum = 0, 0
    guess, correct = [0] * n, [0] * n
    for refs, hyp in zip(references, hypotheses, strict=True):
        reflens = []
        maxcounts: dict[tuple[str, ...], int] = {}
        for ref in refs:
            rl, counts = _precook(ref, n)
            reflens.append(rl)
            for ngram, count in counts.items():
                maxcounts[ngram] = max(maxcounts.get(ngram, 0), count)
        testlen, counts = _precook(hyp, n)
        testlen_sum += testlen
        reflen_sum += min((abs(rl - testlen), rl) for rl in reflens)[1]
        for k in range(1, n + 1):
            guess[k - 1] += max(0, testlen - k + 1)
        for ngram, count in counts.items():
            correct[len(ngram) - 1] += min(maxcounts.get(ngram, 0), count)
    bleus = []
    score = 1.0
    for k in range(n):
        score *= float(correct[k] + tiny) / (guess[k] + small)
        bleus.append(score ** (1.0 / (k + 1)))
    ratio = (testlen_sum + tiny) / (reflen_sum + small)
    if ratio < 1:
        bleus = [b * math.exp(1 - 1 / ratio) for b in bleus]
    return bleus


# --------------------------------------------------------------------------------------------- ROUGE-L


def _lcs(a: list[str], b: list[str]) -> int:
    if len(a) < len(b):
        a, b = b, a
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b, 1):
            cur[j] = prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1])
        prev = cur
    return prev[-1]


def rouge_l(references: Sequence[Sequence[str]], hypotheses: Sequence[str], beta: float = 1.2) -> float:
    """Mean ROUGE-L F-score of tokenised captions, pycocoevalcap's ``Rouge``.

    >>> round(rouge_l([["a plane on the runway"]], ["a plane on a runway"]), 4)
    0.8
    """
    _check(references, hypotheses)
    scores = []
    for refs, hyp in zip(references, hypotheses, strict=True):
        token_c = hyp.split(" ")
        prec, rec = [], []
        for ref in refs:
            token_r = ref.split(" ")
            lcs = _lcs(token_r, token_c)
            prec.append(lcs / float(len(token_c)))
            rec.append(lcs / float(len(token_r)))
        p, r = max(prec), max(rec)
        scores.append(((1 + beta**2) * p * r) / float(r + beta**2 * p) if p != 0 and r != 0 else 0.0)
    return float(np.mean(np.array(scores)))


# ----------------------------------------------------------------------------------------------- CIDEr


def cider(references: Sequence[Sequence[str]], hypotheses: Sequence[str], n: int = 4, sigma: float = 6.0) -> float:
    """Corpus CIDEr of tokenised captions, pycocoevalcap's ``Cider`` (document frequencies from ``references``).

    >>> cider([["a white plane is parked"], ["two ships sail on the sea"]], ["a white plane is parked", "a ship"])
    5.0
    """
    _check(references, hypotheses)
    crefs = [[_precook(r, n)[1] for r in refs] for refs in references]
    ctest = [_precook(h, n)[1] for h in hypotheses]
    df: dict[tuple[str, ...], float] = defaultdict(float)
    for refs in crefs:
        for ngram in {ngram for ref in refs for ngram in ref}:
            df[ngram] += 1
    ref_len = np.log(float(len(crefs)))

    def counts2vec(cnts: dict[tuple[str, ...], int]) -> tuple[list[dict[tuple[str, ...], float]], list[float], int]:
        vec: list[dict[tuple[str, ...], float]] = [defaultdict(float) for _ in range(n)]
        length = 0
        norm = [0.0] * n
        for ngram, tf in cnts.items():
            k = len(ngram) - 1
            vec[k][ngram] = float(tf) * (ref_len - np.log(max(1.0, df.get(ngram, 0.0))))
            norm[k] += pow(vec[k][ngram], 2)
            if k == 1:  # the original counts bigrams as the "length"
                length += tf
        return vec, [np.sqrt(x) for x in norm], length

    def sim(vh: list[dict[tuple[str, ...], float]], vr: list[dict[tuple[str, ...], float]], nh: list[float],
            nr: list[float], lh: int, lr: int) -> np.ndarray:  # fmt: skip
        delta = float(lh - lr)
        val = np.array([0.0] * n)
        for k in range(n):
            for ngram in vh[k]:
                val[k] += min(vh[k][ngram], vr[k].get(ngram, 0.0)) * vr[k].get(ngram, 0.0)
            if nh[k] != 0 and nr[k] != 0:
                val[k] /= nh[k] * nr[k]
            val[k] *= np.e ** (-(delta**2) / (2 * sigma**2))
        return val

    scores = []
    for test, refs in zip(ctest, crefs, strict=True):
        vec, norm, length = counts2vec(test)
        score = np.array([0.0] * n)
        for ref in refs:
            vec_ref, norm_ref, length_ref = counts2vec(ref)
            score += sim(vec, vec_ref, norm, norm_ref, length, length_ref)
        score_avg = np.mean(score)
        score_avg /= len(refs)
        score_avg *= 10.0
        scores.append(score_avg)
    return float(np.mean(np.array(scores)))


def _check(references: Sequence[Sequence[str]], hypotheses: Sequence[str]) -> None:
    if len(references) != len(hypotheses):
        raise ValueError(f"hypotheses must have one entry per reference set ({len(references)}), got {len(hypotheses)}")
    if not references:
        raise ValueError("references must not be empty: there is nothing to score")
    for i, refs in enumerate(references):
        if isinstance(refs, str) or not refs:
            raise ValueError(f"references[{i}] must be a non-empty list of strings, got {refs!r}")


def caption_scores(
    references: Sequence[Sequence[str]], hypotheses: Sequence[str], *, tokenize: bool = True
) -> dict[str, float]:
    """BLEU-1..4, ROUGE-L and CIDEr of raw captions (tokenised with :func:`ptb_tokenize` unless told not to).

    Args:
        references: for each caption, one or more reference captions.
        hypotheses: one caption per entry of ``references`` (an unparsable answer scores as ``""``).
        tokenize: ``False`` when the text is already tokenised.

    Returns:
        ``{"BLEU-1": ..., "BLEU-4": ..., "ROUGE-L": ..., "CIDEr": ...}``.
    """
    _check(references, hypotheses)
    if tokenize:
        references = [[ptb_tokenize(r) for r in refs] for refs in references]
        hypotheses = [ptb_tokenize(h) for h in hypotheses]
    out = {f"BLEU-{i + 1}": b for i, b in enumerate(bleu(references, hypotheses))}
    out["ROUGE-L"] = rouge_l(references, hypotheses)
    out["CIDEr"] = cider(references, hypotheses)
    return out
