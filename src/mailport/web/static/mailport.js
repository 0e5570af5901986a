/* mailport web pages: focus management, copy buttons, friendly errors for htmx requests.
   Loaded as a file (the Content-Security-Policy allows no inline script). */
(function () {
  "use strict";

  // Move keyboard and screen-reader focus to what just appeared (a result, an error summary),
  // once: the element carries data-focus until it has been focused.
  function focusNew(root) {
    // An outerHTML swap (the form re-rendered with its error summary) replaces the target itself:
    // the event still names the old, detached element, so look in the document instead.
    if (root && !root.isConnected) { root = document; }
    var el = (root || document).querySelector("[data-focus]");
    if (!el) { return; }
    el.removeAttribute("data-focus");
    if (!el.hasAttribute("tabindex")) { el.setAttribute("tabindex", "-1"); }
    el.focus({ preventScroll: false });
  }

  document.addEventListener("DOMContentLoaded", function () { focusNew(document); });
  document.addEventListener("htmx:afterSettle", function (event) { focusNew(event.detail.target); });

  // A failed request must not leave the page silent.
  function showError(event) {
    var target = event.detail.target;
    var source = event.target;
    var polling = source instanceof Element && /\bevery\b/.test(source.getAttribute("hx-trigger") || "");
    if (target && polling && target.contains(source)) {
      // A poll that failed (the server restarting, a network blip) keeps its poller: the next
      // answer replaces this notice (a live test then ends, or says it was interrupted).
      var notice = target.querySelector(":scope > p.poll-error");
      if (!notice) {
        notice = document.createElement("p");
        notice.className = "error poll-error";
        notice.setAttribute("role", "alert");
        target.insertBefore(notice, target.firstChild);
      }
      notice.textContent = document.body.getAttribute("data-poll-error-text") || "Reconnecting";
      return;
    }
    var text = document.body.getAttribute("data-error-text") || "Error";
    if (target) {
      var p = document.createElement("p");
      p.className = "error";
      p.setAttribute("role", "alert");
      p.textContent = text;
      target.replaceChildren(p);
    }
  }
  document.addEventListener("htmx:responseError", showError);
  document.addEventListener("htmx:sendError", showError);

  // Parts that follow a checkbox as the user changes it. <fieldset data-shown-with="box-id">
  // shows only while the box is ticked (rendered visible, so the page works without this
  // script; its values stay in the form while hidden). <fieldset data-required-with="box-id"
  // data-required-fields="name …">: those fields are required only while it is ticked (the
  // page is rendered right for the box as it was; their marks and aria-required follow it).
  function followCheckboxes(root) {
    (root || document).querySelectorAll("[data-shown-with]").forEach(function (set) {
      var box = document.getElementById(set.getAttribute("data-shown-with"));
      if (box) { set.hidden = !box.checked; }
    });
    (root || document).querySelectorAll("[data-required-with]").forEach(function (set) {
      var box = document.getElementById(set.getAttribute("data-required-with"));
      if (!box) { return; }
      (set.getAttribute("data-required-fields") || "").split(" ").forEach(function (name) {
        var input = name && set.querySelector("[name='" + name + "']");
        var label = input && set.querySelector("label[for='" + input.id + "']");
        if (!label) { return; }
        var mark = label.querySelector(".required");
        if (!mark && box.checked) {
          mark = document.createElement("span");
          mark.className = "required";
          mark.setAttribute("aria-hidden", "true");
          mark.textContent = "*";
          label.append(" ", mark);
        }
        if (mark) { mark.hidden = !box.checked; }
        if (box.checked) { input.setAttribute("aria-required", "true"); } else { input.removeAttribute("aria-required"); }
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { followCheckboxes(document); });
  document.addEventListener("htmx:afterSettle", function () { followCheckboxes(document); });
  document.addEventListener("change", function (event) {
    if (event.target instanceof HTMLInputElement && event.target.type === "checkbox") { followCheckboxes(document); }
  });

  // Copy buttons: <button data-copy="element-id">.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) { return; }
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) { return; }
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      var status = button.parentElement.querySelector(".copy-status");
      if (status) { status.textContent = document.body.getAttribute("data-copied-text") || "Copied"; }
    });
  });

})();
