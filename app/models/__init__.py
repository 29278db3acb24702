"""All models, imported here so their tables are on the metadata."""

from app.audit.models import AuditEntry
from app.models.access import ApiKey, IdempotencyRecord
from app.models.cadence import CadencePolicy, Decision, DeferredAsk
from app.models.email import ProviderEvent, ScoreClick
from app.models.invitations import Invitation, Message
from app.models.outbox import OutboxMessage
from app.models.people import Account, Person, StaffUser
from app.models.responses import Response
from app.models.sms import SmsReply
from app.models.suppressions import Suppression
from app.models.surveys import DEFAULT_FOLLOW_UP, Survey
from app.models.triggers import Campaign, PersonEvent, SurveyTrigger
from app.models.widget import WidgetDisplay, WidgetKey
from app.staff.models import StaffEmail, StaffSession, StaffToken

__all__ = [
    "DEFAULT_FOLLOW_UP",
    "Account",
    "ApiKey",
    "AuditEntry",
    "CadencePolicy",
    "Campaign",
    "Decision",
    "DeferredAsk",
    "IdempotencyRecord",
    "Invitation",
    "Message",
    "OutboxMessage",
    "Person",
    "PersonEvent",
    "ProviderEvent",
    "Response",
    "ScoreClick",
    "SmsReply",
    "StaffEmail",
    "StaffSession",
    "StaffToken",
    "StaffUser",
    "Suppression",
    "Survey",
    "SurveyTrigger",
    "WidgetDisplay",
    "WidgetKey",
]
