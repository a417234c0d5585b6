"""Text folding shared by every field that is compared as words.

Names, streets, cities and country names must fold the same way, or a record typed in one
system would not meet the same record typed in another. Folding is the hot path of
normalisation, so it is a ``str.translate`` table filled lazily per code point (any script
works, look-ups stay in C) and pure-ASCII text skips Unicode normalisation.

Decisions
---------
* NFKC first (full-width Latin, half-width kana and ligatures such as ``㈱`` become ordinary
  characters), then casefold (so ``ß`` -> ``ss``).
* Accents are stripped from *Latin* letters only (``ü`` -> ``u``, ``é`` -> ``e``, ``ø`` ->
  ``o``, ``æ`` -> ``ae``, ``ł`` -> ``l``); kana and Hangul keep their voicing marks, CJK
  characters are kept as they are.
* Punctuation becomes a space, except apostrophes (deleted: ``"McDonald's"`` ->
  ``mcdonalds``) and the dot after a single letter (deleted, so ``"L.L.C."`` -> ``llc``).
  ``&`` becomes ``and``.
* Spaces between two CJK characters are removed when tokens are joined: those scripts do not
  separate words, so a space there is typing noise.
"""

from __future__ import annotations

import math
import re
import unicodedata


def text_of(value: object) -> str | None:
    """The stripped text of a raw value, or None when absent (None, blank, NaN)."""
    if value is None:
        return None
    if type(value) is str:
        value = value.strip()
        return value or None
    if isinstance(value, float):
        if math.isnan(value):  # NaN from pandas
            return None
        return str(int(value)) if value.is_integer() else str(value)
    text = str(value).strip()
    return text or None


def nfkc(text: str) -> str:
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


# Latin letters whose accent folding is not a plain NFKD decomposition.
_SPECIAL_FOLD = {
    "æ": "ae",
    "ø": "o",
    "œ": "oe",
    "đ": "d",
    "ð": "d",
    "þ": "th",
    "ł": "l",
    "ı": "i",
    "ħ": "h",
    "ŧ": "t",
    "ŋ": "n",
    "ß": "ss",
    "ſ": "s",
}
_APOSTROPHES = "'`´‘’ʼ′"


class _FoldTable(dict[int, str | None]):
    """str.translate table for casefolded text: accent-fold Latin letters, keep other letters,
    digits and marks, turn punctuation/symbols/controls into a space, delete apostrophes.

    Filled lazily per code point (``__missing__``) so any script works and lookups stay in C.
    """

    def __missing__(self, cp: int) -> str | None:
        ch = chr(cp)
        if ch in _SPECIAL_FOLD:
            out: str | None = _SPECIAL_FOLD[ch]
        elif ch in _APOSTROPHES:
            out = None
        else:
            cat = unicodedata.category(ch)
            if cat[0] in "LN":
                if cp < 0x2C00 and "LATIN" in unicodedata.name(ch, ""):
                    out = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)) or ch
                else:
                    out = ch
            elif cat[0] == "M":
                # combining diacritics left over after NFKC (e.g. casefold("İ")) go; marks of
                # other scripts (Indic vowel signs, kana voicing marks) stay.
                out = "" if 0x300 <= cp < 0x370 else ch
            else:
                out = " "
        self[cp] = out
        return out


_FOLD = _FoldTable()
for _cp in range(128):
    _c = chr(_cp)
    if _c.isalnum():
        _FOLD[_cp] = _c
    elif _c in _APOSTROPHES:
        _FOLD[_cp] = None
    elif _c == "&":
        _FOLD[_cp] = " and "
    else:
        _FOLD[_cp] = " "

# A dot right after a lone letter/digit is an abbreviation dot: "l.l.c." -> "llc".
_ABBREV_DOT_RE = re.compile(r"(?<![^\W_])([^\W_])\.")

_CJK = (
    "\u1100-\u11ff\u2e80-\u2fdf\u3005-\u3007\u3021-\u3029\u3031-\u3035\u3040-\u30ff"
    "\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
    "\U00020000-\U0003134f"
)
_CJK_GAP_RE = re.compile(f"(?<=[{_CJK}]) +(?=[{_CJK}])")


def fold_tokens(folded: str) -> list[str]:
    """NFKC'd, casefolded text -> accent-folded, punctuation-free tokens.

    Callers casefold first because names must cut out CJK legal forms in between.
    """
    return _ABBREV_DOT_RE.sub(r"\1", folded).translate(_FOLD).split()


def join_tokens(tokens: list[str], ascii_only: bool) -> str:
    out = " ".join(tokens)
    if not ascii_only:
        out = _CJK_GAP_RE.sub("", out)
    return out
