"""Score-link clicks: recorded on GET, made answers once :mod:`app.policy.clicks` says so.

Mechanism only; the decision (final? burst?) is the policy's. A click is settled by the
periodic sweep (:func:`settle_due`, before it expires anything, so a click made just before
the deadline still counts) and lazily when the survey page is opened again.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select, update

from app.db import affected, db
from app.models import Invitation, Response, ScoreClick
from app.policy import clicks as policy
from app.services.responses import SurveyClosed, lock_invitation, record_response
from app.vocabulary import ClickState

log = logging.getLogger(__name__)

#: Invitations settled per batch by the sweep.
BATCH = 1000
MAX_BATCHES = 20

_STATE = {
    policy.Verdict.ANSWER: ClickState.ANSWERED,
    policy.Verdict.SCANNER: ClickState.SCANNER,
    policy.Verdict.SUPERSEDED: ClickState.SUPERSEDED,
}


def record_click(invitation_id: int, score: int, now: datetime) -> bool:
    """Record a GET of a score link; False when the invitation had too many already.
    The caller commits."""
    count = db.session.scalar(
        select(func.count())
        .select_from(ScoreClick)
        .where(ScoreClick.invitation_id == invitation_id)
    )
    if (count or 0) >= policy.MAX_CLICKS:
        return False
    db.session.add(
        ScoreClick(
            invitation_id=invitation_id, score=score, state=ClickState.PENDING, clicked_at=now
        )
    )
    db.session.flush()
    return True


def settle(invitation_ids: Sequence[int], now: datetime) -> dict[str, int]:
    """Decide the pending clicks of these invitations that can be decided; record answers.
    The caller commits."""
    counts = {state.value: 0 for state in _STATE.values()}
    if not invitation_ids:
        return counts
    rows = db.session.execute(
        select(
            ScoreClick.id,
            ScoreClick.invitation_id,
            ScoreClick.score,
            ScoreClick.clicked_at,
            ScoreClick.state,
        ).where(ScoreClick.invitation_id.in_(invitation_ids))
    ).all()
    by_invitation: dict[int, list[policy.Click]] = defaultdict(list)
    pending: set[int] = set()
    for click_id, inv_id, score, at, state in rows:
        by_invitation[inv_id].append(policy.Click(click_id, score, at))
        if state == ClickState.PENDING:
            pending.add(click_id)
    if not pending:
        return counts
    deadlines = dict(
        db.session.execute(
            select(Invitation.id, Invitation.deadline_at).where(
                Invitation.id.in_(list(by_invitation))
            )
        ).all()
    )
    answered = set(
        db.session.scalars(
            select(Response.invitation_id).where(Response.invitation_id.in_(list(by_invitation)))
        )
    )
    decided: dict[ClickState, list[int]] = defaultdict(list)
    for inv_id, clicks in by_invitation.items():
        verdicts = policy.decide(
            clicks, now=now, deadline=deadlines[inv_id], answered=inv_id in answered
        )
        for click in clicks:
            verdict = verdicts[click.id]
            if click.id not in pending or verdict == policy.Verdict.PENDING:
                continue
            if verdict == policy.Verdict.ANSWER and not _answer(inv_id, click, now):
                verdict = policy.Verdict.SUPERSEDED
            decided[_STATE[verdict]].append(click.id)
    for state, ids in decided.items():
        result = db.session.execute(
            update(ScoreClick)
            .where(ScoreClick.id.in_(ids), ScoreClick.state == ClickState.PENDING)
            .values(state=state, decided_at=now)
            .execution_options(synchronize_session=False)
        )
        counts[state.value] += affected(result)
    return counts


def _answer(invitation_id: int, click: policy.Click, now: datetime) -> bool:
    """Record the click's score as the answer, unless one arrived meanwhile."""
    invitation = lock_invitation(invitation_id)
    if invitation is None:
        return False
    if db.session.scalar(select(Response.id).where(Response.invitation_id == invitation_id)):
        return False  # an answer (the form's, or another click's) is never overwritten
    try:
        with db.session.begin_nested():
            # Answered when clicked: that is when the person chose, and it was before the
            # deadline even if this runs after it.
            record_response(invitation, score=click.score, comment=None, role=None, now=click.at)
    except SurveyClosed:
        log.warning("click %s on invitation %s came too late to count", click.id, invitation_id)
        return False
    return True


def settle_due(now: datetime) -> dict[str, int]:
    """Settle every invitation with a click that can be decided now (the sweep's part)."""
    totals = {state.value: 0 for state in _STATE.values()}
    cutoff = now - policy.QUIET_PERIOD
    for _ in range(MAX_BATCHES):
        ids = list(
            db.session.scalars(
                select(ScoreClick.invitation_id)
                .join(Invitation, Invitation.id == ScoreClick.invitation_id)
                .where(
                    ScoreClick.state == ClickState.PENDING,
                    or_(ScoreClick.clicked_at <= cutoff, Invitation.deadline_at <= now),
                )
                .group_by(ScoreClick.invitation_id)
                .order_by(func.min(ScoreClick.clicked_at))
                .limit(BATCH)
            )
        )
        if not ids:
            break
        for state, n in settle(ids, now).items():
            totals[state] += n
        db.session.commit()
        if len(ids) < BATCH:
            break
    return totals
