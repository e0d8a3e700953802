"""The form of an Aadhaar number: twelve digits whose last is a Verhoeff check digit
(UIDAI's scheme). Only the form is checked: UIDAI issues no number starting
with 0 or 1, but the simulator's synthetic numbers start with 1 so that they can never be real.
The one Verhoeff implementation: the account check reads numbers with it, the simulator makes
its synthetic ones with it.
"""

from __future__ import annotations

import re

__all__ = ["normalise_aadhaar_number", "verhoeff_check_digit", "verhoeff_valid"]

# Verhoeff's tables: multiplication in the dihedral group D5, and the position permutation.
_D5 = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6), (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8), (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2), (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4), (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)  # fmt: skip
_POSITION = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2), (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0), (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5), (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)  # fmt: skip


_INVERSE = (0, 4, 3, 2, 1, 5, 6, 7, 8, 9)


def verhoeff_valid(digits: str) -> bool:
    """Whether a string of digits ends in its Verhoeff check digit."""
    check = 0
    for index, digit in enumerate(reversed(digits)):
        check = _D5[check][_POSITION[index % 8][int(digit)]]
    return check == 0


def verhoeff_check_digit(digits: str) -> str:
    """The Verhoeff check digit to append to a string of digits."""
    check = 0
    for index, digit in enumerate(reversed(digits), start=1):
        check = _D5[check][_POSITION[index % 8][int(digit)]]
    return str(_INVERSE[check])


def normalise_aadhaar_number(value: str) -> str | None:
    """The 12 digits of an Aadhaar number written with or without spaces or dashes, or None
    when it is not one (wrong length, not digits, a failing check digit)."""
    digits = re.sub(r"[\s\-]", "", value)
    if len(digits) != 12 or not digits.isascii() or not digits.isdigit():
        return None
    return digits if verhoeff_valid(digits) else None
