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
  // At the desk: a warning two minutes before the session ends for lack of
  // activity (the server decides; this only tells). "Keep working" reloads
  // the page, which uses the session; forms are not touched.
  var body = document.body, ends = Number(body.getAttribute("data-session-ends"));
  if (ends) {
    var note = null;
    var check = function () {
      var left = Number(body.getAttribute("data-session-ends")) - Date.now();
      if (left > 120000) { return; }
      if (!note) {
        note = document.createElement("div");
        note.className = "notice warn session-note";
        note.setAttribute("role", "alert");
        note.id = "session-note";
        document.getElementById("main").prepend(note);
      }
      note.textContent = "";
      var p = document.createElement("p");
      p.textContent = body.getAttribute(left > 0 ? "data-session-warning" : "data-session-ended");
      note.appendChild(p);
      var a = document.createElement("a");
      a.className = "button";
      a.id = "session-continue";
      a.href = left > 0 ? window.location.href : "/desk/signin";
      a.textContent = body.getAttribute(left > 0 ? "data-session-continue" : "data-session-signin");
      note.appendChild(a);
    };
    window.setInterval(check, 5000);
    check();
  }
  // After an error, the summary takes the focus, so it is read first.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
