// Inbound console pages: copy buttons and the Form/Raw view switch of a call.
(function () {
  function copy(button, text) {
    if (!navigator.clipboard) return;
    navigator.clipboard.writeText(text).then(function () {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.copy-button");
    if (button) {
      var source = button.dataset.copyFrom && document.getElementById(button.dataset.copyFrom);
      copy(button, source ? source.textContent : button.dataset.copy || "");
      return;
    }
    var tab = event.target.closest("button.view-tab");
    if (tab) show(tab.dataset.view);
  });

  function show(id) {
    document.querySelectorAll(".inbound-view").forEach(function (view) {
      view.hidden = view.id !== id;
    });
    document.querySelectorAll("button.view-tab").forEach(function (tab) {
      tab.setAttribute("aria-selected", String(tab.dataset.view === id));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (document.querySelector(".inbound-view")) show("form-view");
  });
})();
