// The handover interlock (R-HND-2): every read at this counter reaches the page through the
// live panel's event stream; the page asks the server to judge it against the serial bound at
// pre-handover setup and shows the answer (green with the name, or red with both names).
(() => {
  let panel = document.getElementById("handover-interlock");
  if (!panel || !("EventSource" in window)) return;
  const csrf = document.querySelector("input[name=csrfmiddlewaretoken]");
  const checkUrl = panel.dataset.checkUrl;
  const check = async () => {
    const response = await fetch(checkUrl, {
      method: "POST",
      headers: { "X-CSRFToken": csrf ? csrf.value : "", "HX-Request": "true" },
      credentials: "same-origin",
    });
    if (!response.ok) return;
    const html = await response.text();
    const holder = document.createElement("div");
    holder.innerHTML = html;
    const fresh = holder.querySelector("#handover-interlock");
    if (fresh) {
      panel.replaceWith(fresh);
      panel = fresh;
    }
  };
  let lastId = "0";
  const connect = () => {
    const source = new EventSource(`${panel.dataset.streamUrl}?after=${encodeURIComponent(lastId)}`);
    source.onopen = () => { document.body.dataset.interlockConnected = "1"; };
    source.addEventListener("read", (event) => {
      lastId = event.lastEventId || lastId;
      check();
    });
    source.onmessage = (event) => { lastId = event.lastEventId || lastId; };
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) setTimeout(connect, 3000);
    };
  };
  check();
  connect();
})();
