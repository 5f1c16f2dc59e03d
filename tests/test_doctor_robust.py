"""The doctor's answers, robust (issue 12, part 7): unreadable values are shown and resolved, never
dropped; contradictory ticks are refused; one answer is current per förfrågan; the motivation
and comment are multi-line; ticks show in poppler; the doctor's name and unit stay fields."""
import io
import re
import subprocess
from datetime import UTC
from zoneinfo import ZoneInfo

import pikepdf
import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from formservice.doctor import answers as doctor_answers
from formservice.doctor import readback
from formservice.doctor.models import Svar
from formservice.rendering import pdf

from .conftest import csrf_token
from .data import returned_pdfs as corpus
from .formparse import form_with
from .test_doctor_answers import confirm, upload


MULTILINE = 1 << 12
BLANKETT = corpus.forfragan()


def _answers(**extra):
    base = {"lakare_namn": "Åsa Läkarsson", "vardenhet": "Vårdcentralen Skärholmen",
            "aktivitet_jobbtorg_kan_delta": True}
    return dict(base, **extra)


# ------------------------------------------------------------- 1. a value the reader cannot use
@pytest.mark.parametrize("written", ["ca 25", "3/12 -26"])
def test_an_unreadable_percent_is_an_error_naming_the_doctors_text(written):
    _clean, errors = readback.validate_doctor_answers(BLANKETT, _answers(aktivitet_jobbtorg_omfattning=written))
    assert errors["aktivitet_jobbtorg_omfattning"] == (
        f"Jobbtorg: omfattning i %: läkaren skrev ”{written}”, som inte kan läsas som ett tal. "
        "Ange omfattningen som ett tal i hela procent, 0–100 (t.ex. 25).")
    # A number out of range keeps its own message.
    _clean, errors = readback.validate_doctor_answers(BLANKETT, _answers(aktivitet_jobbtorg_omfattning="120"))
    assert "mellan 0 och 100" in errors["aktivitet_jobbtorg_omfattning"]


def test_an_unreadable_percent_is_shown_as_written_and_must_be_resolved(soc, app, forfragan, dbs):
    pid, doc_id, fillable = forfragan
    filled = corpus.fill_with_pypdf(fillable, dict(corpus.DOCTOR_VALUES, aktivitet_jobbtorg_omfattning="ca 25",
                                                   aktivitet_sysselsattning_omfattning="3/12 -26"))
    res = upload(soc, pid, doc_id, filled)
    assert res.status_code == 302
    location = res.headers["Location"]
    page = soc.get(location).get_data(as_text=True)
    # Shown as the doctor wrote it, in a box that can hold it (a number box would show it empty) …
    assert re.search(r'<input[^>]*type="text"[^>]*name="aktivitet_jobbtorg_omfattning"[^>]*value="ca 25"', page)
    assert re.search(r'name="aktivitet_sysselsattning_omfattning"[^>]*value="3/12 -26"', page)
    # … with an error that names it and asks for a number, already before confirming.
    assert "läkaren skrev ”ca 25”, som inte kan läsas som ett tal" in page
    assert "läkaren skrev ”3/12 -26”" in page
    # Confirming as it stands is refused; nothing is dropped or stored.
    page, res = confirm(soc, location)
    assert res.status_code == 400
    assert 'value="ca 25"' in res.get_data(as_text=True)
    assert dbs.scalar(select(Svar)).status == "granskas"
    # The socialsekreterare resolves it.
    form = form_with(soc.get(location).get_data(as_text=True), "lakare_namn")
    data = {k: v for k, v in form["fields"].items() if v is not None}
    res = soc.post(location, data=dict(data, aktivitet_jobbtorg_omfattning="25",
                                       aktivitet_sysselsattning_omfattning="50"))
    assert res.status_code == 302
    svar = dbs.scalar(select(Svar))
    with app.app_context():
        values = doctor_answers.pending_answers(svar)
    assert svar.status == "bekraftad"
    assert values["aktivitet_jobbtorg_omfattning"] == 25 and values["aktivitet_sysselsattning_omfattning"] == 50


# ------------------------------------------------------------- 2. contradictory ticks
def test_kan_delta_and_kan_inte_delta_together_are_an_error():
    _clean, errors = readback.validate_doctor_answers(BLANKETT, _answers(
        aktivitet_sprak_kan_delta=True, aktivitet_sprak_kan_inte_delta=True, aktivitet_sprak_kan_inte="Orkar inte"))
    assert errors == {"aktivitet_sprak_kan_inte_delta": (
        "Språkundervisning/utbildning: både ”Kan delta” och ”Kan inte delta” är ikryssade. "
        "Kryssa i bara det som läkaren menar.")}
    _clean, errors = readback.validate_doctor_answers(BLANKETT, _answers(aktivitet_sprak_kan_delta=True))
    assert errors == {}


