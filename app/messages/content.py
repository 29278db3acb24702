"""What people read: the survey email and text message for one step of an invitation.

Email content is rendered once per survey and step from the survey's templates (see
:mod:`app.messages.email_templates`: sandboxed, editable by admins) with substitution keys
(``%greeting%``, ``%score_url_9%`` ...) and personalised per recipient by substitutions, so
the SendGrid channel can send up to 1,000 recipients in one request. Keys ending in
``_html`` carry HTML-escaped values for the HTML part.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from flask import current_app

from app.messages import email_templates, links
from app.messages.i18n import translate
from app.models import Invitation, StaffUser
from app.policy.deadlines import closes_on, format_day
from app.policy.sender import Sender, choose_from
from app.policy.sms import ENGLISH, SmsPhrases
from app.vocabulary import Step
from channels.base import Address, EmailContent, EmailMessage, SmsMessage

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


def reminder_texts(invitation: Invitation, step: Step) -> tuple[str, str]:
    """A reminder's opening line and subject, in the person's language; empty for the first
    email."""
    if step not in (Step.REMINDER_1, Step.REMINDER_2):
        return "", ""
    locale = invitation.person.locale
    note = translate(
        "A last reminder: we would still love to hear from you."
        if step == Step.REMINDER_2
        else "A quick reminder: we would still love to hear from you.",
        locale,
    )
    label = "Last reminder: {text}" if step == Step.REMINDER_2 else "Reminder: {text}"
    subject = translate(label, locale).format(text=invitation.survey.question)
    return note, subject


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
        reminder_note=reminder_texts(invitation, step)[0],
        reminder_subject=_one_line(reminder_texts(invitation, step)[1]),
    )
    used = _keys_in(content)
    subs = {k: v for k, v in email_templates.substitutions(recipient).items() if k in used}
    unsubscribe = recipient.unsubscribe_url
    return EmailMessage(
        message_id=message_id,
        invitation_id=invitation.id,
        step=step,
        to=Address(person.email, person.name),
        sender=Address(sender.email, sender.name),
        reply_to=Address(reply_to.email, reply_to.name) if reply_to is not None else None,
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


def sms_phrases(locale: str | None) -> SmsPhrases:
    """The survey texts' fixed wording in the person's language (app/translations)."""
    return SmsPhrases(
        **{f.name: translate(getattr(ENGLISH, f.name), locale) for f in dataclasses.fields(ENGLISH)}
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
    """The text for one step: the first within two segments (app.policy.sms), reminders
    short and marked as such; the status callback names our message (``?m=``)."""
    from app.policy.sms import compose_invitation
    from app.policy.sms_conversation import compose_reminder, sms_day

    person = invitation.person
    if not person.phone:
        raise ValueError("the person has no phone number")
    company = branding().company
    question = invitation.survey.question
    deadline = sms_day(invitation.deadline_at, person.timezone, person.locale)
    phrases = sms_phrases(person.locale)
    if step == Step.INITIAL:
        csm = sender_of(invitation)
        composed = compose_invitation(
            company=company,
            question=question,
            deadline=deadline,
            csm_name=csm.from_name if csm is not None else None,
            phrases=phrases,
        )
    else:
        composed = compose_reminder(
            company=company,
            question=question,
            deadline=deadline,
            last=step == Step.REMINDER_2,
            phrases=phrases,
        )
    return SmsMessage(
        message_id=message_id,
        invitation_id=invitation.id,
        step=step,
        to=person.phone,
        body=composed.text,
        status_callback=f"{current_app.config['BASE_URL']}/hooks/twilio/status?m={message_id}",
    )
