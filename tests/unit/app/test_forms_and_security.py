from __future__ import annotations

from decimal import Decimal

import pytest

from app.core.errors import Invalid
from app.core.security import Passwords, csrf_token, hash_token, new_token, password_problem
from app.core.settings import Settings
from app.models import Invoice, InvoiceLine, invoice_totals
from app.web.forms import decimal, optional_fraction


@pytest.mark.parametrize("text", ["1.5", "-0.1", "x"])
def test_region_fractions_stay_inside_the_frame(text):
    with pytest.raises(Invalid):
        optional_fraction(text, "region")


def test_decimal_rejects_infinity_and_garbage():
    assert decimal("12,50", "p") == Decimal("12.50")
    for bad in ("inf", "NaN", "1e30", "abc"):
        with pytest.raises(Invalid):
            decimal(bad, "p")


def test_tokens_are_random_and_stored_hashed():
    a, b = new_token(), new_token()
    assert a != b and len(a) >= 43
    assert hash_token(a) != a and len(hash_token(a)) == 64


def test_csrf_token_is_bound_to_the_session_and_the_key():
    assert csrf_token("k", "s1") != csrf_token("k", "s2")
    assert csrf_token("k1", "s") != csrf_token("k2", "s")


def test_passwords_verify_and_reject():
    passwords = Passwords(time_cost=1, memory_kib=1024, parallelism=1)
    stored = passwords.hash("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert passwords.verify("correct horse battery", stored)[0]
    assert not passwords.verify("wrong", stored)[0]
    assert not passwords.verify("anything", None)[0]
    assert password_problem("short") and password_problem("long enough pw") is None


def test_invoice_totals_round_half_up_per_line():
    invoice = Invoice(tax_rate=Decimal("7.7"))
    lines = [InvoiceLine(quantity=Decimal("0.333"), unit_price=Decimal("10.00"))] * 3
    totals = invoice_totals(invoice, lines)
    assert totals["subtotal"] == Decimal("9.99")
    assert totals["tax"] == Decimal("0.77")
    assert totals["total"] == Decimal("10.76")


def test_database_url_spellings():
    assert Settings(database_url="postgres://u@h/db").database_url == "postgresql+psycopg://u@h/db"
    assert Settings(database_url="").effective_database_url.startswith("sqlite:///")
    with pytest.raises(ValueError, match="DATABASE_URL"):
        Settings(database_url="mysql://x/y")
