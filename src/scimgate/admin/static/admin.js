// Copy buttons: data-copy names the element whose text is copied.
document.addEventListener("click", function (e) {
  var b = e.target.closest("[data-copy]");
  if (!b) return;
  var text = document.getElementById(b.dataset.copy).textContent.trim();
  navigator.clipboard.writeText(text).then(function () {
    var old = b.textContent; b.textContent = "Copied"; setTimeout(function () { b.textContent = old; }, 1500);
  });
});
