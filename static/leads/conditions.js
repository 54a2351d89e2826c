/* Rule builder for condition fields (leads.widgets.ConditionWidget).
 *
 * Enhances every <textarea data-condition-builder> into rows of rules: field, op, value,
 * "any case", with a match all/any switch. The JSON (the contract in leads/conditions/) is
 * written back into the textarea on every change, so the form posts exactly what the server
 * validates. Conditions that rows cannot show (nested groups, "not") stay in the raw JSON
 * editor. Without JavaScript the textarea is the editor.
 *
 * The pure parts (toModel, toCondition, textToValue, valueToText) are exported for tests
 * under Node.
 */
(function () {
  "use strict";

  var LABELS = {
    eq: "equals", ne: "does not equal", in: "is one of", not_in: "is not one of",
    contains: "contains", not_contains: "does not contain", starts_with: "starts with",
    ends_with: "ends with", regex: "matches regex", empty: "is empty",
    not_empty: "is not empty", exists: "exists", gt: ">", gte: "≥", lt: "<", lte: "≤",
    between: "is between"
  };
  var OPS = Object.keys(LABELS);
  var NO_VALUE = ["empty", "not_empty", "exists"];
  var LIST = ["in", "not_in"];
  var ORDER = ["gt", "gte", "lt", "lte"];
  var TEXT = ["eq", "ne", "in", "not_in", "contains", "not_contains", "starts_with",
              "ends_with", "regex"];
  var NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,4})?$/;

  function has(list, item) { return list.indexOf(item) !== -1; }

  function isScalar(v) {
    return typeof v === "string" || typeof v === "number" || typeof v === "boolean";
  }

  /* Ordering values are numbers when they look like one, else text (an ISO date). */
  function orderValue(text) {
    var t = text.trim();
    return NUMBER.test(t) ? Number(t) : t;
  }

  /* The JSON value of a rule from what the user typed. */
  function textToValue(op, text) {
    if (has(NO_VALUE, op)) { return undefined; }
    if (has(LIST, op)) {
      return text.split(",").map(function (s) { return s.trim(); })
        .filter(function (s) { return s !== ""; });
    }
    if (op === "between") {
      var parts = text.split(",");
      return [orderValue(parts[0] || ""), orderValue(parts.slice(1).join(",") || "")];
    }
    if (has(ORDER, op)) { return orderValue(text); }
    return text;
  }

  /* What the value input shows for a rule's JSON value. */
  function valueToText(op, value) {
    if (value === undefined || value === null) { return ""; }
    if (Array.isArray(value)) { return value.map(String).join(", "); }
    return String(value);
  }

  function isRow(node) {
    if (!node || typeof node !== "object" || Array.isArray(node)) { return false; }
    var keys = Object.keys(node);
    for (var i = 0; i < keys.length; i++) {
      if (!has(["field", "op", "value", "ci"], keys[i])) { return false; }
    }
    if (typeof node.field !== "string" || !has(OPS, node.op)) { return false; }
    var v = node.value;
    if (has(NO_VALUE, node.op)) { return v === undefined || v === null; }
    if (has(LIST, node.op) || node.op === "between") {
      return Array.isArray(v) && v.every(isScalar);
    }
    return isScalar(v);
  }

  /* {mode, rows} for a condition the builder can show, or null (edit it as JSON). */
  function toModel(condition) {
    if (condition === null || condition === undefined || condition === "") {
      return { mode: "all", rows: [] };
    }
    if (typeof condition !== "object" || Array.isArray(condition)) { return null; }
    var keys = Object.keys(condition);
    if (keys.length === 0) { return { mode: "all", rows: [] }; }
    if (isRow(condition)) { return { mode: "all", rows: [rowOf(condition)] }; }
    if (keys.length !== 1 || (keys[0] !== "all" && keys[0] !== "any")) { return null; }
    var list = condition[keys[0]];
    if (!Array.isArray(list) || !list.every(isRow)) { return null; }
    return { mode: keys[0], rows: list.map(rowOf) };
  }

  function rowOf(node) {
    return { field: node.field, op: node.op, value: node.value, ci: node.ci === true };
  }

  /* The condition JSON for a model; null when there are no rules (no condition). */
  function toCondition(model) {
    var rules = model.rows.map(function (row) {
      var rule = { field: row.field, op: row.op };
      if (!has(NO_VALUE, row.op)) { rule.value = row.value; }
      if (row.ci && has(TEXT, row.op)) { rule.ci = true; }
      return rule;
    });
    if (rules.length === 0) { return null; }
    var out = {};
    out[model.mode] = rules;
    return out;
  }

  var api = {
    toModel: toModel, toCondition: toCondition, textToValue: textToValue,
    valueToText: valueToText, OPS: OPS
  };
  if (typeof module !== "undefined" && module.exports) { module.exports = api; }
  if (typeof document === "undefined") { return; }

  /* --- DOM ------------------------------------------------------------------------------ */

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { node.appendChild(c); });
    return node;
  }

  function placeholder(op) {
    if (has(LIST, op)) { return "CA, NY, TX"; }
    if (op === "between") { return "low, high (e.g. 18, 65)"; }
    if (has(ORDER, op)) { return "number or YYYY-MM-DD"; }
    if (op === "regex") { return "RE2 pattern, e.g. ^\\d{5}$"; }
    return "value";
  }

  function mount(textarea) {
    var fields = JSON.parse(textarea.getAttribute("data-fields") || "[]");
    var listId = textarea.id + "-fields";
    var model = { mode: "all", rows: [] };
    var raw = false;

    var datalist = el("datalist", { id: listId },
      fields.map(function (f) { return el("option", { value: f }); }));
    var mode = el("select", { "aria-label": "Match" }, [
      el("option", { value: "all", text: "all" }), el("option", { value: "any", text: "any" })
    ]);
    var toggle = el("button", { type: "button", "class": "button cond-toggle" });
    var rowsBox = el("div", { "class": "cond-rows" });
    var add = el("button", { type: "button", "class": "button cond-add", text: "+ Add rule" });
    var note = el("p", { "class": "help cond-note" });
    var head = el("div", { "class": "cond-head" }, [
      el("span", { text: "Match " }), mode, el("span", { text: " of these rules " }), toggle
    ]);
    var builder = el("div", { "class": "cond-builder" }, [head, rowsBox, add, note, datalist]);
    textarea.parentNode.insertBefore(builder, textarea);

    function write() {
      var condition = toCondition(model);
      textarea.value = condition === null ? "" : JSON.stringify(condition, null, 2);
      note.textContent = model.rows.length ? "" : "No rules: every lead matches.";
    }

    function renderRow(row, index) {
      var field = el("input", {
        type: "text", list: listId, value: row.field || "", placeholder: "field",
        "aria-label": "Field", "class": "cond-field"
      });
      var op = el("select", { "aria-label": "Operator", "class": "cond-op" },
        OPS.map(function (o) { return el("option", { value: o, text: LABELS[o] }); }));
      op.value = row.op;
      var value = el("input", {
        type: "text", value: valueToText(row.op, row.value), "aria-label": "Value",
        "class": "cond-value", placeholder: placeholder(row.op)
      });
      var ci = el("input", { type: "checkbox", "aria-label": "Any case" });
      ci.checked = row.ci;
      var ciLabel = el("label", { "class": "cond-ci" }, [ci, el("span", { text: " any case" })]);
      var remove = el("button", {
        type: "button", "class": "button cond-remove", "aria-label": "Remove rule", text: "×"
      });

      function sync() {
        value.hidden = has(NO_VALUE, row.op);
        ciLabel.hidden = !has(TEXT, row.op);
        value.placeholder = placeholder(row.op);
      }
      field.addEventListener("input", function () { row.field = field.value.trim(); write(); });
      op.addEventListener("change", function () {
        row.op = op.value;
        row.value = textToValue(row.op, value.value);
        sync(); write();
      });
      value.addEventListener("input", function () {
        row.value = textToValue(row.op, value.value); write();
      });
      ci.addEventListener("change", function () { row.ci = ci.checked; write(); });
      remove.addEventListener("click", function () {
        model.rows.splice(index, 1); render(); write();
      });
      sync();
      return el("div", { "class": "cond-row" }, [field, op, value, ciLabel, remove]);
    }

    function render() {
      rowsBox.textContent = "";
      model.rows.forEach(function (row, i) { rowsBox.appendChild(renderRow(row, i)); });
      mode.value = model.mode;
      builder.classList.toggle("cond-raw", raw);
      textarea.hidden = !raw;
      rowsBox.hidden = add.hidden = mode.disabled = raw;
      toggle.textContent = raw ? "Use rule builder" : "Edit as JSON";
    }

    function load() {
      var text = textarea.value.trim();
      var parsed = null;
      try { parsed = text ? JSON.parse(text) : null; } catch (e) { parsed = undefined; }
      var next = parsed === undefined ? null : toModel(parsed);
      if (next === null) {
        raw = true;
        note.textContent = parsed === undefined
          ? "This is not valid JSON yet; fix it here."
          : "This condition has nested groups: edit it as JSON.";
        return false;
      }
      model = next; raw = false;
      return true;
    }

    mode.addEventListener("change", function () { model.mode = mode.value; write(); });
    add.addEventListener("click", function () {
      model.rows.push({ field: "", op: "eq", value: "", ci: false });
      render(); write();
      var inputs = rowsBox.querySelectorAll(".cond-field");
      inputs[inputs.length - 1].focus();
    });
    toggle.addEventListener("click", function () {
      if (raw) {
        if (load()) { render(); write(); } else { render(); }
      } else {
        raw = true; note.textContent = ""; render();
      }
    });

    if (load()) { render(); write(); } else { render(); }
  }

  function start() {
    var areas = document.querySelectorAll("textarea[data-condition-builder]");
    Array.prototype.forEach.call(areas, mount);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
