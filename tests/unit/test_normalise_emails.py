"""Unit tests for hub.master.normalise: e-mail addresses.

Valid tax ids are the examples from python-stdnum's own doctests, so the checksums are real.
"""

from __future__ import annotations

import pytest

from hub.master.normalise import (
    NormalisationError,
    is_free_mail,
    normalise_email,
)

# --------------------------------------------------------------------------------------------
# E-mail
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "email", "domain"),
    [
        ("Info@Mueller-Bau.DE", "info@mueller-bau.de", "mueller-bau.de"),
        ("  sales@acme.com  ", "sales@acme.com", "acme.com"),
        ("mailto:Jane@ACME.de", "jane@acme.de", "acme.de"),
        ("<jane@acme.de>", "jane@acme.de", "acme.de"),
        ("Jane Doe <jane@acme.de>", "jane@acme.de", "acme.de"),
        ("first.last+tag@sub.example.co.uk", "first.last+tag@sub.example.co.uk", "sub.example.co.uk"),
        ("yamada＠toyota.co.jp", "yamada@toyota.co.jp", "toyota.co.jp"),  # full-width ＠
        ("info@müller.de", "info@müller.de", "müller.de"),
        # free mail: the address is kept, the domain is no company evidence
        ("someone@gmail.com", "someone@gmail.com", None),
        ("someone@GMX.de", "someone@gmx.de", None),
        ("someone@web.de", "someone@web.de", None),
        ("someone@t-online.de", "someone@t-online.de", None),
        ("someone@yahoo.co.uk", "someone@yahoo.co.uk", None),
        ("someone@yahoo.co.jp", "someone@yahoo.co.jp", None),
        ("someone@hotmail.fr", "someone@hotmail.fr", None),
        ("someone@outlook.com", "someone@outlook.com", None),
        ("someone@qq.com", "someone@qq.com", None),
        ("someone@163.com", "someone@163.com", None),
        ("someone@docomo.ne.jp", "someone@docomo.ne.jp", None),
        # what people put around or beside an address; a field with two: its first valid one
        ('"info@acme.de"', "info@acme.de", "acme.de"),
        ("info@acme.de.", "info@acme.de", "acme.de"),
        ("info@acme.de (accounts)", "info@acme.de", "acme.de"),
        ("a @b.com", "a@b.com", "b.com"),
        ("sales[at]acme.de", "sales@acme.de", "acme.de"),
        ("a@b.com; c@d.com", "a@b.com", "b.com"),
        ("ap@acme.de, info@acme.de", "ap@acme.de", "acme.de"),
        ("a@b@c.com; ok@acme.de", "ok@acme.de", "acme.de"),
    ],
)
def test_email(raw, email, domain):
    assert normalise_email(raw) == (email, domain)


@pytest.mark.parametrize(
    "raw",
    [
        "a@b@c.com",
        "no-at.example.com",
        "a@localhost",
        "a@b.c",
        "a@b..com",
        "a@b.c; d@e",
        "@acme.de",
        "jane@",
        "jane@.de",
        "mailto:",
    ],
)
def test_malformed_email_raises(raw):
    with pytest.raises(NormalisationError) as err:
        normalise_email(raw)
    assert (err.value.field, err.value.value) == ("email", raw)
    assert str(err.value) == f"email {raw!r} is not a valid e-mail address"


@pytest.mark.parametrize(
    ("domain", "free"),
    [
        ("gmail.com", True),
        ("googlemail.com", True),
        ("yahoo.de", True),
        ("yahoo.com", True),
        ("hotmail.co.uk", True),
        ("live.de", True),
        ("outlook.jp", True),
        ("gmx.net", True),
        ("icloud.com", True),
        ("aol.com", True),
        ("protonmail.com", True),
        ("mail.ru", True),
        ("126.com", True),
        ("sina.com", True),
        ("GMAIL.COM", True),
        ("acme.com", False),
        ("outlook.acme.com", False),
        ("huawei.com", False),
        ("toyota.co.jp", False),
        ("gmail-consulting.de", False),
    ],
)
def test_is_free_mail(domain, free):
    assert is_free_mail(domain) is free
