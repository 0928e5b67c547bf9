// The dashboard's script (hand-written, no framework): API calls with the CSRF token,
// hover-to-play previews, the review queue's keys and bulk actions, live updates over SSE.
"use strict";
(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;

  function toast(text) {
    const t = document.getElementById("toast");
    t.textContent = text; t.classList.add("show");
    clearTimeout(toast.timer); toast.timer = setTimeout(() => t.classList.remove("show"), 2500);
  }

  async function api(method, url, body) {
    const headers = { "X-CSRF-Token": csrf };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const resp = await fetch(url, { method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body) });
    let data = {};
    try { data = await resp.json(); } catch (e) { /* an empty body */ }
    if (!resp.ok && resp.status !== 409) throw new Error(data.error || resp.statusText);
    return data;
  }

  // Any element showing a clip's status or star follows the clip, wherever the change came from.
  function showClip(clip) {
    document.querySelectorAll(`[data-status-for="${clip.id}"]`).forEach((el) => {
      el.textContent = clip.status; el.className = `badge ${clip.status}`;
    });
    document.querySelectorAll(`[data-fav-for="${clip.id}"]`).forEach((el) => {
      el.textContent = clip.favorite ? (el.closest(".clip") ? "★ favorite" : "★") : "";
    });
    const title = document.getElementById("clip-title");
    if (title && clip.title && title.closest(`[data-clip="${clip.id}"]`)) title.textContent = clip.title;
  }

  async function act(action, id) {
    const url = `/api/clips/${id}`;
    const data = action === "delete" ? await api("DELETE", url) : await api("POST", `${url}/${action}`);
    showClip(data.clip);
    if (data.publish) { showPublish(data.publish); toast(data.message); return data; }
    toast(data.changed ? `${data.clip.status}${data.clip.favorite ? " ★" : ""}` : data.message);
    return data;
  }

  // The clip page's publish jobs, as the review card words them.
  function showPublish(jobs) {
    const list = document.getElementById("publish-jobs");
    if (!list) return;
    list.replaceChildren(...jobs.map((j) => {
      const li = document.createElement("li");
      li.textContent = `YouTube (${j.variant}): ${j.text}`;
      return li;
    }));
  }

  document.addEventListener("click", async (ev) => {
    const button = ev.target.closest("[data-action]");
    if (button) {
      ev.preventDefault();
      if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
      try { await act(button.dataset.action, button.dataset.clip); } catch (e) { toast(e.message); }
      return;
    }
    const bulk = ev.target.closest("[data-bulk]");
    if (bulk) {
      const ids = [...document.querySelectorAll(".qitem .pick:checked")].map((c) => +c.closest(".qitem").dataset.clip);
      if (!ids.length) { toast("Select clips first (X)"); return; }
      try {
        const data = await api("POST", "/api/review/bulk", { action: bulk.dataset.bulk, ids });
        toast(`${data.changed.length} changed`); setTimeout(() => location.reload(), 600);
      } catch (e) { toast(e.message); }
    }
  });

  document.addEventListener("submit", async (ev) => {
    const form = ev.target.closest("form.rename");
    if (!form) return;
    ev.preventDefault();
    try {
      const data = await api("PATCH", `/api/clips/${form.dataset.clip}`, { title: form.title.value });
      showClip(data.clip); toast("Renamed");
    } catch (e) { toast(e.message); }
  });

  // Hover (or touch) plays the muted preview; leaving stops and rewinds it.
  function wirePreview(video) {
    const start = () => { const p = video.play(); if (p) p.catch(() => {}); };
    const stop = () => { video.pause(); video.currentTime = 0; };
    const host = video.closest(".card, .qitem") || video;
    host.addEventListener("mouseenter", start); host.addEventListener("mouseleave", stop);
    host.addEventListener("touchstart", start, { passive: true });
  }
  document.querySelectorAll("video.hover-preview").forEach(wirePreview);

  // Review queue: J/K move, A approve, R reject, X select.
  const queue = document.getElementById("queue");
  if (queue) {
    const items = () => [...queue.querySelectorAll(".qitem")];
    const current = () => queue.querySelector(".qitem.current");
    function move(step) {
      const list = items(); if (!list.length) return;
      const i = Math.max(0, Math.min(list.length - 1, list.indexOf(current()) + step));
      list.forEach((el) => el.classList.remove("current"));
      list[i].classList.add("current"); list[i].scrollIntoView({ block: "nearest" });
    }
    document.addEventListener("keydown", async (ev) => {
      if (ev.target.closest("input, textarea, select") || ev.ctrlKey || ev.metaKey || ev.altKey) return;
      const key = ev.key.toLowerCase(); const item = current();
      if (key === "j") move(1); else if (key === "k") move(-1);
      else if (item && key === "x") { const box = item.querySelector(".pick"); box.checked = !box.checked; }
      else if (item && (key === "a" || key === "r")) {
        try { await act(key === "a" ? "approve" : "reject", item.dataset.clip); move(1); } catch (e) { toast(e.message); }
      } else return;
      ev.preventDefault();
    });
  }

  // Live updates: streamer cards every 2 s, clip changes (web or Discord) at once.
  if (document.querySelector(".top nav") && window.EventSource) {
    const source = new EventSource("/events");
    window.addEventListener("pagehide", () => source.close());
    source.addEventListener("open", () => { document.body.dataset.stream = "open"; });
    source.addEventListener("clip", (ev) => showClip(JSON.parse(ev.data).clip));
    source.addEventListener("moment", (ev) => {
      const m = JSON.parse(ev.data).moment; const list = document.getElementById("recent");
      if (!list || m.revision > 0) return;  // an upgrade of a moment already listed
      const item = document.createElement("li"); const a = document.createElement("a");
      a.href = `/clips/${m.clip_id}`; a.textContent = `${m.at} · ${m.streamer} · ${m.triggers.join(" + ")}`;
      item.appendChild(a); list.prepend(item);
      list.querySelectorAll("li.empty").forEach((el) => el.remove());
      while (list.children.length > 20) list.lastElementChild.remove();
    });
    source.addEventListener("live", (ev) => {
      const data = JSON.parse(ev.data); const box = document.getElementById("streamers");
      if (box) {  // someone watched or unwatched: re-render the page (at most every 10 s)
        const shown = [...box.querySelectorAll(".streamer")].map((c) => c.dataset.streamer).sort().join();
        const now = data.map((s) => s.streamer).sort().join();
        const last = +(sessionStorage.getItem("live-reload") || 0);
        if (shown !== now && Date.now() - last > 10000) {
          sessionStorage.setItem("live-reload", String(Date.now())); location.reload(); return;
        }
      }
      for (const s of data) {
        const card = document.querySelector(`.streamer[data-streamer="${CSS.escape(s.streamer)}"]`);
        if (!card) continue;
        const f = (name) => card.querySelector(`[data-f="${name}"]`);
        f("live").textContent = s.live ? "LIVE" : "offline"; f("live").className = `badge ${s.live ? "live" : "offline"}`;
        f("viewers").textContent = s.viewers ?? "–";
        f("velocity").textContent = s.velocity.toFixed(1); f("normal").textContent = s.normal.toFixed(1);
        f("threshold").textContent = s.threshold.toFixed(1);
        f("meter").style.width = `${Math.min(100, s.threshold ? (100 * s.velocity) / s.threshold : 0)}%`;
        const table = f("bars"); table.textContent = "";
        for (const [name, value] of s.bars) {
          const row = table.insertRow(); const th = document.createElement("th");
          th.textContent = name; row.appendChild(th); row.insertCell().textContent = value;
        }
      }
    });
  }
})();
