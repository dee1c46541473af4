// berth dashboard: keeps the server-rendered page current from the
// server's event streams (fed by a watch on the API server). The server
// sends HTML it rendered; this script only puts it in place, filters the
// overview, streams logs on request and sends the two actions.
(function () {
  "use strict";
  const $ = (sel, el) => (el || document).querySelector(sel);
  const $$ = (sel, el) => Array.from((el || document).querySelectorAll(sel));
  const enc = encodeURIComponent;
  const page = document.body.dataset.page;
  const envName = document.body.dataset.env;

  function setConn(state, text) {
    const c = $("#conn");
    c.dataset.state = state;
    c.textContent = text;
  }

  // live keeps one event stream open. EventSource reconnects by itself
  // after a drop; if the browser gives up, we reopen with a growing delay.
  // Every stream starts with a full snapshot, so nothing is missed.
  function live(url, handlers) {
    let delay = 1000;
    let es;
    function open() {
      es = new EventSource(url);
      es.onopen = () => { delay = 1000; setConn("live", "live"); };
      es.onerror = () => {
        setConn("down", "reconnecting");
        if (es.readyState === EventSource.CLOSED) {
          setTimeout(open, delay);
          delay = Math.min(delay * 2, 30000);
        }
      };
      for (const [name, fn] of Object.entries(handlers)) {
        es.addEventListener(name, (e) => fn(e.data, es));
      }
    }
    open();
  }

  function putParts(msg) {
    for (const [id, html] of Object.entries(msg.parts || {})) {
      const el = document.getElementById(id);
      if (el) el.innerHTML = html;
    }
    for (const [id, text] of Object.entries(msg.text || {})) {
      const el = document.getElementById(id);
      if (el && el.textContent !== text) el.textContent = text;
    }
  }

  // Ages are re-counted from the timestamps next to them: local clock
  // only, no request.
  function age(ms) {
    const s = Math.max(0, Math.floor((Date.now() - ms) / 1000));
    if (s < 60) return s + "s";
    if (s < 3600) return Math.floor(s / 60) + "m";
    if (s < 172800) return Math.floor(s / 3600) + "h";
    return Math.floor(s / 86400) + "d";
  }
  setInterval(() => {
    for (const el of $$("[data-ts]")) {
      if (el.dataset.ts) el.textContent = age(Date.parse(el.dataset.ts));
    }
  }, 5000);

  function fragment(html) {
    const t = document.createElement("template");
    t.innerHTML = html.trim();
    return t.content.firstElementChild;
  }

  async function act(url, what) {
    const r = await fetch(url, { method: "POST", headers: { "X-Berth-Dashboard": "1" } });
    if (!r.ok) {
      alert(what + " failed: " + (await r.text()));
      return false;
    }
    return true;
  }

  function overview() {
    const rows = $("#rows");
    const filter = $("#filter");
    filter.value = new URLSearchParams(location.search).get("q") || "";

    // A filter is words that must all match: key=value (or key) matches
    // a label, anything else a part of the name or of a label.
    function matches(tr, words) {
      const name = tr.dataset.name.toLowerCase();
      const labels = (tr.dataset.labels || "").toLowerCase().split(" ").filter(Boolean);
      return words.every((w) => {
        if (w.includes("=")) return labels.includes(w);
        return name.includes(w) || labels.some((l) => l.includes(w));
      });
    }
    function apply() {
      const q = filter.value.trim().toLowerCase();
      const words = q.split(/\s+/).filter(Boolean);
      let shown = 0;
      const all = Array.from(rows.children);
      for (const tr of all) {
        tr.hidden = !matches(tr, words);
        if (!tr.hidden) shown++;
      }
      $("#shown").textContent = q ? shown + " of " + all.length + " shown" : "";
      $("#empty").hidden = all.length > 0;
      const url = q ? "?q=" + enc(filter.value.trim()) : location.pathname;
      history.replaceState(null, "", url);
    }
    function upsert(r) {
      const old = $$("tr", rows).find((tr) => tr.dataset.name === r.name);
      if (!r.html) {
        if (old) old.remove();
        return;
      }
      const tr = fragment(r.html);
      if (old) {
        old.replaceWith(tr);
        return;
      }
      const next = Array.from(rows.children).find((x) => x.dataset.name > r.name);
      rows.insertBefore(tr, next || null);
    }
    filter.addEventListener("input", apply);
    live("/events/overview", {
      rows(data) {
        const msg = JSON.parse(data);
        if (msg.reset) {
          const keep = new Set(msg.rows.map((r) => r.name));
          for (const tr of Array.from(rows.children)) {
            if (!keep.has(tr.dataset.name)) tr.remove();
          }
        }
        msg.rows.forEach(upsert);
        apply();
      },
      summary(html) { $("#summary").innerHTML = html; },
    });
    apply();
  }

  function envPage() {
    const base = "/env/" + enc(envName);
    live("/events/env/" + enc(envName), {
      env(data) { putParts(JSON.parse(data)); },
      gone(_, es) {
        es.close();
        setConn("live", "deleted");
        const g = $("#gone");
        g.hidden = false;
        g.textContent = "Environment " + envName + " is gone. Back to the Environments…";
        $$("button").forEach((b) => { b.disabled = true; });
        setTimeout(() => location.assign("/"), 1500);
      },
    });

    $("#delete").addEventListener("click", async (e) => {
      const msg = "Delete Environment " + envName + "?\n\nberth stops its containers gracefully and removes them, " +
        "its network and its volumes (unless the spec retains them).";
      if (!confirm(msg)) return;
      e.target.disabled = true;
      if (await act(base + "/delete", "Delete")) e.target.textContent = "Deleting…";
      else e.target.disabled = false;
    });

    document.addEventListener("click", async (e) => {
      const b = e.target.closest("button.restart");
      if (!b) return;
      const svc = b.dataset.service;
      if (!confirm("Restart " + svc + "?\n\nberth stops its container with its grace period and starts a new one.")) return;
      b.disabled = true;
      if (await act(base + "/restart/" + enc(svc), "Restart")) b.textContent = "Restarting…";
      else b.disabled = false;
    });

    $("#memory-read").addEventListener("click", async (e) => {
      e.target.disabled = true;
      try {
        const r = await fetch(base + "/memory");
        $("#env-memory").innerHTML = await r.text();
      } finally {
        e.target.disabled = false;
      }
    });

    // Logs: one stream at a time, for the selected service. A stream that
    // drops is not reopened on its own (it would replay the tail); picking
    // the service again does.
    const out = $("#log-out");
    const state = $("#log-state");
    let logs = null;
    let service = null;
    function append(text, cls) {
      const stick = out.scrollTop + out.clientHeight >= out.scrollHeight - 4;
      const span = document.createElement("span");
      if (cls) span.className = cls;
      span.textContent = text + "\n";
      out.appendChild(span);
      while (out.childNodes.length > 2000) out.removeChild(out.firstChild);
      if (stick) out.scrollTop = out.scrollHeight;
    }
    function openLogs() {
      if (logs) logs.close();
      $$("#logs [role=tab]").forEach((b) => b.setAttribute("aria-selected", String(b.dataset.service === service)));
      out.textContent = "";
      const follow = $("#log-follow").checked;
      const es = new EventSource(base + "/logs/" + enc(service) + "?tail=" + enc($("#log-tail").value) + "&follow=" + (follow ? "1" : "0"));
      logs = es;
      state.textContent = "connecting";
      es.addEventListener("meta", (e) => { state.textContent = (follow ? "following " : "") + "container " + e.data; });
      es.addEventListener("out", (e) => append(e.data, ""));
      es.addEventListener("err", (e) => append(e.data, "e"));
      es.addEventListener("end", (e) => {
        es.close();
        append("— " + e.data, "sys");
        state.textContent = e.data;
      });
      es.onerror = () => {
        if (es.readyState === EventSource.CONNECTING) {
          es.close();
          state.textContent = "disconnected; pick the service to reconnect";
        }
      };
    }
    $$("#logs [role=tab]").forEach((b) => b.addEventListener("click", () => { service = b.dataset.service; openLogs(); }));
    $("#log-tail").addEventListener("change", () => { if (service) openLogs(); });
    $("#log-follow").addEventListener("change", () => { if (service) openLogs(); });
  }

  function enginePage() {
    live("/events/engine", { engine(data) { putParts(JSON.parse(data)); } });
  }

  if (page === "overview") overview();
  else if (page === "env") envPage();
  else if (page === "engine") enginePage();
})();
