// The clerk's live card-read panel: server-sent events from /counters/live/stream/.
// Each `read` event carries the panel's HTML (rendered and escaped by the server). The stream
// ends every half minute by design; EventSource reconnects and sends Last-Event-ID, so the
// server resumes after the last read shown. If the stream is refused (signed out, no counter)
// the browser gives up; we retry a few seconds later from the last id we saw.
(() => {
  const panel = document.getElementById("card-read-panel");
  if (!panel || !("EventSource" in window)) return;
  const body = panel.querySelector("[data-read-body]");
  const status = panel.querySelector("[data-stream-status]");
  let lastId = panel.dataset.after || "0";
  let source = null;
  let retry = null;

  const connect = () => {
    source = new EventSource(`${panel.dataset.streamUrl}?after=${encodeURIComponent(lastId)}`);
    source.onopen = () => {
      panel.dataset.connected = "1";
      status.textContent = "待機中";
    };
    source.addEventListener("read", (event) => {
      body.innerHTML = event.data;
      lastId = event.lastEventId || lastId;
      panel.dataset.readId = lastId;
      // Read by the end-to-end test and the benchmark: when the resident reached the screen.
      panel.dataset.shownAt = String(Date.now());
      panel.classList.add("fresh");
      setTimeout(() => panel.classList.remove("fresh"), 1500);
    });
    source.onmessage = (event) => { lastId = event.lastEventId || lastId; };
    source.onerror = () => {
      panel.dataset.connected = "0";
      if (source.readyState === EventSource.CLOSED) {
        status.textContent = "接続が切れました。再接続します…";
        clearTimeout(retry);
        retry = setTimeout(connect, 3000);
      } else {
        status.textContent = "再接続しています…";
      }
    };
  };
  connect();
})();
