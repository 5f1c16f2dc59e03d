"""Web: the blueprints, one per module, each named bp; thin: parse the request, call a wing, render.
May import every wing; nothing imports web."""
from __future__ import annotations


def register_blueprints(app) -> None:
    from . import (admin, admin_gallring, admin_processkarta, admin_registerutdrag, admin_sprak, admin_users, api,
                   arenden, auth, blankett, dfa_granskning, health, jobb, main, processkarta, samtycke, samverkan, sus,
                   svar, uppfoljning)

    for module in (auth, health, main, processkarta, arenden, blankett, svar, dfa_granskning, samtycke, samverkan, sus,
                   admin, admin_users, admin_gallring, admin_registerutdrag, admin_processkarta, admin_sprak, uppfoljning,
                   jobb, api):
        app.register_blueprint(module.bp)

    from flask import url_for

    from formservice.accounts.login import current_user
    from formservice.accounts.operations import settings_of
    from formservice.blanketter.model import issuer_name

    @app.context_processor
    def _inject():
        # Signed in, the user's own organisation (and its förbund) in the header, the footer and the
        # texts; before sign-in the installation's name, if it has one (ORGANISATION_NAME).
        user = current_user()
        org = user.enhet.organisation if user is not None else None
        return {"current_user": user, "organisation_name": org.namn if org else app.config["ORGANISATION_NAME"],
                "forbund_name": org.forbund.namn if org is not None and org.forbund is not None else "",
                "organisation_logo": (url_for("main.logo", v=int(org.logo_andrad.timestamp()))
                                      if org is not None and org.has_logo and org.logo_andrad else None),
                "idle_seconds": int(app.permanent_session_lifetime.total_seconds()),
                "model_name": app.extensions["catalogue"].process_map.model}

    @app.template_filter("utgivare")
    def _issuer(issuer: str) -> str:
        """A blankett's issuer as the viewer's organisation prints it ("{organisation}" → its name)."""
        user = current_user()
        if user is None:
            return issuer_name(issuer, app.config["ORGANISATION_NAME"] or "kommunen")
        org = user.enhet.organisation
        return issuer_name(issuer, org.namn, settings_of(org))

    @app.template_filter("lokal")
    def _local_time(value, tid: bool = True, sekunder: bool = False) -> str:
        """Timestamps are stored as naive UTC; people read Swedish time."""
        from formservice import tid as swedish_time

        return swedish_time.text(value, with_time=tid, seconds=sekunder)

    from .errors import register as register_errors

    register_errors(app)
