"""WTForms for the account pages. Blankett forms are built from the definitions elsewhere."""
from __future__ import annotations

from flask import request
from flask_wtf import FlaskForm
from werkzeug.datastructures import CombinedMultiDict
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length


class TextForm(FlaskForm):
    """A form of text fields only: a file posted in place of a text field is ignored (it would
    otherwise reach the field as a file object), never a 500."""

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form, formdata):
            data = super().wrap_formdata(form, formdata)
            return request.form if isinstance(data, CombinedMultiDict) else data


class LoginForm(TextForm):
    username = StringField("Användarnamn", validators=[DataRequired("Skriv ditt användarnamn."), Length(max=120)],
                           render_kw={"autocomplete": "username", "spellcheck": "false", "autocapitalize": "none"})
    password = PasswordField("Lösenord", validators=[DataRequired("Skriv ditt lösenord."), Length(max=500)],
                             render_kw={"autocomplete": "current-password"})


class ChangePasswordForm(TextForm):
    current_password = PasswordField("Nuvarande lösenord", validators=[DataRequired("Skriv ditt nuvarande lösenord.")],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField("Nytt lösenord", validators=[DataRequired("Skriv ett nytt lösenord.")],
                                 description="Minst 10 tecken. En fras av flera ord är lätt att minnas och svår att gissa.",
                                 render_kw={"autocomplete": "new-password"})
    repeat_password = PasswordField("Upprepa det nya lösenordet",
                                    validators=[DataRequired("Skriv det nya lösenordet en gång till.")],
                                    render_kw={"autocomplete": "new-password"})
