"""Do two spellings of a name belong to one person? (docs/identity-match.md §2)

The rules are the gateway's own, in this order, and each is written down in the doc:

1. Script and case: any script is written in Latin letters (`anyascii`), accents dropped,
   lower case.
2. Punctuation and spacing: dots, commas, hyphens and the like separate words; apostrophes
   are dropped (`D'Souza` → `dsouza`); runs of spaces are one.
3. Honorifics: leading `Mr`, `Mrs`, `Shri`, `Smt`, `Kumari`, `Dr`, `Late`… are dropped, as long
   as a word remains.
4. Abbreviations: `Md`, `Mohd` and the spellings of Muhammad are one word; `Kr` is `Kumar`,
   `Pd` is `Prasad`.
5. Transliteration: each word is reduced to a key that common Indic spellings share
   (`Lakshmi`/`Laxmi`, `Srinivas`/`Shreenivas`, `Vishwanath`/`Viswanath`, `Ramesha`/`Ramesh`).
6. Word order does not count; a word on one side may be two joined words on the other
   (`Venkataramana` / `Venkata Ramana`); an initial stands for any word starting with its letter.

Words are then paired: equal keys first, then joined words, then similar keys (rapidfuzz's
`ratio` ≥ 85 for keys of six letters or more, or the same consonants in the same order), then
initials. Each side's coverage is
the credit its words earned divided by how many it has; the score is the mean of both sides'.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from anyascii import anyascii
from rapidfuzz import fuzz

__all__ = ["NameComparison", "compare_names", "name_words", "word_key"]

HONORIFICS = frozenset(
    {
        "mr", "mrs", "ms", "miss", "mx", "master", "baby",
        "shri", "shree", "sri", "sree", "sh", "smt", "shrimati", "srimati", "sushri",
        "kumari", "kum", "km", "dr", "prof", "late", "lt", "capt", "col", "adv", "er",
    }
)  # fmt: skip
ALIASES = {
    **dict.fromkeys(
        (
            "md", "mohd", "mohammed", "mohammad", "mohamed", "mohamad", "muhammed",
            "muhammad", "mohmmad", "muhamad",
        ),
        "muhammad",
    ),
    "kr": "kumar",
    "pd": "prasad",
    "prsd": "prasad",
}  # fmt: skip

# Transliteration, as ordered rewrites of a lower-case word (docs/identity-match.md §2, rule 5).
_REWRITES: tuple[tuple[str, str], ...] = (
    ("x", "ks"),
    ("ksh", "ks"),
    ("sh", "s"),
    ("ph", "f"),
    ("ow", "o"),
    ("w", "v"),
    ("q", "k"),
    ("ck", "k"),
    ("th", "t"),
    ("dh", "d"),
    ("bh", "b"),
    ("kh", "k"),
    ("gh", "g"),
    ("jh", "j"),
    ("ch", "c"),
    ("ee", "i"),
    ("ii", "i"),
    ("oo", "u"),
    ("uu", "u"),
    ("aa", "a"),
    ("au", "o"),
    ("ou", "o"),
)
_REPEATS = re.compile(r"(.)\1+")
_SEPARATORS = re.compile(r"[^a-z0-9']+")
_VOWELS = re.compile(r"[aeiou]")

# Pairing thresholds and credits (docs/identity-match.md §2).
SIMILAR = 85.0
SIMILAR_MIN_LENGTH = 6
JOINED = 90.0
CONSONANT_CREDIT = 0.9
INITIAL_CREDIT = 0.7
MATCH_AT = 90
PARTIAL_AT = 70


def _latin(text: str) -> str:
    folded = anyascii(unicodedata.normalize("NFKC", text))
    return folded.lower()


def name_words(name: str) -> list[str]:
    """Rules 1 to 4: the words of `name`, without honorifics, abbreviations spelled out."""
    words = [w.replace("'", "") for w in _SEPARATORS.split(_latin(name)) if w.replace("'", "")]
    while len(words) > 1 and words[0] in HONORIFICS:
        words.pop(0)
    return [ALIASES.get(word, word) for word in words]


def word_key(word: str) -> str:
    """Rule 5: the key that common spellings of `word` share."""
    key = word
    for old, new in _REWRITES:
        key = key.replace(old, new)
    if key.endswith("y") and len(key) > 2:
        key = key[:-1] + "i"
    key = _REPEATS.sub(r"\1", key)
    if len(key) > 3 and key.endswith("a"):
        key = key[:-1]
    return key


def _consonants(key: str) -> str:
    return key[:1] + _VOWELS.sub("", key[1:])


@dataclass(frozen=True, slots=True)
class NameComparison:
    score: int
    result: Literal["match", "partial", "mismatch"]


@dataclass(slots=True)
class _Side:
    words: list[str]
    keys: list[str]
    credit: list[float | None]

    @classmethod
    def of(cls, words: list[str]) -> _Side:
        return cls(words, [word_key(word) for word in words], [None] * len(words))

    def open(self) -> Iterable[int]:
        return (i for i, credit in enumerate(self.credit) if credit is None)

    def paired_whole_word(self) -> bool:
        return any(
            credit is not None and credit > INITIAL_CREDIT and not _is_initial(word)
            for word, credit in zip(self.words, self.credit, strict=True)
        )

    def coverage(self) -> float:
        return sum(credit or 0.0 for credit in self.credit) / len(self.words)


def _is_initial(word: str) -> bool:
    return len(word) == 1 and word.isalpha()


def _pair_equal(a: _Side, b: _Side) -> None:
    for i in list(a.open()):
        for j in b.open():
            if a.keys[i] == b.keys[j] and _is_initial(a.words[i]) == _is_initial(b.words[j]):
                a.credit[i] = b.credit[j] = 1.0
                break


def _pair_joined(one: _Side, two: _Side) -> None:
    """A word of `one` that is two neighbouring open words of `two`, written together."""
    for i in list(one.open()):
        if _is_initial(one.words[i]):
            continue
        for j in range(len(two.words) - 1):
            if two.credit[j] is not None or two.credit[j + 1] is not None:
                continue
            joined = word_key(two.words[j] + two.words[j + 1])
            if fuzz.ratio(one.keys[i], joined) >= JOINED:
                one.credit[i] = two.credit[j] = two.credit[j + 1] = 1.0
                break


def _pair_similar(a: _Side, b: _Side) -> None:
    candidates: list[tuple[float, int, int]] = []
    for i in a.open():
        for j in b.open():
            if _is_initial(a.words[i]) or _is_initial(b.words[j]):
                continue
            ratio = fuzz.ratio(a.keys[i], b.keys[j])
            # A letter more or less in a short name is another name (Arun, Arjun); in a long
            # one it is usually a typing slip.
            long_enough = min(len(a.keys[i]), len(b.keys[j])) >= SIMILAR_MIN_LENGTH
            if ratio >= SIMILAR and long_enough:
                candidates.append((ratio / 100, i, j))
            elif len(a.keys[i]) >= 3 and _consonants(a.keys[i]) == _consonants(b.keys[j]):
                candidates.append((CONSONANT_CREDIT, i, j))
    # Best pairs first, so one good pair is not spoiled by a weaker one using the same word.
    for credit, i, j in sorted(candidates, reverse=True):
        if a.credit[i] is None and b.credit[j] is None:
            a.credit[i] = b.credit[j] = credit


def _pair_initials(one: _Side, two: _Side) -> None:
    for i in list(one.open()):
        if not _is_initial(one.words[i]):
            continue
        # Prefer a whole word, then another initial, of the same letter.
        for want_initial in (False, True):
            found = next(
                (
                    j
                    for j in two.open()
                    if two.words[j][0] == one.words[i] and _is_initial(two.words[j]) == want_initial
                ),
                None,
            )
            if found is not None:
                one.credit[i] = two.credit[found] = INITIAL_CREDIT
                break


def compare_names(left: str, right: str) -> NameComparison | None:
    """The comparison of two names, or None when either has no word to compare."""
    a, b = _Side.of(name_words(left)), _Side.of(name_words(right))
    if not a.words or not b.words:
        return None
    _pair_equal(a, b)
    _pair_joined(a, b)
    _pair_joined(b, a)
    _pair_similar(a, b)
    _pair_initials(a, b)
    _pair_initials(b, a)
    # Initials alone never make a match: some whole word must pair with a whole word.
    whole_words = a.paired_whole_word() and b.paired_whole_word()
    score = round(100 * (a.coverage() + b.coverage()) / 2) if whole_words else 0
    # Spacing alone may differ beyond two words ("Venkata Rama Krishna" / "Venkataramakrishna").
    if len(a.words) != len(b.words) and word_key("".join(a.words)) == word_key("".join(b.words)):
        score = 100
    if score >= MATCH_AT:
        return NameComparison(score, "match")
    return NameComparison(score, "partial" if score >= PARTIAL_AT else "mismatch")
