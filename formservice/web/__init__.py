"""Web: the blueprints, one per module, each named bp; thin: parse the request, call a wing, render.
May import every wing; nothing imports web."""
from __future__ import annotations


def register_blueprints(app) -> None:
    from . import (admin, admin_gallring, admin_processkarta, admin_registerutdrag, admin_users, api, arenden, auth,
                   blankett, health, jobb, main, processkarta, samtycke, sus, svar, uppfoljning)

    for module in (auth, health, main, processkarta, arenden, blankett, svar, samtycke, sus, admin, admin_users,
                   admin_gallring, admin_registerutdrag, admin_processkarta, uppfoljning, jobb, api):
        app.register_blueprint(module.bp)

    from formservice.accounts.login import current_user

    @app.context_processor
    def _inject():
        return {"current_user": current_user(), "organisation_name": app.config["ORGANISATION_NAME"],
                "idle_seconds": int(app.permanent_session_lifetime.total_seconds())}

    @app.template_filter("lokal")
    def _local_time(value, tid: bool = True, sekunder: bool = False) -> str:
        """Timestamps are stored as naive UTC; people read Swedish time."""
        from datetime import timezone
        from zoneinfo import ZoneInfo

        if value is None:
            return ""
        local = value.replace(tzinfo=timezone.utc).astimezone(ZoneInfo("Europe/Stockholm"))
        return local.strftime("%Y-%m-%d" + (" %H:%M" if tid else "") + (":%S" if sekunder and tid else ""))

    from .errors import register as register_errors

    register_errors(app)
