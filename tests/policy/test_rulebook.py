"""Each cadence rule is one entry of :data:`app.policy.rulebook.RULES`: the engine's check, the
fan-out's SQL clause and the fan-out's sentence. A rule that lacks any of the three, or that
one of the users does not take from its entry, fails here."""

from __future__ import annotations

from app.policy import cadence as engine
from app.policy.facts import REFUSAL_ORDER, Reason
from app.policy.rulebook import BY_REASON, RULES, Clause
from app.policy.rules import CadenceRules
from app.services.fanout import FanOutSpec, reason_messages
from app.services.fanout_sql import facts_sql
from app.vocabulary import Channel, Trigger

#: Every rule switched on, so that every entry has a clause.
ALL_ON = CadenceRules(min_tenure_days=14, account_cap=3, dismissal_backoff_days=7)


def channel_for(reason: Reason) -> Channel:
    return Channel.WIDGET if reason == Reason.DISMISSAL_BACKOFF else Channel.EMAIL


def test_every_refusal_reason_is_one_entry_in_precedence_order() -> None:
    assert tuple(rule.reason for rule in RULES) == REFUSAL_ORDER
    assert set(BY_REASON) == set(Reason) - {Reason.OK, Reason.QUIET_HOURS}


def test_every_entry_has_its_check_its_clause_and_its_sentence() -> None:
    for rule in RULES:
        assert callable(rule.check), rule.reason
        for pg in (True, False):
            clause = rule.sql(ALL_ON, channel_for(rule.reason), pg)
            assert isinstance(clause, Clause) and clause.condition.strip(), rule.reason
        sentence = rule.says(ALL_ON, "campaign 7")
        assert sentence.endswith(".") and "campaign 7" in sentence, rule.reason


def test_the_engine_the_sql_and_the_stored_sentences_come_from_the_entries() -> None:
    assert tuple(rule.check for rule in RULES) == engine._CHECKS
    for rule in RULES:
        channel = channel_for(rule.reason)
        for pg in (True, False):
            clause = rule.sql(ALL_ON, channel, pg)
            assert clause is not None
            sql = facts_sql(ALL_ON, channel, pg)
            assert f"WHEN {clause.condition} THEN '{rule.reason.value}'" in sql, rule.reason
            assert clause.until is None or clause.until in sql, rule.reason
        spec = FanOutSpec(survey_id=1, channel=channel, trigger=Trigger.CAMPAIGN, campaign_id=7)
        assert reason_messages(ALL_ON, spec)[rule.reason.value] == rule.says(ALL_ON, "campaign 7")


def test_a_rule_that_is_off_has_no_clause() -> None:
    off = CadenceRules(min_tenure_days=0, recurrence_days=0, recontact_days=0)
    for reason in (Reason.MIN_TENURE, Reason.RECURRENCE, Reason.RECONTACT_PERIOD):
        assert BY_REASON[reason].sql(off, Channel.EMAIL, True) is None
    assert BY_REASON[Reason.DISMISSAL_BACKOFF].sql(ALL_ON, Channel.EMAIL, True) is None
    assert BY_REASON[Reason.ACCOUNT_CAP].sql(CadenceRules(), Channel.EMAIL, True) is None
