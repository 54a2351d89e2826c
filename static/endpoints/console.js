/* Endpoint console: editable rows, auth inputs per type, and the Test panel. No dependencies. */
(function () {
  "use strict";

  // ---- editable rows (headers, captures) ----
  function nextIndex(table) {
    var max = -1;
    table.querySelectorAll("input[name]").forEach(function (input) {
      var m = input.name.match(/-(\d+)-[^-]+$/);
      if (m) { max = Math.max(max, parseInt(m[1], 10)); }
    });
    return max + 1;
  }

  function addRow(table) {
    var rows = table.querySelectorAll("tbody tr.rows-row");
    var last = rows[rows.length - 1];
    if (!last) { return; }
    var index = nextIndex(table);
    var copy = last.cloneNode(true);
    copy.querySelectorAll("input[name]").forEach(function (input) {
      input.name = input.name.replace(/-(\d+)-([^-]+)$/, "-" + index + "-$2");
      input.value = "";
    });
    last.parentNode.appendChild(copy);
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target.classList.contains("rows-add")) {
      var table = document.querySelector('table.rows-widget[data-name="' + target.dataset.for + '"]');
      if (table) { addRow(table); }
    } else if (target.classList.contains("rows-remove")) {
      var row = target.closest("tr");
      var body = row && row.parentNode;
      if (body && body.querySelectorAll("tr.rows-row").length > 1) {
        row.remove();
      } else if (row) {
        row.querySelectorAll("input").forEach(function (input) { input.value = ""; });
      }
    }
  });

  // ---- auth inputs: show the ones the chosen type uses ----
  var AUTH_FIELDS = {
    none: [],
    basic: ["username", "password"],
    bearer: ["token"],
    query: ["params"],
    header: ["header_name", "header_value"],
    oauth2: ["token_url", "client_id", "client_secret", "scope", "client_auth"]
  };
  var ALL_AUTH = ["username", "password", "token", "params", "header_name", "header_value",
                  "token_url", "client_id", "client_secret", "scope", "client_auth"];

  function showAuthFields() {
    var select = document.getElementById("id_auth_type");
    if (!select) { return; }
    var wanted = AUTH_FIELDS[select.value] || [];
    ALL_AUTH.forEach(function (name) {
      var row = document.querySelector(".form-row.field-" + name) ||
                document.querySelector(".fieldBox.field-" + name);
      if (row) { row.style.display = wanted.indexOf(name) >= 0 ? "" : "none"; }
    });
  }

  // ---- Test panel ----
  function csrfToken(form) {
    var input = form.querySelector("[name=csrfmiddlewaretoken]") ||
                document.querySelector("[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function parseFields(text) {
    text = text.trim();
    if (!text) { return {}; }
    if (text.charAt(0) === "{") { return JSON.parse(text); }
    var out = {};
    text.split(/\r?\n/).forEach(function (line) {
      var i = line.indexOf("=");
      if (i > 0) { out[line.slice(0, i).trim()] = line.slice(i + 1).trim(); }
    });
    return out;
  }

  function describeRequest(req) {
    req = req || {};
    var lines = [(req.method || "") + " " + (req.url || "")];
    Object.keys(req.headers || {}).forEach(function (k) { lines.push(k + ": " + req.headers[k]); });
    lines.push("", req.body || "");
    return lines.join("\n");
  }

  function describeResponse(resp) {
    resp = resp || {};
    if (resp.status_code === null || resp.status_code === undefined) { return "(no response)"; }
    var lines = ["HTTP " + resp.status_code];
    Object.keys(resp.headers || {}).forEach(function (k) { lines.push(k + ": " + resp.headers[k]); });
    lines.push("", resp.body || "");
    return lines.join("\n");
  }

  function setupTestPanel() {
    var panel = document.getElementById("test-panel");
    if (!panel) { return; }
    var form = panel.querySelector("form");
    var status = panel.querySelector(".test-status");
    var result = panel.querySelector(".test-result");
    var button = form.querySelector("button[type=submit]");

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var payload = {};
      var source = form.querySelector("[name=source]:checked");
      try {
        if (source && source.value === "lead") {
          payload.lead = parseInt(form.querySelector("[name=lead]").value, 10);
        } else {
          payload.fields = parseFields(form.querySelector("[name=fields]").value);
        }
      } catch (err) {
        status.textContent = "The sample values are not valid JSON: " + err.message;
        return;
      }
      var target = form.querySelector("[name=target]:checked");
      payload.sandbox = !!(target && target.value === "sandbox");
      status.textContent = "Sending…";
      button.disabled = true;
      fetch(panel.dataset.testUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          "Accept": "application/json",
          "X-CSRFToken": csrfToken(form)
        },
        body: JSON.stringify(payload)
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          if (!response.ok) {
            status.textContent = "Could not test (HTTP " + response.status + "): " + JSON.stringify(data);
            return;
          }
          status.textContent = "Done.";
          result.hidden = false;
          result.querySelector('[data-out="outcome"]').textContent = data.outcome || "";
          result.querySelector('[data-out="result"]').textContent = data.result || "";
          result.querySelector('[data-out="duration_ms"]').textContent = String(data.duration_ms || 0);
          result.querySelector('[data-out="request"]').textContent = describeRequest(data.request);
          result.querySelector('[data-out="response"]').textContent = describeResponse(data.response);
          result.className = "test-result outcome-" + (data.outcome || "unknown");
        });
      }).catch(function (err) {
        status.textContent = "Network error: " + err.message;
      }).then(function () { button.disabled = false; });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var select = document.getElementById("id_auth_type");
    if (select) {
      select.addEventListener("change", showAuthFields);
      showAuthFields();
    }
    setupTestPanel();
  });
})();
