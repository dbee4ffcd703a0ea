import pytest

from satu.crm import services
from satu.crm.models import Deal, Interaction
from satu.parties import services as parties_services

pytestmark = pytest.mark.django_db


def test_merging_clients_moves_deals_and_interactions(
    head_of_sales, client_of, kind_and_stages
):
    kind, _stages = kind_and_stages
    survivor = client_of(head_of_sales, name="PT Maju")
    merged = client_of(head_of_sales, name="Maju Jaya")
    deal = services.deal_create(
        actor=head_of_sales, client_id=merged.pk, kind_id=kind.pk, title="Pumps"
    )
    call = services.interaction_create(
        actor=head_of_sales,
        kind="call",
        direction="outgoing",
        title="Call",
        from_type="crm.deal",
        from_id=deal.pk,
    )

    parties_services.client_merge(
        actor=head_of_sales, survivor_id=survivor.pk, merged_id=merged.pk
    )

    assert Deal.objects.get(pk=deal.pk).client == survivor
    assert Interaction.objects.get(pk=call.pk).client == survivor
    assert not Deal.objects.filter(client=merged).exists()
