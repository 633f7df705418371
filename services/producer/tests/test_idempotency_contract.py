"""Idempotency states, the same cases against the in-memory fake and the real DynamoDB store
(on a moto server), both driven by a fake clock: no sleeping."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lantern.table import create_table_request
from producer.fakes import FakeIdempotencyStore
from producer.idempotency import STALE_CLAIM_SECONDS, IdempotencyStore
from producer.ports import IdempotencyClaims
from tests.support.units import FakeClock, moto_dynamodb, moto_endpoint

TTL = 3600


@pytest.fixture(scope="module")
def dynamodb() -> Iterator[Any]:
    with moto_endpoint() as url:
        yield moto_dynamodb(url)


Store = tuple[IdempotencyClaims, FakeClock]


@pytest.fixture(params=["fake", "dynamodb"])
def make_store(request: pytest.FixtureRequest) -> Callable[[], Store]:
    def build() -> Store:
        clock = FakeClock()
        if request.param == "fake":
            return FakeIdempotencyStore(TTL, clock), clock
        client = request.getfixturevalue("dynamodb")
        table = f"orders-{uuid.uuid4().hex[:8]}"
        client.create_table(**create_table_request(table))
        return IdempotencyStore(client, table, TTL, clock), clock

    return build


def test_a_first_claim_is_ours_and_pending(make_store: Callable[[], Store]) -> None:
    store, _ = make_store()
    claim = store.claim("k", "ord-1", "fp")
    assert (claim.order_id, claim.replayed, claim.state) == ("ord-1", False, "pending")


def test_a_second_claim_sees_the_first_pending_then_sent(make_store: Callable[[], Store]) -> None:
    store, _ = make_store()
    store.claim("k", "ord-1", "fp")
    pending = store.claim("k", "ord-2", "fp")
    assert (pending.order_id, pending.replayed, pending.state, pending.same_request) == (
        "ord-1",
        True,
        "pending",
        True,
    )
    store.mark_sent("k", "ord-1")
    sent = store.claim("k", "ord-3", "fp")
    assert (sent.order_id, sent.state) == ("ord-1", "sent")


def test_another_body_is_not_the_same_request(make_store: Callable[[], Store]) -> None:
    store, _ = make_store()
    store.claim("k", "ord-1", "fp")
    assert store.claim("k", "ord-2", "other").same_request is False


def test_a_stale_pending_claim_is_taken_over(make_store: Callable[[], Store]) -> None:
    store, clock = make_store()
    store.claim("k", "ord-1", "fp")
    clock.now += STALE_CLAIM_SECONDS
    assert store.claim("k", "ord-2", "fp").order_id == "ord-1"  # not stale yet
    clock.now += 1
    taken = store.claim("k", "ord-2", "fp")
    assert (taken.order_id, taken.replayed) == ("ord-2", False)


def marked(make_store: Callable[[], Store], state: str) -> Store:
    """A store holding key ``k``'s claim for ``ord-1``, marked ``sent`` or ``unknown``."""
    store, clock = make_store()
    store.claim("k", "ord-1", "fp")
    mark = store.mark_sent if state == "sent" else store.mark_unknown
    mark("k", "ord-1")
    return store, clock


def test_a_sent_claim_is_never_stale_but_expires_after_the_ttl(
    make_store: Callable[[], Store],
) -> None:
    store, clock = marked(make_store, "sent")
    clock.now += TTL
    assert store.claim("k", "ord-2", "fp").order_id == "ord-1"
    clock.now += 1
    assert store.claim("k", "ord-2", "fp").replayed is False


def test_release_frees_only_the_releasers_claim(make_store: Callable[[], Store]) -> None:
    store, _ = make_store()
    store.claim("k", "ord-1", "fp")
    store.release("k", "ord-other")
    assert store.claim("k", "ord-2", "fp").order_id == "ord-1"
    store.release("k", "ord-1")
    assert store.claim("k", "ord-2", "fp").replayed is False


def test_a_taken_over_sender_cannot_mark_the_new_claim_sent(
    make_store: Callable[[], Store],
) -> None:
    store, clock = make_store()
    store.claim("k", "ord-1", "fp")
    clock.now += STALE_CLAIM_SECONDS + 1
    store.claim("k", "ord-2", "fp")
    with pytest.raises(ClientError):
        store.mark_sent("k", "ord-1")
    assert store.claim("k", "ord-3", "fp").state == "pending"


def test_an_unknown_claim_is_never_stale_and_keeps_its_order_id(
    make_store: Callable[[], Store],
) -> None:
    """A send that may have enqueued: retries must re-send its order id, however late."""
    store, clock = marked(make_store, "unknown")
    clock.now += STALE_CLAIM_SECONDS + 1
    unknown = store.claim("k", "ord-2", "fp")
    assert (unknown.order_id, unknown.replayed, unknown.state) == ("ord-1", True, "unknown")
    store.mark_sent("k", "ord-1")  # the re-send went through
    assert store.claim("k", "ord-3", "fp").state == "sent"


def test_only_a_pending_claim_of_ours_can_become_unknown(make_store: Callable[[], Store]) -> None:
    store, _ = marked(make_store, "sent")
    with pytest.raises(ClientError):
        store.mark_unknown("k", "ord-1")  # a sent claim stays sent
    with pytest.raises(ClientError):
        store.mark_unknown("k", "ord-other")
    assert store.claim("k", "ord-2", "fp").state == "sent"
