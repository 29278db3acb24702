"""What people read: the survey email and text message for one step of an invitation.

Email content is rendered once per survey and step from the survey's templates (see
:mod:`app.email_templates`: sandboxed, editable by admins) with substitution keys
(``%greeting%``, ``%score_url_9%`` ...) and personalised per recipient by substitutions, so
the SendGrid channel can send up to 1,000 recipients in one request. Keys ending in
``_html`` carry HTML-escaped values for the HTML part.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from flask import current_app

from app import email_templates, links
from app.models import Invitation, StaffUser
from app.policy.deadlines import closes_on, format_day
from app.policy.sender import Sender, choose_from
from channels.base import Address, EmailContent, EmailMessage, SmsMessage, Step

SCORES = range(11)


@dataclass(frozen=True, slots=True)
class Branding:
    company: str
    default_sender: Sender
    authenticated_domains: frozenset[str]


def branding() -> Branding:
    config = current_app.config
    company = config["COMPANY_NAME"]
    domains = frozenset(
        d.strip().lower()
        for d in config.get("SENDGRID_AUTHENTICATED_DOMAINS", "").split(",")
        if d.strip()
    )
    return Branding(
        company=company,
        default_sender=Sender(
            config.get("DEFAULT_SENDER_NAME") or company, config["DEFAULT_SENDER_EMAIL"]
        ),
        authenticated_domains=domains,
    )


def sender_of(invitation: Invitation) -> StaffUser | None:
    """The CSM the invitation speaks for: the one named on it, else the account's owner."""
    if invitation.sender is not None:
        return invitation.sender
    account = invitation.person.account
    return account.csm if account is not None else None


def email_content(invitation: Invitation, step: Step) -> EmailContent:
    survey = invitation.survey
    templates = email_templates.templates_of(
        survey.email_subject, survey.email_html, survey.email_text
    )
    return email_templates.render(templates, branding().company, survey.question, step)


def unsubscribe_url(email: str) -> str:
    token = links.sign(links.Purpose.UNSUBSCRIBE, {"k": "email", "v": email})
    return f"{current_app.config['BASE_URL']}/u/{token}"


def email_message(
    invitation: Invitation, message_id: int, step: Step, content: EmailContent
) -> EmailMessage:
    person = invitation.person
    if not person.email:
        raise ValueError("the person has no email address")
    brand = branding()
    csm = sender_of(invitation)
    csm_sender = Sender(csm.from_name, csm.from_email) if csm is not None else None
    sender, reply_to = choose_from(csm_sender, brand.default_sender, brand.authenticated_domains)
    greeting = f"Hi {person.first_name}," if person.first_name else "Hello,"
    sender_name = csm.from_name if csm is not None else brand.company
    # One signature for all twelve links: the score is a choice, not a credential.
    survey_url = links.survey_url(invitation.id, invitation.deadline_at)
    recipient = email_templates.Recipient(
        name=_one_line(person.name or ""),
        first_name=_one_line(person.first_name or ""),
        greeting=_one_line(greeting),
        sender_name=_one_line(sender_name),
        deadline=_deadline_texts(invitation.deadline_at, person.timezone, person.locale)[0],
        closes_on=_deadline_texts(invitation.deadline_at, person.timezone, person.locale)[1],
        survey_url=survey_url,
        score_urls=tuple(f"{survey_url}?score={n}" for n in SCORES),
        unsubscribe_url=unsubscribe_url(person.email),
    )
    used = _keys_in(content)
    subs = {k: v for k, v in email_templates.substitutions(recipient).items() if k in used}
    unsubscribe = recipient.unsubscribe_url
    return EmailMessage(
        message_id=message_id,
        invitation_id=invitation.id,
        step=step,
        to=Address(person.email, person.name),
        sender=sender,
        reply_to=reply_to,
        content=content,
        substitutions=subs,
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        custom_args={
            "sounding_message_id": str(message_id),
            "sounding_invitation_id": str(invitation.id),
            "sounding_step": step.value,
        },
    )


@lru_cache(maxsize=4096)
def _deadline_texts(
    deadline_at: datetime, timezone: str | None, locale: str | None
) -> tuple[str, str]:
    """The deadline sentence and day: a campaign's people share a few (formatting is slow)."""
    return closes_on(deadline_at, timezone, locale), format_day(deadline_at, timezone, locale)


def _one_line(value: str) -> str:
    return " ".join(value.split())


@lru_cache(maxsize=64)
def _keys_in(content: EmailContent) -> frozenset[str]:
    """The substitution keys a content uses: a recipient carries only those."""
    text = "\n".join((content.subject, content.text, content.html))
    return frozenset(re.findall(r"%[a-z0-9_]+%", text))


def sms_message(invitation: Invitation, message_id: int, step: Step) -> SmsMessage:
    person = invitation.person
    if not person.phone:
        raise ValueError("the person has no phone number")
    brand = branding()
    csm = sender_of(invitation)
    who = f"{csm.from_name} from {brand.company}" if csm is not None else brand.company
    hello = f"Hi {person.first_name}, " if person.first_name else "Hi, "
    lead = "Reminder: " if step in (Step.REMINDER_1, Step.REMINDER_2) else ""
    deadline = closes_on(invitation.deadline_at, person.timezone, person.locale)
    body = (
        f"{lead}{hello}it's {who}. {invitation.survey.question} "
        f"Reply with a number from 0 to 10. {deadline} Reply STOP to opt out."
    )
    callback = f"{current_app.config['BASE_URL']}/hooks/twilio/status"
    return SmsMessage(
        message_id=message_id,
        invitation_id=invitation.id,
        step=step,
        to=person.phone,
        body=body,
        status_callback=callback,
    )