def test_contradictory_ticks_in_an_upload_are_not_confirmed(soc, forfragan, dbs):
    pid, doc_id, fillable = forfragan
    filled = corpus.fill_with_pypdf(fillable, dict(corpus.DOCTOR_VALUES, aktivitet_jobbtorg_kan_inte_delta="/on",
                                                   aktivitet_jobbtorg_kan_inte="Smärta"))
    _page, res = confirm(soc, upload(soc, pid, doc_id, filled).headers["Location"])
    assert res.status_code == 400
    assert "Jobbtorg: både ”Kan delta” och ”Kan inte delta” är ikryssade" in res.get_data(as_text=True)
    assert dbs.scalar(select(Svar)).status == "granskas"


# ------------------------------------------------------------- 3. one answer is current
@pytest.mark.db
def test_a_new_answer_supersedes_the_confirmed_one(soc, app, forfragan, dbs):
    pid, doc_id, fillable = forfragan
    first = corpus.fill_with_pypdf(fillable, dict(corpus.DOCTOR_VALUES, lakare_anpassning="Första svaret"))
    _page, res = confirm(soc, upload(soc, pid, doc_id, first).headers["Location"])
    assert res.status_code == 302
    old = dbs.scalar(select(Svar))
    # Date and time, in Swedish time.
    date = old.confirmed_at.replace(tzinfo=UTC).astimezone(ZoneInfo("Europe/Stockholm")).strftime("%Y-%m-%d %H:%M")

    upload_page = soc.get(f"/arenden/{pid}/dokument/{doc_id}/svar").get_data(as_text=True)
    assert f"Det finns redan ett bekräftat svar från {date}" in upload_page
    assert "ett nytt svar ersätter det" in upload_page

    # A paper registration replaces it.
    res = soc.post(f"/arenden/{pid}/dokument/{doc_id}/papper", data={"csrf_token": csrf_token(upload_page)})
    location = res.headers["Location"]
    page = soc.get(location).get_data(as_text=True)
    assert f"Det finns redan ett bekräftat svar från {date}" in page
    form = form_with(page, "lakare_namn")
    data = {k: v for k, v in form["fields"].items() if v is not None}
    res = soc.post(location, data=dict(data, aktivitet_sysselsattning_kan_delta="1", lakare_namn="Bo Läkare",
                                       vardenhet="Vårdcentralen Farsta", lakare_anpassning="Andra svaret"))
    assert res.status_code == 302, res.get_data(as_text=True)[-2000:]

    dbs.expire_all()
    rows = {s.public_id: s for s in dbs.scalars(select(Svar))}
    assert rows[old.public_id].status == "ersatt"  # kept in the history
    current = [s for s in rows.values() if s.status == "bekraftad"]
    assert len(current) == 1 and current[0].public_id != old.public_id

    overview = soc.get(f"/arenden/{pid}").get_data(as_text=True)
    assert "Andra svaret" in overview and "Första svaret" not in overview
    # The replaced answer is listed as such, with its date, and still opens.
    upload_page = soc.get(f"/arenden/{pid}/dokument/{doc_id}/svar").get_data(as_text=True)
    assert f"Svaret från {date}</a> – ersatt (inläst " in upload_page
    old_page = soc.get(f"/arenden/{pid}/svar/{old.public_id}").get_data(as_text=True)
    assert "Det här svaret har ersatts" in old_page and "Första svaret" in old_page
    assert soc.get(f"/arenden/{pid}/svar/{old.public_id}/arkiv.pdf").status_code == 200


@pytest.mark.db
def test_prefill_uses_only_the_current_answer(soc, app, forfragan, dbs):
    pid, doc_id, fillable = forfragan
    for name in ("Första Läkaren", "Andra Läkaren"):
        filled = corpus.fill_with_pypdf(fillable, dict(corpus.DOCTOR_VALUES, lakare_namn=name))
        _page, res = confirm(soc, upload(soc, pid, doc_id, filled).headers["Location"])
        assert res.status_code == 302
    from formservice.arenden.models import Arende
    with app.test_request_context():
        arende = dbs.scalar(select(Arende).where(Arende.public_id == pid))
        sources = doctor_answers.prefill_sources(arende, app.extensions["catalogue"].blanketter)
        current = doctor_answers.confirmed(arende)
    assert len(current) == 1 and current[0][1]["lakare_namn"] == "Andra Läkaren"
    assert sources["lakarsvar.kontakt"].startswith("Andra Läkaren")


