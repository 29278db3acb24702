"""One-click scores from an email, safe from mail scanners: pure decisions on plain values.

Mail security scanners (Safe Links, Mimecast, Barracuda...) fetch every link of a message,
often at delivery, so a GET of a score link proves nothing on its own. A person clicks one
score; a scanner opens the eleven score links within moments. So:

* Every GET of ``/s/<token>?score=N`` is recorded as a *pending* click, and the page says
  the score was received and offers the comment box.
* A click becomes the answer once a quiet period (:data:`QUIET_PERIOD`) has passed, unless a
  click on *another* score of the same invitation came within :data:`BURST_WINDOW` of it,
  before or after: then every click of that burst is a scanner's and none is ever an answer.
  Clicking the same score twice (a double click, a scanner checking the link the person is
  following) is not a burst. The quiet period is at least the burst window, so when a click
  is final nothing can turn it into a burst any more. At the deadline the link closes, no
  click can come, so a pending click is decided then at the latest.
* An answer, once there (submitted with the form, or a final click), is never changed by a
  click: clicks only fill an empty answer. The form always records (it is a POST a scanner
  does not make), so the person can change their answer there until the deadline.
* Among several final clicks (finalisation ran late), the earliest wins: the one that would
  have been recorded had it run on time.

The cost: a person who clicks two different scores within the burst window, or clicks
within the window of a scanner's pass, has no answer until they press the form's button
(the page they see asks them to). A scanner that opens a single score link looks like a
person; nothing but the burst tells them apart.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

#: Clicks on different scores this close together are a scanner's.
BURST_WINDOW = timedelta(minutes=2)
#: How long a click waits before it is final; at least BURST_WINDOW.
QUIET_PERIOD = timedelta(minutes=2)
#: Clicks recorded per invitation at most (a scanner may run more than once); more are ignored.
MAX_CLICKS = 100


@dataclass(frozen=True, slots=True)
class Click:
    id: int
    score: int
    at: datetime


class Verdict(enum.StrEnum):
    PENDING = "pending"
    """Too recent: wait."""
    ANSWER = "answer"
    """Record its score as the answer."""
    SCANNER = "scanner"
    """Part of a burst: never an answer."""
    SUPERSEDED = "superseded"
    """Final, but there is already an answer (or an earlier final click)."""


def is_burst(click: Click, clicks: Sequence[Click], window: timedelta = BURST_WINDOW) -> bool:
    """Whether another score of the same invitation was clicked less than ``window`` from it."""
    return any(o.score != click.score and abs(o.at - click.at) < window for o in clicks)


def is_settled(
    click: Click, now: datetime, deadline: datetime, quiet: timedelta = QUIET_PERIOD
) -> bool:
    """Whether nothing can change this click's fate any more."""
    return now >= min(click.at + quiet, deadline)


def decide(
    clicks: Sequence[Click],
    *,
    now: datetime,
    deadline: datetime,
    answered: bool,
    window: timedelta = BURST_WINDOW,
    quiet: timedelta = QUIET_PERIOD,
) -> dict[int, Verdict]:
    """The verdict on each of an invitation's undecided clicks, by click id.

    ``clicks`` are all clicks of the invitation that may matter (decided ones included, since a
    scanner's earlier clicks still make a burst); ``answered``: the invitation has an answer.
    """
    if quiet < window:
        raise ValueError("the quiet period must be at least the burst window")
    verdicts: dict[int, Verdict] = {}
    have_answer = answered
    for click in sorted(clicks, key=lambda c: (c.at, c.id)):
        if not is_settled(click, now, deadline, quiet):
            verdicts[click.id] = Verdict.PENDING
        elif is_burst(click, clicks, window):
            verdicts[click.id] = Verdict.SCANNER
        elif have_answer:
            verdicts[click.id] = Verdict.SUPERSEDED
        else:
            verdicts[click.id] = Verdict.ANSWER
            have_answer = True
    return verdicts
