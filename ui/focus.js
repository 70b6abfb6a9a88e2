// A popover opened from the keyboard takes the focus (Streamlit leaves it on the button, and its content sits at the
// end of the page, so Tab walked past it): on open, its first control is focused; Escape gives the focus back to
// the button. Installed once per page by app_script.py.
if (!window.__skipsnnPopoverFocus) {
  window.__skipsnnPopoverFocus = true;
  const FOCUSABLE = 'input:not([disabled]), button:not([disabled]), select, textarea, [role="slider"], [tabindex]:not([tabindex="-1"])';
  let opener = null;
  document.addEventListener("click", (e) => {
    const button = e.target.closest && e.target.closest('[data-testid="stPopoverButton"]');
    if (!button) return;
    setTimeout(() => {
      if (button.getAttribute("aria-expanded") !== "true") return;
      const body = document.querySelector('[data-testid="stPopoverBody"]');
      const first = body && body.querySelector(FOCUSABLE);
      if (first) { opener = button; first.focus(); }
    }, 60);
  }, true);
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && opener) { const back = opener; opener = null; setTimeout(() => back.focus(), 0); }
  }, true);
}
