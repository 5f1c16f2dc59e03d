"""The doctor's part of the rehabiliteringsförfrågan: the fillable PDF out with a signed reference,
the returned answers read back safely, confirmed by the socialsekreterare and filed in the ärende.
May import arenden and what arenden may import; only web and cli import this wing."""


def install() -> None:
    """Hook the doctor's fillable copy into document production (the registry does not import us)."""
    from formservice.arenden import registry

    from .answers import fillable_copy

    registry.register_fillable_copy(fillable_copy)
