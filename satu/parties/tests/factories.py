from datetime import date

import factory

from satu.parties.models import (
    Channel,
    Client,
    ClientCounterparty,
    ClientGroup,
    Contact,
    ContactMethod,
    ContactRole,
    Counterparty,
    TimelineEntry,
)
from satu.parties.queries import name_key


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    name = factory.Sequence(lambda n: f"Client {n:04d}")
    name_key = factory.LazyAttribute(lambda o: name_key(o.name))
    search_text = factory.LazyAttribute(lambda o: o.name.lower())
    status = Client.Status.CLIENT


class ClientGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClientGroup

    name = factory.Sequence(lambda n: f"Group {n}")


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    name = factory.Sequence(lambda n: f"Channel {n}")


class CounterpartyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Counterparty

    legal_name = factory.Sequence(lambda n: f"PT Entity {n}")


class ClientCounterpartyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClientCounterparty

    client = factory.SubFactory(ClientFactory)
    counterparty = factory.SubFactory(CounterpartyFactory)
    valid_from = date(2024, 1, 1)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    first_name = factory.Sequence(lambda n: f"Person{n}")
    last_name = "Test"


class ContactMethodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactMethod

    contact = factory.SubFactory(ContactFactory)
    kind = ContactMethod.Kind.PHONE
    value = "+62215550123"


class ContactRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactRole

    contact = factory.SubFactory(ContactFactory)
    client = factory.SubFactory(ClientFactory)
    role = "Purchaser"


class TimelineEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimelineEntry

    client = factory.SubFactory(ClientFactory)
    kind = "note"
    summary = factory.Sequence(lambda n: f"Event {n}")
