"""``sounding demo``: a realistic data set so the figures are not flat.

Six customer accounts with their CSMs, about fifty people across the four roles, a product
NPS survey, and a year of invitations and answers: executives and decision makers a little
warmer than end users, one account sliding into trouble, the whole base improving slowly,
and about half of the people answering. Two fresh invitations go through the real pipeline
so the outbox has something to show.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from app import clock
from app.db import db
from app.models import Account, Invitation, Person, Response, StaffUser, Survey
from app.policy.nps import category
from app.policy.quiet_hours import SendWindow, resolve_zone
from app.services.invitations import InvitationRequest, create_invitation
from app.staff.services import set_password
from app.vocabulary import Channel, InvitationStatus, Role, StaffRole, Trigger

SURVEY_NAME = "Product NPS"
DEMO_SEND_WINDOW = {
    "send_window_start": "00:00",
    "send_window_end": "23:59",
    "send_weekdays": [0, 1, 2, 3, 4, 5, 6],
}

CSMS = [
    ("Jane Doe", "jane@acme.example"),
    ("Sam Lee", "sam@acme.example"),
    ("Priya Patel", "priya@acme.example"),
]
ACCOUNTS = [
    ("globex", "Globex", 0.6),
    ("initech", "Initech", 0.2),
    ("umbrella", "Umbrella", -1.6),
    ("hooli", "Hooli", 0.9),
    ("stark", "Stark Industries", 0.4),
    ("wayne", "Wayne Enterprises", -0.2),
]
ROLE_COUNTS = [
    (Role.END_USER, 27),
    (Role.INFLUENCER, 10),
    (Role.DECISION_MAKER, 8),
    (Role.EXECUTIVE, 5),
]
ROLE_MOOD = {
    Role.END_USER: -0.6,
    Role.INFLUENCER: 0.0,
    Role.DECISION_MAKER: 0.5,
    Role.EXECUTIVE: 0.9,
}
FIRST = [
    "Ana",
    "Ben",
    "Chloé",
    "Dev",
    "Elif",
    "Femi",
    "Greta",
    "Hiro",
    "Ines",
    "Jonas",
    "Kai",
    "Lena",
    "Mateo",
    "Nia",
    "Omar",
    "Pia",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
    "Uma",
    "Victor",
    "Wen",
    "Yara",
    "Zoe",
]
LAST = [
    "Silva",
    "Okafor",
    "Müller",
    "Tanaka",
    "Novak",
    "Haddad",
    "Larsen",
    "Kowalski",
    "Reyes",
    "Chen",
    "Dubois",
    "Ivanova",
    "Brown",
    "Singh",
    "Rossi",
]
ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Australia/Sydney",
]
COMMENTS: dict[str, list[str | None]] = {
    "promoter": [
        "The reporting saves me hours every week.",
        "Support is fast and friendly.",
        "Rolled it out to the whole team; nobody wants to go back.",
        "Our CSM really knows our business.",
    ],
    "passive": [
        "Does the job, but the mobile app lags behind.",
        "Good, a bit pricey for us.",
        "Onboarding took longer than we hoped.",
        None,
    ],
    "detractor": [
        "Exports keep timing out on large projects.",
        "We lost a day of work to the outage in March.",
        "Too many clicks for simple things.",
        "Billing was confusing.",
        None,
    ],
}


@dataclass(frozen=True, slots=True)
class DemoSummary:
    created: bool
    people: int
    invitations: int
    responses: int
    admin_email: str
    admin_password: str
    survey_id: int

    def describe(self, base: str) -> str:
        state = "Created" if self.created else "Found existing"
        return (
            f"{state} demo data: {self.people} people, {self.invitations} invitations, "
            f"{self.responses} responses (survey id {self.survey_id}).\n\n"
            f"Sign in at {base}/dashboard/sign-in as the demo admin:\n"
            f"  Email:     {self.admin_email}\n"
            f"  Password:  {self.admin_password}\n"
            "  (a new password each time `sounding demo` runs)\n\n"
            f"Where to look:\n"
            f"  Dashboard:     {base}/dashboard\n"
            f"  API keys:      {base}/dashboard/api-keys  (make one, then:)\n"
            f"  NPS by role:   curl -H 'Authorization: Bearer <key>' "
            f"'{base}/api/v1/reports/nps?group_by=role'\n"
            f"  Responses:     curl -H 'Authorization: Bearer <key>' "
            f"'{base}/api/v1/responses?limit=5'\n"
            f"  Outbox:        {base}/dev/outbox  (or `sounding outbox`)\n\n"
            "The demo survey sends at any hour so you see its messages at once; the workspace\n"
            "default (GET /api/v1/cadence) sends from 09:00 to 17:00 on weekdays.\n"
        )


def _score(rng: random.Random, mood: float) -> int:
    return max(0, min(10, round(rng.gauss(8.0 + mood, 1.7))))


def build_demo(seed: int = 7) -> DemoSummary:
    now = clock.now()
    survey = db.session.scalar(select(Survey).where(Survey.name == SURVEY_NAME))
    created = survey is None
    if survey is None:
        survey = _build(random.Random(seed), now)
    admin = db.session.scalar(
        select(StaffUser).where(StaffUser.role == StaffRole.ADMIN).order_by(StaffUser.id)
    )
    assert admin is not None
    password = secrets.token_urlsafe(12)
    set_password(admin, password, now)
    db.session.commit()

    def count(model: type[Any]) -> int:
        return db.session.scalar(select(func.count()).select_from(model)) or 0

    return DemoSummary(
        created,
        count(Person),
        count(Invitation),
        count(Response),
        admin.email,
        password,
        survey.id,
    )


def _build(rng: random.Random, now: datetime) -> Survey:
    admin = StaffUser(
        email="alex@acme.example", name="Alex Admin", role=StaffRole.ADMIN, created_at=now
    )
    csms = [StaffUser(email=e, name=n, role=StaffRole.CSM, created_at=now) for n, e in CSMS]
    db.session.add_all([admin, *csms])
    accounts = [
        (Account(external_id=ext, name=name, csm=csms[i % len(csms)], created_at=now), mood)
        for i, (ext, name, mood) in enumerate(ACCOUNTS)
    ]
    db.session.add_all([a for a, _ in accounts])
    survey = Survey(
        name=SURVEY_NAME,
        question="How likely are you to recommend Acme to a friend or colleague?",
        follow_up_question="What is the main reason for your score?",
        follow_up_promoter="What do you value most about Acme?",
        follow_up_detractor="What is the one thing we should fix first?",
        channels={"enabled": ["email", "sms", "link", "widget"]},
        created_at=now - timedelta(days=400),
        updated_at=now,
    )
    db.session.add(survey)
    people = _people(rng, accounts, now)
    db.session.flush()
    _history(rng, survey, people, now)
    db.session.flush()
    # Two fresh invitations through the real pipeline (claimed, rendered, sent to the outbox),
    # to people the cadence allows now. The demo survey sends at any hour, so they show up
    # in the outbox at once whenever the demo runs (the workspace keeps 09:00-17:00 on
    # weekdays, and the history above kept it too).
    from app.services.cadence_rules import set_survey_overrides

    set_survey_overrides(survey.id, DEMO_SEND_WINDOW, now)
    fresh = _eligible_now(survey, [p for p, _ in people if p.email], now)[:2]
    for person in fresh:
        create_invitation(
            InvitationRequest(
                survey=survey, person=person, channel=Channel.EMAIL, trigger=Trigger.DEMO
            ),
            now,
        )
    db.session.commit()
    return survey


def _people(
    rng: random.Random, accounts: list[tuple[Account, float]], now: datetime
) -> list[tuple[Person, float]]:
    people = []
    roles = [role for role, count in ROLE_COUNTS for _ in range(count)]
    rng.shuffle(roles)
    for i, role in enumerate(roles):
        account, mood = accounts[i % len(accounts)]
        first, last = rng.choice(FIRST), rng.choice(LAST)
        signed_up = now - timedelta(days=rng.randint(120, 900))
        person = Person(
            external_id=f"user_{1000 + i}",
            email=f"{first.lower()}.{last.lower()}.{i}@{account.external_id}.example".replace(
                "é", "e"
            ).replace("ü", "u"),
            phone=f"+1415555{1000 + i:04d}" if i % 3 == 0 else None,
            name=f"{first} {last}",
            role=role if i % 11 else None,
            account=account,
            timezone=rng.choice(ZONES),
            locale="en",
            properties={"plan": rng.choice(["starter", "growth", "enterprise"])},
            signed_up_at=signed_up,
            first_seen_at=signed_up,
            created_at=signed_up,
            updated_at=now,
        )
        people.append((person, mood + ROLE_MOOD.get(role, 0.0)))
    db.session.add_all([p for p, _ in people])
    return people


def _history(
    rng: random.Random, survey: Survey, people: list[tuple[Person, float]], now: datetime
) -> None:
    """Each person is asked every 90 to 110 days over the past year, by their best channel,
    never before two weeks after signing up, emails and texts inside their send window: the
    history keeps the default cadence."""
    from app.policy.quiet_hours import next_send_time

    window = SendWindow()
    last = now - timedelta(days=12)
    for person, mood in people:
        zone, _ = resolve_zone(person.timezone, "UTC")
        start = now - timedelta(days=365 - rng.randint(0, 90))
        if person.signed_up_at is not None:
            start = max(start, person.signed_up_at + timedelta(days=14))
        while start < last:
            trend = (start - now).days / 365 * 0.8  # the base warms up over the year
            channel = (
                Channel.SMS
                if person.phone and rng.random() < 0.3
                else Channel.LINK
                if rng.random() < 0.1
                else Channel.EMAIL
            )
            if channel != Channel.LINK:
                start = next_send_time(start, zone, window)
            if start >= last:
                break
            _asked(rng, survey, person, channel, start, mood + trend)
            start += timedelta(days=rng.randint(90, 110))


def _asked(
    rng: random.Random,
    survey: Survey,
    person: Person,
    channel: Channel,
    sent: datetime,
    mood: float,
) -> None:
    deadline = sent + timedelta(days=survey.deadline_days)
    invitation = Invitation(
        survey=survey,
        person=person,
        account_id=person.account.id if person.account else None,
        channel=channel,
        trigger=Trigger.DEMO,
        scheduled_at=sent,
        sent_at=sent,
        reminder_1_at=sent + timedelta(days=3),
        reminder_2_at=sent + timedelta(days=7),
        deadline_at=deadline,
        attempts=0,
        created_at=sent,
        updated_at=sent,
        status=InvitationStatus.EXPIRED,
        ended_at=deadline,
        end_reason="demo: no answer",
    )
    db.session.add(invitation)
    answered_after = rng.choice([0.2, 0.5, 1, 2, 4, 5, 8, None, None, None, None])
    if channel != Channel.LINK and answered_after is not None and answered_after > 3:
        invitation.reminded_1_at = invitation.reminder_1_at
    if answered_after is None:
        invitation.reminded_1_at = invitation.reminder_1_at
        invitation.reminded_2_at = invitation.reminder_2_at
        return
    answered = sent + timedelta(days=answered_after)
    score = _score(rng, mood)
    cat = category(score)
    invitation.status, invitation.responded_at = InvitationStatus.RESPONDED, answered
    invitation.ended_at, invitation.end_reason = answered, None
    db.session.add(
        Response(
            invitation=invitation,
            survey=survey,
            person=person,
            account=person.account,
            score=score,
            category=cat,
            comment=rng.choice(COMMENTS[cat.value]),
            role=person.role,
            channel=channel,
            answered_at=answered,
            updated_at=answered,
        )
    )


def _eligible_now(survey: Survey, people: list[Person], now: datetime) -> list[Person]:
    from app.policy.facts import Reason
    from app.services.cadence import decide_for

    decisions = [(decide_for(p, survey.id, Channel.EMAIL, now), p) for p in people]
    ready = [p for d, p in decisions if d.reason == Reason.OK]
    later = [p for d, p in decisions if d.reason == Reason.QUIET_HOURS]
    return ready + later
