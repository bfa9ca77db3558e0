// Polls the progress of a background import and reloads the page when it ends,
// which then shows the result. Plain JS, served by the portal.
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box) {
    return;
  }
  var url = box.getAttribute("data-progress-url");
  var bar = document.getElementById("import-progress-bar");
  var status = document.getElementById("import-progress-status");
  var text = document.getElementById("import-progress-text");
  var phases = document.getElementById("import-progress-phases");
  var delay = 1000;

  function phaseLabel(data) {
    if (data.status === "queued") {
      return phases.getAttribute("data-queued");
    }
    return phases.getAttribute("data-" + data.phase) || data.status_display;
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(response.status);
        }
        return response.json();
      })
      .then(function (data) {
        if (data.finished) {
          window.location.reload();
          return;
        }
        status.textContent = phaseLabel(data);
        if (data.total) {
          bar.max = data.total;
          bar.value = data.processed;
          text.textContent = data.processed + " / " + data.total + " " + phases.getAttribute("data-rows");
        }
        if (data.phase === "writing") {
          bar.removeAttribute("value");
        }
        delay = 1000;
        window.setTimeout(poll, delay);
      })
      .catch(function () {
        delay = Math.min(delay * 2, 15000);
        window.setTimeout(poll, delay);
      });
  }

  window.setTimeout(poll, delay);
})();
