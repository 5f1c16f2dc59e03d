"""Read a page's <form> the way a browser would submit it: what is filled in, what is empty."""
from __future__ import annotations

from html.parser import HTMLParser


class _FormParser(HTMLParser):
    def __init__(self, index: int):
        super().__init__(convert_charrefs=True)
        self.index, self.current, self.forms = index, -1, []
        self.in_form = False
        self.textarea: str | None = None
        self.select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.current += 1
            self.in_form = True
            self.forms.append({"action": a.get("action"), "fields": {}, "names": []})
            return
        if not self.in_form:
            return
        form = self.forms[-1]
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            form["names"].append(name)
            if kind in ("radio", "checkbox"):
                form["fields"].setdefault(name, None)
                if "checked" in a:
                    form["fields"][name] = a.get("value", "on")
            elif kind != "submit":
                form["fields"][name] = a.get("value", "")
        elif tag == "textarea" and name:
            form["names"].append(name)
            self.textarea = name
            form["fields"][name] = ""
        elif tag == "select" and name:
            form["names"].append(name)
            self.select = name
            form["fields"][name] = None
        elif tag == "option" and self.select:
            # A browser submits the selected option, else the first one.
            if form["fields"][self.select] is None or "selected" in a:
                form["fields"][self.select] = a.get("value", "")

    def handle_data(self, data):
        if self.textarea:
            self.forms[-1]["fields"][self.textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self.textarea = None
        elif tag == "select":
            self.select = None
        elif tag == "form":
            self.in_form = False


def forms(html: str) -> list[dict]:
    p = _FormParser(0)
    p.feed(html)
    return p.forms


def form_with(html: str, field_name: str) -> dict:
    """The form holding a field of this name."""
    for f in forms(html):
        if field_name in f["fields"]:
            return f
    raise AssertionError(f"no form with {field_name!r}")
