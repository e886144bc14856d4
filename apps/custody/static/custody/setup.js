// Pre-handover setup (R-HND-1): a new read at this counter reloads the page, which then shows
// the read against the next card of the lot (bind with Enter, or refused in red).
(() => {
  const panel = document.getElementById("setup-panel");
  if (!panel || !("EventSource" in window)) return;
  const shown = panel.dataset.readId || "0";
  const source = new EventSource(`${panel.dataset.streamUrl}?after=${encodeURIComponent(shown)}`);
  source.onopen = () => { panel.dataset.connected = "1"; };
  source.addEventListener("read", (event) => {
    if (event.lastEventId && event.lastEventId !== shown) {
      source.close();
      window.location.reload();
    }
  });
})();
