/* The candidate behind an application ID: on the result form a card that fills
   in as the ID is typed (and while Feishu is being asked), on the results list
   the names of rows still being looked up. No inline script: the URL and the
   labels come from data attributes and a json_script element. */
(function () {
  "use strict";

  function text(tag, className, value) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (value !== undefined && value !== null) node.textContent = value;
    return node;
  }

  function row(list, label, value) {
    if (!value) return;
    list.appendChild(text("dt", "", label));
    list.appendChild(text("dd", "", value));
  }

  function renderCard(card, data, labels) {
    var body = card.querySelector(".candidate-card-body");
    body.textContent = "";
    card.dataset.state = data.state || "";
    if (data.state === "pending" || data.state === "invalid") {
      body.appendChild(text("p", "candidate-message", data.message));
      return;
    }
    if (data.state === "not_found") {
      body.appendChild(text("p", "candidate-check candidate-check-failed", data.check.message));
      return;
    }
    var list = text("dl", "candidate-facts");
    row(list, labels.name, data.name || labels.hidden);
    row(list, labels.email, data.email);
    row(list, labels.mobile, data.mobile ? (data.mobile_code ? "+" + data.mobile_code + " " : "") + data.mobile : "");
    row(list, labels.job, data.job);
    row(list, labels.stage, data.stage);
    row(list, labels.status, data.active ? labels.active : labels.terminated + (data.terminated_because ? ": " + data.terminated_because : ""));
    row(list, labels.checked_at, data.checked_at);
    body.appendChild(list);
    if (data.check) {
      body.appendChild(text(
        "p",
        "candidate-check " + (data.check.ok ? "candidate-check-ok" : "candidate-check-failed"),
        data.check.ok ? labels.check_ok : data.check.message
      ));
    }
  }

  function watchCard(card) {
    var labels = JSON.parse(document.getElementById("candidate-labels").textContent);
    var url = card.dataset.url;
    var input = document.getElementById("id_application_id");
    var timer = null;
    var asked = "";

    function ask(id, tries) {
      if (id !== asked) return;  // the ID was changed meanwhile
      fetch(url + "?application_id=" + encodeURIComponent(id), {credentials: "same-origin"})
        .then(function (response) { return response.json(); })
        .then(function (data) {
          if (id !== asked) return;
          renderCard(card, data, labels);
          card.hidden = false;
          if (data.state === "pending" && tries < 60) {
            timer = setTimeout(function () { ask(id, tries + 1); }, 1000);
          }
        });
    }

    function changed() {
      var id = input ? input.value.trim() : card.dataset.applicationId;
      clearTimeout(timer);
      asked = id;
      if (!id) { card.hidden = true; return; }
      timer = setTimeout(function () { ask(id, 0); }, 300);
    }

    var initial = document.getElementById("candidate-initial");
    if (initial) {
      var data = JSON.parse(initial.textContent);
      renderCard(card, data, labels);
      asked = card.dataset.applicationId || "";
      if (data.state === "pending") ask(asked, 0);
    }
    if (input) {
      input.addEventListener("input", changed);
      if (!initial && input.value) changed();
    }
  }

  function watchList() {
    var pending = document.querySelectorAll(".candidate-pending[data-application-id]");
    if (!pending.length) return;
    var base = document.getElementById("changelist-candidates");
    if (!base) return;
    var tries = 0;

    function ask() {
      var cells = document.querySelectorAll(".candidate-pending[data-application-id]");
      if (!cells.length || tries++ > 40) return;
      var ids = Array.prototype.map.call(cells, function (cell) { return cell.dataset.applicationId; });
      fetch(base.dataset.url + "?ids=" + encodeURIComponent(ids.join(",")), {credentials: "same-origin"})
        .then(function (response) { return response.json(); })
        .then(function (data) {
          Array.prototype.forEach.call(cells, function (cell) {
            var found = data.candidates[cell.dataset.applicationId];
            if (found && found.label) {
              cell.textContent = found.label;
              cell.className = "candidate";
            }
          });
          setTimeout(ask, 1500);
        });
    }
    setTimeout(ask, 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var card = document.getElementById("candidate-card");
    if (card) watchCard(card);
    watchList();
  });
})();