# ------------------------------------------------------------- 4. multi-line motivation and comment
def _fields(data: bytes) -> dict:
    with pikepdf.open(io.BytesIO(data)) as doc:
        return {str(f.T): {"ff": int(f.get("/Ff", 0)), "v": f.get("/V"),
                           "height": abs(float(f.Rect[3]) - float(f.Rect[1]))}
                for f in doc.Root.AcroForm.Fields}


def test_motivation_and_comment_are_multiline_fields_several_lines_high():
    fields = _fields(corpus.fillable())
    names = [n for n in fields if n.startswith("aktivitet_") and n.endswith("_kan_inte")] + ["lakare_kommentar"]
    assert len(names) == 8
    for name in names:
        assert BLANKETT.field(name).type == "textarea", name
        assert fields[name]["ff"] & MULTILINE, name
        assert fields[name]["height"] >= 30, name  # three lines of the field's 8–10 pt text


# Without descenders or accents, so that the lines show as separate bands of ink at any line height.
FIVE_LINES = "Rad 1: ont\nRad 2: trott\nRad 3: skolan\nRad 4: halka\nRad 5: ta det lugnt"


def _text_lines(data: bytes, name: str, tmp_path) -> tuple[int, int]:
    """(lines of text, blank pixel rows below the last) inside a field as poppler renders it at
    150 dpi: a clipped last line has no blank rows below it, or is missing."""
    inner = _inside(data, name, tmp_path, dpi=150, inset=3)
    width, pixels = inner.size[0], inner.tobytes()
    inked = [any(p < 128 for p in pixels[i * width:(i + 1) * width]) for i in range(inner.size[1])]
    lines = sum(1 for i, ink in enumerate(inked) if ink and (i == 0 or not inked[i - 1]))
    below = len(inked) - 1 - max((i for i, ink in enumerate(inked) if ink), default=-1)
    return lines, below


def test_five_lines_of_motivation_show_whole_in_the_fillable_pdf(tmp_path):
    """Issue 22: a five-line motivation was clipped. Filled with pypdf (its appearance streams) and
    as a reader that redraws the fields itself sees it (NeedAppearances, as Evince and Okular)."""
    names = [n for n in _fields(corpus.fillable()) if n.endswith("_kan_inte")] + ["lakare_kommentar"]
    filled = corpus.fill_with_pypdf(corpus.issued(), dict.fromkeys(names, FIVE_LINES))
    for data in (filled, _need_appearances(filled)):
        for name in names:
            lines, below = _text_lines(data, name, tmp_path)
            assert lines == 5 and below >= 2, (name, lines, below)


def test_a_long_motivation_prints_whole():
    motivation = ("Koncentrationssvårigheter efter medicinering; kan inte delta i undervisning i grupp "
                  "just nu. Bedöms på nytt om tre månader")
    values = dict(corpus.socialsekreterare_values(BLANKETT), **_answers(aktivitet_sprak_kan_inte=motivation))
    printed = pdf.render_pdf(BLANKETT, values, corpus.CTX).pdf
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(printed)).pages)
    for word in ("Koncentrationssvårigheter", "medicinering;", "grupp", "månader"):
        assert word in text


# ------------------------------------------------------------- 5. ticks show in poppler
def _box(data: bytes, name: str):
    with pikepdf.open(io.BytesIO(data)) as doc:
        for number, page in enumerate(doc.pages):
            for widget in page.get("/Annots", []):
                if str(widget.get("/T", "")) == name:
                    x0, x1 = sorted(float(v) for v in widget.Rect[0::2])
                    y0, y1 = sorted(float(v) for v in widget.Rect[1::2])
                    return number, (x0, y0, x1, y1), float(page.MediaBox[3])
    raise AssertionError(name)


def _inside(data: bytes, name: str, tmp_path, *, dpi: int = 100, inset: int = 2):
    """The inside of a field (its border left out, ``inset`` pixels) as poppler renders it, in grey."""
    number, (x0, y0, x1, y1), top = _box(data, name)
    path = tmp_path / "filled.pdf"
    path.write_bytes(data)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-f", str(number + 1), "-l", str(number + 1),
                    str(path), str(tmp_path / "page")], check=True, capture_output=True)
    image = Image.open(next(tmp_path.glob("page*.png"))).convert("L")
    for old in tmp_path.glob("page*.png"):
        old.unlink()
    scale = dpi / 72
    return image.crop((round(x0 * scale) + inset, round((top - y1) * scale) + inset,
                       round(x1 * scale) - inset, round((top - y0) * scale) - inset))


def _dark_share(data: bytes, name: str, tmp_path) -> float:
    """The share of dark pixels inside the checkbox, as poppler renders it."""
    pixels = list(_inside(data, name, tmp_path).tobytes())
    return sum(p < 128 for p in pixels) / len(pixels)


