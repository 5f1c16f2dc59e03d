import io
import zipfile

import pytest
from sqlalchemy import select
from pypdf import PdfReader

from formservice.cli import main

from .sample_values import TEST_PERSONNUMMER, sample_values


@pytest.fixture
def token(app, runner, make_user):
    make_user(username="api.user")
    res = runner.invoke(main, args=["create-token", "--username", "api.user", "--name", "test"])
    assert res.exit_code == 0, res.output
    return res.output.strip()


@pytest.fixture
def api(client, token):
    class Api:
        headers = {"Authorization": f"Bearer {token}"}

        def get(self, path):
            return client.get(path, headers=self.headers)

        def post(self, path, json):
            return client.post(path, json=json, headers=self.headers)

    return Api()


def values_for(app, blankett_id):
    cat = app.extensions["catalogue"]
    main = cat.blanketter[blankett_id]
    return sample_values(main, *[cat.blanketter[a] for a in main.attachments])


def pdf_text(pdf: bytes) -> str:
    return " ".join(" ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(pdf)).pages)


def test_token_is_required(client):
    assert client.get("/api/v1/blanketter").status_code == 401
    assert client.get("/api/v1/blanketter", headers={"Authorization": "Bearer fs_fel"}).status_code == 401


def test_token_is_stored_hashed(app, token, dbs):
    from sqlalchemy import select

    from formservice.accounts.models import ApiToken

    stored = dbs.scalar(select(ApiToken))
    assert stored.token_hash != token and token not in stored.token_hash


def test_list_blanketter(app, api):
    data = api.get("/api/v1/blanketter").get_json()
    ids = {b["id"] for b in data}
    assert {"forandringsplan", "rehabiliteringsforfragan", "sip_kallelse", "finsamteam_anmalan",
            "fk_ansokan_samordning"} <= ids
    forfragan = next(b for b in data if b["id"] == "rehabiliteringsforfragan")
    assert forfragan["attachments"] == ["sekretessmedgivande"]


def test_blankett_json_schema(app, api):
    schema = api.get("/api/v1/blanketter/forandringsplan").get_json()
    assert schema["$schema"].endswith("2020-12/schema")
    props = schema["properties"]
    assert props["individ_personnummer"]["x-type"] == "personnummer"
    assert props["steg"]["type"] == "array"
    assert api.get("/api/v1/blanketter/finns_inte").status_code == 404


@pytest.mark.parametrize("blankett_id", ["forandringsplan", "rehabiliteringsforfragan", "sip_kallelse",
                                         "finsamteam_anmalan", "fk_ansokan_samordning"])
def test_render_pdf_via_api(app, api, blankett_id):
    values = values_for(app, blankett_id)
    res = api.post(f"/api/v1/blanketter/{blankett_id}/pdf", values)
    assert res.status_code == 200, res.get_json()
    assert res.mimetype == "application/pdf"
    assert TEST_PERSONNUMMER not in res.headers["Content-Disposition"]
    text = pdf_text(res.data)
    assert "19121212-1212" in text
    assert values["individ_namn"] in text


def test_render_docx_and_zip_via_api(app, api):
    values = values_for(app, "rehabiliteringsforfragan")
    docx = api.post("/api/v1/blanketter/rehabiliteringsforfragan/docx", values)
    assert docx.status_code == 200 and docx.data[:2] == b"PK"
    import docx as python_docx  # the whole document: the förfrågan and its sekretessmedgivande

    sections = python_docx.Document(io.BytesIO(docx.data)).sections
    assert [s.footer.tables[0].rows[0].cells[0].text.split(",")[0] for s in sections] == [
        "Rehabiliteringsförfrågan", "Sekretessmedgivande"]
    z = api.post("/api/v1/blanketter/rehabiliteringsforfragan/zip", values)
    names = zipfile.ZipFile(io.BytesIO(z.data)).namelist()
    assert any(n.endswith(".pdf") for n in names)
    assert sum(n.endswith(".docx") for n in names) == 2  # förfrågan and sekretessmedgivande


def test_invalid_values_give_422_with_field_errors(app, api):
    values = values_for(app, "forandringsplan")
    values["individ_personnummer"] = "191212121213"
    res = api.post("/api/v1/blanketter/forandringsplan/pdf", values)
    assert res.status_code == 422
    errors = res.get_json()["errors"]
    assert "individ_personnummer" in errors and "kontrollsiffra" in errors["individ_personnummer"].lower()


def test_non_json_body_is_400(app, client, api):
    res = client.post("/api/v1/blanketter/forandringsplan/pdf", data="x", headers=api.headers)
    assert res.status_code == 400 and "JSON" in res.get_json()["error"]


def test_session_post_to_api_needs_csrf(client, auth, make_user):
    make_user()
    auth.login()
    res = client.post("/api/v1/blanketter/forandringsplan/pdf", json={})
    assert res.status_code == 400


def test_openapi(client, app):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    # One render path per blankett and format, with the blankett's own schema and required fields.
    for blankett_id in app.extensions["catalogue"].blanketter:
        for fmt in ("pdf", "docx", "zip"):
            post = doc["paths"][f"/blanketter/{blankett_id}/{fmt}"]["post"]
            assert {"200", "400", "401", "422", "429"} <= set(post["responses"])
            assert "Retry-After" in post["responses"]["429"]["headers"]
    body = doc["paths"]["/blanketter/forandringsplan/pdf"]["post"]["requestBody"]["content"]["application/json"]
    assert "individ_personnummer" in body["schema"]["required"]
    assert body["schema"]["properties"]["individ_personnummer"]["pattern"]
    for path in ("/processkarta", "/blanketter"):
        assert "401" in doc["paths"][path]["get"]["responses"]


def test_method_not_allowed_names_the_allowed_ones(client):
    res = client.open("/api/v1/blanketter", method="TRACE")
    assert res.status_code == 405 and "GET" in res.headers["Allow"]
    res = client.open("/logga-in", method="TRACE")
    assert res.status_code == 405 and "POST" in res.headers["Allow"]


def test_api_renders_are_rate_limited_per_token_and_audited(app, api, dbs):
    from formservice.audit import AuditEntry

    app.config["API_RENDERS_PER_MINUTE"] = 2
    values = values_for(app, "forandringsplan")
    # Different values each time: a repeat of an identical request comes from the cache (below).
    assert [api.post("/api/v1/blanketter/forandringsplan/pdf", dict(values, individ_namn=f"Tilda {i}")).status_code
            for i in range(3)] == [200, 200, 429]
    limited = api.post("/api/v1/blanketter/forandringsplan/pdf", dict(values, individ_namn="Tilda 9"))
    assert limited.status_code == 429 and 1 <= int(limited.headers["Retry-After"]) <= 60
    assert "För många anrop" in limited.get_json()["error"]
    rows = dbs.scalars(select(AuditEntry).where(AuditEntry.action == "api_render")).all()
    assert [r.object_id for r in rows] == ["forandringsplan", "forandringsplan"]
    assert all("token:" in r.detail for r in rows)


def test_refused_values_do_not_count_against_the_render_limit(app, api, dbs):
    """The limit counts renders: a client sending one wrong field over and over gets 422 each time
    and, once it corrects the field, its full budget of renders."""
    from formservice.accounts.models import ApiRequest

    app.config["API_RENDERS_PER_MINUTE"] = 2
    values = values_for(app, "forandringsplan")
    wrong = dict(values, individ_personnummer="19121312")
    for i in range(5):
        res = api.post("/api/v1/blanketter/forandringsplan/pdf", dict(wrong, individ_namn=f"Tilda {i}"))
        assert res.status_code == 422 and "individ_personnummer" in res.get_json()["errors"]
    assert dbs.query(ApiRequest).count() == 0
    assert [api.post("/api/v1/blanketter/forandringsplan/pdf", dict(values, individ_namn=f"Tilda {i}")).status_code
            for i in range(3)] == [200, 200, 429]
    # Over the budget, a wrong field is still told what is wrong (validation costs no render).
    assert api.post("/api/v1/blanketter/forandringsplan/pdf", wrong).status_code == 422


def test_cli_render(tmp_path, app):
    import json

    from click.testing import CliRunner

    values = values_for(app, "forandringsplan")
    data = tmp_path / "values.json"
    data.write_text(json.dumps(values), encoding="utf-8")
    out = tmp_path / "plan.pdf"
    # No organisation named: a clear message, never a default kommun's name on the blankett.
    res = CliRunner().invoke(main, ["render", "forandringsplan", "--data", str(data), "--out", str(out)])
    assert res.exit_code != 0 and "--organisation" in res.output and not out.exists()
    render = ["render", "forandringsplan", "--organisation", "Huddinge kommun", "--data", str(data), "--out", str(out)]
    res = CliRunner().invoke(main, render)
    assert res.exit_code == 0, res.output
    text = pdf_text(out.read_bytes())
    assert values["individ_namn"] in text and "Huddinge kommun" in text and "Stockholms stad" not in text
    bad = dict(values, individ_personnummer="19121312")
    data.write_text(json.dumps(bad), encoding="utf-8")
    res = CliRunner().invoke(main, render)
    assert res.exit_code != 0 and "individ_personnummer" in res.output


def test_sip_kallelse_one_per_invited_party_or_one_for_all(app, api):
    values = values_for(app, "sip_kallelse")
    values["sip_inbjudna"] = [{"verksamhet": "Vårdcentralen Test", "namn": "Doktor Exempel", "kontakt": "08-1"},
                              {"verksamhet": "Försäkringskassan", "namn": "Handläggare Prov", "kontakt": "08-2"}]
    values["sip_gemensam_kallelse"] = False
    per_party = PdfReader(io.BytesIO(api.post("/api/v1/blanketter/sip_kallelse/pdf", values).data))
    values["sip_gemensam_kallelse"] = True
    common = PdfReader(io.BytesIO(api.post("/api/v1/blanketter/sip_kallelse/pdf", values).data))
    assert len(per_party.pages) == 2 * len(common.pages)
    titles = [item.title for item in per_party.outline if not isinstance(item, list)]
    assert len(titles) == 2 and "Vårdcentralen Test" in titles[0] and "Försäkringskassan" in titles[1]
    first_copy = " ".join(per_party.pages[0].extract_text().split())
    assert "Till" in first_copy and "Vårdcentralen Test" in first_copy


def test_a_repeated_identical_render_comes_from_the_cache(app, api, dbs):
    """The same request gives the same bytes without a render, is not counted against the rate
    limit, and is audited like any render; other values, another format or other organisation
    texts are renders of their own."""
    from formservice.audit import AuditEntry

    cache = app.extensions["render_cache"]
    app.config["API_RENDERS_PER_MINUTE"] = 2
    values = values_for(app, "forandringsplan")
    first = api.post("/api/v1/blanketter/forandringsplan/pdf", values)
    repeats = [api.post("/api/v1/blanketter/forandringsplan/pdf", values) for _ in range(5)]
    assert all(r.status_code == 200 and r.data == first.data for r in repeats)
    assert (cache.hits, cache.misses) == (5, 1)
    assert api.post("/api/v1/blanketter/forandringsplan/docx", values).status_code == 200  # another format
    assert cache.misses == 2
    assert api.post("/api/v1/blanketter/forandringsplan/pdf", dict(values, individ_namn="Annan")).status_code == 429
    assert dbs.query(AuditEntry).filter(AuditEntry.action == "api_render").count() == 7


def test_the_render_cache_is_bounded(app):
    from formservice.rendering.cache import RenderCache
    from formservice.rendering.documents import Document

    cache = RenderCache(max_bytes=250)
    for i in range(5):
        cache.put(str(i), Document(f"{i}.pdf", "application/pdf", bytes(100)))
    assert len(cache) == 2 and cache.get("0") is None and cache.get("4") is not None
    cache.put("big", Document("big.pdf", "application/pdf", bytes(1000)))  # larger than the cache
    assert cache.get("big") is None
