"""The scaling arithmetic (devstack.scaling), the lab's computed timeline (devstack.lab) and
``make run``'s lab presets: the HPA's rules, held on small cases, and docs/labs.md held to the
timeline the model computes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devstack.__main__ import LAB_SWITCHES, LABS, apply_lab, scaling_from_env
from devstack.lab import BLOG, Lab, Phase, simulate, timeline_table
from devstack.scaling import Autoscaler, ScalingPolicy
from lantern.settings import SettingsError

ROOT = Path(__file__).resolve().parents[2]
POLICY = ScalingPolicy(queue_length=30, min_replicas=1, max_replicas=10)


@pytest.mark.parametrize(
    ("backlog", "current", "wanted"),
    [
        (0, 1, 1),  # never below the minimum
        (31, 1, 1),  # 3 % over the target of one replica: within tolerance
        (40, 1, 2),  # one replica per 30 messages, rounded up
        (150, 5, 5),  # exactly on target
        (160, 5, 5),  # 6.7 % over: inside the HPA's 10 % tolerance, no change
        (170, 5, 6),  # 13 % over: out of it
        (10_000, 3, 10),  # never above the maximum
    ],
)
def test_the_wanted_count_is_backlog_over_queue_length(
    backlog: int, current: int, wanted: int
) -> None:
    assert POLICY.wanted(backlog, current) == wanted


def test_scale_up_adds_at_most_four_pods_or_double_per_period() -> None:
    scaler = Autoscaler(POLICY)
    assert scaler.decide(0, backlog=3000, current=1) == 5  # +4 (more than +100 %)
    assert scaler.decide(5, backlog=3000, current=5) == 5  # the period's room is used up
    assert scaler.decide(15, backlog=3000, current=5) == 10  # +100 % of 5, capped at max


def test_scale_down_waits_for_the_window_and_removes_two_per_half_minute() -> None:
    scaler = Autoscaler(POLICY)
    assert scaler.decide(0, backlog=300, current=10) == 10
    assert scaler.decide(15, backlog=0, current=10) == 10  # 10 was wished 15 s ago
    assert scaler.decide(61, backlog=0, current=10) == 8  # window passed; 2 pods at most
    assert scaler.decide(76, backlog=0, current=8) == 8  # 2 already removed in this 30 s
    assert scaler.decide(92, backlog=0, current=8) == 6


def test_the_blog_lab_settles_at_five_replicas_then_rushes_past_the_alarm() -> None:
    events = list(simulate(BLOG))
    at = {e.what: e for e in events}
    # 1 order/s against 0.2 per replica: five replicas hold the line, and KEDA stops there.
    before_rush = [e for e in events if e.at < 900]
    assert max(e.replicas for e in before_rush) == 5
    assert "replicas alarm → ALARM" not in {e.what for e in before_rush}
    # The rush (2/s) needs all ten; the alarm waits for 5 one-minute maxima at 8 or more.
    eight = next(e for e in events if e.replicas >= 8 and e.at > 900)
    alarm = at["replicas alarm → ALARM"]
    assert alarm.at - eight.at >= 5 * 60 - 60  # five full minutes at >= 8, counted per minute
    assert at["replicas alarm → OK"].at > at["rush over: back to 1 order/s"].at
    # Meanwhile orders wait longer than the age alarm allows: 30 messages per replica at 0.2/s
    # is 150 s of queue, so that alarm fires in the steady state the replicas alarm sleeps through.
    assert at["oldest-message alarm → ALARM"].at < 900
    assert at["oldest-message alarm → OK"].at > at["queue empty"].at
    # With the generator off the queue empties and the consumer goes back to one replica.
    assert at["queue empty"].at > at["generator off"].at
    assert events[-1].replicas == 1


def test_a_consumer_fast_enough_never_scales() -> None:
    fast = Lab(phases=(Phase(0, 1.0, "on"),), policy=POLICY, concurrency=4, work_ms=50, end=600)
    assert {e.replicas for e in simulate(fast)} == {1}


def test_docs_show_the_timeline_the_model_computes() -> None:
    labs = (ROOT / "docs" / "labs.md").read_text()
    assert timeline_table(BLOG) in labs, "regenerate it: uv run python -m devstack.lab"


def test_lab_presets_fill_only_what_is_unset() -> None:
    env = {"LAB": "blog", "CONSUMER_WORK_MS": "2000"}
    apply_lab(env)
    assert env["CONSUMER_WORK_MS"] == "2000"  # yours wins
    assert env["CONSUMER_CONCURRENCY"] == "1"
    policy = scaling_from_env(env)
    assert policy == ScalingPolicy(queue_length=30, max_replicas=10)
    assert set(LABS) == set(LAB_SWITCHES) == {"blog"}


def test_the_blog_switch_variants_are_the_labs_arrival_rates() -> None:
    flags = json.loads((ROOT / "flags" / "scenarios.flagd.json").read_text())["flags"]
    variants = flags["synthetic-orders"]["variants"]
    start = LAB_SWITCHES["blog"]["synthetic-orders"]
    rates = [p.orders_per_second for p in BLOG.phases]
    assert variants[start] == rates[0]
    assert variants["rush"] == max(rates)
    assert variants["off"] == rates[-1] == 0


def test_an_unknown_lab_is_refused_and_no_lab_means_no_scaler() -> None:
    with pytest.raises(SettingsError, match="LAB='blag'"):
        apply_lab({"LAB": "blag"})
    assert scaling_from_env({}) is None
