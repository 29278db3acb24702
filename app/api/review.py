"""POST /api/v1/invitations/<id>/review: settle an invitation in review (admins)."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from app import clock
from app.access import Permission, requires
from app.api import bp, parse_body
from app.api.auth import principal_name
from app.api.invitations import get_invitation_or_404
from app.api.schemas import Strict
from app.api.serialize import invitation_json, message_json
from app.api.transaction import write
from app.audit.services import record
from app.services.review import settle_review


class ReviewIn(Strict):
    sent: bool
    """What the provider's log says: did the message in doubt go out?"""


@bp.post("/invitations/<int:invitation_id>/review")
@requires(Permission.MANAGE)
@write
def review_invitation(invitation_id: int) -> Any:
    invitation = get_invitation_or_404(invitation_id)
    data = parse_body(ReviewIn)
    before = invitation.status.value
    settle_review(invitation, data.sent, clock.now(), principal_name())
    record(
        "invitation.reviewed",
        "invitation",
        invitation.id,
        before={"status": before},
        after={"status": invitation.status.value, "sent": data.sent},
    )
    body = invitation_json(invitation)
    body["messages"] = [message_json(m) for m in invitation.messages]
    return jsonify(body)
