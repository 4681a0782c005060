// The manager's browser: signs in as a browser session (no device), keeps the token for this
// tab only (sessionStorage) and draws the dashboards the JSON API computes for the signed-in
// user. Where the manager is — days, comparison, unit or rep, language — lives in the URL, so
// a reload or a shared link shows the same page. Charts and the map are plain SVG; the map
// loads base-map tiles only from the tile server the configuration names, if any.

const SVG = "http://www.w3.org/2000/svg";
const TOKEN = "fieldsales.token";
const $ = (id) => document.getElementById(id);

// ---- text -----------------------------------------------------------------------------------

const TEXT = {
  "zh-Hans": {
    title: "销售看板", sign_in: "登录", sign_out: "退出", tenant: "租户", login: "账号", password: "密码",
    today: "今天", week: "本周", month: "本月", quarter: "本季度", from: "从", to: "到",
    compare: "对比上一期", refresh: "刷新", export: "导出 Excel", exporting: "正在导出…", exported: "已导出",
    breakdown: "下级团队与人员", name: "名称", open: "在途商机", pipeline: "管道金额", forecast: "加权预测",
    won: "赢单", won_amount: "赢单金额", lost: "输单", win_rate: "赢单率", check_ins: "签到",
    flagged: "异常签到", flagged_list: "异常签到", late: "迟交", missing: "缺交", on_time: "按时", false: "虚假",
    awaiting_receipt: "待确认", penalties: "罚款", funnel: "销售漏斗", visits: "拜访", planned_done: "计划完成",
    outside: "围栏外", inside: "围栏内", cannot_tell: "无法判断", unable_to_verify: "无法核实", unjudged: "未判定",
    map: "签到地图", outliers: "离群签到（未计入地图范围）", reports: "日报合规", targets: "目标与排行",
    rank: "排名", target: "目标", achieved: "完成", attainment: "达成率", attention: "待关注",
    person_visits: "拜访记录", person_reports: "日报", person_deals: "商机", when: "时间", customer: "客户",
    fence: "围栏判定", flags: "标记", accuracy: "精度(米)", distance: "距离(米)", duration: "时长(分)",
    photos: "照片", date: "日期", state: "状态", compliance: "合规", submitted_at: "提交时间", penalty: "罚款",
    stage: "阶段", amount: "金额", expected_close: "预计成交", outcome: "结果", all: "全部",
    loading: "加载中…", data_as_of: "数据时间", previous: "上期", no_check_ins: "无签到",
    none: "无", overdue: "超期商机", lead_due: "即将回收的线索", reclaimed: "已回收线索",
    false_deal: "虚假推进", approval: "待审批", rejected: "被拒绝的修改", due: "到期",
    mock: "模拟定位", position: "位置", checked_out: "签退", km_from_bulk: "距主要区域 {n} 公里",
    submitted: "已提交", draft: "草稿", won_outcome: "赢单", lost_outcome: "输单",
    poor_accuracy: "定位精度差", mock_location: "模拟定位", rooted_device: "设备已越狱/Root", emulator: "模拟器",
    stale_fix: "定位过旧", fix_after_check_in: "定位晚于签到", impossible_travel: "不可能的行程",
    repeat_check_in: "重复签到", device_clock_off: "设备时钟偏差", clock_changed: "时钟被修改",
    claimed_before_sync: "签到早于上次同步", recorded_out_of_order: "记录顺序异常",
    clock_moved_against_uptime: "时钟与开机时长不符", uploaded_out_of_order: "上传顺序异常",
    checked_in_after_receipt: "签到晚于服务器接收", uploaded_late: "上传过晚",
    fix_on_registered_point: "定位落在登记点", repeated_accuracy: "精度值重复",
    clustered_away_from_customers: "多家客户同一地点签到", check_out_away: "签退地点偏离",
    short_visit: "拜访过短", reused_photo: "照片重复使用",
  },
  en: {
    title: "Sales dashboard", sign_in: "Sign in", sign_out: "Sign out", tenant: "Tenant", login: "Login", password: "Password",
    today: "Today", week: "This week", month: "This month", quarter: "This quarter", from: "From", to: "To",
    compare: "Compare with the previous period", refresh: "Refresh", export: "Export to Excel", exporting: "Exporting…", exported: "Exported",
    breakdown: "Teams and people", name: "Name", open: "Open deals", pipeline: "Pipeline", forecast: "Weighted forecast",
    won: "Won", won_amount: "Won amount", lost: "Lost", win_rate: "Win rate", check_ins: "Check-ins",
    flagged: "Flagged check-ins", flagged_list: "Flagged check-ins", late: "Late", missing: "Missing", on_time: "On time", false: "False",
    awaiting_receipt: "Awaiting receipt", penalties: "Penalties", funnel: "Funnel", visits: "Visits", planned_done: "Planned done",
    outside: "Outside", inside: "Inside", cannot_tell: "Cannot tell", unable_to_verify: "Unable to verify", unjudged: "Unjudged",
    map: "Check-in map", outliers: "Outlying check-ins (left out of the map's bounds)", reports: "Daily reports", targets: "Targets and leaderboard",
    rank: "Rank", target: "Target", achieved: "Achieved", attainment: "Attainment", attention: "Needs attention",
    person_visits: "Visits", person_reports: "Daily reports", person_deals: "Deals", when: "When", customer: "Customer",
    fence: "Fence verdict", flags: "Flags", accuracy: "Accuracy (m)", distance: "Distance (m)", duration: "Duration (min)",
    photos: "Photos", date: "Date", state: "State", compliance: "Compliance", submitted_at: "Submitted", penalty: "Penalty",
    stage: "Stage", amount: "Amount", expected_close: "Expected close", outcome: "Outcome", all: "All",
    loading: "Loading…", data_as_of: "Data as of", previous: "previous", no_check_ins: "No check-ins",
    none: "None", overdue: "Overdue deal", lead_due: "Lead due for reclaim", reclaimed: "Reclaimed lead",
    false_deal: "False progress", approval: "Approval waiting", rejected: "Rejected change", due: "due",
    mock: "Mock location", position: "Position", checked_out: "Checked out", km_from_bulk: "{n} km from the main area",
    submitted: "Submitted", draft: "Draft", won_outcome: "Won", lost_outcome: "Lost",
    poor_accuracy: "Poor accuracy", mock_location: "Mock location", rooted_device: "Rooted device", emulator: "Emulator",
    stale_fix: "Stale fix", fix_after_check_in: "Fix after check-in", impossible_travel: "Impossible travel",
    repeat_check_in: "Repeat check-in", device_clock_off: "Device clock off", clock_changed: "Clock changed",
    claimed_before_sync: "Claimed before the last sync", recorded_out_of_order: "Recorded out of order",
    clock_moved_against_uptime: "Clock moved against uptime", uploaded_out_of_order: "Uploaded out of order",
    checked_in_after_receipt: "Checked in after receipt", uploaded_late: "Uploaded late",
    fix_on_registered_point: "Fix on a registered point", repeated_accuracy: "Repeated accuracy",
    clustered_away_from_customers: "Several customers from one spot", check_out_away: "Checked out away",
    short_visit: "Short visit", reused_photo: "Reused photo",
  },
};
// Flags that are worth knowing but accuse nobody (core's `FlagKind::is_suspicion`).
const CAUTIONS = new Set(["poor_accuracy", "rooted_device", "device_clock_off", "uploaded_late"]);
const VERDICTS = ["inside", "outside", "cannot_tell", "unable_to_verify", "unjudged"];

