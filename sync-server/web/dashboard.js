// The web dashboard: signs in with the login API, keeps the token for this tab only
// (sessionStorage) and draws the dashboards the JSON API computes for the signed-in user.
// Charts and the check-in map are plain SVG: no library, no outside host, works offline.

const SVG = "http://www.w3.org/2000/svg";
const TOKEN = "fieldsales.token";
const WHO = "fieldsales.who";
const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, text) {
  const e = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

function isoDay(d) {
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

function money(m) {
  if (!m) return "";
  const sign = m.minor < 0 ? "-" : "";
  const abs = Math.abs(m.minor);
  return `${sign}${m.currency} ${Math.floor(abs / 100).toLocaleString("en-US")}.${String(abs % 100).padStart(2, "0")}`;
}

class ApiError extends Error {
  constructor(status, body) {
    super(body && body.detail ? body.detail : `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function api(path, options = {}) {
  const headers = { Accept: "application/json", ...(options.headers || {}) };
  const token = sessionStorage.getItem(TOKEN);
  if (token && !options.anonymous) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(path, { ...options, headers });
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

// A horizontal bar chart: one bar per [label, value].
function barChart(container, rows, { cls = () => "bar" } = {}) {
  container.replaceChildren();
  const width = 420, rowH = 22, labelW = 140, valueW = 50;
  const max = Math.max(1, ...rows.map((r) => r[1]));
  const svg = el("svg:svg", { viewBox: `0 0 ${width} ${rows.length * rowH + 4}`, role: "img" });
  rows.forEach(([label, value, key], i) => {
    const y = i * rowH + 2;
    const w = ((width - labelW - valueW) * value) / max;
    svg.append(el("svg:text", { x: 0, y: y + 15 }, label));
    const bar = el("svg:rect", { x: labelW, y, width: Math.max(w, value > 0 ? 2 : 0), height: rowH - 6, class: cls(key) });
    bar.append(el("svg:title", {}, `${label}: ${value}`));
    svg.append(bar);
    svg.append(el("svg:text", { x: labelW + w + 4, y: y + 15, "data-value": value }, String(value)));
  });
  container.append(svg);
}

const VERDICTS = [
  ["inside", "围栏内 Inside"],
  ["outside", "围栏外 Outside"],
  ["cannot_tell", "无法判断 Cannot tell"],
  ["unable_to_verify", "无法核实 Unable to verify"],
  ["unjudged", "未判定 Unjudged"],
];

// The newest check-ins the map draws: one page of the points call (the counts above cover all).
const MAP_POINTS = 5000;

// The check-ins as dots over their own bounding box (no map tiles: the network may be closed).
function drawMap(points) {
  const box = $("map");
  box.replaceChildren();
  const width = 600, height = 360, pad = 20;
  const svg = el("svg:svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "data-points": points.length });
  svg.append(el("svg:title", {}, "签到地图 Check-in map"));
  if (points.length > 0) {
    const lats = points.map((p) => p.lat), lons = points.map((p) => p.lon);
    let [minLat, maxLat, minLon, maxLon] = [Math.min(...lats), Math.max(...lats), Math.min(...lons), Math.max(...lons)];
    const span = Math.max(maxLat - minLat, maxLon - minLon, 0.001);
    const midLat = (minLat + maxLat) / 2, midLon = (minLon + maxLon) / 2;
    const scale = (Math.min(width, height) - 2 * pad) / span;
    for (const p of points) {
      const verdict = p.fence || "unjudged";
      const x = width / 2 + (p.lon - midLon) * scale;
      const y = height / 2 - (p.lat - midLat) * scale;
      const dot = el("svg:circle", { cx: x.toFixed(1), cy: y.toFixed(1), r: 6, class: `point verdict-${verdict}`, "data-verdict": verdict, "data-rep": p.rep.name });
      dot.append(el("svg:title", {}, `${p.rep.name} · ${p.date} · ${verdict}`));
      svg.append(dot);
    }
    svg.append(el("svg:text", { x: 4, y: height - 6 }, `${minLat.toFixed(4)}, ${minLon.toFixed(4)} — ${maxLat.toFixed(4)}, ${maxLon.toFixed(4)}`));
  } else {
    svg.append(el("svg:text", { x: width / 2 - 40, y: height / 2 }, "无签到 No check-ins"));
  }
  box.append(svg);
  const legend = $("map-legend");
  legend.replaceChildren();
  for (const [key, label] of VERDICTS) {
    const li = el("li");
    const swatch = el("svg:svg", { viewBox: "0 0 10 10" });
    swatch.append(el("svg:circle", { cx: 5, cy: 5, r: 5, class: `verdict-${key}` }));
    li.append(swatch, label);
    legend.append(li);
  }
}

function repsTable(funnel, visits, reports) {
  const reps = new Map();
  const row = (g) => {
    if (!reps.has(g.id)) reps.set(g.id, { name: g.name, open: 0, checkIns: 0, onTime: 0, late: 0, missing: 0 });
    return reps.get(g.id);
  };
  for (const g of funnel.groups) row(g.group).open += g.figures.stages.reduce((n, s) => n + s.open, 0);
  for (const r of visits.rows) row(r.group).checkIns += r.figures.check_ins;
  for (const g of reports.groups) {
    const r = row(g.group);
    r.onTime += g.figures.on_time;
    r.late += g.figures.late;
    r.missing += g.figures.missing;
  }
  const body = $("reps").tBodies[0];
  body.replaceChildren();
  const sorted = [...reps.entries()].sort((a, b) => a[1].name.localeCompare(b[1].name, "zh"));
  for (const [id, r] of sorted) {
    const tr = el("tr", { "data-rep-id": id });
    tr.append(el("td", { class: "rep-name" }, r.name));
    for (const v of [r.open, r.checkIns, r.onTime, r.late, r.missing]) tr.append(el("td", { class: "num" }, String(v)));
    body.append(tr);
  }
}

async function load() {
  const main = $("dashboard");
  const status = $("status");
  main.dataset.state = "loading";
  status.removeAttribute("data-error");
  status.textContent = "加载中 Loading…";
  const q = new URLSearchParams({ from: $("from").value, to: $("to").value, group_by: "rep" });
  try {
    const days = new URLSearchParams({ from: $("from").value, to: $("to").value, limit: String(MAP_POINTS) });
    const [funnel, visits, reports, map] = await Promise.all([
      api(`/v1/dashboards/funnel?${q}`),
      api(`/v1/dashboards/visits?${q}`),
      api(`/v1/dashboards/reports?${q}`),
      api(`/v1/dashboards/visits/points?${days}`),
    ]);
    const open = funnel.total.stages.reduce((n, s) => n + s.open, 0);
    $("funnel-total").textContent = String(open);
    $("funnel-pipeline").textContent = money(funnel.total.pipeline);
    $("funnel-won").textContent = String(funnel.total.won);
    const names = new Map(funnel.stages.map((s) => [s.key, s.name]));
    barChart($("funnel-chart"), funnel.total.stages.map((s) => [names.get(s.stage) || s.stage, s.open]));

    const v = visits.total;
    $("visits-total").textContent = String(v.check_ins);
    $("visits-planned-done").textContent = String(v.planned_done);
    $("visits-planned").textContent = String(v.planned);
    barChart($("visits-chart"), VERDICTS.map(([k, label]) => [label, v[k] || 0, k]), { cls: (k) => `verdict-${k}` });
    drawMap(map.points);

    const r = reports.total;
    $("on-time-count").textContent = String(r.on_time);
    $("late-count").textContent = String(r.late);
    $("missing-count").textContent = String(r.missing);
    $("false-count").textContent = String(r.false_reports);
    barChart($("reports-chart"), [
      ["按时 On time", r.on_time], ["迟交 Late", r.late], ["缺交 Missing", r.missing],
      ["虚假 False", r.false_reports], ["待确认 Awaiting receipt", r.awaiting_receipt],
    ]);

    repsTable(funnel, visits, reports);
    $("data-as-of").textContent = funnel.data_as_of ? `数据时间 Data as of ${new Date(funnel.data_as_of).toLocaleString()}` : "";
    status.textContent = "";
    main.dataset.state = "ready";
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      signOut();
      $("sign-in-error").textContent = e.message;
      return;
    }
    status.dataset.error = "";
    status.textContent = e.message;
    main.dataset.state = "error";
  }
}

function showSignedIn() {
  const signedIn = sessionStorage.getItem(TOKEN) !== null;
  $("sign-in-form").hidden = signedIn;
  $("dashboard").hidden = !signedIn;
  $("sign-out").hidden = !signedIn;
  $("signed-in-as").textContent = signedIn ? sessionStorage.getItem(WHO) || "" : "";
}

// Forgets everything drawn for the previous user, so the next one never glimpses it.
function clearDashboard() {
  const main = $("dashboard");
  main.dataset.state = "idle";
  for (const e of main.querySelectorAll("strong")) e.textContent = "";
  for (const id of ["funnel-chart", "visits-chart", "reports-chart", "map", "map-legend", "data-as-of", "status"]) {
    $(id).replaceChildren();
  }
  $("reps").tBodies[0].replaceChildren();
}

function signOut() {
  clearDashboard();
  const token = sessionStorage.getItem(TOKEN);
  sessionStorage.removeItem(TOKEN);
  sessionStorage.removeItem(WHO);
  if (token) fetch("/v1/auth/logout", { method: "POST", headers: { Authorization: `Bearer ${token}` } }).catch(() => {});
  showSignedIn();
}

async function signIn(event) {
  event.preventDefault();
  $("sign-in-error").textContent = "";
  try {
    const body = JSON.stringify({
      tenant: $("tenant").value.trim(),
      login: $("login").value.trim(),
      password: $("password").value,
      device_name: `web dashboard (${navigator.userAgent.slice(0, 60)})`,
    });
    const answer = await api("/v1/auth/login", { method: "POST", body, anonymous: true, headers: { "Content-Type": "application/json" } });
    sessionStorage.setItem(TOKEN, answer.token);
    sessionStorage.setItem(WHO, $("login").value.trim());
    $("password").value = "";
    showSignedIn();
    await load();
  } catch (e) {
    $("sign-in-error").textContent = e.message;
  }
}

function init() {
  const params = new URLSearchParams(location.search);
  const today = new Date();
  const monthAgo = new Date(today.getTime() - 30 * 86400000);
  $("from").value = params.get("from") || isoDay(monthAgo);
  $("to").value = params.get("to") || isoDay(today);
  if (params.get("tenant")) $("tenant").value = params.get("tenant");
  $("sign-in-form").addEventListener("submit", signIn);
  $("range-form").addEventListener("submit", (e) => { e.preventDefault(); load(); });
  $("sign-out").addEventListener("click", signOut);
  showSignedIn();
  if (sessionStorage.getItem(TOKEN)) load();
}

init();
