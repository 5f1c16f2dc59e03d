// The status page of a background job of any kind (web/jobb.py): asks the JSON status every two
// seconds and rewrites the status region (role=status, aria-live) in place, so a screen reader hears
// "Klar – hämta" without a page reload. Without JavaScript the "Uppdatera" link does the same.
(function () {
  "use strict";
  var region = document.getElementById("jobb-status");
  if (!region) { return; }
  var url = region.getAttribute("data-status-url");
  var fallback = document.querySelector("[data-fallback]");
  var downloadText = region.getAttribute("data-download-text");  // the job kind's own words

  function show(state) {
    region.setAttribute("data-state", state.status);
    // The title too, as the server would write it: a tab left in the background says it is ready.
    document.title = region.getAttribute("data-heading") + ": " + state.text + " – formservice";
    region.textContent = "";
    var p = document.createElement("p");
    var strong = document.createElement("strong");
    if (state.status === "klar") {
      strong.textContent = state.text;
      var a = document.createElement("a");
      a.className = "button";
      a.href = state.download;
      a.setAttribute("data-download", "");
      a.textContent = downloadText;
      p.appendChild(strong);
      p.appendChild(document.createTextNode(": "));
      p.appendChild(a);
    } else {
      strong.textContent = state.text;
      p.appendChild(strong);
      p.appendChild(document.createTextNode(". " + (state.error || "")));
    }
    region.appendChild(p);
    if (fallback) { fallback.hidden = true; }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (state) {
        if (state && (state.status === "klar" || state.status === "fel")) { show(state); return; }
        if (state && state.note && !region.querySelector("[data-note]")) {  // not started for a long time
          var note = document.createElement("p");
          note.setAttribute("data-note", "");
          note.textContent = state.note;
          region.appendChild(note);
        }
        window.setTimeout(poll, 2000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
}());
