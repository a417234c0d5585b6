"""Which text encoding a legacy export is in, when its mapping says ``detect``.

Legacy CRMs export in the code page of the PC that ran the export: UTF-8 (with or without a
BOM), GBK/GB18030 in China, Shift_JIS/CP932 in Japan, CP1252 in Western Europe. A strict
UTF-8 decode is decisive (other encodings almost never form valid UTF-8), but GB18030 accepts
nearly every byte pair, so Shift_JIS text also "decodes" as GB18030 — into nonsense Hanzi. Only
a language model of the decoded text tells the two apart; ``charset-normalizer`` has one, and
we restrict it to the encodings exports actually come in.
"""

from __future__ import annotations

from charset_normalizer import from_bytes

#: Candidates for detection, in the order they are preferred on a tie. GB18030 is a superset of
#: GBK and GB2312; CP932 is the Windows superset of Shift_JIS (① and ㈱ exist only there).
CANDIDATES = ("gb18030", "cp932", "cp1252")
#: Detection looks at this much of the file; the whole file is still decoded strictly after.
SAMPLE_BYTES = 256 * 1024


class EncodingUnknown(ValueError):
    """No candidate encoding reads the bytes as plausible text."""


def detect(raw: bytes) -> str:
    """The encoding to decode ``raw`` with: ``utf-8-sig`` for any UTF-8, else the best candidate."""
    try:
        raw.decode("utf-8")
        return "utf-8-sig"  # strips a BOM if there is one, harmless if not
    except UnicodeDecodeError:
        pass
    if _mostly_utf8(raw):
        return "utf-8-sig"  # a UTF-8 export with a few mis-encoded rows: those rows are set aside
    sample = raw[:SAMPLE_BYTES]
    if len(raw) > SAMPLE_BYTES:  # never cut a multi-byte character in two
        sample = sample[: sample.rfind(b"\n") + 1] or sample
    best = from_bytes(sample, cp_isolation=list(CANDIDATES)).best()
    if best is None:
        raise EncodingUnknown(f"not text in any of utf-8, {', '.join(CANDIDATES)}")
    return best.encoding


def _mostly_utf8(raw: bytes) -> bool:
    """Most lines with non-ASCII bytes are valid UTF-8, a few are not: a UTF-8 export with some
    rows pasted in from a CP1252 program. (In a real CP1252, GB18030 or CP932 file hardly any
    non-ASCII line is valid UTF-8, so reading it as one of those would garble every good row.)"""
    good = bad = 0
    for line in raw.splitlines():
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            good += 1
        except UnicodeDecodeError:
            bad += 1
    return good > bad
