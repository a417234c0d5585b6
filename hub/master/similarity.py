"""String similarity for company names and streets, beyond what rapidfuzz gives directly:
words standing for words (abbreviations, typos), CJK names without their city prefix."""

from __future__ import annotations

import re

from rapidfuzz import fuzz

_CJK = re.compile("[\u3040-\u9fff\uac00-\ud7af]")
DIGITS = re.compile(r"\d+")
#: "ue"/"oe"/"ae" written for ü/ö/ä: folded like the umlauts themselves ("suedfix" → "sudfix").
UMLAUTS = re.compile(r"([aou])e")


def without_city(key: str, city: str | None) -> str:
    """ "深圳市佳美包装" of Shenzhen is "佳美包装": CJK names often lead with their city."""
    if city:
        for prefix in (city + "市", city):
            if key.startswith(prefix) and len(key) > len(prefix) + 1:
                return key[len(prefix) :]
    return key


def is_cjk(text: str) -> bool:
    """Kana, CJK ideographs or Hangul: names without spaces between words."""
    return _CJK.search(text) is not None


def _token_match(short: str, long_: str) -> float:
    """How well one word stands for another: the same, an abbreviation, or a typo."""
    if short == long_:
        return 1.0
    if len(short) > len(long_):
        short, long_ = long_, short
    if len(short) >= 3 and short[0] == long_[0] and _is_subsequence(short, long_):
        return 0.9  # "tech" / "technologies", "intl" / "international", "mfg" / "manufacturing"
    sim = fuzz.ratio(short, long_) / 100.0
    return sim if sim >= 0.8 else 0.0


def _is_subsequence(short: str, long_: str) -> bool:
    position = 0
    for ch in short:
        position = long_.find(ch, position) + 1
        if position == 0:
            return False
    return True


def token_similarity(ta: tuple[str, ...], tb: tuple[str, ...]) -> float:
    """Dice similarity over words, each word paired with its best partner in the other name."""
    if not ta or not tb:
        return 0.0
    remaining = list(tb)
    total = 0.0
    for token in ta:
        best, best_at = 0.0, -1
        for at, other in enumerate(remaining):
            score = _token_match(token, other)
            if score > best:
                best, best_at = score, at
                if score == 1.0:
                    break
        if best_at >= 0:
            total += best
            remaining.pop(best_at)
    return 2.0 * total / (len(ta) + len(tb))


def contains(ka: str, kb: str, min_length: int) -> bool:
    short, long_ = (ka, kb) if len(ka) <= len(kb) else (kb, ka)
    return len(short) >= min_length and short in long_
