// The page served at "/": one self-contained HTML document (inline CSS and JavaScript, no
// external resources, no framework) that fetches /status on load and every 5 s and renders,
// per watched name, the expected answer, the propagation ratio and a SPLIT-BRAIN badge; then
// a matrix with a row per resolver and a column per "name qtype", each cell showing the
// verdict (class verdict-<verdict>, with data-resolver and data-name attributes for tests)
// and the answer, TTL and latency; then the last events, newest first. Every piece of data is
// inserted with textContent, never as HTML.
#include "exporters/status_page.h"

namespace ddnswatch::exporters {

const std::string& status_page_html() {
  static const std::string html = R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ddnswatch</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; margin: 0 0 .3em; }
h2 { font-size: 1.1em; margin: 1.2em 0 .4em; }
table { border-collapse: collapse; }
th, td { border: 1px solid #ccc; padding: .3em .6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
small { display: block; color: #555; font-size: .8em; }
.verdict { font-weight: bold; }
.verdict-match { background: #d8f5d8; color: #176b17; }
.verdict-stale { background: #fdecc8; color: #8a5a00; }
.verdict-foreign { background: #fbd5d5; color: #b00000; }
.verdict-empty, .verdict-nxdomain { background: #e6e6e6; color: #555; }
.verdict-error { background: #e8c4c4; color: #6b0000; }
.badge { display: inline-block; margin-left: .5em; padding: 0 .4em; border-radius: 3px;
  background: #b00000; color: #fff; font-size: .8em; font-weight: bold; }
.name { margin: .2em 0; }
#error { color: #b00000; font-weight: bold; }
#updated, .muted { color: #777; }
</style></head>
<body>
<h1>ddnswatch</h1>
<p><a href="/status">/status</a> &middot; <a href="/metrics">/metrics</a>
  <span id="updated"></span></p>
<p id="error" hidden></p>
<div id="names"></div>
<div id="matrix"></div>
<h2>Events</h2>
<table id="events"><thead><tr><th>time</th><th>name</th><th>event</th><th>resolver</th>
  <th>detail</th></tr></thead><tbody></tbody></table>
<script>
"use strict";
function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}
function list(a) {
  return Array.isArray(a) ? (a.length ? a.join(", ") : "(none)") : "(unknown)";
}
function renderNames(names) {
  const box = document.getElementById("names");
  box.replaceChildren();
  for (const n of names) {
    const p = el("p", null, "name");
    p.appendChild(el("strong", n.name + " " + n.qtype));
    p.appendChild(document.createTextNode(" expected (" + n.expect + "): " + list(n.expected)));
    const s = n.summary;
    if (s) {
      const ratio = Math.round((Number(s.propagation_ratio) || 0) * 100);
      p.appendChild(document.createTextNode(" \u2014 propagated " + ratio + "%" +
          (s.converged ? ", converged" : "") + (s.change_pending ? ", change pending" : "")));
      if (s.split_brain) p.appendChild(el("span", "SPLIT-BRAIN", "badge split-brain"));
    }
    box.appendChild(p);
  }
}
function renderMatrix(names) {
  const box = document.getElementById("matrix");
  box.replaceChildren();
  const resolvers = [];
  for (const n of names) {
    for (const r of n.resolvers || []) {
      if (!resolvers.includes(r.resolver)) resolvers.push(r.resolver);
    }
  }
  if (!resolvers.length) {
    box.appendChild(el("p", "waiting for the first check", "muted waiting"));
    return;
  }
  const table = el("table");
  table.id = "verdicts";
  const head = el("tr");
  head.appendChild(el("th", "resolver"));
  for (const n of names) head.appendChild(el("th", n.name + " " + n.qtype));
  table.appendChild(el("thead")).appendChild(head);
  const body = table.appendChild(el("tbody"));
  for (const res of resolvers) {
    const tr = el("tr");
    tr.appendChild(el("th", res));
    for (const n of names) {
      const key = n.name + " " + n.qtype;
      const r = (n.resolvers || []).find((x) => x.resolver === res);
      const td = el("td");
      td.dataset.resolver = res;
      td.dataset.name = key;
      if (!r) {
        td.textContent = "\u2014";
        td.className = "muted";
      } else {
        td.className = "verdict verdict-" + r.verdict;
        td.appendChild(el("span", r.verdict, "verdict-text"));
        const latency = Number(r.latency_ms).toFixed(1) + " ms";
        const detail = list(r.answer) + " \u00b7 TTL " + r.ttl + " s \u00b7 " + latency;
        td.appendChild(el("small", detail));
        td.title = "outcome " + r.outcome + "\nanswer " + list(r.answer) + "\nTTL " + r.ttl +
            " s\nlatency " + latency +
            (r.lag_seconds !== null && r.lag_seconds !== undefined
                 ? "\nlag " + Number(r.lag_seconds).toFixed(1) + " s" : "");
      }
      tr.appendChild(td);
    }
    body.appendChild(tr);
  }
  box.appendChild(table);
}
function renderEvents(events) {
  const body = document.querySelector("#events tbody");
  body.replaceChildren();
  for (const e of events.slice().reverse()) {
    const tr = el("tr");
    tr.appendChild(el("td", e.time));
    tr.appendChild(el("td", e.name + " " + e.qtype));
    tr.appendChild(el("td", e.event));
    tr.appendChild(el("td", e.resolver));
    tr.appendChild(el("td", e.detail));
    body.appendChild(tr);
  }
  if (!events.length) {
    const tr = el("tr");
    const td = tr.appendChild(el("td", "no events yet", "muted"));
    td.colSpan = 5;
    body.appendChild(tr);
  }
}
async function refresh() {
  const error = document.getElementById("error");
  try {
    const response = await fetch("/status", {cache: "no-store"});
    if (!response.ok) throw new Error("HTTP " + response.status);
    const doc = await response.json();
    const names = doc.names || [];
    renderNames(names);
    renderMatrix(names);
    renderEvents(doc.events || []);
    error.hidden = true;
    error.textContent = "";
    document.getElementById("updated").textContent =
        " \u00b7 updated " + new Date().toISOString();
  } catch (e) {
    error.textContent = "/status failed: " + (e && e.message ? e.message : e);
    error.hidden = false;
  }
}
refresh();
setInterval(refresh, 5000);
</script>
</body>
</html>
)html";
  return html;
}

}  // namespace ddnswatch::exporters
