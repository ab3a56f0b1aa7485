// pakn: small improvements; every page works without this script.
(function () {
  "use strict";
  // Print buttons appear only where printing can be started from the page.
  document.querySelectorAll("[data-print]").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () { window.print(); });
  });
  // A form sent once is not sent again by a second click (the server is
  // safe either way: the form carries an idempotency key).
  document.querySelectorAll("form").forEach(function (f) {
    f.addEventListener("submit", function () {
      f.querySelectorAll("[data-once]").forEach(function (b) {
        window.setTimeout(function () { b.disabled = true; }, 0);
      });
    });
  });
  // Printing shows the folded details too.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  });
  // After an error, the summary takes the focus, so it is read first.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
