"""The start page, and the tillgänglighetsredogörelse (public: no login)."""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, send_from_directory, session, url_for

from formservice.accounts.login import current_user, login_required
from formservice.arenden.operations import local_today

bp = Blueprint("main", __name__)


@bp.get("/organisation/logotyp.png")
@login_required
def logo():
    """The signed-in user's organisation's logo (re-encoded PNG); 404 when it has none."""
    org = current_user().enhet.organisation
    if not org.logo:
        return current_app.response_class("Ingen logotyp", status=404, mimetype="text/plain")
    response = current_app.response_class(org.logo, mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


@bp.get("/")
@login_required
def index():
    from formservice.arenden import operations as arenden

    from formservice.arenden import consents
    from formservice.samverkan import access as samverkan

    user = current_user()
    if user.role == "uppfoljare":  # statistics only: no ärenden to start from
        return redirect(url_for("uppfoljning.index"))
    recent, total = arenden.search(user, status="oppet", limit=5)
    cat = current_app.extensions["catalogue"]
    pm = cat.process_map
    return render_template("web/main/index.html", user=user, recent=recent, total=total, pm=pm,
                           lane=pm.default_lane_for_role(user.role),
                           expiring=consents.expiring(user, cat, local_today()), party_names=consents.party_names,
                           incoming=samverkan.incoming(user))


@bp.get("/aterstall")
@login_required
def restore():
    """A form post that arrived after the session had expired, offered back after login."""
    pending = session.pop("pending_post", None)
    if not pending or pending.get("user_id") != current_user().id or not str(pending.get("path", "")).startswith("/"):
        return redirect(url_for("main.index"))
    return render_template("web/main/restore.html", pending=pending)


@bp.get("/tillganglighet")
def accessibility():
    """The accessibility statement that lag (2018:1937) requires of a public-sector digital service,
    reachable without logging in and linked from every page."""
    from formservice.accounts import tillganglighet

    cfg = current_app.config
    user = current_user()
    # Signed in: the user's own organisation; before sign-in the installation's name, or the
    # organisations behind it in general words (never an empty name, never another kommun's).
    organisation = (user.enhet.organisation.namn if user is not None else cfg["ORGANISATION_NAME"]) or \
        "Organisationerna som använder formservice"
    return render_template("web/main/tillganglighet.html", statement=tillganglighet.load_statement(),
                           categories=tillganglighet.CATEGORIES, organisation=organisation,
                           contacts=tillganglighet.contacts(cfg.get("ACCESSIBILITY_EMAIL"), cfg.get("ACCESSIBILITY_PHONE"),
                                                            organisation))


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page links (and so do bookmarks and tabs): a small
    icon instead of a 404 in every log. The pages link the SVG version of the same icon."""
    return send_from_directory(current_app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon",
                               max_age=7 * 24 * 3600)


@bp.post("/sessionen/forlang")
@login_required
def keepalive():
    """The idle-timeout dialog's "Fortsätt vara inloggad": this request itself restarts the idle clock."""
    session.modified = True  # written (and last_seen moved) even within the 30 s touch interval
    return "", 204
