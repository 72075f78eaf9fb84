// Live checks on the setup page: poll the checks endpoint and mark each check as it passes.
(function () {
  var box = document.getElementById("checks");
  if (!box || !box.dataset.url) return;
  function show(body) {
    body.checks.forEach(function (check) {
      var item = box.querySelector('[data-check="' + check.key + '"]');
      if (!item) return;
      item.className = check.done ? "ok" : "waiting";
      item.querySelector(".mark").textContent = check.done ? "done" : "waiting";
    });
    document.getElementById("setup-done").hidden = !body.done;
    var doctor = document.getElementById("doctor-findings");
    // Rendered by the server with the page's own template (escaped there).
    if (doctor && typeof body.doctor === "string" && doctor.dataset.shown !== body.doctor) {
      doctor.innerHTML = body.doctor;
      doctor.dataset.shown = body.doctor;
    }
    return body.done;
  }
  function poll() {
    fetch(box.dataset.url, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      // Once every check is green the doctor is still worth watching, less often.
      .then(function (body) { setTimeout(poll, body && show(body) ? 10000 : 2000); })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 2000);
})();
