"""Survey email templates: untrusted Jinja2 rendered in a sandbox, checked on save, exposed to
admins only, and what the email a person gets is made of."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from app.db import db
from app.messages import email_templates
from app.models import OutboxMessage
from channels.base import Step, substitute
from tests.support.api import Api, error_of, issue_test_key, row_counts
from tests.support.factories import new_person, new_survey

SURVEYS = "/api/v1/surveys"
CTX = {"company": "Acme", "question": "How likely?", "base_url": "http://sounding.test"}

GOOD_TEXT = (
    "{{ greeting }} {{ question }}\n"
    "{% for n in scores %}{{ n }}: {{ score_url(n) }}\n{% endfor %}"
    "{{ deadline }}\nUnsubscribe: {{ unsubscribe_url }}\n"
)
GOOD_HTML = (
    "<p>{{ greeting }}</p><h1>{{ question }}</h1>"
    '{% for n in scores %}<a href="{{ score_url(n) }}">{{ n }}</a>{% endfor %}'
    '<p>{{ deadline }}</p><a href="{{ unsubscribe_url }}">Unsubscribe</a>'
)


def problem(part: str, source: str) -> email_templates.TemplateProblem:
    with pytest.raises(email_templates.TemplateProblem) as caught:
        email_templates.validate(part, source, **CTX)
    assert caught.value.field == f"email_{part}"
    return caught.value


# --- the defaults ---------------------------------------------------------------------------


@pytest.mark.parametrize("part", ["subject", "html", "text"])
def test_the_defaults_pass_the_checks_admins_templates_get(part: str) -> None:
    email_templates.validate(part, email_templates.defaults().part(part), **CTX)


@pytest.mark.parametrize("step", [Step.INITIAL, Step.REMINDER_1, Step.REMINDER_2])
def test_the_default_email_for_each_step(step: Step) -> None:
    sample = email_templates.samples("http://sounding.test", "Acme")[0]
    shared = email_templates.render(email_templates.defaults(), "Acme", "How likely?", step)
    subs = email_templates.substitutions(sample)
    html, text = substitute(shared.html, subs), substitute(shared.text, subs)
    subject = substitute(shared.subject, subs)
    # Same as rendering for the person directly: batching changes nothing people read.
    assert {"subject": subject, "html": html, "text": text} == email_templates.render_for(
        email_templates.defaults(), "Acme", "How likely?", step, sample
    )
    hrefs = re.findall(r'href="([^"]+)"', html)
    assert [h for h in hrefs if "score=" in h] == list(sample.score_urls)
    assert sample.unsubscribe_url in hrefs and sample.unsubscribe_url in text
    for n in range(11):
        assert f'aria-label="{n} out of 10"' in html and f"{n}: {sample.score_urls[n]}" in text
    assert "Dana O&#39;Neil" not in html  # the name is not used by default; the greeting is
    assert "Hi Dana," in html and "Hi Dana," in text
    assert "<img" not in html and "<script" not in html and "<style" not in html
    assert 'role="presentation"' in html and "<table" in html
    if step == Step.INITIAL:
        assert subject == "Quick question from Jane Doe at Acme"
        assert "reminder" not in text.lower()
    else:
        # A reminder's subject and first line are per-person values, in their language.
        assert subject == sample.reminder_subject
        intro = text.split("How likely?")[0]  # reminders say so, and repeat the deadline first
        assert "reminder" in intro and sample.deadline in intro
        assert "reminder" in html.lower() and html.index(sample.deadline) < html.index("<h1")


def test_values_are_escaped_in_html_and_plain_in_text() -> None:
    shared = email_templates.render(
        email_templates.defaults(), "Acme & <Co>", "Would you <b>recommend</b> us?", Step.INITIAL
    )
    assert "Would you &lt;b&gt;recommend&lt;/b&gt; us?" in shared.html
    assert "Would you <b>recommend</b> us?" in shared.text
    no_name = email_templates.samples("http://sounding.test", "Acme")[1]
    html = substitute(shared.html, email_templates.substitutions(no_name))
    assert "Hello," in html and "Closes &lt;soon&gt;." in html


# --- checks on admins' templates ------------------------------------------------------------


def test_a_good_template_passes() -> None:
    email_templates.validate("text", GOOD_TEXT, **CTX)
    email_templates.validate("html", GOOD_HTML, **CTX)
    email_templates.validate("subject", "{{ sender_name }} asks: {{ question }}", **CTX)


@pytest.mark.parametrize(
    ("part", "source", "message"),
    [
        ("text", GOOD_TEXT.replace("{{ unsubscribe_url }}", ""), "missing: unsubscribe_url"),
        ("text", GOOD_TEXT.replace("scores", "range(10)"), "missing: score_url(10)"),
        ("html", GOOD_TEXT, "missing: score_url(0)"),  # text links are not buttons
        ("html", GOOD_HTML.replace('href="{{ unsubscribe_url }}"', ""), "unsubscribe_url"),
        ("text", "{% if %}", "line 1"),
        ("text", GOOD_TEXT + "{{ nmae }}", "'nmae' is undefined"),
        ("text", GOOD_TEXT + "{{ ''.__class__.__mro__ }}", "unsafe"),
        ("text", GOOD_TEXT + "{{ score_url.__globals__ }}", "unsafe"),
        ("text", GOOD_TEXT + "{{ 'x' * 100000 }}", "too long"),
        ("text", GOOD_TEXT + "{{ 10 ** 100000 }}", "too large"),
        ("text", GOOD_TEXT + "{% include 'base.html' %}", "does not render"),
        ("text", GOOD_TEXT + "{{ score_url(11) }}", "0 to 10"),
        ("text", GOOD_TEXT + "{{ name|upper }}", "as they are"),
        ("text", GOOD_TEXT + "{% if first_name %}Hi{% endif %}", "as they are"),
        ("text", GOOD_TEXT + "{{ name|length }}", "as they are"),
        ("html", GOOD_HTML + "{{ greeting|safe|lower }}", "as they are"),
        ("text", GOOD_TEXT + "{% for i in range(99999) %}xxxxxxxxx{% endfor %}", "renders to"),
        ("text", "   ", "must not be empty"),
        ("subject", "{% if false %}x{% endif %}", "renders empty"),
        ("subject", "x" * 2001, "at most 2,000"),
    ],
)
def test_bad_templates_are_refused_naming_the_field(part: str, source: str, message: str) -> None:
    assert message in problem(part, source).message


# --- through the API ------------------------------------------------------------------------


def test_admins_set_reset_and_read_templates(app: Flask, api: Api) -> None:
    survey = new_survey(api, email_text=GOOD_TEXT)
    assert survey["email_template"] == {"subject": None, "html": None, "text": GOOD_TEXT}
    changed = api.patch(
        f"{SURVEYS}/{survey['id']}",
        json={"email_subject": "Hi from {{ sender_name }}", "email_html": GOOD_HTML},
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["email_template"] == {
        "subject": "Hi from {{ sender_name }}",
        "html": GOOD_HTML,
        "text": GOOD_TEXT,
    }
    reset = api.patch(f"{SURVEYS}/{survey['id']}", json={"email_text": None})
    assert reset.get_json()["email_template"]["text"] is None
    assert api.get(f"{SURVEYS}/{survey['id']}").get_json()["email_template"]["html"] == GOOD_HTML


def test_csm_keys_do_not_see_or_change_templates(app: Flask, api: Api) -> None:
    survey = new_survey(api, email_html=GOOD_HTML)
    csm = Api(api.client, issue_test_key(app, "csm", "jane@acme.example"))
    assert "email_template" not in csm.get(f"{SURVEYS}/{survey['id']}").get_json()
    assert all("email_template" not in s for s in csm.get(SURVEYS).get_json()["data"])
    refused = csm.patch(f"{SURVEYS}/{survey['id']}", json={"email_html": GOOD_HTML})
    assert refused.status_code == 403
    assert csm.get(f"{SURVEYS}/{survey['id']}/email-preview").status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email_html": "<p>{{ greeting }}</p>"}, "email_html"),
        ({"email_text": "{{ unsubscribe_url }}"}, "email_text"),
        ({"email_subject": "{{ oops"}, "email_subject"),
        ({"email_subject": "ok", "email_text": "{{ name|title }}"}, "email_text"),
        ({"email_html": 5}, "email_html"),
        ({"email_text": "x" * 200_001}, "email_text"),
    ],
)
def test_bad_templates_are_a_400_naming_the_field_and_change_nothing(
    app: Flask, api: Api, body: dict[str, Any], field: str
) -> None:
    survey = new_survey(api)
    before = row_counts(app)
    for response in (
        api.patch(f"{SURVEYS}/{survey['id']}", json=body),
        api.post(SURVEYS, json={"name": "Another", **body}),
    ):
        assert response.status_code == 400, response.get_json()
        assert error_of(response)["field"] == field
    assert row_counts(app) == before
    assert api.get(f"{SURVEYS}/{survey['id']}").get_json()["email_template"]["subject"] is None


def test_preview_renders_for_a_made_up_person(api: Api) -> None:
    survey = new_survey(api, email_subject="{{ greeting }} {{ company }} asks")
    preview = api.get(f"{SURVEYS}/{survey['id']}/email-preview?step=reminder_1")
    assert preview.status_code == 200
    body = preview.get_json()
    assert body["subject"] == "Hi Dana, Acme asks"
    assert "A quick reminder" in body["text"] and "sample-token?score=10" in body["html"]
    assert body["source"]["html"] == email_templates.defaults().html
    assert body["custom"] == {"subject": True, "html": False, "text": False}
    bad = api.get(f"{SURVEYS}/{survey['id']}/email-preview?step=later")
    assert bad.status_code == 400 and error_of(bad)["field"] == "step"


def test_the_sent_email_uses_the_surveys_templates(app: Flask, api: Api) -> None:
    survey = new_survey(
        api,
        email_subject="{{ first_name }}, a word from {{ sender_name }}",
        email_text="Dear {{ name }}!\n" + GOOD_TEXT,
    )
    person = new_person(api, name="Dana Scully")
    made = api.post(
        "/api/v1/invitations",
        json={"survey_id": survey["id"], "person_id": person["id"], "channel": "email"},
    )
    assert made.status_code == 201
    with app.app_context():
        sent = db.session.query(OutboxMessage).one()
        assert sent.subject == "Dana, a word from Acme"
        assert sent.text.startswith("Dear Dana Scully!\nHi Dana, How likely")
        assert f"10: {made.get_json()['link']}?score=10" in sent.text
        assert "A quick reminder" not in sent.html  # the default HTML part
        assert re.search(r"%[a-z0-9_]+%", sent.subject + sent.text + sent.html) is None
