"""WTForms for the administration pages (CSRF through Flask-WTF, Swedish messages)."""
from __future__ import annotations

from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from .forms import TextForm
from .models import ENHET_TYPES, ORGANISATION_TYPES, ROLES


def options(pairs) -> list[SelectChoice]:
    """Choices for a SelectField from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


class Choice(SelectField):
    """A select whose only error, whatever was posted, is a Swedish "choose one of these"."""

    def __init__(self, label: str, **kw):
        super().__init__(label, validate_choice=False, **kw)

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None  # a value that cannot be coerced is simply not one of the choices

    def pre_validate(self, form):
        if self.data is None or all(str(c.value) != str(self.data) for c in self.choices):
            raise ValidationError(f"Välj {self.label.text.lower()} bland alternativen.")


def _text(label: str, maximum: int, *, required: str | None = None, **kw) -> StringField:
    checks = [DataRequired(required)] if required else [Optional()]
    return StringField(label, validators=[*checks, Length(max=maximum, message=f"Högst {maximum} tecken.")], **kw)


EMAIL = Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="Skriv en giltig e-postadress.")


class OrganisationForm(TextForm):
    namn = _text("Organisationens namn", 200, required="Skriv organisationens namn.")
    typ = Choice("Typ av organisation", choices=options(ORGANISATION_TYPES.items()))
    kontakt_epost = StringField("E-post för frågor om tillgänglighet", validators=[
        Optional(), EMAIL, Length(max=254, message="Högst 254 tecken.")],
        description="Står i tillgänglighetsredogörelsen: dit man anmäler brister eller ber om innehåll i annan form.")
    kontakt_telefon = _text("Telefon för frågor om tillgänglighet", 40, description="Står i tillgänglighetsredogörelsen.")
    uppfoljning_delas = BooleanField("Dela uppföljningen med Samordningsförbundet")
    # choices: "" (none) and the installation's Samordningsförbund (administration.forbund_choices)
    forbund_id = Choice("Samordningsförbund", description=(
        "Förbundet som organisationen är medlem i: dess namn står på Finsamteamets blanketter, och bara dess "
        "uppföljare ser organisationens uppföljning när den delas."))


class EnhetForm(TextForm):
    namn = _text("Enhetens namn", 200, required="Skriv enhetens namn.",
                 description="Som det ska stå på blanketterna, t.ex. ”Skärholmen – Ekonomiskt bistånd”.")
    typ = Choice("Sorts enhet", choices=options(ENHET_TYPES.items()))
    utdelningsadress = _text("Utdelningsadress", 200, render_kw={"autocomplete": "street-address"})
    postnummer = _text("Postnummer", 10, render_kw={"autocomplete": "postal-code", "inputmode": "numeric"})
    ort = _text("Ort", 100, render_kw={"autocomplete": "address-level2"})
    telefon = _text("Telefon", 40, render_kw={"autocomplete": "tel"})
    funktionsadress = StringField(
        "Funktionsadress (e-post)", validators=[Optional(), EMAIL, Length(max=254, message="Högst 254 tecken.")],
        description="Enhetens funktionsbrevlåda, aldrig en persons adress. Den får ett meddelande utan "
                    "personuppgifter när en annan part skickar en handling till enhetens inkorg i formservice.")


class UserForm(TextForm):
    namn = _text("Namn", 200, required="Skriv användarens namn.", render_kw={"autocomplete": "off"})
    role = Choice("Roll", choices=options(ROLES.items()))
    enhet_id = Choice("Enhet", coerce=int, choices=[])
    titel = _text("Titel", 200, description="Står på blanketterna, t.ex. Socialsekreterare.")
    telefon = _text("Telefon", 40, description="Kontaktuppgift på blanketterna.")
    epost = StringField("E-post", validators=[Optional(), EMAIL, Length(max=200)],
                        description="Kontaktuppgift på blanketterna.")
    external_id = _text("Identitet hos inloggningstjänsten", 255,
                        description="Värdet som organisationens inloggning (OpenID Connect) skickar för personen, "
                                    "t.ex. HSA-id eller e-postadress. Lämna tomt om personen loggar in med lösenord.")


class NewUserForm(UserForm):
    username = StringField("Användarnamn", validators=[
        DataRequired("Skriv ett användarnamn."), Length(max=120, message="Högst 120 tecken."),
        Regexp(r"^\S+$", message="Användarnamnet får inte innehålla mellanslag.")],
        render_kw={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Declared after UserForm's fields but shown first on the page: the error summary lists
        # form.errors in field order, and it must follow the order a reader meets the fields.
        self._fields.move_to_end("username", last=False)


class TokenForm(TextForm):
    name = _text("Vad nyckeln används till", 200, required="Ge nyckeln ett namn som säger vad den används till.",
                 description="T.ex. namnet på systemet som anropar API:t.")
    user_id = Choice("Användare som nyckeln agerar som", coerce=int, choices=[])
    expires = StringField("Sista giltighetsdag (valfritt)", validators=[Optional()],
                          description=("Skriv datumet som ÅÅÅÅ-MM-DD, till exempel 2027-06-30. "
                                       "Lämna tomt för en nyckel utan slutdatum."),
                          render_kw={"inputmode": "numeric", "autocomplete": "off"})