let lang = "zh-Hans";
const t = (key) => TEXT[lang][key] ?? TEXT.en[key] ?? key;

function el(tag, attrs = {}, text) {
  const e = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

// ---- days -----------------------------------------------------------------------------------

const pad = (n) => String(n).padStart(2, "0");
const isoDay = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
function parseDay(s) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s || "");
  return m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : null;
}
const addDays = (d, n) => new Date(d.getFullYear(), d.getMonth(), d.getDate() + n);
const daysBetween = (a, b) => Math.round((b - a) / 86400000);

// The days of a preset, ending today.
function presetRange(preset, today = new Date()) {
  const day = new Date(today.getFullYear(), today.getMonth(), today.getDate());
  switch (preset) {
    case "today": return [day, day];
    case "week": return [addDays(day, -((day.getDay() + 6) % 7)), day];
    case "quarter": return [new Date(day.getFullYear(), Math.floor(day.getMonth() / 3) * 3, 1), day];
    default: return [new Date(day.getFullYear(), day.getMonth(), 1), day];
  }
}

// The period of the same length that ends the day before `from` (as the export computes it).
function previousRange(from, to) {
  const days = daysBetween(from, to) + 1;
  return [addDays(from, -days), addDays(from, -1)];
}

// ---- where the page is: the URL ------------------------------------------------------------

const view = { from: null, to: null, preset: null, compare: false, unit: null, rep: null, visit: null };

function readUrl() {
  const q = new URLSearchParams(location.search);
  lang = q.get("lang") === "en" ? "en" : "zh-Hans";
  view.preset = ["today", "week", "month", "quarter"].includes(q.get("preset")) ? q.get("preset") : null;
  let from = parseDay(q.get("from")), to = parseDay(q.get("to"));
  if (view.preset || !from || !to || to < from) {
    [from, to] = presetRange(view.preset || "month");
    if (!view.preset) view.preset = "month";
  }
  view.from = from;
  view.to = to;
  view.compare = q.get("compare") === "1";
  view.unit = q.get("unit");
  view.rep = q.get("rep");
  view.visit = q.get("visit");
  if (q.get("tenant")) $("tenant").value = q.get("tenant");
}

// The query string of the page with `changes` applied (null removes a key).
function query(changes = {}) {
  const v = { ...view, ...changes };
  const q = new URLSearchParams();
  if (v.preset) q.set("preset", v.preset);
  else { q.set("from", isoDay(v.from)); q.set("to", isoDay(v.to)); }
  if (v.compare) q.set("compare", "1");
  if (v.unit) q.set("unit", v.unit);
  if (v.rep) q.set("rep", v.rep);
  if (v.visit) q.set("visit", v.visit);
  if (lang !== "zh-Hans") q.set("lang", lang);
  return `?${q}`;
}

function writeUrl() {
  history.replaceState(null, "", `${location.pathname}${query()}`);
  languageLinks();
}

// ---- the API --------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    super(body && body.detail ? body.detail : `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function call(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  const token = sessionStorage.getItem(TOKEN);
  if (token && !options.anonymous) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(path, { ...options, headers });
  if (!response.ok) {
    const body = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
    throw new ApiError(response.status, body);
  }
  return response;
}

