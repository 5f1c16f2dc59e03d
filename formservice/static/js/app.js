// Progressive enhancement only: every page works without JavaScript.
// Move focus to an error summary so keyboard and screen-reader users land on it (GOV.UK pattern).
document.addEventListener("DOMContentLoaded", function () {
  var target = document.querySelector("[data-autofocus]");
  if (target) { target.focus(); }
});
