"""A survey's email template in the workspace: subject, HTML and text, previewed through the
same sandboxed rendering the emails go out with (:mod:`app.email_templates`); a template that
does not render shows its error (with its line) beside its field and is not saved."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField

from app import clock
from app.access import Permission, requires
from app.messages import email_templates
from app.services import surveys as survey_service
from app.workspace.forms import save, sentence, show_error
from app.workspace.surveys.views import bp, get_survey
from channels.base import Step

STEPS = {
    Step.INITIAL: "First message",
    Step.REMINDER_1: "Reminder 1",
    Step.REMINDER_2: "Reminder 2",
}


def _newlines(value: str | None) -> str | None:
    """Browsers send a textarea's line ends as CRLF; the templates keep LF."""
    return value.replace("\r\n", "\n") if value else value


class EmailForm(FlaskForm):
    email_subject = TextAreaField("Subject", filters=[_newlines])
    email_html = TextAreaField("HTML", filters=[_newlines])
    email_text = TextAreaField("Plain text", filters=[_newlines])
    step = SelectField("Preview as", choices={s.value: label for s, label in STEPS.items()})


def _rendered(form: EmailForm, question: str) -> dict[str, str] | None:
    config = current_app.config
    templates = email_templates.templates_of(
        form.email_subject.data, form.email_html.data, form.email_text.data
    )
    sample = email_templates.samples(config["BASE_URL"], config["COMPANY_NAME"])[0]
    try:
        email_templates.validate_all(
            {part: form[field].data for part, field in email_templates.FIELDS.items()},
            company=config["COMPANY_NAME"],
            question=question,
            base_url=config["BASE_URL"],
        )
        return email_templates.render_for(
            templates, config["COMPANY_NAME"], question, Step(form.step.data), sample
        )
    except email_templates.TemplateProblem as exc:
        show_error(form, exc.field, sentence(exc.message))
        return None


@bp.route("/<int:survey_id>/email", methods=["GET", "POST"])
@requires(Permission.MANAGE)
def email(survey_id: int) -> Any:
    survey = get_survey(survey_id)
    defaults = email_templates.defaults()
    form = EmailForm(
        email_subject=survey.email_subject or defaults.subject,
        email_html=survey.email_html or defaults.html,
        email_text=survey.email_text or defaults.text,
    )
    if not form.step.data:
        form.step.data = Step.INITIAL.value
    status = 200
    rendered = None
    if form.validate_on_submit():
        rendered = _rendered(form, survey.question)
        if rendered is not None and request.form.get("action") == "save":
            changes = {
                field: None if form[field].data == defaults.part(part) else form[field].data
                for part, field in email_templates.FIELDS.items()
            }
            if save(form, lambda: survey_service.change_survey(survey, changes, clock.now())):
                flash("Email template saved.")
                return redirect(url_for(".email", survey_id=survey.id))
        if form.errors or form.form_errors:
            status = 400
    elif request.method == "POST":
        status = 400
    else:
        rendered = _rendered(form, survey.question)
    return (
        render_template(
            "workspace/surveys/email.html", survey=survey, form=form, rendered=rendered
        ),
        status,
    )
