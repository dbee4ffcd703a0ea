from dataclasses import dataclass


@dataclass(frozen=True)
class ClientCreated:
    client_id: int


@dataclass(frozen=True)
class ClientStatusChanged:
    client_id: int
    old_status: str
    new_status: str


@dataclass(frozen=True)
class ClientsMerged:
    survivor_id: int
    merged_id: int
