"""The pure one-click decisions: is this click final, is it a burst (plain values only)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from app.policy.clicks import (
    BURST_WINDOW,
    QUIET_PERIOD,
    Click,
    Verdict,
    decide,
    is_burst,
    is_settled,
)

T = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)
DEADLINE = T + timedelta(days=10)
S = timedelta(seconds=1)


def clicks(*spec: tuple[int, float]) -> list[Click]:
    """(score, seconds after T) pairs."""
    return [Click(i + 1, score, T + timedelta(seconds=at)) for i, (score, at) in enumerate(spec)]


def test_the_quiet_period_is_at_least_the_burst_window() -> None:
    assert QUIET_PERIOD >= BURST_WINDOW
    with pytest.raises(ValueError):
        decide([], now=T, deadline=DEADLINE, answered=False, window=QUIET_PERIOD * 2)


def test_a_lone_click_is_pending_then_the_answer() -> None:
    one = clicks((9, 0))
    assert decide(one, now=T + QUIET_PERIOD - S, deadline=DEADLINE, answered=False) == {
        1: Verdict.PENDING
    }
    assert decide(one, now=T + QUIET_PERIOD, deadline=DEADLINE, answered=False) == {
        1: Verdict.ANSWER
    }


def test_an_answer_already_there_supersedes_a_click() -> None:
    assert decide(clicks((9, 0)), now=T + QUIET_PERIOD, deadline=DEADLINE, answered=True) == {
        1: Verdict.SUPERSEDED
    }


def test_eleven_scores_in_moments_are_all_a_scanners() -> None:
    burst = clicks(*[(n, n * 0.5) for n in range(11)])
    verdicts = decide(burst, now=T + timedelta(hours=1), deadline=DEADLINE, answered=False)
    assert set(verdicts.values()) == {Verdict.SCANNER}


def test_two_different_scores_within_the_window_are_a_burst_either_way() -> None:
    window = BURST_WINDOW.total_seconds()
    pair = clicks((3, 0), (4, window - 1))
    assert is_burst(pair[0], pair) and is_burst(pair[1], pair)
    apart = clicks((3, 0), (4, window))
    assert not is_burst(apart[0], apart) and not is_burst(apart[1], apart)
    same = clicks((3, 0), (3, 1))
    assert not is_burst(same[0], same)


def test_the_earliest_final_click_wins_the_rest_are_superseded() -> None:
    late = clicks((2, 0), (8, 3600))
    verdicts = decide(late, now=T + timedelta(hours=2), deadline=DEADLINE, answered=False)
    assert verdicts == {1: Verdict.ANSWER, 2: Verdict.SUPERSEDED}


def test_the_deadline_settles_a_click_early() -> None:
    deadline = T + 10 * S
    assert is_settled(clicks((5, 0))[0], T + 10 * S, deadline)
    assert decide(clicks((5, 0)), now=deadline, deadline=deadline, answered=False) == {
        1: Verdict.ANSWER
    }


def test_a_settled_click_never_becomes_a_burst_later() -> None:
    """Property: once a click is settled, no click that can still arrive (at or after now)
    changes its verdict."""
    rng = random.Random(5)
    for _ in range(500):
        spec = [(rng.randint(0, 10), rng.uniform(0, 600)) for _ in range(rng.randint(1, 5))]
        now = T + timedelta(seconds=rng.choice([rng.uniform(0, 900), spec[0][1] + 120]))
        known = [c for c in clicks(*spec) if c.at <= now]
        before = decide(known, now=now, deadline=DEADLINE, answered=False)
        wait = rng.choice([0.0, rng.uniform(0, 300)])  # at the boundary too
        later = Click(99, rng.randint(0, 10), now + timedelta(seconds=wait))
        after = decide([*known, later], now=now, deadline=DEADLINE, answered=False)
        for click_id, verdict in before.items():
            if verdict != Verdict.PENDING:
                assert after[click_id] == verdict
