// Keyboard first: "/" focuses the first search field, as in most back-office tools.
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return;
  const field = document.querySelector("[data-search-focus]");
  if (field) { event.preventDefault(); field.focus(); field.select?.(); }
});

// A form marked data-submit-once sends once: a double click or a second Enter while the
// request is on its way does nothing. (The server refuses a second payment anyway; this
// spares the clerk the error page.) A page restored from the back-forward cache is usable.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-submit-once")) return;
  if (form.dataset.submitting === "true") { event.preventDefault(); return; }
  form.dataset.submitting = "true";
  for (const button of form.querySelectorAll("button[type=submit]")) button.setAttribute("aria-disabled", "true");
});
window.addEventListener("pageshow", () => {
  for (const form of document.querySelectorAll("form[data-submit-once]")) {
    delete form.dataset.submitting;
    for (const button of form.querySelectorAll("button[type=submit]")) button.removeAttribute("aria-disabled");
  }
});

// The menu's groups (details.menu): one open at a time; Escape or a click elsewhere closes.
document.addEventListener("toggle", (event) => {
  const opened = event.target;
  if (!(opened instanceof HTMLDetailsElement) || !opened.classList.contains("menu") || !opened.open) return;
  for (const other of document.querySelectorAll("details.menu[open]")) if (other !== opened) other.open = false;
}, true);
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  for (const menu of document.querySelectorAll("details.menu[open]")) {
    menu.open = false;
    menu.querySelector("summary")?.focus();
  }
});
document.addEventListener("click", (event) => {
  for (const menu of document.querySelectorAll("details.menu[open]")) {
    if (!menu.contains(event.target)) menu.open = false;
  }
});
// Idle timeout (the server ends the session; see apps/accounts/middleware.py): warn a minute
// before, let the clerk continue with one key press, and leave the page when time is up so
// that no personal data stays on an unattended screen.
(() => {
  const body = document.body;
  const timeout = Number(body.dataset.idleTimeout || 0);
  if (!timeout) return;
  const warning = Number(body.dataset.idleWarning || 60);
  const dialog = document.getElementById("idle-warning");
  const countdown = dialog?.querySelector("[data-idle-countdown]");
  let deadline = Date.now() + Number(body.dataset.idleRemaining || timeout) * 1000;
  let lastPing = Date.now();
  let active = false;

  const keepalive = async () => {
    lastPing = Date.now();
    active = false;
    const response = await fetch(body.dataset.keepaliveUrl, {
      method: "POST",
      headers: { "X-CSRFToken": body.dataset.csrfToken },
      credentials: "same-origin",
    });
    if (response.ok) deadline = Date.now() + timeout * 1000;
    else window.location.reload();
  };

  for (const type of ["keydown", "pointerdown"]) {
    document.addEventListener(type, () => { active = true; }, { passive: true });
  }
  dialog?.querySelector("[data-idle-continue]")?.addEventListener("click", () => {
    dialog.close();
    keepalive();
  });

  // Other requests (htmx) may have renewed the session: ask before warning or leaving.
  let checking = false;
  const check = async () => {
    checking = true;
    try {
      const response = await fetch(body.dataset.statusUrl, { credentials: "same-origin" });
      const json = response.ok && (response.headers.get("content-type") || "").includes("json");
      const remaining = json ? (await response.json()).remaining : 0;
      deadline = Date.now() + remaining * 1000;
      return remaining;
    } finally {
      checking = false;
    }
  };

  let confirmed = 0;
  setInterval(async () => {
    if (checking) return;
    let left = deadline - Date.now();
    if (left <= warning * 1000 && Date.now() - confirmed > 5_000) {
      confirmed = Date.now();
      left = (await check()) * 1000;
    }
    if (left <= 0) {
      // The server has ended the session: reloading shows the sign-in page and its message.
      window.location.reload();
      return;
    }
    if (left <= warning * 1000) {
      if (countdown) countdown.textContent = String(Math.ceil(left / 1000));
      if (dialog && !dialog.open) dialog.showModal();
      return;
    }
    if (dialog?.open) dialog.close();
    // Typing in a long form sends no request: tell the server the clerk is there.
    if (active && Date.now() - lastPing > 60_000) keepalive();
  }, 1000);
})();

// R-AUD-3: a revealed My Number is shown for a limited time, then masked again.
(() => {
  const arm = (root) => {
    for (const box of root.querySelectorAll?.("[data-reveal-seconds]:not([data-armed])") || []) {
      box.dataset.armed = "1";
      let left = Number(box.dataset.revealSeconds);
      const counter = box.querySelector("[data-reveal-countdown]");
      const timer = setInterval(() => {
        left -= 1;
        if (counter) counter.textContent = String(Math.max(left, 0));
        if (left > 0) return;
        clearInterval(timer);
        const number = box.querySelector("[data-revealed]");
        if (number) number.textContent = box.dataset.masked;
        const note = box.querySelector("[data-reveal-note]");
        if (note) note.textContent = "表示時間が過ぎたため、番号を伏せました。";
      }, 1000);
    }
  };
  arm(document);
  document.addEventListener("htmx:load", (event) => arm(event.detail.elt.parentElement || document));
})();

// A form that asks before it submits (data-confirm): no inline handlers under the CSP.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
}, true);
