import pytest

from satu.crm.tests.factories import pipeline
from satu.parties.tests.factories import ClientFactory


@pytest.fixture
def client_of(db):
    """`client_of(user)`: a client owned by that user."""

    def make(owner, **kw):
        return ClientFactory(owner=owner, **kw)

    return make


@pytest.fixture
def kind_and_stages(db):
    return pipeline()
