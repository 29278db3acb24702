"""What people read: the survey email and text message for one step of an invitation.

Email content is rendered once per survey and step with substitution keys (``%greeting%``,
``%score_url_9%`` ...) and personalised per recipient by substitutions, so the SendGrid
channel can send up to 1,000 recipients in one request. Keys ending in ``_html`` carry
HTML-escaped values for the HTML part.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from flask import current_app, render_template
from markupsafe import escape

from app import links
from app.i18n import translate
from app.models import Invitation, StaffUser
from app.policy.deadlines import closes_on
from app.policy.sender import Sender, choose_from
from app.policy.sms import ENGLISH, SmsPhrases
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
    brand = branding()
    context: dict[str, Any] = {
        "company": brand.company,
        "question": invitation.survey.question,
        "is_reminder": step in (Step.REMINDER_1, Step.REMINDER_2),
        "is_last_reminder": step == Step.REMINDER_2,
        "scores": SCORES,
    }
    # Reminders say so in the person's language: %reminder_subject% and %reminder_note% are
    # per-person substitutions (see reminder_substitutions).
    subject = (
        "%reminder_subject%"
        if context["is_reminder"]
        else f"Quick question from %sender_name% at {brand.company}"
    )
    return EmailContent(
        subject=subject,
        text=render_template("messages/email.txt", **context),
        html=render_template("messages/email.html", **context),
    )


def reminder_substitutions(invitation: Invitation, step: Step) -> dict[str, str]:
    """A reminder's subject and opening line, in the person's language."""
    if step not in (Step.REMINDER_1, Step.REMINDER_2):
        return {}
    locale = invitation.person.locale
    note = translate(
        "A last reminder: we would still love to hear from you."
        if step == Step.REMINDER_2
        else "A quick reminder: we would still love to hear from you.",
        locale,
    )
    subject = translate("Reminder: {text}", locale).format(text=invitation.survey.question)
    return {
        "%reminder_subject%": subject,
        "%reminder_note%": note,
        "%reminder_note_html%": str(escape(note)),
    }


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
    deadline = closes_on(invitation.deadline_at, person.timezone, person.locale)
    unsubscribe = unsubscribe_url(person.email)
    subs = {
        "%greeting%": greeting,
        "%greeting_html%": str(escape(greeting)),
        "%sender_name%": sender_name,
        "%sender_name_html%": str(escape(sender_name)),
        "%deadline%": deadline,
        "%deadline_html%": str(escape(deadline)),
        "%survey_url%": links.survey_url(invitation.id, invitation.deadline_at),
        "%unsubscribe_url%": unsubscribe,
        **reminder_substitutions(invitation, step),
    }
    for score in SCORES:
        subs[f"%score_url_{score}%"] = links.survey_url(
            invitation.id, invitation.deadline_at, score=score
        )
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


def sms_phrases(locale: str | None) -> SmsPhrases:
    """The survey texts' fixed wording in the person's language (app/translations)."""
    return SmsPhrases(
        **{f.name: translate(getattr(ENGLISH, f.name), locale) for f in dataclasses.fields(ENGLISH)}
    )


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
