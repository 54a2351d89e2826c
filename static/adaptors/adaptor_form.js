/*
 * Adaptor console page.
 *
 * 1. Rows editors: every <textarea data-json-rows="[columns]"> holding a JSON list of flat
 *    objects becomes a table with one input per column, "Add row" and remove buttons. Each
 *    edit writes the JSON back into the (hidden) textarea, which is what the form submits.
 *    Without JavaScript, or when the JSON is not a list of flat objects, the textarea stays.
 * 2. Live preview: the form's current, unsaved settings and the sample lead are posted to the
 *    preview API (console session + CSRF token) and the rendered request is shown. Nothing
 *    is sent to any endpoint. Every value is shown with textContent, never as HTML.
 */
(function () {
  "use strict";

  var PREVIEW_FIELDS = ["mappings", "constants", "body_template", "xml_root", "delimiter"];

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      node.setAttribute(name, attrs[name]);
    });
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function isScalar(value) {
    return value === null || ["string", "number", "boolean"].indexOf(typeof value) !== -1;
  }

  /* A JSON list of flat objects whose keys are all columns; throws otherwise. */
  function parseRows(text, columns) {
    var names = columns.map(function (c) { return c.name; });
    var data = text.trim() ? JSON.parse(text) : [];
    if (!Array.isArray(data)) {
      throw new Error("not a list");
    }
    data.forEach(function (row) {
      if (typeof row !== "object" || row === null || Array.isArray(row)) {
        throw new Error("a row is not an object");
      }
      Object.keys(row).forEach(function (key) {
        if (names.indexOf(key) === -1 || !isScalar(row[key])) {
          throw new Error("row key " + key + " cannot be edited as a cell");
        }
      });
    });
    return data;
  }

  function setupRows(textarea) {
    if (textarea.hasAttribute("data-rows-ready")) {
      return;
    }
    textarea.setAttribute("data-rows-ready", "");
    var columns = JSON.parse(textarea.getAttribute("data-json-rows"));
    var rows;
    try {
      rows = parseRows(textarea.value, columns);
    } catch (err) {
      return; // keep the plain JSON textarea
    }
    var wrapper = el("div", { "class": "json-rows" });
    var table = el("table");
    var head = el("tr");
    columns.forEach(function (column) { head.appendChild(el("th", { scope: "col" }, column.label)); });
    head.appendChild(el("th", {}, ""));
    table.appendChild(el("thead")).appendChild(head);
    var body = table.appendChild(el("tbody"));
    var error = el("span", { "class": "json-rows-error", role: "alert" });

    columns.forEach(function (column) {
      if (!column.suggestions) {
        return;
      }
      var list = el("datalist", { id: textarea.id + "-" + column.name + "-options" });
      column.suggestions.forEach(function (value) { list.appendChild(el("option", { value: value })); });
      wrapper.appendChild(list);
    });

    function sync() {
      var data = [];
      Array.prototype.forEach.call(body.rows, function (tr) {
        var row = {};
        Array.prototype.forEach.call(tr.querySelectorAll("input"), function (input) {
          if (input.value === "") {
            return;
          }
          // Keep a number or boolean typed in JSON as it was while its text is unchanged.
          var original = input.originalValue;
          row[input.getAttribute("data-column")] = original !== undefined && String(original) === input.value ? original : input.value;
        });
        if (Object.keys(row).length) {
          data.push(row);
        }
      });
      textarea.value = JSON.stringify(data, null, 2);
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
    }

    function addRow(row) {
      var tr = el("tr");
      columns.forEach(function (column) {
        var value = row[column.name];
        // No name attribute: the cells are never submitted, only the textarea's JSON is.
        var input = el("input", {
          type: "text",
          "data-column": column.name,
          placeholder: column.placeholder || "",
          "aria-label": column.label
        });
        input.value = value === undefined || value === null ? "" : String(value);
        input.originalValue = value === null ? undefined : value;
        if (column.suggestions) {
          input.setAttribute("list", textarea.id + "-" + column.name + "-options");
        }
        input.addEventListener("input", function (event) {
          event.stopPropagation();
          sync();
        });
        tr.appendChild(el("td")).appendChild(input);
      });
      var remove = el("button", { type: "button", "class": "button json-rows-remove", "aria-label": "Remove row" }, "×");
      remove.addEventListener("click", function () {
        tr.remove();
        sync();
      });
      tr.appendChild(el("td")).appendChild(remove);
      body.appendChild(tr);
      return tr;
    }

    rows.forEach(addRow);
    var actions = el("div", { "class": "json-rows-actions" });
    var add = el("button", { type: "button", "class": "button" }, "Add row");
    add.addEventListener("click", function () {
      addRow({}).querySelector("input").focus();
    });
    var toggle = el("button", { type: "button", "class": "button" }, "Edit as JSON");
    toggle.addEventListener("click", function () {
      if (textarea.hidden) {
        textarea.hidden = false;
        table.hidden = true;
        add.hidden = true;
        toggle.textContent = "Edit as rows";
        return;
      }
      var parsed;
      try {
        parsed = parseRows(textarea.value, columns);
      } catch (err) {
        error.textContent = "This JSON cannot be shown as rows (" + err.message + "); keep editing it as JSON.";
        return;
      }
      error.textContent = "";
      body.textContent = "";
      parsed.forEach(addRow);
      textarea.hidden = true;
      table.hidden = false;
      add.hidden = false;
      toggle.textContent = "Edit as JSON";
    });
    actions.appendChild(add);
    actions.appendChild(toggle);
    actions.appendChild(error);
    wrapper.appendChild(table);
    wrapper.appendChild(actions);
    textarea.parentNode.insertBefore(wrapper, textarea);
    textarea.hidden = true;
  }

  /* ---------------------------------------------------------------- live preview */

  function csrfToken(form) {
    var input = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) {
      return input.value;
    }
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function errorLines(data, prefix) {
    if (typeof data === "string") {
      return [prefix ? prefix + ": " + data : data];
    }
    if (Array.isArray(data)) {
      return data.reduce(function (lines, item) { return lines.concat(errorLines(item, prefix)); }, []);
    }
    if (data && typeof data === "object") {
      return Object.keys(data).reduce(function (lines, key) {
        var label = key === "non_field_errors" || key === "detail" ? prefix : (prefix ? prefix + "." : "") + key;
        return lines.concat(errorLines(data[key], label));
      }, []);
    }
    return [String(data)];
  }

  function setupPreview(panel) {
    if (panel.hasAttribute("data-preview-ready")) {
      return;
    }
    panel.setAttribute("data-preview-ready", "");
    var form = panel.closest("form") || document;
    var sample = panel.querySelector(".adaptor-preview-sample");
    var method = panel.querySelector(".adaptor-preview-method");
    var status = panel.querySelector(".adaptor-preview-status");
    var output = panel.querySelector(".adaptor-preview-request");
    var editable = panel.getAttribute("data-editable") === "true" && form.querySelector("[name=mappings]");
    var url = editable ? panel.getAttribute("data-draft-url") : panel.getAttribute("data-detail-url");
    var contentType = "json";
    var timer = null;
    var sequence = 0;

    function say(text, kind) {
      status.textContent = text;
      status.className = "adaptor-preview-status" + (kind ? " " + kind : "");
    }

    function value(name) {
      var field = form.querySelector("[name=" + name + "]");
      return field ? field.value : undefined;
    }

    function json(name, text) {
      if (!text || !text.trim()) {
        return [];
      }
      try {
        return JSON.parse(text);
      } catch (err) {
        throw new Error(name + " is not valid JSON yet: " + err.message);
      }
    }

    function payload() {
      var fields = json("The sample lead", sample.value);
      if (fields === null || typeof fields !== "object" || Array.isArray(fields)) {
        throw new Error("The sample lead must be a JSON object of field names and values.");
      }
      var body = { fields: fields, content_type: contentType, method: method.value };
      if (editable) {
        body.adaptor = {
          mappings: json("Mappings", value("mappings")),
          constants: json("Constants", value("constants")),
          body_template: value("body_template") || "",
          xml_root: value("xml_root") || "",
          delimiter: value("delimiter") === undefined ? "," : value("delimiter")
        };
      }
      return body;
    }

    function show(request) {
      var lines = [request.method + " " + request.url];
      Object.keys(request.headers).forEach(function (name) {
        lines.push(name + ": " + request.headers[name]);
      });
      output.textContent = lines.join("\n") + (request.body ? "\n\n" + request.body : "");
      if (request.warnings.length) {
        say(request.warnings.join("\n"), "warning");
      } else {
        say("Rendered as " + request.content_type.toUpperCase() + ".");
      }
    }

    function run() {
      var mine = ++sequence;
      var body;
      if (!url) {
        say("Save the adaptor to preview it.");
        return;
      }
      try {
        body = payload();
      } catch (err) {
        say(err.message, "error");
        return;
      }
      say("Rendering…");
      fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          "Accept": "application/json",
          "X-CSRFToken": csrfToken(form)
        },
        body: JSON.stringify(body)
      }).then(function (response) {
        return response.json().then(function (data) {
          return { ok: response.ok, data: data };
        });
      }).then(function (result) {
        if (mine !== sequence) {
          return; // a newer preview is on its way
        }
        if (result.ok) {
          show(result.data);
        } else {
          output.textContent = "";
          say(errorLines(result.data, "").join("\n"), "error");
        }
      }).catch(function (err) {
        if (mine === sequence) {
          say("The preview failed: " + err.message, "error");
        }
      });
    }

    function schedule() {
      window.clearTimeout(timer);
      timer = window.setTimeout(run, 300);
    }

    form.addEventListener("input", function (event) {
      if (event.target === sample || PREVIEW_FIELDS.indexOf(event.target.name) !== -1) {
        schedule();
      }
    });
    method.addEventListener("change", run);
    Array.prototype.forEach.call(panel.querySelectorAll(".adaptor-preview-tab"), function (tab) {
      tab.addEventListener("click", function () {
        Array.prototype.forEach.call(panel.querySelectorAll(".adaptor-preview-tab"), function (other) {
          other.classList.toggle("active", other === tab);
          other.setAttribute("aria-pressed", other === tab ? "true" : "false");
        });
        contentType = tab.getAttribute("data-content-type");
        run();
      });
    });
    run();
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("textarea[data-json-rows]"), setupRows);
    var panel = document.getElementById("adaptor-preview");
    if (panel) {
      setupPreview(panel);
    }
  });
})();
