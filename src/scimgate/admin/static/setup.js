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
    return body.done;
  }
  function poll() {
    fetch(box.dataset.url, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) { if (!body || !show(body)) setTimeout(poll, 2000); })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 2000);
})();
