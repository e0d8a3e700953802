"""The name rules of docs/identity-match.md §2, held to the table of synthetic Indian name
pairs in name_pairs.tsv: every pair, in both directions, gives the result the table says."""

from __future__ import annotations

from pathlib import Path

import pytest

from digilocker_gateway.identity.names import compare_names, name_words, word_key

TABLE = Path(__file__).with_name("name_pairs.tsv")


def pairs() -> list[tuple[str, str, str, str]]:
    rows = []
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        left, right, result, reason = line.split("\t")
        rows.append((left, right, result, reason))
    return rows


def test_the_table_holds_at_least_fifty_pairs_of_every_result() -> None:
    rows = pairs()
    assert len(rows) >= 50
    assert {result for _, _, result, _ in rows} == {"match", "partial", "mismatch"}


@pytest.mark.parametrize(("left", "right", "result", "reason"), pairs())
def test_name_pair_gives_the_tabled_result_both_ways(
    left: str, right: str, result: str, reason: str
) -> None:
    forward, backward = compare_names(left, right), compare_names(right, left)
    assert forward is not None
    assert backward is not None
    assert (forward.result, backward.result) == (result, result), reason
    assert forward.score == backward.score
    assert 0 <= forward.score <= 100
    if result == "match":
        assert forward.score >= 90
    elif result == "partial":
        assert 70 <= forward.score < 90
    else:
        assert forward.score < 70


def test_equal_names_score_100_and_unrelated_names_0() -> None:
    same = compare_names("Asha Testkumari", "Asha Testkumari")
    unrelated = compare_names("Suresh", "Ramesh")
    assert same is not None
    assert (same.result, same.score) == ("match", 100)
    assert unrelated is not None
    assert (unrelated.result, unrelated.score) == ("mismatch", 0)


def test_a_name_with_no_letters_is_not_compared() -> None:
    assert compare_names("...", "Asha Testkumari") is None
    assert compare_names("Asha", "") is None


def test_honorifics_go_only_from_the_front_and_never_the_last_word() -> None:
    assert name_words("Shri Kumari Asha") == ["asha"]
    assert name_words("Asha Kumari") == ["asha", "kumari"]
    assert name_words("Mr") == ["mr"]


def test_word_keys_join_common_spellings() -> None:
    assert word_key("laxmi") == word_key("lakshmi")
    assert word_key("shreenivas") == word_key("srinivas")
    assert word_key("ramesha") == word_key("ramesh")
    assert word_key("rakesh") != word_key("ramesh")
