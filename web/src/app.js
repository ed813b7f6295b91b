// The console page: the domains with live graphs, their lifecycle buttons,
// a create form, and each domain's console in xterm.js over a WebSocket.
// Everything goes through xenkvm-web's JSON API (docs/api.md); the session
// cookie authenticates, and state-changing calls carry the CSRF token.
import { Terminal } from "@xterm/xterm";
import { FitAddon } from "@xterm/addon-fit";
import "@xterm/xterm/css/xterm.css";

const POLL_MS = 1000;
const HISTORY = 60;            // graph points kept per domain

const $ = (id) => document.getElementById(id);
let csrf = "";
let previous = null;           // the last /api/top sample
const history = new Map();     // domid -> {cpu: [], disk: [], net: []}
let consoleSession = null;

function showError(msg) {
  $("error").textContent = msg || "";
}

async function api(path, body) {
  const opts = body === undefined ? {} : {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify(body),
  };
  const r = await fetch(path, opts);
  if (r.status === 401) {
    location.replace("/login");
    throw new Error("not logged in");
  }
  const data = await r.json().catch(() => ({}));
  if (!r.ok) {
    const err = new Error(data.error || `${path}: HTTP ${r.status}`);
    err.details = data;
    throw err;
  }
  return data;
}

function human(bytes) {
  const units = ["B", "KiB", "MiB", "GiB"];
  let i = 0;
  while (bytes >= 1024 && i < units.length - 1) { bytes /= 1024; i++; }
  return `${bytes.toFixed(i ? 1 : 0)} ${units[i]}`;
}

// A sparkline of values (newest last) scaled to max (or the values' own).
function draw(canvas, values, max, color) {
  const ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height;
  ctx.clearRect(0, 0, w, h);
  ctx.fillStyle = "#f0f2f6";
  ctx.fillRect(0, 0, w, h);
  const top = Math.max(max || 0, ...values, 1e-9);
  ctx.beginPath();
  values.forEach((v, i) => {
    const x = w - (values.length - 1 - i) * (w / (HISTORY - 1));
    const y = h - 1 - (v / top) * (h - 2);
    if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
  });
  ctx.strokeStyle = color;
  ctx.lineWidth = 1.5;
  ctx.stroke();
}

function graphCell(kind) {
  const td = document.createElement("td");
  const c = document.createElement("canvas");
  c.width = 120;
  c.height = 28;
  c.className = `graph-${kind}`;
  const label = document.createElement("span");
  label.className = "rate";
  td.append(c, label);
  return td;
}

const ACTIONS = [
  ["console", "Console"], ["pause", "Pause"], ["unpause", "Unpause"],
  ["shutdown", "Shut down"], ["reboot", "Reboot"], ["destroy", "Destroy"],
];

function makeRow(d) {
  const tr = document.createElement("tr");
  tr.dataset.domain = d.name;
  for (const cls of ["name", "domid num", "state", "memory num", "vcpus num"]) {
    const td = document.createElement("td");
    td.className = cls;
    tr.append(td);
  }
  tr.append(graphCell("cpu"), graphCell("disk"), graphCell("net"));
  const actions = document.createElement("td");
  for (const [act, label] of ACTIONS) {
    const b = document.createElement("button");
    b.type = "button";
    b.dataset.action = act;
    b.textContent = label;
    if (act === "destroy") b.className = "danger";
    b.addEventListener("click", () => act === "console"
      ? openConsole(tr.dataset.domain) : lifecycle(tr.dataset.domain, act));
    actions.append(b);
  }
  tr.append(actions);
  return tr;
}

function rates(d, dt) {
  const before = previous && previous.domains.find((p) => p.domid === d.domid);
  if (!before || dt <= 0) return { cpu: 0, disk: 0, net: 0 };
  const sect = (x) => x.vbd_rsect + x.vbd_wsect;
  const bytes = (x) => x.net_tx_bytes + x.net_rx_bytes;
  return {
    cpu: Math.max(0, (d.cpu_time_ns - before.cpu_time_ns) / dt * 100),
    disk: Math.max(0, (sect(d) - sect(before)) * 512 / (dt / 1e9)),
    net: Math.max(0, (bytes(d) - bytes(before)) / (dt / 1e9)),
  };
}

