"""The doctor's part of the rehabiliteringsförfrågan: the fillable PDF out with a signed reference,
the returned answers read back safely, confirmed by the socialsekreterare and filed in the ärende.
May import arenden and what arenden may import; only web and cli import this wing."""


def install() -> None:
    """Hook the doctor's part into the arenden wing, which does not import us: the fillable copy into
    document production, the answers into gallring (an ärende's answers go with it; unconfirmed ones
    after 24 hours) and into the registerutdrag."""
    from formservice.arenden import gallring, registerutdrag, registry

    from .answers import delete_for_arenden, extract_rows, fillable_copy, purge_pending

    registry.register_fillable_copy(fillable_copy)
    gallring.register_dependent(delete_for_arenden)
    gallring.register_rule(gallring.Rule(
        "obekraftade_lakarsvar", "Läkarsvar som lästes in men aldrig bekräftades", "obekräftade läkarsvar",
        "timmar", 24, "uppladdningen", "Tjänstens eget beslut: ett svar som inte bekräftats har inte tillförts "
        "ärendet (den uppladdade filen sparas aldrig).",
        purge=lambda now, older, dry: purge_pending(older, dry_run=dry, now=now)))
    registerutdrag.register_section("lakarsvar", extract_rows)

    from .dfa_review import install as install_dfa_review
    from .underlag import install as install_underlag

    install_dfa_review()
    install_underlag()  # the confirmed answer as FK's medicinskt underlag, in the ansökan's packet
