"""The doctor's answers back into the ärende: fillable PDF out, upload or paper, confirm."""
import io
import re
from datetime import UTC
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from sqlalchemy import select

from formservice.arenden.models import Dokument, Handelse
from formservice.doctor.models import Svar

from .conftest import csrf_token
from .data import returned_pdfs as corpus
from .formparse import form_with
from .wizard_driver import create_arende, fill_blankett, step


def upload(client, pid, doc_id, data, filename="svar.pdf"):
    page = client.get(f"/arenden/{pid}/dokument/{doc_id}/svar").get_data(as_text=True)
    return client.post(f"/arenden/{pid}/dokument/{doc_id}/svar",
                       data={"csrf_token": csrf_token(page), "fil": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def confirm(client, location):
    page = client.get(location).get_data(as_text=True)
    form = form_with(page, "lakare_namn")
    data = {k: v for k, v in form["fields"].items() if v is not None}
    return page, client.post(location, data=data)


def test_fillable_pdf_has_only_the_doctors_fields_and_is_small(forfragan):
    _pid, _doc, fillable = forfragan
    fields = PdfReader(io.BytesIO(fillable)).get_fields()
    assert "aktivitet_jobbtorg_omfattning" in fields and "lakare_anpassning" in fields
    assert "individ_namn" not in fields and "handlaggare_namn" not in fields
    assert len(fillable) <= 100 * 1024


@pytest.mark.db
@pytest.mark.parametrize("resave", [False, True], ids=["pypdf", "pikepdf-resaved"])
def test_upload_confirm_stores_answers_and_moves_the_case(soc, app, dbs, forfragan, resave):
    pid, doc_id, fillable = forfragan
    filled = corpus.fill_with_pypdf(fillable, corpus.DOCTOR_VALUES)
    if resave:
        filled = corpus.resave_with_pikepdf(filled)
    res = upload(soc, pid, doc_id, filled)
    assert res.status_code == 302, res.get_data(as_text=True)[-3000:]
    page, res = confirm(soc, res.headers["Location"])
    assert 'value="50' in page and "Korta pass med pauser" in page
    assert res.status_code == 302
    html = soc.get(f"/arenden/{pid}").get_data(as_text=True)
    assert "Läkarens svar" in html and "50 %" in html and "Korta pass med pauser" in html
    assert "Koncentrationssvårigheter under behandlingen" in html
    assert "Kompletteringen från vården har kommit in" in html
    assert "Ruta 11" in html.split("Står i:")[1][:300]
    dok = dbs.scalar(select(Dokument).where(Dokument.public_id == doc_id))
    assert dok.status == "besvarad"
    svar = dbs.scalar(select(Svar))
    archive = soc.get(f"/arenden/{pid}/svar/{svar.public_id}/arkiv.pdf").data
    reader = PdfReader(io.BytesIO(archive))
    assert not reader.get_fields()
    text = " ".join(p.extract_text() for p in reader.pages)
    assert "Korta pass med pauser" in text and "50" in text


def test_paper_answers_are_registered_with_the_same_validation(soc, forfragan, dbs):
    pid, doc_id, _ = forfragan
    page = soc.get(f"/arenden/{pid}/dokument/{doc_id}/svar").get_data(as_text=True)
    res = soc.post(f"/arenden/{pid}/dokument/{doc_id}/papper", data={"csrf_token": csrf_token(page)})
    location = res.headers["Location"]
    form = form_with(soc.get(location).get_data(as_text=True), "lakare_namn")
    base = {k: v for k, v in form["fields"].items() if v is not None}
    assert base.get("lakare_namn")  # the doctor's name known from the förfrågan is offered
    bad = soc.post(location, data=dict(base, aktivitet_jobbtorg_omfattning="120", lakare_namn=""))
    body = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert "mellan 0 och 100" in body and "Läkare: måste fyllas i." in body
    assert 'value="120"' in body  # nothing typed is lost
    ok = soc.post(location, data=dict(base, aktivitet_jobbtorg_kan_delta="1", aktivitet_jobbtorg_omfattning="75",
                                      lakare_namn="Åsa Läkarsson", vardenhet="Vårdcentralen Skärholmen"))
    assert ok.status_code == 302
    assert "75 %" in soc.get(f"/arenden/{pid}").get_data(as_text=True)


BAD_FILES = [
    (corpus.text_file, "Filen är inte en PDF."),
    (corpus.empty, "Filen är tom."),
    (corpus.truncated, "skadad eller ofullständig"),
    (corpus.malformed, "skadad eller ofullständig"),
    (corpus.encrypted, "lösenordsskyddad"),
    (corpus.without_fields, "inga ifyllbara fält"),
    (corpus.with_javascript, "JavaScript"),
    (corpus.with_attachment, "bifogade filer"),
    (corpus.not_ours, "kommer inte från formservice"),
]


def test_bad_uploads_get_a_clear_message_and_store_nothing(soc, forfragan, dbs):
    pid, doc_id, _ = forfragan  # one ärende for the whole corpus: producing it is the slow part
    for make_file, message in BAD_FILES:
        res = upload(soc, pid, doc_id, make_file())
        assert res.status_code == 400, make_file.__name__
        assert message in res.get_data(as_text=True), make_file.__name__
    assert dbs.scalar(select(Svar)) is None
    res = soc.post(f"/arenden/{pid}/dokument/{doc_id}/svar",
                   data={"csrf_token": csrf_token(soc.get(f"/arenden/{pid}").get_data(as_text=True))})
    assert res.status_code == 400 and "Välj PDF-filen" in res.get_data(as_text=True)


def test_a_pdf_from_another_arende_is_refused(soc, app, forfragan, dbs):
    pid, doc_id, _ = forfragan
    other_pid = create_arende(soc, ruta="soc1.9")
    fill_blankett(soc, other_pid, "rehabiliteringsforfragan", app.extensions["catalogue"])
    html = soc.get(f"/arenden/{other_pid}").get_data(as_text=True)
    other_fillable = soc.get(re.search(r'href="([^"]+\.ifyllbar)"', html).group(1)).data
    res = upload(soc, pid, doc_id, corpus.fill_with_pypdf(other_fillable, corpus.DOCTOR_VALUES))
    assert res.status_code == 400 and "hör till ett annat ärende" in res.get_data(as_text=True)
    # An altered reference is refused too.
    res = upload(soc, pid, doc_id, corpus.altered_reference())
    assert res.status_code == 400
    assert dbs.scalar(select(Svar)) is None


def test_oversized_upload_is_refused(soc, app, forfragan):
    pid, doc_id, fillable = forfragan
    app.config["UPLOAD_MAX_BYTES"] = 10 * 1024
    res = upload(soc, pid, doc_id, fillable)
    assert res.status_code == 400 and "större än 10 kB" in res.get_data(as_text=True)


def test_confirmed_answers_prefill_later_blanketter(soc, app, forfragan):
    pid, doc_id, fillable = forfragan
    res = upload(soc, pid, doc_id, corpus.fill_with_pypdf(fillable, corpus.DOCTOR_VALUES))
    confirm(soc, res.headers["Location"])
    start = soc.get(f"/arenden/{pid}/blankett/finsamteam_anmalan")
    pages = []
    location = start.headers["Location"]
    while "/sida/" in location:
        html = soc.get(location).get_data(as_text=True)
        pages.append(html)
        form = form_with(html, "version")
        data = {k: v or "" for k, v in form["fields"].items() if v is not None}
        for name in data:
            if not data[name] and name not in ("version",) and "." not in name and "datum" not in name:
                data[name] = "x"
        location = soc.post(location, data=dict(data, action="next")).headers["Location"]
    text = " ".join(pages)
    reason = re.search(r'<textarea[^>]*name="finsam_anledning"[^>]*>([^<]*)</textarea>', text).group(1)
    # The doctor's name and vårdenhet were known from the förfrågan (its sekretessmedgivande).
    who = re.match(r"Enligt läkarens bedömning \(([^)]*)\) ", reason).group(1)
    assert who.endswith(", 2026-12-01")
    assert reason.removeprefix(f"Enligt läkarens bedömning ({who}) ") == (
        "kan personen delta i Jobbtorg på 50 % och i sysselsättning på 25 %. Personen kan inte delta i "
        "språkundervisning/utbildning (motivering: Koncentrationssvårigheter under behandlingen). "
        "För att kunna delta i planerade aktiviteter behövs följande anpassning eller hänsynstagande: "
        "Korta pass med pauser.")
    assert "FS-" not in reason and ".;" not in reason and "jobbtorgets" not in reason
    fk = soc.get(soc.get(f"/arenden/{pid}/blankett/fk_ansokan_samordning").headers["Location"])
    assert fk.status_code == 200


# ---------------------------------------------------------------- issue 22: the doctor's answer, exactly as given
BLANKETT = corpus.forfragan()
# How each activity is named in the sentence (the definition's labels, mid-sentence).
NAMES = {"jobbtorg": "Jobbtorg", "sysselsattning": "sysselsättning",
         "medicinsk_rehabilitering": "medicinsk rehabilitering", "sprak": "språkundervisning/utbildning", "arbetssokande": "söka arbete",
         "forrehabilitering": "förrehabiliterande insats", "annat": "annat"}
TICKS = [None, False, True, "", "1", "/on", "/Off"]        # None: not in the answers at all
SHARES = [None, "", " ", "0", "25", "50 %", "100", "ca 25", "120"]
MOTIVATIONS = [None, "", "  ", "Smärta i ryggen", "Orkar inte resor.;"]
WHO = {"lakare_namn": "Åsa Läkarsson", "vardenhet": "Vårdcentralen Skärholmen"}


def _ticked(value) -> bool:
    return value in (True, "1", "/on")


def _said(name: str, text: str) -> bool:
    return re.search(rf"(?<![\w/]){re.escape(name)}(?![\w/])", text) is not None


def agrees_with_the_table(raw: dict) -> bool:
    """Either the answers are refused with a message, or the sentence written from them says, for
    every activity, "kan delta" iff its box is ticked, "kan inte" iff its box is ticked or it is
    motivated, and a percentage only with "kan delta". Returns whether the answers were accepted."""
    from formservice.doctor import answers as doctor_answers
    from formservice.doctor import readback

    clean, errors = readback.validate_doctor_answers(BLANKETT, raw)
    rows = {key: {role: raw.get(f"aktivitet_{key}_{suffix}") for role, suffix in
                  (("can", "kan_delta"), ("share", "omfattning"), ("cannot", "kan_inte_delta"), ("why", "kan_inte"))}
            for key in NAMES}
    for key, row in rows.items():
        share = row["share"] is not None and row["share"].strip() != ""
        motivated = row["why"] is not None and row["why"].strip() != ""
        if share and not _ticked(row["can"]) or _ticked(row["can"]) and (_ticked(row["cannot"]) or motivated):
            assert errors, (key, row)  # one activity saying two things, or a percentage without "kan delta"
    if errors:
        return False
    text = doctor_answers.summary(BLANKETT, clean)
    start = re.search(r"(Personen kan inte|kan personen inte) ", text)
    can_part, cannot_part = (text[:start.start()], text[start.end():]) if start else (text, "")
    for key, row in rows.items():
        name = NAMES[key]
        motivated = row["why"] is not None and row["why"].strip() != ""
        assert _said(name, can_part) == _ticked(row["can"]), (key, row, text)
        assert _said(name, cannot_part) == (_ticked(row["cannot"]) or motivated), (key, row, text)
        share = re.search(rf"(?<![\w/]){re.escape(name)} på (\d+) %", can_part)
        written = row["share"] is not None and row["share"].strip() != ""
        assert bool(share) == (_ticked(row["can"]) and written), (key, row, text)
        if share:
            assert int(share.group(1)) == int(row["share"].rstrip(" %"))
    assert text.count("%") == sum(_ticked(r["can"]) and r["share"] is not None and r["share"].strip() != ""
                                  for r in rows.values())
    return True


def _answers(key: str, can, share, cannot, why) -> dict:
    values = {f"aktivitet_{key}_kan_delta": can, f"aktivitet_{key}_omfattning": share,
              f"aktivitet_{key}_kan_inte_delta": cannot, f"aktivitet_{key}_kan_inte": why}
    return {k: v for k, v in values.items() if v is not None}


def test_every_combination_for_every_activity_is_refused_or_said_as_the_table_says():
    import itertools

    accepted = 0
    for key in NAMES:
        for combination in itertools.product(TICKS, SHARES, TICKS, MOTIVATIONS):
            accepted += agrees_with_the_table(dict(WHO, **_answers(key, *combination)))
    assert accepted > 100  # the table's sentences were checked, not only refusals


@settings(max_examples=400, deadline=None, database=None)
@given(st.dictionaries(st.sampled_from(sorted(NAMES)), st.tuples(st.sampled_from(TICKS), st.sampled_from(SHARES),
                                                                 st.sampled_from(TICKS), st.sampled_from(MOTIVATIONS)),
                       min_size=1))
def test_any_answers_are_refused_or_said_as_the_table_says(per_activity):
    raw = dict(WHO)
    for key, combination in per_activity.items():
        raw.update(_answers(key, *combination))
    agrees_with_the_table(raw)


def test_kan_inte_delta_is_never_said_as_kan_delta():
    """As measured: "kan inte delta" ticked and motivated, 50 % left in Omfattning. Refused; and a
    stored answer like it (confirmed before the rule) is said as "kan inte", without the percentage."""
    from formservice.doctor import answers as doctor_answers
    from formservice.doctor import readback

    values = dict(WHO, aktivitet_sysselsattning_kan_inte_delta=True, aktivitet_sysselsattning_omfattning=50,
                  aktivitet_sysselsattning_kan_inte="Svår ångest i grupp")
    assert readback.validate_doctor_answers(BLANKETT, values)[1]
    text = doctor_answers.summary(BLANKETT, values)
    assert text == ("Enligt läkarens bedömning (Åsa Läkarsson, Vårdcentralen Skärholmen) kan personen inte delta "
                    "i sysselsättning (motivering: Svår ångest i grupp).")


def _error_links(page: str) -> list[str]:
    box = page.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    return re.findall(r'href="#([^"]+)"', box)


def _assert_links_land(page: str) -> None:
    """Every link of the error summary goes to an element on the page that can take the focus."""
    for target in _error_links(page):
        element = re.search(rf'<(\w+)\b[^>]*\bid="{re.escape(target)}"[^>]*>', page)
        assert element, target
        assert element.group(1) in ("input", "textarea", "select") or 'tabindex="-1"' in element.group(0), target


def test_the_review_shows_every_problem_at_once_and_each_links_to_its_field(soc, forfragan, dbs):
    pid, doc_id, fillable = forfragan
    filled = corpus.fill_with_pypdf(fillable, dict(
        corpus.DOCTOR_VALUES, aktivitet_sysselsattning_kan_delta="/Off", aktivitet_sysselsattning_kan_inte_delta="/on",
        aktivitet_sysselsattning_kan_inte="Svår ångest i grupp", aktivitet_sysselsattning_omfattning="50",
        aktivitet_jobbtorg_omfattning="ca 25", aktivitet_sprak_kan_delta="/on", vardenhet=""))
    location = upload(soc, pid, doc_id, filled).headers["Location"]
    page = soc.get(location).get_data(as_text=True)  # the first view, before "Bekräfta"
    problems = ["Sysselsättning: en omfattning i procent är ifylld men ”Kan delta” är inte ikryssat. Kryssa i "
                "”Kan delta” eller ta bort omfattningen.",
                "läkaren skrev ”ca 25”, som inte kan läsas som ett tal",
                "Språkundervisning/utbildning: ”Kan delta” är ikryssat men det finns en motivering",
                "Vårdenhet: måste fyllas i."]
    for problem in problems:
        assert problem in page, problem
    assert sorted(_error_links(page)) == ["f-aktivitet_jobbtorg_omfattning", "f-aktivitet_sprak_kan_inte",
                                          "f-aktivitet_sysselsattning_kan_delta", "f-vardenhet"]
    _assert_links_land(page)
    _page, res = confirm(soc, location)
    assert res.status_code == 400 and all(p in res.get_data(as_text=True) for p in problems)
    assert dbs.scalar(select(Svar)).status == "granskas"
    # No activity answered: the grid's own error links to the group, which takes the focus.
    nothing = corpus.fill_with_pypdf(fillable, {"lakare_namn": "Åsa Läkarsson", "vardenhet": "Vårdcentralen Farsta"})
    page = soc.get(upload(soc, pid, doc_id, nothing).headers["Location"]).get_data(as_text=True)
    assert _error_links(page) == ["f-aktiviteter"] and "Läkaren har inte besvarat någon aktivitet." in page
    _assert_links_land(page)


def test_a_percentage_without_kan_delta_is_refused_on_paper(soc, forfragan, dbs):
    pid, doc_id, _ = forfragan
    page = soc.get(f"/arenden/{pid}/dokument/{doc_id}/svar").get_data(as_text=True)
    location = soc.post(f"/arenden/{pid}/dokument/{doc_id}/papper",
                        data={"csrf_token": csrf_token(page)}).headers["Location"]
    page = soc.get(location).get_data(as_text=True)
    assert re.search(r'<input[^>]*type="tel"[^>]*name="vardenhet_telefon"', page)  # the doctor's phone is asked
    assert 'class="error-summary"' not in page  # an empty paper form is not an error before it is sent
    base = {k: v for k, v in form_with(page, "lakare_namn")["fields"].items() if v is not None}
    res = soc.post(location, data=dict(base, aktivitet_sysselsattning_omfattning="50", lakare_namn="Åsa Läkarsson",
                                       vardenhet="Vårdcentralen Skärholmen"))
    body = res.get_data(as_text=True)
    assert res.status_code == 400
    assert ("Sysselsättning: en omfattning i procent är ifylld men ”Kan delta” är inte ikryssat. Kryssa i "
            "”Kan delta” eller ta bort omfattningen.") in body
    _assert_links_land(body)
    assert dbs.scalar(select(Svar)).status == "granskas"
    res = soc.post(location, data=dict(base, aktivitet_sysselsattning_kan_delta="1",
                                       aktivitet_sysselsattning_omfattning="50", lakare_namn="Åsa Läkarsson",
                                       vardenhet="Vårdcentralen Skärholmen", vardenhet_telefon="08-123 456 78"))
    assert res.status_code == 302
    assert "kan personen delta i sysselsättning på 50 %" in soc.get(f"/arenden/{pid}/steg").get_data(as_text=True)


def _local(moment) -> str:
    return moment.replace(tzinfo=UTC).astimezone(ZoneInfo("Europe/Stockholm")).strftime("%Y-%m-%d %H:%M")


def _rows(dbs) -> dict[str, Svar]:
    dbs.expire_all()
    return {s.public_id: s for s in dbs.scalars(select(Svar))}


@pytest.mark.db
def test_an_older_answer_never_silently_replaces_a_newer_one(soc, app, forfragan, dbs):
    pid, doc_id, fillable = forfragan

    def read_in(text):
        filled = corpus.fill_with_pypdf(fillable, dict(corpus.DOCTOR_VALUES, lakare_anpassning=text))
        location = upload(soc, pid, doc_id, filled).headers["Location"]
        return location, location.rsplit("/", 1)[-1]

    a_url, a = read_in("Svar alfa")           # read in; its review is left open in a tab
    stale = soc.get(a_url).get_data(as_text=True)
    assert "Vilket svar ska gälla?" not in stale  # nothing current yet
    e_url, e = read_in("Svar echo")            # read in too, left open
    for text in ("Svar bravo", "Svar charlie"):
        _page, res = confirm(soc, read_in(text)[0])
        assert res.status_code == 302
    rows = _rows(dbs)
    c = next(s.public_id for s in rows.values() if s.status == "bekraftad")
    b = next(s.public_id for s in rows.values() if s.status == "ersatt")

    # The tab opened before: confirming as it stands asks, and replaces nothing.
    form = form_with(stale, "lakare_namn")
    res = soc.post(a_url, data={k: v for k, v in form["fields"].items() if v is not None})
    body = res.get_data(as_text=True)
    assert res.status_code == 400 and "Det gällande svaret är nyare än det här." in body
    rows = _rows(dbs)
    assert (rows[a].status, rows[c].status) == ("granskas", "bekraftad")
    # It says so, with the date and time of both, and offers the choice; the default keeps the newer.
    page = soc.get(a_url).get_data(as_text=True)
    assert "Det här svaret är äldre än det gällande svaret." in page
    assert f"Det här svaret lästes in {_local(rows[a].created_at)}" in page
    assert f"Det gällande svaret lästes in {_local(rows[c].created_at)}" in page
    choice = form_with(page, "lakare_namn")["fields"]
    assert choice["gallande_svar"] == "nyare" and choice["nyare_svar"] == c
    # A choice made while another answer was current (B, before C was confirmed) asks again.
    res = soc.post(a_url, data={**{k: v for k, v in choice.items() if v is not None},
                                "gallande_svar": "detta", "nyare_svar": b})
    assert res.status_code == 400 and _rows(dbs)[c].status == "bekraftad"
    # The default: the older answer is filed as replaced and recorded; the newer stays current.
    _page, res = confirm(soc, a_url)
    assert res.status_code == 302
    rows = _rows(dbs)
    assert (rows[a].status, rows[b].status, rows[c].status) == ("ersatt", "ersatt", "bekraftad")
    overview = soc.get(f"/arenden/{pid}").get_data(as_text=True)
    assert "Svar charlie" in overview and "Svar alfa" not in overview
    history = [h for h in dbs.scalars(select(Handelse.beslut)) if h]
    assert any("läkarens svar registrerat som ersatt" in h and _local(rows[a].created_at) in h
               and _local(rows[c].created_at) in h for h in history)
    assert soc.get(f"/arenden/{pid}/svar/{a}/arkiv.pdf").status_code == 200  # kept with its archive copy
    # Choosing to let an older answer replace the newer works as before.
    page = soc.get(e_url).get_data(as_text=True)
    fields = {k: v for k, v in form_with(page, "lakare_namn")["fields"].items() if v is not None}
    assert soc.post(e_url, data=dict(fields, gallande_svar="detta")).status_code == 302
    rows = _rows(dbs)
    assert (rows[e].status, rows[c].status) == ("bekraftad", "ersatt")
    overview = soc.get(f"/arenden/{pid}").get_data(as_text=True)
    assert "Svar echo" in overview and "Svar charlie" not in overview
    assert any("som var nyare" in (h or "") for h in dbs.scalars(select(Handelse.beslut)))


def test_the_current_answer_gives_the_doctors_name_unit_and_phone_as_contact(soc, app, forfragan, dbs):
    from formservice.arenden.models import Arende
    from formservice.doctor import answers as doctor_answers

    pid, doc_id, fillable = forfragan
    _page, res = confirm(soc, upload(soc, pid, doc_id, corpus.fill_with_pypdf(fillable, corpus.DOCTOR_VALUES))
                         .headers["Location"])
    assert res.status_code == 302
    with app.test_request_context():
        arende = dbs.scalar(select(Arende).where(Arende.public_id == pid))
        sources = doctor_answers.prefill_sources(arende, app.extensions["catalogue"].blanketter)
    assert sources["lakarsvar.kontakt"] == "Åsa Läkarsson, Vårdcentralen Skärholmen, 08-123 456 78"


@pytest.mark.db
def test_document_status_never_moves_back_without_asking(soc, forfragan, dbs):
    pid, doc_id, fillable = forfragan
    action = f"/arenden/{pid}/dokument/{doc_id}/status"

    def set_status(status):
        return soc.post(action, data={"csrf_token": csrf_token(soc.get(f"/arenden/{pid}").get_data(as_text=True)),
                                      "status": status})

    def status():
        dbs.expire_all()
        return dbs.scalar(select(Dokument.status).where(Dokument.public_id == doc_id))

    assert set_status("skickad").status_code == 302 and status() == "skickad"  # forwards: straight through
    _page, res = confirm(soc, upload(soc, pid, doc_id, corpus.fill_with_pypdf(fillable, corpus.DOCTOR_VALUES))
                         .headers["Location"])
    assert status() == "besvarad"  # set by the doctor's answer
    res = set_status("mottagen")
    page = res.get_data(as_text=True)
    assert res.status_code == 200 and "Ändra status bakåt?" in page
    assert "<strong>besvarad</strong>" in page and "<strong>mottagen</strong>" in page
    assert "Ja, ändra från besvarad till mottagen" in page and "Nej, behåll besvarad" in page
    assert status() == "besvarad"
    confirmation = {k: v for k, v in form_with(page, "fran")["fields"].items() if v is not None}
    # A confirmation of another step back (the status changed meanwhile) asks again.
    res = soc.post(action, data=dict(confirmation, fran="skickad"))
    assert res.status_code == 200 and "Ändra status bakåt?" in res.get_data(as_text=True)
    assert status() == "besvarad"
    assert soc.post(action, data=confirmation).status_code == 302
    assert status() == "mottagen"
    assert "Mottagen (tillbaka från besvarad)" in " ".join(filter(None, dbs.scalars(select(Handelse.beslut))))


def test_a_closed_arende_shows_no_upload_form_and_refuses_in_swedish(soc, forfragan, dbs):
    from .test_arende_closing import close

    pid, doc_id, fillable = forfragan
    pending = upload(soc, pid, doc_id, corpus.fill_with_pypdf(fillable, corpus.DOCTOR_VALUES)).headers["Location"]
    step(soc, pid, "soc1.11")
    assert close(soc, pid, reason="flyttat").status_code == 302
    page = soc.get(f"/arenden/{pid}/dokument/{doc_id}/svar").get_data(as_text=True)
    assert "Ärendet är avslutat." in page
    assert 'type="file"' not in page and "Skriv in svaren från pappersblanketten" not in page
    review = soc.get(pending).get_data(as_text=True)
    assert "Ärendet är avslutat." in review and "Bekräfta och spara svaren" not in review
    token = csrf_token(soc.get(f"/arenden/{pid}").get_data(as_text=True))
    posts = [soc.post(f"/arenden/{pid}/dokument/{doc_id}/svar", content_type="multipart/form-data",
                      data={"csrf_token": token, "fil": (io.BytesIO(corpus.fill_with_pypdf(
                          fillable, corpus.DOCTOR_VALUES)), "svar.pdf")}),
             soc.post(f"/arenden/{pid}/dokument/{doc_id}/papper", data={"csrf_token": token}),
             soc.post(pending, data={"csrf_token": token, "lakare_namn": "Åsa Läkarsson"}),
             soc.post(pending + "/avbryt", data={"csrf_token": token})]
    for res in posts:
        assert res.status_code == 409 and "<h1>Ärendet är avslutat</h1>" in res.get_data(as_text=True)
    assert [s.status for s in _rows(dbs).values()] == ["granskas"]
