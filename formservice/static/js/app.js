// Progressive enhancement only: every page works without JavaScript.
// Error summaries (GOV.UK pattern). After a submit focus goes to the summary, so keyboard and
// screen-reader users land on what went wrong, not on a field the URL's fragment points at. A link
// in a summary (or a link to a field from another page) focuses the field itself; a link to a group
// (radio buttons, a grid of activities, a date in three parts) its first control, since a fieldset
// or div cannot take focus in a way that lets the user answer.
(function () {
  var CONTROLS = "input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled])";

  function controlFor(target) {
    if (target.matches(CONTROLS)) { return target; }
    return target.querySelector(CONTROLS) || (target.hasAttribute("tabindex") ? target : null);
  }
  function focusField(id, groupsOnly) {
    var target = id && document.getElementById(id);
    // From the address only a group: any other fragment (a section such as #dokument) is the
    // browser's to scroll to, and must not pull focus into the first box below it.
    if (target && groupsOnly && !target.matches("fieldset, [role=group]")) { return false; }
    var control = target && controlFor(target);
    if (!control) { return false; }
    // The question (legend or label) in view as well as the box: it says what to answer.
    var group = control.closest("fieldset");
    var label = (group && group.querySelector("legend")) ||
                (control.id && document.querySelector("label[for='" + control.id + "']"));
    (label || control).scrollIntoView();
    control.focus({preventScroll: true});
    return true;
  }
  function fromHash() {
    try { return decodeURIComponent(window.location.hash.slice(1)); } catch (e) { return ""; }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector("[data-autofocus]");
    if (summary) {
      summary.focus();
    } else if (window.location.hash) {
      // A link from another page (Granska's "Ändra" and error links) to a group: the browser's own
      // fragment focus would land on nothing.
      focusField(fromHash(), true);
      // The browser's own scroll to the fragment can come after this and leave focus on nothing.
      window.addEventListener("load", function () {
        if (document.activeElement === document.body) { focusField(fromHash(), true); }
      });
    }
    // A form posted back to an address with a fragment would land on that field again instead of on
    // the new summary; forms with an explicit action never carry one, this covers any without.
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (!form.getAttribute("action") && window.location.hash) {
        form.setAttribute("action", window.location.href.split("#")[0]);
      }
    }, true);
  });

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".error-summary a[href^='#']");
    if (!link) { return; }
    if (focusField(decodeURIComponent(link.getAttribute("href").slice(1)))) { event.preventDefault(); }
  });
}());

// Operations that take seconds (documents, reports): a form marked data-busy says at once that it is
// working, in the button and to a screen reader, and a second click or Enter does not send it again
// (two documents, two jobs). The button is not disabled: a disabled submitter would drop its value
// (the registerutdrag's format), and the page stays usable while the server works. Coming back with
// the browser's Back restores the form. Without JavaScript the forms post as they always did.
(function () {
  function restore(form) {
    delete form.dataset.busyNow;
    form.querySelectorAll("[data-idle-text]").forEach(function (button) {
      button.textContent = button.dataset.idleText;
      delete button.dataset.idleText;
      button.removeAttribute("aria-disabled");
    });
    var live = form.querySelector("[data-busy-status]");
    if (live) { live.textContent = ""; }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-busy]").forEach(function (form) {
      // The live region exists before it is filled: one added and filled at once is often not read.
      var live = document.createElement("p");
      live.className = "visually-hidden";
      live.setAttribute("role", "status");
      live.setAttribute("data-busy-status", "");
      form.appendChild(live);
      form.addEventListener("submit", function (event) {
        if (form.dataset.busyNow) { event.preventDefault(); return; }
        form.dataset.busyNow = "1";
        var button = event.submitter || form.querySelector("button[type=submit], button:not([type])");
        if (button && button.tagName === "BUTTON") {
          button.dataset.idleText = button.textContent;
          button.textContent = form.dataset.busyButton || "Tar fram…";
          button.setAttribute("aria-disabled", "true");
        }
        live.textContent = form.dataset.busy;
      });
    });
  });
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-busy]").forEach(restore);
  });
}());

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

// A wide drawn map that marks where someone stands (the parties' rutor): scrolled sideways so the
// first marked ruta (the viewer's own, else another party's) is in view – the page itself does not
// move and focus stays where it is.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".karta-ram[data-scroll-to]").forEach(function (frame) {
    var mark = null;
    frame.dataset.scrollTo.split(",").some(function (selector) { return (mark = frame.querySelector(selector)); });
    if (!mark || frame.scrollWidth <= frame.clientWidth) { return; }
    var box = mark.getBoundingClientRect(), view = frame.getBoundingClientRect();
    frame.scrollLeft += box.left - view.left - Math.max(0, (frame.clientWidth - box.width) / 3);
  });
});
