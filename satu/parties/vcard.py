"""vCard 3.0 of a contact person, for address books and phones."""

import phonenumbers
import vobject
from django.utils.text import slugify

from satu.core import features
from satu.parties import queries


def _tel_types(e164: str) -> list[str]:
    try:
        kind = phonenumbers.number_type(phonenumbers.parse(e164))
    except phonenumbers.NumberParseException:
        return ["VOICE"]
    if kind == phonenumbers.PhoneNumberType.MOBILE:
        return ["CELL"]
    return ["WORK", "VOICE"]


def contact_vcard(*, actor, contact_id) -> tuple[str, str]:
    """The vCard text of a contact the actor may see, and a file name.

    ORG lists the clients the contact acts for (only those the actor may
    see, primary first). Raises NotFound for an invisible contact and
    FeatureDisabled when contact persons are switched off.
    """
    features.require("contacts")
    contact = queries.contact_get(actor=actor, contact_id=contact_id)
    roles = list(contact.roles.all())
    visible = set(
        queries.clients_visible_to(actor)
        .filter(pk__in=[r.client_id for r in roles])
        .values_list("pk", flat=True)
    )
    card = vobject.vCard()
    card.add("uid").value = f"satu-contact-{contact.pk}"
    card.add("n").value = vobject.vcard.Name(
        family=contact.last_name, given=contact.first_name
    )
    card.add("fn").value = contact.full_name
    if contact.position:
        card.add("title").value = contact.position
    names = []
    for role in sorted(roles, key=lambda r: (not r.is_primary, r.pk)):
        if role.client_id in visible and role.client.name not in names:
            names.append(role.client.name)
    for name in names:
        card.add("org").value = [name]
    for method in contact.methods.all():
        if method.kind == "phone":
            line = card.add("tel")
            line.value = method.value
            types = _tel_types(method.value)
        else:
            line = card.add("email")
            line.value = method.value
            types = ["INTERNET"]
        if method.is_primary:
            types.append("PREF")
        line.type_paramlist = types
    filename = f"{slugify(contact.full_name) or 'contact'}.vcf"
    return card.serialize(), filename
