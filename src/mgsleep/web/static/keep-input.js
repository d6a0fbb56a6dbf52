// The language switch keeps what was typed: before leaving for the other language, the
// page's forms are kept in this tab's session storage and filled in again on arrival. A form
// marked data-resubmit whose result is on the page (data-result) is sent again, so the result
// comes back in the other language. Passwords, files and security tokens are never kept.
(() => {
  "use strict";
  const KEY = "mgsleep-keep-input";
  const SKIPPED_TYPES = new Set(["password", "file", "hidden", "submit", "button"]);

  const keptForms = () =>
    [...document.forms].filter(
      (form) => form.method.toLowerCase() === "post" && !form.hasAttribute("data-no-keep")
    );

  const keptElements = (form) =>
    [...form.elements].filter((element) => element.name && !SKIPPED_TYPES.has(element.type));

  const snapshot = (form, index) => ({
    index,
    action: form.getAttribute("action") || "",
    fields: keptElements(form).map((element) => {
      if (element.type === "checkbox" || element.type === "radio") {
        return [element.name, element.value, element.checked];
      }
      return [element.name, element.value, true];
    }),
    resubmit: form.hasAttribute("data-resubmit") && document.querySelector("[data-result]") !== null,
  });

  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[hreflang]");
    if (!link) return;
    const forms = keptForms().map(snapshot);
    sessionStorage.setItem(KEY, JSON.stringify({ path: location.pathname, forms }));
  });

  const fill = (form, fields) => {
    const elements = keptElements(form);
    fields.forEach(([name, value, checked], position) => {
      const element = elements[position];
      if (!element || element.name !== name) return;
      if (element.type === "checkbox" || element.type === "radio") {
        element.checked = checked && element.value === value;
      } else {
        element.value = value;
      }
    });
  };

  const restore = () => {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return;
    sessionStorage.removeItem(KEY);
    let state;
    try {
      state = JSON.parse(raw);
    } catch {
      return;
    }
    if (!state || state.path !== location.pathname) return;
    const forms = keptForms();
    for (const saved of state.forms || []) {
      const form = forms[saved.index];
      if (!form || (form.getAttribute("action") || "") !== saved.action) continue;
      fill(form, saved.fields || []);
      if (saved.resubmit) form.requestSubmit();
    }
  };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", restore);
  } else {
    restore();
  }
})();
