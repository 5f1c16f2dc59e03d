"""An organisation's logo: an uploaded PNG or JPEG, checked and re-encoded as a small PNG (Pillow is
wrapped here alone), so what is stored and printed is never the uploaded file itself."""
from __future__ import annotations

import io

UPLOAD_MAX_BYTES = 2 * 1024 * 1024
MAX_SOURCE_PIXELS = 4000 * 4000      # a bigger picture is refused before it is decoded
HEIGHT = 80                          # stored height in pixels: 7 mm on paper, 40 px on screen at 2x


class LogoError(ValueError):
    """The file is not a usable logo (a Swedish message for the admin)."""


def clean(data: bytes) -> bytes:
    """The logo as a PNG 80 pixels high (at most 480 wide), transparency kept; LogoError otherwise."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise LogoError("Välj en bildfil med logotypen (PNG eller JPEG).")
    if len(data) > UPLOAD_MAX_BYTES:
        raise LogoError(f"Bilden är för stor ({len(data) // 1024} kB). Högst {UPLOAD_MAX_BYTES // 1024 // 1024} MB.")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ("PNG", "JPEG"):
                raise LogoError("Logotypen ska vara en PNG- eller JPEG-bild.")
            width, height = probe.size
            if width * height > MAX_SOURCE_PIXELS or width < 8 or height < 8:
                raise LogoError("Bilden har orimliga mått. Använd en bild på högst 4000 × 4000 bildpunkter.")
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            image = image.convert("RGBA")
    except LogoError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise LogoError("Filen kunde inte läsas som en bild. Spara logotypen som PNG eller JPEG och försök igen.") \
            from None
    scale = HEIGHT / image.height
    size = (max(1, min(480, round(image.width * scale))), HEIGHT)
    image = image.resize(size, Image.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
