from dataclasses import dataclass


@dataclass(frozen=True)
class DealCreated:
    deal_id: int


@dataclass(frozen=True)
class DealStageChanged:
    deal_id: int
    from_stage_id: int | None
    to_stage_id: int
    overridden: bool


@dataclass(frozen=True)
class DealWon:
    deal_id: int


@dataclass(frozen=True)
class DealLost:
    deal_id: int
    loss_reason_id: int
    competitor_id: int | None


@dataclass(frozen=True)
class InteractionCreated:
    interaction_id: int
    client_id: int


@dataclass(frozen=True)
class LeadCreated:
    lead_id: int
    source: str


@dataclass(frozen=True)
class LeadQualified:
    lead_id: int
    client_id: int
    deal_id: int | None
