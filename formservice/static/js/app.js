// Progressive enhancement only: every page works without JavaScript.
// Move focus to an error summary so keyboard and screen-reader users land on it (GOV.UK pattern).
document.addEventListener("DOMContentLoaded", function () {
  var target = document.querySelector("[data-autofocus]");
  if (target) { target.focus(); }
});

// Warn before the idle logout (WCAG 2.2.1): a modal dialog (focus moves into it, Esc and the
// first button continue) a little before the server would end the session. "Fortsätt" asks the
// server to restart the idle clock. Without JavaScript the kept-post behaviour still protects
// what was typed.
document.addEventListener("DOMContentLoaded", function () {
  var body = document.body, dialog = document.getElementById("idle-dialog");
  if (!dialog || !body.dataset.idleSeconds || typeof dialog.showModal !== "function") { return; }
  var idle = parseInt(body.dataset.idleSeconds, 10) * 1000;
  var warning = parseInt(body.dataset.idleWarningSeconds, 10) * 1000;
  var left = dialog.querySelector("[data-idle-left]");
  var returnFocus = null, warnTimer = null, countdown = null, deadline = 0;

  function describe(ms) {
    var s = Math.max(0, Math.round(ms / 1000));
    return s >= 60 ? Math.ceil(s / 60) + (Math.ceil(s / 60) === 1 ? " minut" : " minuter") : s + " sekunder";
  }
  function schedule() {
    clearTimeout(warnTimer);
    deadline = Date.now() + idle;
    warnTimer = setTimeout(warn, Math.max(0, idle - warning));
  }
  function warn() {
    returnFocus = document.activeElement;
    left.textContent = describe(deadline - Date.now());
    dialog.showModal();
    dialog.querySelector("[data-idle-continue]").focus();
    countdown = setInterval(function () {
      // Updated once a minute only: a ticking live text would keep interrupting a screen reader.
      left.textContent = describe(deadline - Date.now());
    }, 60000);
  }
  function keepGoing() {
    clearInterval(countdown);
    fetch(body.dataset.keepaliveUrl, {method: "POST", credentials: "same-origin",
                                      headers: {"X-CSRFToken": body.dataset.csrf}})
      .then(function (response) {
        // Already logged out (the server answered with the login page): show it.
        if (response.ok && !response.redirected) { schedule(); } else { window.location.reload(); }
      });
    dialog.close();
    if (returnFocus && returnFocus.focus) { returnFocus.focus(); }
  }
  dialog.querySelector("[data-idle-continue]").addEventListener("click", keepGoing);
  dialog.addEventListener("cancel", function (event) { event.preventDefault(); keepGoing(); });
  window.formserviceIdle = {warnNow: function () { clearTimeout(warnTimer); warn(); }};
  schedule();
});

// The drawn process map: buttons to enlarge, shrink and fit it (the browser's zoom works too, and
// without JavaScript the map fits the window and every ruta is a link).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-karta-zoom]").forEach(function (tools) {
    var svg = document.getElementById(tools.dataset.kartaZoom);
    if (!svg) { return; }
    var frame = svg.parentElement, natural = svg.viewBox.baseVal.width;
    tools.hidden = false;
    tools.addEventListener("click", function (event) {
      var how = event.target.dataset && event.target.dataset.zoom;
      if (!how) { return; }
      if (how === "fit") {
        frame.classList.add("karta-ram--hela");
        svg.style.width = "";
        return;
      }
      var now = svg.getBoundingClientRect().width;
      frame.classList.remove("karta-ram--hela");
      var next = how === "in" ? now * 1.4 : now / 1.4;
      svg.style.width = Math.max(natural * 0.3, Math.min(natural * 4, next)) + "px";
    });
  });
});