const api = async (path, options = {}) =>
  (await call(path, { ...options, headers: { Accept: "application/json", ...(options.headers || {}) } })).json();

// ---- numbers --------------------------------------------------------------------------------

function money(m) {
  if (!m) return "";
  const sign = m.minor < 0 ? "-" : "";
  const abs = Math.abs(m.minor);
  const symbol = m.currency === "CNY" ? "¥" : `${m.currency} `;
  return `${sign}${symbol}${Math.floor(abs / 100).toLocaleString("en-US")}.${pad(abs % 100)}`;
}
const percent = (bp) => (bp === null || bp === undefined ? "—" : `${(bp / 100).toFixed(1)}%`);
const sumOpen = (figures) => figures.stages.reduce((n, s) => n + s.open, 0);
const localTime = (ms) => {
  const d = new Date(ms);
  return `${isoDay(d)} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
};

// Writes a figure and, when comparing, the previous period's value and the change.
function figure(id, now, before, show = String, kind = "count") {
  $(id).textContent = show(now);
  const prev = $(`${id}-prev`);
  if (!prev) return;
  prev.replaceChildren();
  prev.removeAttribute("data-previous");
  if (before === undefined) return;
  prev.dataset.previous = kind === "money" ? String(before.minor) : String(before ?? "");
  prev.append(`${t("previous")}: ${show(before)}`);
  const a = kind === "money" ? now.minor : now, b = kind === "money" ? before.minor : before;
  if (kind !== "share" && typeof a === "number" && typeof b === "number" && a !== b) {
    const change = kind === "money" ? money({ minor: a - b, currency: now.currency }) : String(a - b);
    prev.append(" ", el("span", { class: a > b ? "up" : "down" }, `${a > b ? "+" : ""}${change.replace(/^\+/, "")}`));
  }
}

// ---- charts ---------------------------------------------------------------------------------

// Horizontal bars: one per [label, value, key, previousValue?, text?].
function barChart(container, rows, { cls = () => "bar" } = {}) {
  container.replaceChildren();
  const width = 420, rowH = 24, labelW = 120, valueW = 110;
  const max = Math.max(1, ...rows.map((r) => Math.max(r[1], r[3] ?? 0)));
  const svg = el("svg:svg", { viewBox: `0 0 ${width} ${rows.length * rowH + 4}`, role: "img" });
  rows.forEach(([label, value, key, before, text], i) => {
    const y = i * rowH + 2;
    const span = width - labelW - valueW;
    svg.append(el("svg:text", { x: 0, y: y + 15 }, label));
    if (before !== undefined) {
      svg.append(el("svg:rect", { x: labelW, y: y + 14, width: Math.max((span * before) / max, before > 0 ? 2 : 0), height: 5, class: "bar-prev" }));
    }
    const w = (span * value) / max;
    const bar = el("svg:rect", { x: labelW, y, width: Math.max(w, value > 0 ? 2 : 0), height: before !== undefined ? 13 : rowH - 6, class: cls(key) });
    bar.append(el("svg:title", {}, `${label}: ${text ?? value}`));
    svg.append(bar);
    svg.append(el("svg:text", { x: labelW + w + 4, y: y + 15, "data-value": value }, text ?? String(value)));
  });
  container.append(svg);
}

// ---- the map --------------------------------------------------------------------------------

// Web Mercator: longitude and latitude to world units of 0..1.
function project(lat, lon) {
  const s = Math.sin((Math.max(-85, Math.min(85, lat)) * Math.PI) / 180);
  return [(lon + 180) / 360, 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)];
}

function kmBetween(a, b) {
  const r = Math.PI / 180;
  const dLat = (b.lat - a.lat) * r, dLon = (b.lon - a.lon) * r;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * r) * Math.cos(b.lat * r) * Math.sin(dLon / 2) ** 2;
  return 12742 * Math.asin(Math.min(1, Math.sqrt(h)));
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// Flags that doubt the fix itself (core's `FlagKind::doubts_position`).
const DOUBTS = new Set(["mock_location", "emulator", "stale_fix", "fix_after_check_in", "impossible_travel", "fix_on_registered_point"]);

// Splits the points into the bulk and the outliers. The centre is the median position of the
// points whose fix nobody doubts (of all points when every fix is doubted), the spread their
// median distance from it; a point ten spreads (and at least 20 km) away is an outlier. One
// mock check-in in another city thus cannot stretch the map over the country. With fewer
// than three points and no trusted fix to stand on, no point is called an outlier.
function bulkAndOutliers(points) {
  const trusted = points.filter((p) => !p.flags.some((f) => DOUBTS.has(f)));
  const base = trusted.length > 0 ? trusted : points;
  if (points.length < 2 || (base === points && points.length < 3)) {
    return { bulk: points, outliers: [], centre: points[0] };
  }
  const centre = { lat: median(base.map((p) => p.lat)), lon: median(base.map((p) => p.lon)) };
  const limit = Math.max(20, 10 * median(base.map((p) => kmBetween(centre, p))));
  const bulk = [], outliers = [];
  for (const p of points) {
    const km = kmBetween(centre, p);
    if (km > limit) outliers.push({ ...p, km });
    else bulk.push(p);
  }
  return { bulk, outliers, centre };
}

const WORST = ["outside", "cannot_tell", "unable_to_verify", "unjudged", "inside"];

function drawMap(points) {
  const box = $("map");
  box.replaceChildren();
  const width = 600, height = 360, pad = 24, cell = 22;
  const { bulk, outliers, centre } = bulkAndOutliers(points);
  const svg = el("svg:svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "data-points": points.length, "data-bulk": bulk.length });
  svg.append(el("svg:title", {}, t("map")));
  const tiles = document.querySelector('meta[name="fieldsales-tiles"]')?.content || "";
  if (bulk.length === 0) {
    svg.append(el("svg:text", { x: width / 2 - 40, y: height / 2 }, t("no_check_ins")));
  } else {
    const xy = bulk.map((p) => project(p.lat, p.lon));
    const xs = xy.map((q) => q[0]), ys = xy.map((q) => q[1]);
    const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    // At least ~1 km across, so one point or a tight group is not blown up to a blur.
    const spanX = Math.max(maxX - minX, 0.000025), spanY = Math.max(maxY - minY, 0.000025);
    let scale = Math.min((width - 2 * pad) / spanX, (height - 2 * pad) / spanY);
    let zoom = null;
    if (tiles) {
      zoom = Math.max(1, Math.min(18, Math.floor(Math.log2(scale / 256))));
      scale = 256 * 2 ** zoom;
    }
    const left = (minX + maxX) / 2 * scale - width / 2, top = (minY + maxY) / 2 * scale - height / 2;
    if (zoom !== null) {
      const n = 2 ** zoom;
      for (let tx = Math.floor(left / 256); tx * 256 < left + width; tx++) {
        for (let ty = Math.max(0, Math.floor(top / 256)); ty * 256 < top + height && ty < n; ty++) {
          const href = tiles.replace("{z}", zoom).replace("{x}", ((tx % n) + n) % n).replace("{y}", ty);
          svg.append(el("svg:image", { href, x: tx * 256 - left, y: ty * 256 - top, width: 256, height: 256, class: "tile" }));
        }
      }
    }
    // Clustering: the points falling in one grid cell of the drawing become one marker.
    const cells = new Map();
    bulk.forEach((p, i) => {
      const x = xy[i][0] * scale - left, y = xy[i][1] * scale - top;
      const key = `${Math.floor(x / cell)}:${Math.floor(y / cell)}`;
      if (!cells.has(key)) cells.set(key, []);
      cells.get(key).push({ p, x, y });
    });
    for (const group of cells.values()) {
      const x = group.reduce((s, g) => s + g.x, 0) / group.length, y = group.reduce((s, g) => s + g.y, 0) / group.length;
      if (group.length === 1) {
        const { p } = group[0];
        const verdict = p.fence || "unjudged";
        const dot = el("svg:circle", { cx: x.toFixed(1), cy: y.toFixed(1), r: 6, class: `point verdict-${verdict}`, "data-verdict": verdict, "data-rep": p.rep.name });
        dot.append(el("svg:title", {}, `${p.rep.name} · ${localTime(p.at)} · ${t(verdict)}${p.flags.length ? ` · ${p.flags.map(t).join(", ")}` : ""}`));
        svg.append(dot);
      } else {
        const verdicts = group.map((g) => g.p.fence || "unjudged");
        const worst = WORST.find((v) => verdicts.includes(v)) || "unjudged";
        const g = el("svg:g", { class: "cluster-marker", "data-count": group.length, "data-verdicts": verdicts.join(" ") });
        g.append(el("svg:circle", { cx: x.toFixed(1), cy: y.toFixed(1), r: Math.min(18, 9 + Math.log2(group.length) * 2), class: `cluster verdict-${worst}` }));
        g.append(el("svg:text", { x: x.toFixed(1), y: y.toFixed(1), class: "cluster-count" }, String(group.length)));
        g.append(el("svg:title", {}, [...new Set(group.map((m) => m.p.rep.name))].join(", ") + ` · ${group.length}`));
        svg.append(g);
      }
    }
  }
  box.append(svg);
  const legend = $("map-legend");
  legend.replaceChildren();
  for (const key of VERDICTS) {
    const swatch = el("svg:svg", { viewBox: "0 0 10 10" });
    swatch.append(el("svg:circle", { cx: 5, cy: 5, r: 5, class: `verdict-${key}` }));
    legend.append(el("li", {}, ""));
    legend.lastChild.append(swatch, t(key));
  }
  const list = $("map-outliers");
  list.replaceChildren();
  for (const p of outliers.sort((a, b) => b.km - a.km)) {
    const verdict = p.fence || "unjudged";
    const li = el("li", { class: "outlier", "data-verdict": verdict, "data-visit-id": p.visit_id });
    li.append(el("a", { href: query({ rep: p.rep.id, unit: null, visit: p.visit_id }) }, p.rep.name),
      ` · ${localTime(p.at)} · ${p.lat.toFixed(4)}, ${p.lon.toFixed(4)} · ${t("km_from_bulk").replace("{n}", Math.round(p.km))} · `,
      el("span", { class: `chip ${verdict}` }, t(verdict)));
    for (const f of p.flags) li.append(" ", el("span", { class: CAUTIONS.has(f) ? "flag caution" : "flag", "data-flag": f }, t(f)));
    list.append(li);
  }
  if (centre) svg.dataset.centre = `${centre.lat.toFixed(4)},${centre.lon.toFixed(4)}`;
}

// ---- the org chart and the breakdown --------------------------------------------------------

let org = null;

const unitOf = (id) => org.units.find((u) => u.id === id);
const personOf = (id) => org.people.find((p) => p.id === id);

// The unit and its ancestors the viewer sees, root first.
function lineage(unitId) {
  const out = [];
  let u = unitOf(unitId);
  while (u && !out.includes(u)) {
    out.unshift(u);
    u = u.parent_id ? unitOf(u.parent_id) : null;
  }
  return out;
}

function within(unitId, rootId) {
  return lineage(unitId).some((u) => u.id === rootId);
}

function drawCrumbs() {
  const nav = $("crumbs");
  nav.replaceChildren(el("a", { href: query({ unit: null, rep: null, visit: null }) }, t("all")));
  const person = view.rep ? personOf(view.rep) : null;
  const units = view.unit ? lineage(view.unit) : person ? lineage(person.unit_id) : [];
  for (const u of units) {
    nav.append(el("span", { class: "sep" }, "›"));
    nav.append(el("a", { href: query({ unit: u.id, rep: null, visit: null }), "data-unit-id": u.id }, u.name));
  }
  if (person) {
    nav.append(el("span", { class: "sep" }, "›"));
    nav.append(el("span", { "data-person-id": person.id }, person.name));
  }
}

// Per person: the figures of the breakdown, from the rows of the rep-grouped dashboards.
function perPerson(d) {
  const m = new Map();
  const row = (id) => {
    if (!m.has(id)) m.set(id, { open: 0, pipeline: 0, won: 0, lost: 0, checkIns: 0, flagged: 0, late: 0, missing: 0, penalties: 0 });
    return m.get(id);
  };
  for (const g of d.funnel.groups) {
    const r = row(g.group.id);
    r.open += sumOpen(g.figures);
    r.pipeline += g.figures.pipeline.minor;
    r.won += g.figures.won;
    r.lost += g.figures.lost;
  }
  for (const v of d.visits.rows) {
    const r = row(v.group.id);
    r.checkIns += v.figures.check_ins;
    r.flagged += v.figures.flagged;
  }
  for (const g of d.reports.groups) {
    const r = row(g.group.id);
    r.late += g.figures.late;
    r.missing += g.figures.missing;
    r.penalties += g.figures.penalties.minor;
  }
  return m;
}

function drawBreakdown(d) {
  const section = $("breakdown");
  section.hidden = Boolean(view.rep);
  if (view.rep) return;
  const currency = d.funnel.currency;
  const figures = perPerson(d);
  const roots = org.units.filter((u) => !u.parent_id);
  const node = view.unit || (roots.length === 1 ? roots[0].id : null);
  const units = org.units.filter((u) => (node ? u.parent_id === node : !u.parent_id));
  const people = org.people.filter((p) => (node ? p.unit_id === node : !unitOf(p.unit_id)));
  const body = $("reps").tBodies[0];
  body.replaceChildren();
  const add = (kind, id, name, href, members) => {
    const sum = { open: 0, pipeline: 0, won: 0, lost: 0, checkIns: 0, flagged: 0, late: 0, missing: 0, penalties: 0 };
    for (const p of members) {
      const f = figures.get(p.id);
      if (f) for (const k of Object.keys(sum)) sum[k] += f[k];
    }
    const tr = el("tr", { "data-kind": kind, [kind === "unit" ? "data-unit-id" : "data-rep-id"]: id });
    const name_ = el("td", { class: "rep-name" });
    name_.append(el("a", { href, class: "drill" }, name));
    tr.append(name_);
    const winRate = sum.won + sum.lost > 0 ? Math.floor((sum.won * 10000) / (sum.won + sum.lost)) : null;
    for (const v of [sum.open, money({ minor: sum.pipeline, currency }), sum.won, percent(winRate), sum.checkIns, sum.flagged, sum.late, sum.missing, money({ minor: sum.penalties, currency })]) {
      tr.append(el("td", { class: "num" }, String(v)));
    }
    if (sum.flagged > 0) tr.classList.add("flagged");
    body.append(tr);
  };
  for (const u of units) {
    add("unit", u.id, u.name, query({ unit: u.id, rep: null, visit: null }), org.people.filter((p) => within(p.unit_id, u.id)));
  }
  for (const p of people) add("rep", p.id, p.name, query({ rep: p.id, unit: null, visit: null }), [p]);
}

// ---- the sections ---------------------------------------------------------------------------

function drawFunnel(d, before) {
  const f = d.funnel.total, b = before?.funnel.total;
  figure("funnel-total", sumOpen(f), b && sumOpen(b));
  figure("funnel-pipeline", f.pipeline, b?.pipeline, money, "money");
  figure("funnel-forecast", f.weighted_forecast, b?.weighted_forecast, money, "money");
  figure("funnel-won", f.won, b?.won);
  figure("funnel-won-amount", f.won_amount, b?.won_amount, money, "money");
  figure("funnel-lost", f.lost, b?.lost);
  figure("funnel-win-rate", f.win_rate, b ? b.win_rate : undefined, percent, "share");
  const names = new Map(d.funnel.stages.map((s) => [s.key, s.name]));
  barChart($("funnel-chart"), f.stages.map((s) => {
    const prev = b?.stages.find((x) => x.stage === s.stage);
    return [names.get(s.stage) || s.stage, s.open, s.stage, prev ? prev.open : undefined, `${s.open} · ${money(s.open_amount)}`];
  }));
}

function drawVisits(d, before) {
  const v = d.visits.total, b = before?.visits.total;
  figure("visits-total", v.check_ins, b?.check_ins);
  $("visits-planned-done").textContent = String(v.planned_done);
  $("visits-planned").textContent = String(v.planned);
  figure("visits-flagged", v.flagged, b?.flagged);
  figure("visits-outside", v.outside, b?.outside);
  barChart($("visits-chart"), VERDICTS.map((k) => [t(k), v[k] || 0, k, b ? b[k] || 0 : undefined]), { cls: (k) => `verdict-${k}` });
  const list = $("flagged-list");
  list.replaceChildren();
  for (const p of d.map.points.filter((p) => p.flags.length > 0)) {
    const li = el("li", { class: "flagged-check-in", "data-visit-id": p.visit_id });
    li.append(el("a", { href: query({ rep: p.rep.id, unit: null, visit: p.visit_id }) }, p.rep.name), ` · ${localTime(p.at)} · `,
      el("span", { class: `chip ${p.fence || "unjudged"}` }, t(p.fence || "unjudged")), " ");
    for (const f of p.flags) li.append(el("span", { class: CAUTIONS.has(f) ? "flag caution" : "flag", "data-flag": f }, t(f)));
    list.append(li);
  }
  if (!list.children.length) list.append(el("li", { class: "none" }, t("none")));
}

function drawReports(d, before) {
  const r = d.reports.total, b = before?.reports.total;
  figure("on-time-count", r.on_time, b?.on_time);
  figure("late-count", r.late, b?.late);
  figure("missing-count", r.missing, b?.missing);
  figure("false-count", r.false_reports, b?.false_reports);
  figure("penalties", r.penalties, b?.penalties, money, "money");
  barChart($("reports-chart"), [
    [t("on_time"), r.on_time, "on_time", b?.on_time], [t("late"), r.late, "late", b?.late],
    [t("missing"), r.missing, "missing", b?.missing], [t("false"), r.false_reports, "false", b?.false_reports],
    [t("awaiting_receipt"), r.awaiting_receipt, "awaiting_receipt", b?.awaiting_receipt],
  ]);
}

function drawTargets(d) {
  const body = $("leaderboard").tBodies[0];
  body.replaceChildren();
  for (const row of d.targets.leaderboard) {
    const tr = el("tr", { "data-target-id": row.target_id });
    tr.append(el("td", { class: "num" }, String(row.rank)), el("td", {}, row.subject.name),
      el("td", { class: "num" }, money(row.target)), el("td", { class: "num" }, money(row.achieved)));
    const att = el("td", { class: "num" }, percent(row.attainment));
    att.append(el("span", { class: "bar-cell", style: undefined }));
    att.lastChild.style.width = `${Math.min(100, (row.attainment ?? 0) / 100) * 0.6}px`;
    tr.append(att);
    body.append(tr);
  }
  if (!body.children.length) {
    const tr = el("tr");
    tr.append(el("td", { colspan: 5 }, t("none")));
    body.append(tr);
  }
}

function drawAttention(d) {
  const a = d.attention;
  const list = $("attention-list");
  list.replaceChildren();
  const item = (kind, parts) => {
    const li = el("li", { "data-kind": kind });
    li.append(el("strong", {}, t(kind)), " · ", ...parts);
    list.append(li);
  };
  for (const o of a.overdue_opportunities) item("overdue", [`${o.name} · ${o.owner.name} · ${o.stage} · ${t("due")} ${localTime(o.due_at)} · ${money(o.amount)}`]);
  for (const l of a.leads_due_for_reclaim) item("lead_due", [`${l.company_name} · ${l.owner.name} · ${t("due")} ${localTime(l.due_at)}`]);
  for (const l of a.reclaimed_leads) item("reclaimed", [`${l.company_name} · ${l.from.name} · ${localTime(l.at)}`]);
  for (const f of a.false_progress) item("false_deal", [`${f.name} · ${f.owner.name} · ${f.stage} · ${money({ minor: f.penalty_minor, currency: d.funnel.currency })}`]);
  for (const w of a.approvals_waiting) item("approval", [`${w.title} · ${w.requester.name}${w.amount ? ` · ${money(w.amount)}` : ""}`]);
  for (const r of a.rejected_changes) item("rejected", [`${r.kind} · ${r.reason_code} · ${r.detail}`]);
  if (!list.children.length) list.append(el("li", { class: "none" }, t("none")));
}

function showVisit(v, tr) {
  for (const row of $("person-visits").tBodies[0].rows) row.setAttribute("aria-selected", String(row === tr));
  const box = $("visit-detail");
  box.replaceChildren();
  box.hidden = false;
  box.dataset.visitId = v.visit_id;
  const dl = el("dl");
  const pair = (k, value) => { dl.append(el("dt", {}, t(k))); const dd = el("dd"); dd.append(value); dl.append(dd); };
  pair("customer", v.customer_name);
  pair("when", localTime(v.at));
  pair("fence", el("span", { class: `chip ${v.fence || "unjudged"}` }, t(v.fence || "unjudged")));
  const flags = el("span", { id: "visit-detail-flags" });
  for (const f of v.flags) flags.append(el("span", { class: CAUTIONS.has(f) ? "flag caution" : "flag", "data-flag": f }, t(f)));
  if (!v.flags.length) flags.append(t("none"));
  pair("flags", flags);
  pair("position", `${v.lat.toFixed(5)}, ${v.lon.toFixed(5)} (±${Math.round(v.accuracy_m)} m)${v.mock ? ` · ${t("mock")}` : ""}`);
  pair("distance", v.distance_m === null ? "—" : `${Math.round(v.distance_m)} m`);
  pair("checked_out", v.checked_out_at ? localTime(v.checked_out_at) : "—");
  pair("duration", v.duration_s === null ? "—" : String(Math.round(v.duration_s / 60)));
  pair("photos", String(v.photos));
  box.append(dl);
}

function drawPerson(records) {
  const section = $("person");
  section.hidden = !records;
  if (!records) return;
  $("person-title").textContent = `${records.person.name} · ${records.unit.name}`;
  const visits = $("person-visits").tBodies[0];
  visits.replaceChildren();
  let chosen = null;
  for (const v of records.visits) {
    const tr = el("tr", { class: v.flags.length ? "visit flagged" : "visit", "data-visit-id": v.visit_id, tabindex: 0 });
    const flags = el("td");
    for (const f of v.flags) flags.append(el("span", { class: CAUTIONS.has(f) ? "flag caution" : "flag", "data-flag": f }, t(f)));
    const fence = el("td");
    fence.append(el("span", { class: `chip ${v.fence || "unjudged"}` }, t(v.fence || "unjudged")));
    tr.append(el("td", {}, localTime(v.at)), el("td", {}, v.customer_name), fence, flags,
      el("td", { class: "num" }, String(Math.round(v.accuracy_m))),
      el("td", { class: "num" }, v.distance_m === null ? "—" : String(Math.round(v.distance_m))),
      el("td", { class: "num" }, v.duration_s === null ? "—" : String(Math.round(v.duration_s / 60))),
      el("td", { class: "num" }, String(v.photos)));
    const open = () => {
      view.visit = v.visit_id;
      writeUrl();
      showVisit(v, tr);
    };
    tr.addEventListener("click", open);
    tr.addEventListener("keydown", (e) => { if (e.key === "Enter") open(); });
    visits.append(tr);
    if (v.visit_id === view.visit) chosen = [v, tr];
  }
  $("visit-detail").hidden = true;
  if (chosen) showVisit(...chosen);
  const reports = $("person-reports").tBodies[0];
  reports.replaceChildren();
  for (const r of records.reports) {
    const tr = el("tr", { "data-report-id": r.report_id });
    tr.append(el("td", {}, r.date), el("td", {}, t(r.state)), el("td", {}, r.compliance ? t(r.compliance) : "—"),
      el("td", {}, r.submitted_at ? localTime(r.submitted_at) : "—"), el("td", { class: "num" }, r.penalty ? money(r.penalty) : ""));
    reports.append(tr);
  }
  const deals = $("person-deals").tBodies[0];
  deals.replaceChildren();
  const stages = new Map((lastData?.funnel.stages || []).map((s) => [s.key, s.name]));
  for (const d of records.deals) {
    const tr = el("tr", { "data-deal-id": d.opportunity_id });
    tr.append(el("td", {}, d.name), el("td", {}, d.customer_name), el("td", {}, stages.get(d.stage) || d.stage),
      el("td", { class: "num" }, money(d.amount)), el("td", {}, d.expected_close || ""), el("td", {}, d.outcome ? t(`${d.outcome}_outcome`) : ""));
    deals.append(tr);
  }
}

// ---- loading --------------------------------------------------------------------------------

let lastData = null;

function focusQuery() {
  if (view.rep) return { rep: view.rep };
  if (view.unit) return { unit: view.unit };
  return {};
}

async function period(from, to, full) {
  const days = { from: isoDay(from), to: isoDay(to) };
  const q = new URLSearchParams({ ...days, group_by: "rep", ...focusQuery() });
  const calls = [
    api(`/v1/dashboards/funnel?${q}`),
    api(`/v1/dashboards/visits?${q}`),
    api(`/v1/dashboards/reports?${q}`),
  ];
  if (full) {
    calls.push(api(`/v1/dashboards/targets?${q}`), api(`/v1/dashboards/attention?${q}`),
      api(`/v1/dashboards/visits/points?${new URLSearchParams({ ...days, limit: "5000", ...focusQuery() })}`));
  }
  const [funnel, visits, reports, targets, attention, map] = await Promise.all(calls);
  return { funnel, visits, reports, targets, attention, map };
}

async function load() {
  const main = $("dashboard");
  const status = $("status");
  main.dataset.state = "loading";
  status.removeAttribute("data-error");
  status.textContent = t("loading");
  $("from").value = isoDay(view.from);
  $("to").value = isoDay(view.to);
  $("compare").checked = view.compare;
  for (const b of document.querySelectorAll("[data-preset]")) b.setAttribute("aria-pressed", String(b.dataset.preset === view.preset));
  writeUrl();
  try {
    org = await api("/v1/dashboards/org");
    $("signed-in-as").textContent = org.viewer.name;
    const [prevFrom, prevTo] = previousRange(view.from, view.to);
    const [d, before, records] = await Promise.all([
      period(view.from, view.to, true),
      view.compare ? period(prevFrom, prevTo, false) : Promise.resolve(null),
      view.rep ? api(`/v1/dashboards/people/${encodeURIComponent(view.rep)}?${new URLSearchParams({ from: isoDay(view.from), to: isoDay(view.to) })}`) : Promise.resolve(null),
    ]);
    lastData = d;
    main.dataset.compare = before ? `${isoDay(prevFrom)}/${isoDay(prevTo)}` : "";
    drawCrumbs();
    drawBreakdown(d);
    drawFunnel(d, before);
    drawVisits(d, before);
    drawMap(d.map.points);
    drawReports(d, before);
    drawTargets(d);
    drawAttention(d);
    drawPerson(records);
    $("data-as-of").textContent = d.funnel.data_as_of ? `${t("data_as_of")} ${localTime(d.funnel.data_as_of)}` : "";
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

async function exportWorkbook() {
  const status = $("status");
  const button = $("export");
  button.removeAttribute("data-exported");
  status.textContent = t("exporting");
  try {
    const q = new URLSearchParams({ from: isoDay(view.from), to: isoDay(view.to), group_by: "rep", lang, ...focusQuery() });
    if (view.compare) q.set("compare", "true");
    const blob = await (await call(`/v1/dashboards/export?${q}`)).blob();
    const url = URL.createObjectURL(blob);
    const a = el("a", { href: url, download: `fieldsales-${isoDay(view.from)}-${isoDay(view.to)}.xlsx` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    button.dataset.exported = String(blob.size);
    status.textContent = t("exported");
  } catch (e) {
    status.dataset.error = "";
    status.textContent = e.message;
  }
}

// ---- signing in and out ---------------------------------------------------------------------

function showSignedIn() {
  const signedIn = sessionStorage.getItem(TOKEN) !== null;
  $("sign-in-form").hidden = signedIn;
  $("dashboard").hidden = !signedIn;
  $("sign-out").hidden = !signedIn;
  if (!signedIn) $("signed-in-as").textContent = "";
}

// Forgets everything drawn for the previous user, so the next one never glimpses it.
function clearDashboard() {
  const main = $("dashboard");
  main.dataset.state = "idle";
  org = null;
  lastData = null;
  for (const e of main.querySelectorAll("strong, .prev")) e.replaceChildren();
  for (const id of ["funnel-chart", "visits-chart", "reports-chart", "map", "map-legend", "map-outliers", "flagged-list",
    "attention-list", "crumbs", "data-as-of", "status", "person-title", "visit-detail"]) {
    $(id).replaceChildren();
  }
  for (const id of ["reps", "leaderboard", "person-visits", "person-reports", "person-deals"]) $(id).tBodies[0].replaceChildren();
  $("person").hidden = true;
  $("signed-in-as").textContent = "";
}

function signOut() {
  clearDashboard();
  const token = sessionStorage.getItem(TOKEN);
  sessionStorage.removeItem(TOKEN);
  if (token) fetch("/v1/auth/logout", { method: "POST", headers: { Authorization: `Bearer ${token}` } }).catch(() => {});
  view.unit = null;
  view.rep = null;
  view.visit = null;
  writeUrl();
  showSignedIn();
}

async function signIn(event) {
  event.preventDefault();
  $("sign-in-error").textContent = "";
  try {
    const body = JSON.stringify({ tenant: $("tenant").value.trim(), login: $("login").value.trim(), password: $("password").value });
    const answer = await api("/v1/auth/browser", { method: "POST", body, anonymous: true, headers: { "Content-Type": "application/json" } });
    sessionStorage.setItem(TOKEN, answer.token);
    $("password").value = "";
    showSignedIn();
    await load();
  } catch (e) {
    $("sign-in-error").textContent = e.message;
  }
}

// The page's address in language `l`.
function queryIn(l) {
  const saved = lang;
  lang = l;
  const q = query();
  lang = saved;
  return q;
}

function languageLinks() {
  $("lang-zh").href = queryIn("zh-Hans");
  $("lang-en").href = queryIn("en");
}

function translate() {
  document.documentElement.lang = lang;
  document.title = `Fieldsales · ${t("title")}`;
  for (const e of document.querySelectorAll("[data-t]")) e.textContent = t(e.dataset.t);
  languageLinks();
}

function init() {
  readUrl();
  translate();
  $("sign-in-form").addEventListener("submit", signIn);
  $("range-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const from = parseDay($("from").value), to = parseDay($("to").value);
    if (!from || !to || to < from) {
      $("status").dataset.error = "";
      $("status").textContent = `${t("from")} > ${t("to")}`;
      return;
    }
    view.from = from;
    view.to = to;
    view.preset = null;
    view.compare = $("compare").checked;
    load();
  });
  $("compare").addEventListener("change", () => { view.compare = $("compare").checked; load(); });
  for (const b of document.querySelectorAll("[data-preset]")) {
    b.addEventListener("click", () => {
      view.preset = b.dataset.preset;
      [view.from, view.to] = presetRange(view.preset);
      load();
    });
  }
  $("export").addEventListener("click", exportWorkbook);
  $("sign-out").addEventListener("click", signOut);
  showSignedIn();
  if (sessionStorage.getItem(TOKEN)) load();
}

init();
