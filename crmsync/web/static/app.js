// crmsync admin console: a little progressive enhancement; every page works without it.
"use strict";

function confirmForms() {
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
        return;
      }
      var yes = document.createElement("input");
      yes.type = "hidden"; yes.name = "confirmed"; yes.value = "yes";
      form.appendChild(yes);
    });
  });
}

function selectAll() {
  document.querySelectorAll("input[data-select-all]").forEach(function (box) {
    box.addEventListener("change", function () {
      var name = box.getAttribute("data-select-all");
      box.form.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (other) {
        other.checked = box.checked;
      });
    });
  });
  document.querySelectorAll("button[data-check]").forEach(function (button) {
    button.addEventListener("click", function () {
      var name = button.getAttribute("data-check");
      var on = button.getAttribute("data-value") === "on";
      button.form.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (box) {
        box.checked = on;
      });
    });
  });
}

function cdcWarnings() {
  document.querySelectorAll("select[data-cdc-warning]").forEach(function (select) {
    var warning = document.getElementById(select.getAttribute("data-cdc-warning"));
    select.addEventListener("change", function () { warning.hidden = select.value !== "cdc"; });
  });
}

function cell(text) { var td = document.createElement("td"); td.textContent = text; return td; }

function followJob() {
  var box = document.getElementById("job");
  if (!box || box.getAttribute("data-status") !== "running") { return; }
  var url = box.getAttribute("data-job-url");
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (job) {
        document.getElementById("job-status").textContent = job.status;
        document.getElementById("job-message").textContent = job.message;
        var body = document.getElementById("job-objects");
        body.textContent = "";
        job.objects.forEach(function (o) {
          var row = document.createElement("tr");
          var head = document.createElement("th"); head.scope = "row"; head.textContent = o.label;
          row.appendChild(head);
          row.appendChild(cell(o.fetched + (o.total ? " of " + o.total : "")));
          ["created", "updated", "unchanged", "skipped", "failed", "deleted"].forEach(function (k) {
            row.appendChild(cell(o.counts[k] === undefined ? "" : String(o.counts[k])));
          });
          body.appendChild(row);
        });
        box.setAttribute("data-status", job.status);
        if (job.status === "running") { window.setTimeout(poll, 500); }
      })
      .catch(function () { window.setTimeout(poll, 2000); });
  }
  poll();
}

document.addEventListener("DOMContentLoaded", function () {
  confirmForms(); selectAll(); cdcWarnings(); followJob();
});
