"""E-mail addresses, and the company domain they are evidence of.

Two records sharing an address on the company's own domain are likely the same customer; two
addresses on gmail.com or qq.com say nothing about the company. So the domain is returned only
when it is not free mail, and the free-mail list covers the consumer providers of the
countries the hub's customers are in.
"""

from __future__ import annotations

import re
from functools import lru_cache

from hub.master.normalise.errors import NormalisationError
from hub.master.normalise.text import nfkc, text_of

_EMAIL_RE = re.compile(
    r"[^\s@<>()\[\],;:\"\\]+@"
    r"((?:[^\W_](?:[\w-]*[^\W_])?\.)+(?:[^\W\d_]{2,}|xn--[a-z0-9-]+))"
)
_ANGLE_RE = re.compile(r"<([^<>]*)>\s*$")

# Free-mail and consumer ISP domains: an address there says nothing about the company.
_FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "aim.com",
        "protonmail.com",
        "protonmail.ch",
        "proton.me",
        "pm.me",
        "tutanota.com",
        "tuta.io",
        "zoho.com",
        "mail.com",
        "email.com",
        "gmx.com",
        "hushmail.com",
        "fastmail.com",
        "yandex.ru",
        "yandex.com",
        "ya.ru",
        "mail.ru",
        "inbox.ru",
        "bk.ru",
        "list.ru",
        "rambler.ru",
        # German-speaking
        "gmx.de",
        "gmx.net",
        "gmx.at",
        "gmx.ch",
        "web.de",
        "t-online.de",
        "freenet.de",
        "arcor.de",
        "posteo.de",
        "mailbox.org",
        "online.de",
        "bluewin.ch",
        "aon.at",
        "chello.at",
        # French / Dutch / Italian / Spanish / UK / US ISPs
        "orange.fr",
        "wanadoo.fr",
        "free.fr",
        "laposte.net",
        "sfr.fr",
        "neuf.fr",
        "ziggo.nl",
        "kpnmail.nl",
        "planet.nl",
        "home.nl",
        "libero.it",
        "virgilio.it",
        "tiscali.it",
        "alice.it",
        "telefonica.net",
        "terra.es",
        "btinternet.com",
        "sky.com",
        "virginmedia.com",
        "ntlworld.com",
        "talktalk.net",
        "comcast.net",
        "verizon.net",
        "att.net",
        "sbcglobal.net",
        "bellsouth.net",
        "cox.net",
        "charter.net",
        "earthlink.net",
        # China
        "qq.com",
        "foxmail.com",
        "163.com",
        "126.com",
        "yeah.net",
        "sina.com",
        "sina.cn",
        "sohu.com",
        "aliyun.com",
        "139.com",
        "189.cn",
        "21cn.com",
        "tom.com",
        "vip.qq.com",
        "vip.163.com",
        "vip.sina.com",
        # Japan
        "yahoo.co.jp",
        "docomo.ne.jp",
        "ezweb.ne.jp",
        "au.com",
        "softbank.ne.jp",
        "i.softbank.jp",
        "nifty.com",
        "ocn.ne.jp",
        "so-net.ne.jp",
        "biglobe.ne.jp",
        "excite.co.jp",
        "goo.jp",
        # Korea
        "naver.com",
        "daum.net",
        "hanmail.net",
        "nate.com",
        "kakao.com",
    }
)
# Brands with a domain per country (yahoo.de, hotmail.co.uk, live.fr, outlook.jp ...).
_FREE_MAIL_BRAND_RE = re.compile(
    r"(?:yahoo|ymail|rocketmail|hotmail|outlook|live|msn|windowslive|gmx|aol|gmail)"
    r"\.(?:[a-z]{2,3}|co\.[a-z]{2}|com\.[a-z]{2}|ne\.jp)"
)


@lru_cache(maxsize=8192)
def is_free_mail(domain: str) -> bool:
    """True for free-mail / consumer ISP domains (gmail.com, yahoo.*, web.de, qq.com ...)."""
    d = domain.strip().lower().rstrip(".")
    return d in _FREE_MAIL_DOMAINS or _FREE_MAIL_BRAND_RE.fullmatch(d) is not None


def normalise_email(value: str | None) -> tuple[str, str | None] | None:
    """``(email, company_domain)``: lowercased address; domain None for free mail."""
    text = text_of(value)
    if text is None:
        return None
    return email_of(text)


#: What people wrap an address in or put beside it: quotes, a trailing full stop, a comment
#: in brackets ("info@acme.de (accounts)"), spaces around the @, "[at]" for the @.
_AT_RE = re.compile(r"\s*(?:\[at\]|\(at\)|@)\s*", re.IGNORECASE)
_COMMENT_RE = re.compile(r"\s*\([^()@]*\)\s*$")
#: Between two addresses in one field.
_EMAIL_LIST_RE = re.compile(r"[;,\s]+")


def email_of(text: str) -> tuple[str, str | None]:
    """:func:`normalise_email` of present text. A field holding several addresses gives its
    first valid one (the error names the whole field when none is valid)."""
    s = nfkc(text)  # full-width "＠" in Japanese data
    m = _ANGLE_RE.search(s)  # "Jane Doe <jane@x.com>", "<jane@x.com>"
    if m:
        s = m.group(1)
    s = s.strip().lower()
    if s.startswith("mailto:"):
        s = s[7:].strip()
    m = _EMAIL_RE.fullmatch(s) if len(s) <= 254 else None
    if m is None:
        s = _AT_RE.sub("@", _COMMENT_RE.sub("", s)).strip("\"' .")
        m = _EMAIL_RE.fullmatch(s) if len(s) <= 254 else None
        if m is None:
            for part in _EMAIL_LIST_RE.split(s):
                m = _EMAIL_RE.fullmatch(part) if "@" in part and len(part) <= 254 else None
                if m is not None:
                    s = part
                    break
    if m is None:
        raise NormalisationError("email", text, "not a valid e-mail address")
    domain = m.group(1)
    return s, (None if is_free_mail(domain) else domain)