def _need_appearances(data: bytes) -> bytes:
    """As a reader that keeps /NeedAppearances and redraws the fields itself sees the file."""
    with pikepdf.open(io.BytesIO(data)) as doc:
        doc.Root.AcroForm.NeedAppearances = True
        out = io.BytesIO()
        doc.save(out)
    return out.getvalue()


def test_ticks_show_in_poppler(tmp_path):
    filled = corpus.fill_with_pypdf(corpus.issued(), {"aktivitet_jobbtorg_kan_delta": "/on",
                                                      "aktivitet_sprak_kan_inte_delta": "/on"})
    for data in (filled, _need_appearances(filled)):
        for name in ("aktivitet_jobbtorg_kan_delta", "aktivitet_sprak_kan_inte_delta"):
            assert _dark_share(data, name, tmp_path) > 0.1, name
        assert _dark_share(data, "aktivitet_sysselsattning_kan_delta", tmp_path) < 0.02


def test_checkboxes_carry_appearances_for_both_states():
    with pikepdf.open(io.BytesIO(corpus.fillable())) as doc:
        boxes = [f for f in doc.Root.AcroForm.Fields if f.get("/FT") == "/Btn"]
        # kan delta, kan inte delta for seven activities; the 11 åtgärder; one per prognos and per time.
        assert len(boxes) == 14 + 11 + 4 + 5
        for box in boxes:
            assert set(box.AP.N.keys()) == {"/on", "/Off"}
            assert box.AS == box.V == pikepdf.Name.Off
            assert b" l S" in box.AP.N.on.read_bytes()  # a cross
            assert box.AP.N.Off.read_bytes() == b""
            assert str(box.MK.CA) == "8" and "/ZaDb" in str(box.DA)
        assert "/ZaDb" in doc.Root.AcroForm.DR.Font
        assert all("/ZaDb" not in page.Resources.get("/Font", {}) for page in doc.pages)


# ------------------------------------------------------------- 6. the doctor's name and unit stay fields
def test_a_known_doctor_and_unit_are_fields_with_a_default_value():
    values = dict(corpus.socialsekreterare_values(BLANKETT), lakare_namn="Åsa Läkarsson",
                  vardenhet="Vårdcentralen Skärholmen")
    fields = _fields(pdf.render_pdf(BLANKETT, values, corpus.CTX, fillable=True).pdf)
    assert str(fields["lakare_namn"]["v"]) == "Åsa Läkarsson"
    assert str(fields["vardenhet"]["v"]) == "Vårdcentralen Skärholmen"
    # The print version keeps them as print.
    assert not PdfReader(io.BytesIO(pdf.render_pdf(BLANKETT, values, corpus.CTX).pdf)).get_fields()


def test_the_doctor_can_correct_a_known_name_and_unit(soc, forfragan, dbs):
    pid, doc_id, fillable = forfragan
    with pikepdf.open(io.BytesIO(fillable)) as doc:
        known = {str(f.T): str(f.get("/V", "")) for f in doc.Root.AcroForm.Fields}
    assert known["lakare_namn"] and known["vardenhet"]  # known in the ärende, offered as defaults
    values = {k: v for k, v in corpus.DOCTOR_VALUES.items() if k not in ("lakare_namn", "vardenhet")}
    # Untouched defaults come back as the answer …
    res = upload(soc, pid, doc_id, corpus.fill_with_pypdf(fillable, values))
    page = soc.get(res.headers["Location"]).get_data(as_text=True)
    assert f'value="{known["vardenhet"]}"' in page
    soc.post(res.headers["Location"] + "/avbryt",
             data={"csrf_token": csrf_token(page)})
    # … a corrected name wins, and a cleared unit is missing, not silently the old one.
    res = upload(soc, pid, doc_id, corpus.fill_with_pypdf(fillable, dict(values, lakare_namn="Bo Läkare",
                                                                         vardenhet="")))
    location = res.headers["Location"]
    page = soc.get(location).get_data(as_text=True)
    assert 'value="Bo Läkare"' in page and f'value="{known["vardenhet"]}"' not in page
    _page, res = confirm(soc, location)
    assert res.status_code == 400 and "Vårdenhet: måste fyllas i." in res.get_data(as_text=True)


def test_the_upload_page_title_is_plain_text(soc, forfragan):
    import re as _re

    pid, doc_id, _ = forfragan
    html = soc.get(f"/arenden/{pid}/dokument/{doc_id}/svar").get_data(as_text=True)
    title = _re.search(r"<title>(.*?)</title>", html, _re.S).group(1)
    assert "<" not in title and title.startswith("Läkarens svar – ")
