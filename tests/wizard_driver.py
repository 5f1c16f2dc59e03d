"""Drive the ärende wizard through the test client as a user would, counting what had to be typed."""
from __future__ import annotations

import io
import re

from pypdf import PdfReader

from .conftest import csrf_token
from .formparse import form_with
from .sample_values import sample_value

INDIVID = {"namn": "Tilda Testperson", "personnummer": "19121212-1212", "adress": "Provgatan 12",
           "postnummer": "12345", "ort": "Skärholmen", "telefon": "070-123 45 67", "epost": "tilda@example.se"}


def create_arende(client, individ=INDIVID, ruta="soc1.1a") -> str:
    page = client.get("/arenden/nytt")
    data = dict(individ, ruta=ruta, csrf_token=csrf_token(page.get_data(as_text=True)))
    res = client.post("/arenden/nytt", data=data)
    confirm = re.search(r'name="skapa_anda" value="(\d+)"', res.get_data(as_text=True))
    if res.status_code == 200 and confirm:  # the enhet has an open ärende for this personnummer already
        res = client.post("/arenden/nytt", data=dict(data, skapa_anda=confirm.group(1)))
    assert res.status_code == 302, res.get_data(as_text=True)[:2000]
    return res.headers["Location"].rsplit("/", 1)[-1]


def step(client, pid: str, target: str, note: str = "") -> None:
    """Take the edge to `target` on the ärende's current ruta."""
    page = client.get(f"/arenden/{pid}/steg").get_data(as_text=True)
    form = form_with(page, "val")
    values = [v for v in re.findall(r'name="val" value="([^"]+)"', page) if v.endswith(":" + target)]
    assert values, f"no edge to {target} on the step page"
    res = client.post(f"/arenden/{pid}/steg", data={"csrf_token": form["fields"]["csrf_token"],
                                                    "version": form["fields"]["version"], "val": values[0],
                                                    "note": note})
    assert res.status_code == 302, res.get_data(as_text=True)[:3000]


def current_ruta(client, pid: str) -> str:
    """The ruta the ärende stands on, as the "Var står ärendet?" page has it checked."""
    page = client.get(f"/arenden/{pid}/var").get_data(as_text=True)
    return re.search(r'name="ruta" value="([^"]+)"\s+checked', page).group(1)


def way(process_map, start: str, target: str) -> list[str]:
    """The shortest way of edges from start to target (ids as the map names them now), so a test
    that means "bring the ärende to the förändringsplan" holds when the förbund reorders its map."""
    start, target = process_map.ruta(start).id, process_map.ruta(target).id
    came_from = {start: None}
    queue = [start]
    while queue:
        here = queue.pop(0)
        if here == target:
            path = []
            while here != start:
                path.append(here)
                here = came_from[here]
            return path[::-1]
        for edge in process_map.targets(here):
            if edge.target not in came_from and edge.target in process_map.rutor:
                came_from[edge.target] = here
                queue.append(edge.target)
    raise AssertionError(f"no way from {start} to {target} in the map")


def walk(client, pid: str, target: str) -> list[str]:
    """Step the ärende along the shortest way to target (an id, or an old id under `formerly`)."""
    process_map = client.application.extensions["catalogue"].process_map
    path = way(process_map, current_ruta(client, pid), target)
    for ruta_id in path:
        step(client, pid, ruta_id)
    return path


def ruta_with_blankett(client, blankett_id: str, lane: str = "soc1") -> str:
    """The id of the first ruta of the lane that offers the blankett (the förändringsplan's ruta is
    soc1.4 in the shipped map, soc1.5a after the Skärholmen edit)."""
    process_map = client.application.extensions["catalogue"].process_map
    return next(r.id for r in process_map.lane(lane).rutor if blankett_id in r.blankett_ids)


def place(client, pid: str, ruta: str) -> None:
    page = client.get(f"/arenden/{pid}/var?bana={ruta.split('.')[0]}").get_data(as_text=True)
    form = form_with(page, "ruta")
    res = client.post(f"/arenden/{pid}/var", data={"csrf_token": form["fields"]["csrf_token"],
                                                   "version": form["fields"]["version"], "ruta": ruta,
                                                   "bana": ruta.split(".")[0]})
    assert res.status_code == 302


def _field_for(blanketter, name: str):
    base = name.split(".")[0]
    for b in blanketter:
        if b.has_field(base):
            f = b.field(base)
            if "." in name:
                return f.column(name.split(".")[2])
            return f
    raise KeyError(name)


def fill_blankett(client, pid: str, blankett_id: str, catalogue, overrides=None, *, review_extra=None,
                  stop_at_review=False) -> dict:
    """Go through every page, typing a value only into fields that are empty. Returns counts and the doc
    (or, with stop_at_review, the Granska page's URL and HTML); review_extra is posted with Granska."""
    overrides = overrides or {}
    main = catalogue.blanketter[blankett_id]
    parts = [main] + [catalogue.blanketter[a] for a in main.attachments]
    typed: list[str] = []
    res = client.get(f"/arenden/{pid}/blankett/{blankett_id}")
    pages_seen = 0
    while "/sida/" in res.headers.get("Location", ""):
        url = res.headers["Location"]
        html = client.get(url).get_data(as_text=True)
        pages_seen += 1
        form = form_with(html, "version")  # the wizard page's form (the page has others: log-out, the idle dialog)
        data = {}
        for name, value in form["fields"].items():
            if name in ("csrf_token", "version", "from_review"):
                data[name] = value or ""
                continue
            if "." in name and not name.endswith(".1." + name.split(".")[-1]) and name.split(".")[1] != "1":
                continue  # only the first row of a rows table is typed
            if value not in (None, ""):
                data[name] = value
                continue
            f = _field_for(parts, name)
            if f.type == "checkbox":
                if f.required or overrides.get(name):
                    data[name] = "1"
                    typed.append(name)
                continue  # an unticked box is an answer too
            new = overrides.get(name, sample_value(f))
            if f.type == "personnummer":
                new = "19121212-1212"
            data[name] = str(new)
            typed.append(name)
        data["action"] = "next"
        res = client.post(url, data=data)
        assert res.status_code == 302, f"{url}: {res.status_code}\n" + re.sub(r"\s+", " ", res.get_data(as_text=True))[:3000]
    assert res.headers["Location"].endswith("/granska"), res.headers.get("Location")
    review = client.get(res.headers["Location"]).get_data(as_text=True)
    if stop_at_review:
        return {"review_url": res.headers["Location"], "review": review}
    posted = {k: v for k, v in form_with(review, "utkast")["fields"].items() if v is not None}  # unticked boxes
    res = client.post(res.headers["Location"], data=dict(posted, **(review_extra or {})))
    assert res.status_code == 302, re.sub(r"\s+", " ", res.get_data(as_text=True))[:3000]
    done = client.get(res.headers["Location"]).get_data(as_text=True)
    pdf_url = re.search(r'href="([^"]+\.pdf)"', done).group(1)
    pdf = client.get(pdf_url).data
    text = " ".join(" ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(pdf)).pages)
    return {"typed": typed, "pages": pages_seen, "pdf": pdf, "text": text, "pdf_url": pdf_url, "done": done,
            "fields": sum(len(p.fields) for p in parts)}
