"""Validation of identifiers with the libraries that know them.

phonenumbers for phones (stored E.164), python-stdnum for tax ids and IBANs,
Django's validator for email. Each returns the normalised value or raises
ValueError with a human message.
"""

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from stdnum import iban
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.util import get_cc_module

DEFAULT_REGION = "ID"


def normalize_phone(raw: str, region: str = DEFAULT_REGION) -> str:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise ValueError(
            _("Enter a valid phone number, e.g. +62 21 555 0123.")
        ) from None
    if not phonenumbers.is_possible_number(number) or not phonenumbers.is_valid_number(
        number
    ):
        raise ValueError(_("Enter a valid phone number, e.g. +62 21 555 0123."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str) -> str:
    try:
        return phonenumbers.format_number(
            phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
    except phonenumbers.NumberParseException:
        return e164


def normalize_email(raw: str) -> str:
    value = raw.strip()
    if len(value) > 254:
        raise ValueError(_("Enter a valid email address."))
    try:
        validate_email(value)
    except ValidationError:
        raise ValueError(_("Enter a valid email address.")) from None
    local, _at, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def _tax_module(country: str):
    cc = (country or "").lower()
    for kind in ("vat", "tin", "npwp", "uen"):
        module = get_cc_module(cc, kind)
        if module is not None:
            return module
    return None


def normalize_tax_id(raw: str, country: str = DEFAULT_REGION) -> str:
    """Compact, checked tax id; countries python-stdnum does not know pass through."""
    value = raw.strip()
    module = _tax_module(country)
    if module is None:
        if not value or len(value) > 32:
            raise ValueError(_("Enter a valid tax id."))
        return value
    try:
        return module.validate(value)
    except StdnumError:
        raise ValueError(
            _("“%(value)s” is not a valid tax id for %(country)s.")
            % {"value": value, "country": country.upper()}
        ) from None


def format_tax_id(value: str, country: str = DEFAULT_REGION) -> str:
    module = _tax_module(country)
    if module is not None and hasattr(module, "format"):
        try:
            return module.format(value)
        except Exception:  # noqa: BLE001 - display only; the stored value is valid
            return value
    return value


def normalize_bank_account(raw: str) -> str:
    """IBANs are checked; domestic account numbers are digits and dashes."""
    value = raw.strip().replace(" ", "")
    if value[:2].isalpha():
        try:
            return iban.validate(value)
        except StdnumError:
            raise ValueError(_("Enter a valid IBAN.")) from None
    digits = value.replace("-", "").replace(".", "")
    if not digits.isdigit() or not 5 <= len(digits) <= 34:
        raise ValueError(_("Enter a valid bank account number."))
    return digits
