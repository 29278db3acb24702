"""Staff forms (Flask-WTF: every form carries the CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length

from app.access.passwords import MAX_LENGTH, MIN_LENGTH
from app.access.roles import ROLE_LABELS

ROLE_CHOICES = [SelectChoice(role.value, label) for role, label in ROLE_LABELS.items()]


class SignInForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired("Enter your email."), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])


class EmailForm(FlaskForm):
    email = EmailField(
        "Email",
        validators=[DataRequired("Enter your email."), Email("Enter a valid email address.")],
    )


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        "New password",
        validators=[
            DataRequired("Choose a password."),
            Length(MIN_LENGTH, MAX_LENGTH, f"Use {MIN_LENGTH} to {MAX_LENGTH} characters."),
        ],
    )


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField("Current password", validators=[DataRequired("Enter it.")])


class InviteForm(FlaskForm):
    email = EmailField(
        "Email",
        validators=[DataRequired("Enter their email."), Email("Enter a valid email address.")],
    )
    name = StringField("Name", validators=[DataRequired("Enter their name."), Length(max=255)])
    role = SelectField("Role", choices=ROLE_CHOICES)


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)


class KeyForm(FlaskForm):
    name = StringField("Key name", validators=[DataRequired("Name the key."), Length(max=255)])