function render(top) {
  const tbody = document.querySelector("#domains tbody");
  const dt = previous ? top.time_ns - previous.time_ns : 0;
  const seen = new Set();
  for (const d of top.domains) {
    seen.add(String(d.domid));
    let tr = tbody.querySelector(`tr[data-domid="${d.domid}"]`);
    if (!tr) {
      tr = makeRow(d);
      tr.dataset.domid = d.domid;
      tbody.append(tr);
    }
    tr.dataset.domain = d.name;
    tr.dataset.state = d.state;
    tr.querySelector(".name").textContent = d.name;
    tr.querySelector(".domid").textContent = d.domid;
    tr.querySelector(".state").textContent = d.state;
    tr.querySelector(".memory").textContent = `${Math.round(d.mem_kib / 1024)} MiB`;
    tr.querySelector(".vcpus").textContent = d.vcpus;
    const paused = d.state[2] === "p", down = d.state[3] === "s";
    tr.querySelector('[data-action="pause"]').hidden = paused || down;
    tr.querySelector('[data-action="unpause"]').hidden = !paused;
    const h = history.get(d.domid) || { cpu: [], disk: [], net: [] };
    history.set(d.domid, h);
    const r = rates(d, dt);
    for (const k of ["cpu", "disk", "net"]) {
      h[k].push(r[k]);
      if (h[k].length > HISTORY) h[k].shift();
    }
    draw(tr.querySelector(".graph-cpu"), h.cpu, 100, "#2a7");
    draw(tr.querySelector(".graph-disk"), h.disk, 0, "#27a");
    draw(tr.querySelector(".graph-net"), h.net, 0, "#a52");
    const [cpuL, diskL, netL] = tr.querySelectorAll(".rate");
    cpuL.textContent = `${r.cpu.toFixed(1)} %`;
    diskL.textContent = `${human(r.disk)}/s`;
    netL.textContent = `${human(r.net)}/s`;
  }
  for (const tr of [...tbody.querySelectorAll("tr")])
    if (!seen.has(tr.dataset.domid)) {
      history.delete(Number(tr.dataset.domid));
      tr.remove();
    }
  $("no-domains").hidden = top.domains.length > 0;
  previous = top;
}

async function poll() {
  try {
    render(await api("/api/top"));
  } catch (e) {
    showError(e.message);
  }
  setTimeout(poll, POLL_MS);
}

async function lifecycle(name, action) {
  if (action === "destroy" && !confirm(`Destroy ${name} at once?`)) return;
  showError("");
  try {
    await api(`/api/domains/${encodeURIComponent(name)}/${action}`, {});
  } catch (e) {
    showError(e.message);
  }
}

function closeConsole() {
  if (!consoleSession) return;
  consoleSession.ws.onclose = null;
  consoleSession.ws.close();
  consoleSession.term.dispose();
  window.removeEventListener("resize", consoleSession.fit);
  consoleSession = null;
  $("console-section").hidden = true;
}

function openConsole(name) {
  closeConsole();
  $("console-section").hidden = false;
  $("console-name").textContent = name;
  $("console-status").textContent = "connecting...";
  const term = new Terminal({ convertEol: false, cursorBlink: true, scrollback: 2000 });
  const fitAddon = new FitAddon();
  term.loadAddon(fitAddon);
  term.open($("terminal"));
  fitAddon.fit();
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(
    `${scheme}//${location.host}/api/domains/${encodeURIComponent(name)}/console`,
    "xenkvm-console");
  ws.binaryType = "arraybuffer";
  ws.onopen = () => { $("console-status").textContent = "connected"; term.focus(); };
  ws.onmessage = (ev) => term.write(new Uint8Array(ev.data));
  ws.onclose = (ev) => {
    $("console-status").textContent = `closed${ev.reason ? ": " + ev.reason : ""}`;
  };
  term.onData((data) => { if (ws.readyState === WebSocket.OPEN) ws.send(data); });
  const fit = () => fitAddon.fit();
  window.addEventListener("resize", fit);
  consoleSession = { ws, term, fit };
}

async function create(ev) {
  ev.preventDefault();
  const out = $("create-result");
  out.textContent = "creating...";
  try {
    const r = await api("/api/domains", {
      config: $("create-config").value,
      name: "config",
      paused: $("create-paused").checked,
    });
    out.textContent = `created ${r.name} (domain ${r.domid})` +
      (r.warnings.length ? `\n${r.warnings.join("\n")}` : "");
  } catch (e) {
    const d = e.details || {};
    out.textContent = [e.message, ...(d.errors || []).slice(1), ...(d.warnings || [])].join("\n");
  }
}

async function start() {
  // The form's handler first: a submit before it is attached would be the
  // browser's own (a page load that loses the config typed in). The button
  // stays disabled until the session's CSRF token is known.
  $("create-form").addEventListener("submit", create);
  try {
    csrf = (await api("/api/session")).csrf;
    $("create-button").disabled = false;
    const info = await api("/api/info");
    $("host").textContent = `${info.host} · ${info.nr_cpus} CPUs · ${info.total_memory} MiB`;
  } catch (e) {
    showError(e.message);
  }
  $("console-close").addEventListener("click", closeConsole);
  $("logout").addEventListener("click", async () => {
    await api("/logout", {}).catch(() => {});
    location.replace("/login");
  });
  poll();
}

start();
