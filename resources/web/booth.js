// Booth's own pages (the phone remote, the OBS overlay) talk to the control API through this.
//
// - The token comes from the page address's #fragment (the QR code carries it): a fragment is never
//   sent over the network, never logged, and never in a Referer. Kept for this tab in sessionStorage.
// - Every action is a POST with a new Idempotency-Key; a lost answer is retried with the SAME key,
//   so a tap is counted once however often the Wi-Fi drops.
// - The event stream: a snapshot, then numbered deltas. A gap in the numbers or a lost connection
//   reconnects with the last number seen (Last-Event-ID) and Booth sends what was missed (or a fresh
//   snapshot), so the page is never out of step. The countdown runs here, from the absolute deadline
//   and the server's clock, so a late message never makes the clock jump.
"use strict";
window.Booth = (function () {
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get("token")) sessionStorage.setItem("booth-token", fragment.get("token"));
  const token = sessionStorage.getItem("booth-token") || "";

  function sleep(ms) { return new Promise((done) => setTimeout(done, ms)); }

  function newKey() {  // crypto.randomUUID needs https; this works on a LAN address too
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  async function call(path, body) {
    const key = newKey();
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const response = await fetch(path, {
          method: "POST",
          cache: "no-store",
          headers: {"Authorization": "Bearer " + token, "Content-Type": "application/json", "Idempotency-Key": key},
          body: JSON.stringify(body || {}),
        });
        const answer = await response.json().catch(() => ({ok: false, error: "HTTP " + response.status}));
        if (response.status === 504) { await sleep(400 * (attempt + 1)); continue; }  // not on disk yet: ask again
        return Object.assign({status: response.status}, answer);
      } catch (lost) {
        await sleep(400 * (attempt + 1));  // no answer: the same key again, it cannot sell twice
      }
    }
    return {status: 0, ok: false, error: "Booth does not answer."};
  }

  function watch(onState, onStatus) {
    let state = null;
    let last = null;
    let offset = 0;  // server clock − this device's clock, seconds
    let backoff = 500;

    function take(message) {
      if (message.type === "snapshot") {
        state = message.state;
      } else if (!last || message.stream !== last.stream || message.seq !== last.seq + 1) {
        throw new Error("gap");  // reconnect: Booth sends exactly what was missed
      } else if (message.type === "drop") {
        state = Object.assign({}, state, {drop: message.drop});
      } else {
        state = message.state;
      }
      if (message.state && message.state.server_wall) offset = message.state.server_wall - Date.now() / 1000;
      last = {stream: message.stream, seq: message.seq};
      onState(state, offset, last);
    }

    async function connect() {
      const headers = {"Authorization": "Bearer " + token};
      if (last) headers["Last-Event-ID"] = last.stream + ":" + last.seq;
      let reader = null;
      try {
        const response = await fetch("/events", {headers: headers, cache: "no-store"});
        if (response.status === 401) {
          onStatus("This link's token is not valid: scan the QR code in the tech-lead view again.");
          setTimeout(connect, 5000);
          return;
        }
        if (!response.ok || !response.body) throw new Error("HTTP " + response.status);
        onStatus("");
        backoff = 500;
        reader = response.body.getReader();
        const decoder = new TextDecoder();
        let buffer = "";
        for (;;) {
          const chunk = await reader.read();
          if (chunk.done) break;
          buffer += decoder.decode(chunk.value, {stream: true});
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5)).join("\n");
            if (data) take(JSON.parse(data));
          }
        }
      } catch (lost) {
        if (reader) reader.cancel().catch(() => {});
      }
      onStatus("Reconnecting to Booth…");
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 5000);
    }
    connect();
  }

  // What the burned-in overlay says (booth/core/overlay.py), computed the same way here.
  const WHITE = "#ffffff", AMBER = "#ffb000", RED = "#ff3b30", GREY = "#aaaaaa";
  const LEVEL_COLOURS = {"plenty": WHITE, "low": AMBER, "critical": RED, "sold out": RED};

  function remaining(drop, offset) {
    if (drop.phase === "ended") return 0;
    if (drop.deadline_wall === null) return drop.timer_seconds;
    return Math.max(0, drop.deadline_wall - (Date.now() / 1000 + offset));
  }

  function clock(seconds) {
    const whole = Math.max(0, Math.ceil(seconds - 1e-9));
    return String(Math.floor(whole / 60)).padStart(2, "0") + ":" + String(whole % 60).padStart(2, "0");
  }

  function overlay(state, offset) {
    const drop = state.drop;
    const sku = drop.skus[drop.featured];
    const left = remaining(drop, offset);
    let label = "", colour = WHITE;
    if (drop.deadline_wall === null) label = "STARTS SOON";
    else if (drop.phase === "ended" || left <= 0) { label = "OFFER ENDED"; colour = GREY; }
    else if (left <= drop.last_call_seconds) { label = "LAST CALL"; colour = AMBER; }
    return {
      product: sku.name,
      stock: sku.left <= 0 ? "SOLD OUT" : sku.left + " LEFT",
      stockColour: LEVEL_COLOURS[sku.level] || WHITE,
      soldOut: sku.left <= 0,
      clock: clock(left),
      label: label,
      timerColour: colour,
    };
  }

  return {token: token, call: call, watch: watch, overlay: overlay};
})();
