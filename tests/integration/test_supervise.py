"""``make run``'s supervisor against real processes: a SIGKILLed consumer (its whole process
group, master and workers) is started again on its port, orders placed before the crash are
still there (the endpoint kept them) and one placed after it is fulfilled."""

from __future__ import annotations

from tests.conftest import ShopFactory


def test_a_crashed_consumer_is_restarted_and_no_accepted_order_is_lost(
    shop_factory: ShopFactory,
) -> None:
    from devstack.supervise import Supervisor

    shop = shop_factory(env={"CONSUMER_WORK_MS": "0"})
    before = shop.place()
    shop.wait_fulfilled(before)
    lines: list[str] = []
    supervisor = Supervisor(shop.stack, log=lines.append, sleep=lambda _: None)
    assert supervisor.check() is None  # all up: nothing to do
    assert lines == []

    shop.stack.services["consumer"].kill()
    during = shop.place()  # accepted while nobody consumes: it waits in the queue
    assert supervisor.check() is None

    assert supervisor.restarted == ["consumer"]
    assert lines[0].startswith("consumer exited with -9; restarting in 1s (restart 1)")
    assert lines[-1].startswith("consumer is back at http://127.0.0.1:")
    assert shop.wait_fulfilled(during, timeout=60)["status"] == "fulfilled"
    assert shop.order(before) is not None  # the endpoint kept what was recorded before
    assert len(shop.stored_orders()) == 2
