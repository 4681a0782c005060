// The admin's browser console: signs in as a browser session (no device), keeps the token for
// this tab only (sessionStorage, under a key of its own so the dashboard's sign-in is not
// shared) and lets an admin keep the tenant's org tree, people, accounts, roles, permission
// matrix and process configuration, hand a leaving rep's records over to a colleague and read
// the audit log. Everything comes from the JSON admin API of this server (`/v1/admin/…`);
// nothing is kept but the token. Which tab is open and the language live in the URL, so a
// reload shows the same page. An account that is not an admin sees a refusal and nothing else.

const TOKEN = "fieldsales.admin.token";
const $ = (id) => document.getElementById(id);

const TABS = ["org", "users", "roles", "process", "import", "audit"];
const ENTITIES = ["customers", "contacts", "products"];
const LEVELS = ["hq", "region", "district", "team"];
// Every operation the audit log records (the server's `Operation::ALL`).
const AUDIT_OPERATIONS = [
  "record.create", "record.edit", "record.reassign", "record.delete", "opportunity.stage", "record.judgment",
  "approval.request", "approval.decision", "visit.check_in", "visit.check_out", "report.submit", "push.rejected",
  "admin.write", "job.write", "auth.sign_in", "auth.sign_out", "auth.lockout", "account.create", "account.revoke",
  "device.revoke", "password.change", "password.reset",
];
const AUDIT_PAGE = 100;

// ---- text -----------------------------------------------------------------------------------

const TEXT = {
  "zh-Hans": {
    title: "管理控制台", sign_in: "登录", sign_out: "退出", tenant: "租户", login: "账号", password: "密码",
    refused: "此控制台仅供管理员使用", reload: "重新加载", loading: "加载中…",
    tab_org: "组织架构", tab_users: "用户", tab_roles: "角色与权限", tab_process: "流程配置", tab_audit: "审计日志",
    edit_unit: "新增或修改组织单元", unit_pick: "单元", new_unit: "— 新单元 —", unit_saved: "已保存：{name}",
    edit_role: "编辑角色", new_role: "— 新角色 —", role_saved: "角色 {code} 已保存",
    tab_import: "导入", import: "导入", import_go: "导入", import_entity: "导入内容", import_file: "文件",
    import_owner: "默认负责人", import_dry_run: "只检查，不写入", import_row: "行", import_outcome: "结果",
    import_hint: "从 CSV 或 Excel 导入客户、联系人或产品。每一行都先检查，通过的行一次写入；有问题的行按行号列出原因，已存在的记录不会重复创建。",
    entity_customers: "客户", entity_contacts: "联系人", entity_products: "产品", no_default_owner: "— 按文件 —",
    importing: "导入中…", import_pick_file: "请选择文件",
    imported: "{file}：共 {rows} 行，导入 {imported} 行，已存在 {present} 行，拒绝 {rejected} 行，提示 {warnings} 条",
    checked: "{file}（只检查）：共 {rows} 行，可导入 {imported} 行，已存在 {present} 行，拒绝 {rejected} 行，提示 {warnings} 条",
    row_rejected: "拒绝", row_present: "已存在", row_warning: "提示",
    org_tree: "组织架构", add_unit: "新增组织单元", name: "名称", level: "层级", parent: "上级单元", manager: "负责人",
    add: "添加", no_parent: "（无上级）", nobody: "（无）", people_count: "{n} 人", unit_added: "已添加：{name}",
    people: "人员", employee_no: "工号", unit: "所属单元", roles: "角色", state: "状态", actions: "操作",
    active: "在职", left: "已离职", left_on: "{date} 离职", revoked: "账号已停用", admin: "管理员", no_account: "无账号",
    deactivate: "停用", confirm_deactivate: "停用 {name}？其账号和设备将被注销，资料标记为今天离职。",
    deactivated: "已停用：{name}", cannot_deactivate_self: "不能停用自己",
    new_user: "新建用户", job_title: "职务", zone: "时区", started_on: "入职日期", is_admin: "管理员", create: "创建",
    pick_role: "请至少选择一个角色", user_created: "已创建：{name}",
    account_pending: "账号已创建，但资料未保存。修正后再次提交即可补写资料。",
    hand_over: "工作移交", hand_over_hint: "把一位同事名下的客户、联系人、线索和商机移交给另一位在职同事。",
    hand_over_from: "移交人", hand_over_to: "接收人", hand_over_go: "移交", choose: "— 请选择 —", inactive_suffix: "（已离职）",
    same_person: "移交人和接收人不能是同一人",
    handed_over: "已移交：客户 {customers}、联系人 {contacts}、线索 {leads}、商机 {opportunities}",
    code: "代码", data_scope: "数据范围", hidden_fields: "隐藏字段", matrix: "权限矩阵", no_process: "尚无流程配置。",
    role: "角色", rights: "其他权利", save: "保存", matrix_saved: "已保存（修订号 {revision}）",
    matrix_conflict: "配置已被修改，请重新加载后再保存。", discard_changes: "放弃未保存的修改？",
    process: "流程配置", revision: "修订号", process_name: "名称", lines: "行数", process_file: "配置文件（TOML）",
    revert: "放弃修改", confirm_revert: "放弃对配置文件的修改？", process_saved: "已保存（修订号 {revision}）",
    audit: "审计日志", operation: "操作", user: "人员", record: "记录 ID", from: "从", to: "到", search: "查询",
    export_xlsx: "导出 Excel", export_csv: "导出 CSV", exporting: "正在导出…", exported: "已导出",
    when: "时间", who: "操作人", kind: "类型", detail: "说明", changes: "变更", more: "更多", all: "全部",
    system: "系统", entries: "{n} 条", no_entries: "无记录", none: "无", bad_range: "开始日期晚于结束日期",
    filter_record: "只看此记录",
    "level.hq": "总部", "level.region": "大区", "level.district": "片区", "level.team": "团队",
    "scope.own": "本人", "scope.subtree": "本部门及下级", "scope.region": "本大区", "scope.all": "全部",
    "op.create": "新建", "op.read": "查看", "op.edit": "编辑", "op.delete": "删除", "op.reassign": "转移",
    "op.share": "共享", "op.approve": "审批", "op.export": "导出",
    "right.mark_report_false": "标记虚假日报", "right.mark_progress_false": "标记虚假推进", "right.set_targets": "设定目标",
    "right.record_payments": "登记回款", "right.record_delivery": "登记发货", "right.claim_leads": "领取线索",
    "right.manage_catalogue": "管理产品目录", "right.manage_process": "管理流程配置", "right.manage_users": "管理组织与用户",
    "kind.org_unit": "组织单元", "kind.user": "用户", "kind.user_profile": "用户", "kind.role": "角色", "kind.customer": "客户",
    "kind.contact": "联系人", "kind.follow_up": "跟进记录", "kind.lead": "线索", "kind.opportunity": "商机", "kind.visit": "拜访",
    "kind.visit_plan": "拜访计划", "kind.daily_report": "日报", "kind.task": "任务", "kind.approval": "审批",
    "kind.product": "产品", "kind.order": "订单", "kind.target": "目标", "kind.process_config": "流程配置",
    "kind.private": "私密字段", "kind.account": "账号", "kind.device": "设备",
    "event.record.create": "新建记录", "event.record.edit": "编辑记录", "event.record.reassign": "转移记录",
    "event.record.delete": "删除记录", "event.opportunity.stage": "商机阶段变更", "event.record.judgment": "判定",
    "event.approval.request": "提交审批", "event.approval.decision": "审批决定", "event.visit.check_in": "签到",
    "event.visit.check_out": "签退", "event.report.submit": "提交日报", "event.push.rejected": "同步被拒",
    "event.admin.write": "管理员写入", "event.job.write": "定时任务写入", "event.auth.sign_in": "登录",
    "event.auth.sign_out": "退出登录", "event.auth.lockout": "登录锁定", "event.account.create": "创建账号",
    "event.account.revoke": "注销账号", "event.device.revoke": "注销设备", "event.password.change": "修改密码",
    "event.password.reset": "重置密码",
  },
  en: {
    title: "Admin console", sign_in: "Sign in", sign_out: "Sign out", tenant: "Tenant", login: "Login", password: "Password",
    refused: "This console is for admins only", reload: "Reload", loading: "Loading…",
    tab_org: "Org tree", tab_users: "Users", tab_roles: "Roles and permissions", tab_process: "Process", tab_audit: "Audit log",
    edit_unit: "Add or change a unit", unit_pick: "Unit", new_unit: "— a new unit —", unit_saved: "Saved: {name}",
    edit_role: "Edit a role", new_role: "— a new role —", role_saved: "Role {code} saved",
    tab_import: "Import", import: "Import", import_go: "Import", import_entity: "What", import_file: "File",
    import_owner: "Default owner", import_dry_run: "Check only, write nothing", import_row: "Row", import_outcome: "Outcome",
    import_hint: "Import customers, contacts or products from CSV or Excel. Every row is checked first and the rows that pass are written together; refused rows are listed by row number with every reason, and records already present are not created again.",
    entity_customers: "Customers", entity_contacts: "Contacts", entity_products: "Products", no_default_owner: "— as the file says —",
    importing: "Importing…", import_pick_file: "Choose a file",
    imported: "{file}: {rows} rows, {imported} imported, {present} already present, {rejected} refused, {warnings} warnings",
    checked: "{file} (checked only): {rows} rows, {imported} to import, {present} already present, {rejected} refused, {warnings} warnings",
    row_rejected: "Refused", row_present: "Already present", row_warning: "Warning",
    org_tree: "Org tree", add_unit: "Add a unit", name: "Name", level: "Level", parent: "Parent unit", manager: "Manager",
    add: "Add", no_parent: "(no parent)", nobody: "(nobody)", people_count: "{n} people", unit_added: "Added: {name}",
    people: "People", employee_no: "Employee no.", unit: "Unit", roles: "Roles", state: "State", actions: "Actions",
    active: "Active", left: "Left", left_on: "Left on {date}", revoked: "Account revoked", admin: "Admin", no_account: "No account",
    deactivate: "Deactivate", confirm_deactivate: "Deactivate {name}? Their account and devices are revoked and their profile marked as left today.",
    deactivated: "Deactivated: {name}", cannot_deactivate_self: "You cannot deactivate yourself",
    new_user: "New user", job_title: "Title", zone: "Time zone", started_on: "Started on", is_admin: "Admin", create: "Create",
    pick_role: "Pick at least one role", user_created: "Created: {name}",
    account_pending: "The account was created but the profile was not saved. Correct it and submit again to write the profile.",
    hand_over: "Hand-over", hand_over_hint: "Give a colleague's customers, contacts, leads and deals to another active colleague.",
    hand_over_from: "From", hand_over_to: "To", hand_over_go: "Hand over", choose: "— choose —", inactive_suffix: " (left)",
    same_person: "Pick two different people",
    handed_over: "Handed over: {customers} customers, {contacts} contacts, {leads} leads, {opportunities} deals",
    code: "Code", data_scope: "Data scope", hidden_fields: "Hidden fields", matrix: "Permission matrix", no_process: "No process configuration yet.",
    role: "Role", rights: "Other rights", save: "Save", matrix_saved: "Saved (revision {revision})",
    matrix_conflict: "The configuration changed meanwhile: reload, then save again.", discard_changes: "Discard the unsaved changes?",
    process: "Process configuration", revision: "Revision", process_name: "Name", lines: "Lines", process_file: "Configuration file (TOML)",
    revert: "Discard changes", confirm_revert: "Discard your changes to the file?", process_saved: "Saved (revision {revision})",
    audit: "Audit log", operation: "Operation", user: "Person", record: "Record id", from: "From", to: "To", search: "Search",
    export_xlsx: "Export to Excel", export_csv: "Export to CSV", exporting: "Exporting…", exported: "Exported",
    when: "When", who: "Who", kind: "Kind", detail: "Detail", changes: "Changes", more: "More", all: "All",
    system: "System", entries: "{n} entries", no_entries: "No entries", none: "None", bad_range: "The start is after the end",
    filter_record: "Only this record",
    "level.hq": "Headquarters", "level.region": "Region", "level.district": "District", "level.team": "Team",
    "scope.own": "Own", "scope.subtree": "Subtree", "scope.region": "Region", "scope.all": "All",
    "op.create": "Create", "op.read": "Read", "op.edit": "Edit", "op.delete": "Delete", "op.reassign": "Reassign",
    "op.share": "Share", "op.approve": "Approve", "op.export": "Export",
    "right.mark_report_false": "Mark reports false", "right.mark_progress_false": "Mark progress false", "right.set_targets": "Set targets",
    "right.record_payments": "Record payments", "right.record_delivery": "Record delivery", "right.claim_leads": "Claim leads",
    "right.manage_catalogue": "Manage the catalogue", "right.manage_process": "Manage the process", "right.manage_users": "Manage org and users",
    "kind.org_unit": "Org unit", "kind.user": "User", "kind.user_profile": "User", "kind.role": "Role", "kind.customer": "Customer",
    "kind.contact": "Contact", "kind.follow_up": "Follow-up", "kind.lead": "Lead", "kind.opportunity": "Deal", "kind.visit": "Visit",
    "kind.visit_plan": "Visit plan", "kind.daily_report": "Daily report", "kind.task": "Task", "kind.approval": "Approval",
    "kind.product": "Product", "kind.order": "Order", "kind.target": "Target", "kind.process_config": "Process configuration",
    "kind.private": "Private field", "kind.account": "Account", "kind.device": "Device",
    "event.record.create": "Record created", "event.record.edit": "Record edited", "event.record.reassign": "Record reassigned",
    "event.record.delete": "Record deleted", "event.opportunity.stage": "Deal stage changed", "event.record.judgment": "Judgment",
    "event.approval.request": "Approval requested", "event.approval.decision": "Approval decided", "event.visit.check_in": "Check-in",
    "event.visit.check_out": "Check-out", "event.report.submit": "Report submitted", "event.push.rejected": "Push rejected",
    "event.admin.write": "Admin write", "event.job.write": "Job write", "event.auth.sign_in": "Sign-in",
    "event.auth.sign_out": "Sign-out", "event.auth.lockout": "Lockout", "event.account.create": "Account created",
    "event.account.revoke": "Account revoked", "event.device.revoke": "Device revoked", "event.password.change": "Password changed",
    "event.password.reset": "Password reset",
  },
};

let lang = "zh-Hans";
const t = (key) => TEXT[lang][key] ?? TEXT.en[key] ?? key;
// The name of a code (`label("scope", "own")`), the code itself when the page has none.
const label = (prefix, code) => TEXT[lang][`${prefix}.${code}`] ?? TEXT.en[`${prefix}.${code}`] ?? code;
// `template` with each `{name}` replaced by `values.name`.
const fill = (template, values) => template.replace(/\{(\w+)\}/g, (m, k) => (k in values ? String(values[k]) : m));
const joined = (items) => items.join(lang === "en" ? ", " : "、");
const colon = () => (lang === "en" ? ": " : "：");
const byName = (a, b) => a.name.localeCompare(b.name, lang);

function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? "" : String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

// Replaces a select's options with `options` ([value, text]), keeping the chosen value when it
// is still one of them (a reload after a write must not undo what the admin picked).
function fillSelect(select, options) {
  const before = select.value;
  select.replaceChildren(...options.map(([value, text]) => el("option", { value }, text)));
  if (options.some(([value]) => value === before)) select.value = before;
}

// ---- days -----------------------------------------------------------------------------------

const pad = (n) => String(n).padStart(2, "0");
const isoDay = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
function parseDay(s) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s || "");
  return m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : null;
}
const localTime = (ms) => {
  const d = new Date(ms);
  return `${isoDay(d)} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
};

// ---- where the page is: the URL ------------------------------------------------------------

const view = { tab: "org" };

function readUrl() {
  const q = new URLSearchParams(location.search);
  lang = q.get("lang") === "en" ? "en" : "zh-Hans";
  const hash = location.hash.slice(1);
  view.tab = TABS.includes(q.get("tab")) ? q.get("tab") : TABS.includes(hash) ? hash : "org";
  if (q.get("tenant")) $("tenant").value = q.get("tenant");
}

// The query string of the page in language `l` ("" when everything is the default).
function query(l = lang) {
  const q = new URLSearchParams();
  if (view.tab !== "org") q.set("tab", view.tab);
  if (l !== "zh-Hans") q.set("lang", l);
  const s = q.toString();
  return s ? `?${s}` : "";
}

function writeUrl() {
  history.replaceState(null, "", `${location.pathname}${query()}`);
  $("lang-zh").href = `${location.pathname}${query("zh-Hans")}`;
  $("lang-en").href = `${location.pathname}${query("en")}`;
}

// ---- the API --------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    super(body && body.detail ? body.detail : `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

// A call with the token. An expired session signs the page out; an answer that the caller is
// no admin (403 `admin_required`) turns the page into the refusal, whichever call met it.
async function call(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  const token = sessionStorage.getItem(TOKEN);
  if (token && !options.anonymous) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(path, { ...options, headers });
  if (!response.ok) {
    const body = response.headers.get("content-type")?.includes("json") ? await response.json().catch(() => null) : null;
    const error = new ApiError(response.status, body);
    if (!options.anonymous && response.status === 401) {
      signOut();
      $("sign-in-error").textContent = error.message;
    } else if (!options.anonymous && response.status === 403 && body?.code === "admin_required") {
      refuse();
    }
    throw error;
  }
  return response;
}

async function api(path, options = {}) {
  const response = await call(path, { ...options, headers: { Accept: "application/json", ...(options.headers || {}) } });
  return response.headers.get("content-type")?.includes("json") ? response.json() : null;
}

const send = (path, method, body) =>
  api(path, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { "Content-Type": "application/json" } });

// Shows a refusal in `alertId`; when the server names the field at fault, marks the form's
// input of that name.
function fail(alertId, error, form) {
  $(alertId).textContent = error.message;
  const field = error.body?.field;
  const input = form && field ? form.elements.namedItem(field) : null;
  if (input instanceof Element) {
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }
}

// Empties the messages `ids`; a form among them loses its marks of invalid fields.
function clearMessages(...ids) {
  for (const id of ids) {
    const e = $(id);
    if (e.tagName === "FORM") for (const i of e.querySelectorAll("[aria-invalid]")) i.removeAttribute("aria-invalid");
    else e.textContent = "";
  }
}

// Runs `work` with `button` disabled, so a slow answer is not sent twice.
async function busy(button, work) {
  button.disabled = true;
  try {
    await work();
  } finally {
    button.disabled = false;
  }
}

// ---- what the console holds -----------------------------------------------------------------

let session = null; // GET /v1/auth/session
let data = null; // GET /v1/admin/console
const find = { person: new Map(), unit: new Map(), role: new Map(), account: new Map() };
// The matrix and the file the admin is editing, with the revision they were loaded at: a
// reload while they are changed keeps the admin's edits (and their revision, so the server can
// refuse them when the configuration moved on).
const matrix = { role: null, revision: 0, dirty: false };
const processFile = { text: "", revision: 0 };
// Whether the admin changed the file since it was loaded (however the text was put there).
const processEdited = () => $("process-toml").value !== processFile.text;
// An account made for a new user whose profile write failed: submitting again writes the
// profile under it instead of making a second account.
let pendingAccount = null;
const audit = { filters: {}, next: null, loaded: false };

function index() {
  find.person = new Map(data.people.map((p) => [p.id, p]));
  find.unit = new Map(data.units.map((u) => [u.id, u]));
  find.role = new Map(data.roles.map((r) => [r.code, r]));
  find.account = new Map(data.people.filter((p) => p.account).map((p) => [p.account.id, p]));
  // Accounts with no profile record (an admin made on the server's host), by account and by
  // the profile id they act as: the log names them by login.
  find.login = new Map();
  for (const a of data.other_accounts || []) {
    find.login.set(a.id, a.login);
    find.login.set(a.profile_id, a.login);
  }
}

const personName = (id) => find.person.get(id)?.name ?? "";
const unitName = (id) => find.unit.get(id)?.name ?? "";
const roleName = (code) => find.role.get(code)?.name ?? code;
const peopleSorted = () => [...data.people].sort(byName);
// The units as select options, in tree order, indented by depth.
const unitOptions = () => treeOrder().map(({ unit, depth }) => [unit.id, `${"\u00a0\u00a0".repeat(depth)}${unit.name}`]);

// A body's one row saying there is nothing to show.
function emptyRow(body, columns, text = t("none")) {
  const tr = el("tr", { class: "none" });
  tr.append(el("td", { colspan: columns }, text));
  body.append(tr);
}

// The units in tree order, each with its depth; a unit whose parent is unknown is a root, and
// units caught in a cycle are listed as roots too, so none is ever lost.
function treeOrder() {
  const children = new Map();
  for (const u of data.units) {
    const key = u.parent_id && find.unit.has(u.parent_id) ? u.parent_id : "";
    if (!children.has(key)) children.set(key, []);
    children.get(key).push(u);
  }
  for (const list of children.values()) list.sort((a, b) => LEVELS.indexOf(a.level) - LEVELS.indexOf(b.level) || byName(a, b));
  const order = [], seen = new Set();
  const visit = (unit, depth) => {
    if (seen.has(unit.id)) return;
    seen.add(unit.id);
    order.push({ unit, depth });
    for (const child of children.get(unit.id) || []) visit(child, depth + 1);
  };
  for (const root of children.get("") || []) visit(root, 0);
  for (const u of [...data.units].sort(byName)) visit(u, 0);
  return order;
}

// ---- 1. the org tree ------------------------------------------------------------------------

function drawOrg() {
  const tree = $("org-tree");
  tree.replaceChildren();
  const counts = new Map();
  for (const p of data.people) if (p.active) counts.set(p.unit_id, (counts.get(p.unit_id) || 0) + 1);
  // Nested lists from the depth-first order: a stack of the open lists, one per depth.
  const lists = [tree];
  for (const { unit, depth } of treeOrder()) {
    lists.length = depth + 1;
    const li = el("li", { "data-unit": unit.id, "data-level": unit.level });
    const row = el("div", { class: "unit" });
    const n = counts.get(unit.id) || 0;
    row.append(el("strong", {}, unit.name), el("span", { class: `chip level-${unit.level}` }, label("level", unit.level)),
      el("span", { class: "count", "data-count": n }, fill(t("people_count"), { n })));
    if (unit.manager_id) row.append(el("span", { class: "manager" }, `${t("manager")}${colon()}${personName(unit.manager_id) || "—"}`));
    li.append(row);
    lists[depth].append(li);
    const sub = el("ul");
    li.append(sub);
    lists.push(sub);
  }
  for (const ul of tree.querySelectorAll("ul")) if (!ul.children.length) ul.remove();
  if (!tree.children.length) tree.append(el("li", { class: "none" }, t("none")));

  const keep = $("unit-pick").value;
  fillSelect($("unit-pick"), [["", t("new_unit")], ...unitOptions()]);
  fillSelect($("unit-level"), LEVELS.map((l) => [l, label("level", l)]));
  fillSelect($("unit-parent"), [["", t("no_parent")], ...unitOptions()]);
  fillSelect($("unit-manager"), [["", t("nobody")], ...peopleSorted().filter((p) => p.active).map((p) => [p.id, p.name])]);
  if (find.unit.has(keep)) $("unit-pick").value = keep;
  pickUnit();
}

// The unit form edits the unit picked, or makes a new one.
function pickUnit() {
  const unit = find.unit.get($("unit-pick").value);
  $("unit-name").value = unit?.name ?? "";
  $("unit-level").value = unit?.level ?? LEVELS[0];
  $("unit-parent").value = unit?.parent_id ?? "";
  $("unit-manager").value = unit?.manager_id ?? "";
  $("add-unit").textContent = t(unit ? "save" : "add");
  // A unit cannot move under itself or under one of its own units.
  for (const o of $("unit-parent").options) o.disabled = Boolean(unit && o.value && within(o.value, unit.id));
  if (!unit) suggestLevel();
}

// Whether unit `id` is `root` or lies below it.
function within(id, root) {
  for (let at = find.unit.get(id), seen = 0; at && seen <= data.units.length; at = find.unit.get(at.parent_id), seen++) {
    if (at.id === root) return true;
  }
  return false;
}

// A new unit's level follows its parent's: the level below it (a team under a team).
function suggestLevel() {
  const parent = find.unit.get($("unit-parent").value);
  const i = parent ? Math.min(LEVELS.indexOf(parent.level) + 1, LEVELS.length - 1) : 0;
  $("unit-level").value = LEVELS[Math.max(i, 0)];
}

async function addUnit(event) {
  event.preventDefault();
  const form = $("unit-form");
  clearMessages("unit-form", "unit-error", "unit-status");
  const editing = find.unit.get($("unit-pick").value);
  const record = { kind: "org_unit", name: $("unit-name").value.trim(), level: $("unit-level").value };
  if (editing) {
    record.id = editing.id;
    if (editing.zone) record.zone = editing.zone;
  }
  if ($("unit-parent").value) record.parent_id = $("unit-parent").value;
  if ($("unit-manager").value) record.manager_id = $("unit-manager").value;
  await busy($("add-unit"), async () => {
    try {
      const written = await send("/v1/admin/records", "POST", record);
      if (!editing) $("unit-pick").append(el("option", { value: written.id }, record.name));
      $("unit-pick").value = written.id;
      $("unit-status").textContent = fill(t(editing ? "unit_saved" : "unit_added"), { name: record.name });
      await loadConsole();
    } catch (e) {
      fail("unit-error", e, form);
    }
  });
}

// ---- 2. users -------------------------------------------------------------------------------

function drawPeople() {
  const body = $("people").tBodies[0];
  body.replaceChildren();
  const people = [...data.people].sort((a, b) => Number(b.active) - Number(a.active) || byName(a, b));
  for (const p of people) {
    const tr = el("tr", { "data-person": p.id, class: p.active ? "active" : "inactive" });
    const name = el("td", {}, p.name);
    if (p.title) name.append(el("span", { class: "sub" }, p.title));
    const login = el("td");
    if (p.account) {
      login.append(el("span", { class: "login" }, p.account.login));
      if (p.account.is_admin) login.append(el("span", { class: "chip admin" }, t("admin")));
      if (p.account.revoked_at) login.append(el("span", { class: "chip revoked" }, t("revoked")));
    } else {
      login.append(el("span", { class: "muted" }, t("no_account")));
    }
    const state = el("td");
    state.append(el("span", { class: `chip ${p.active ? "on" : "off"}` }, p.active ? t("active") : t("left")));
    if (p.left_on) state.append(el("span", { class: "sub" }, fill(t("left_on"), { date: p.left_on })));
    const actions = el("td");
    if (p.active) {
      const self = session && p.id === session.profile_id;
      actions.append(el("button", {
        type: "button", "data-action": "deactivate", "data-person": p.id, disabled: self,
        title: self ? t("cannot_deactivate_self") : undefined,
      }, t("deactivate")));
    }
    tr.append(name, el("td", {}, p.employee_no), el("td", {}, unitName(p.unit_id) || "—"),
      el("td", {}, joined(p.roles.map(roleName))), login, state, actions);
    body.append(tr);
  }
  if (!people.length) emptyRow(body, 7);
}

function drawUserForms() {
  fillSelect($("new-user-unit"), unitOptions());
  const box = $("new-user-roles");
  const checked = new Set([...box.querySelectorAll("input:checked")].map((i) => i.value));
  for (const l of box.querySelectorAll("label")) l.remove();
  for (const r of [...data.roles].sort((a, b) => a.code.localeCompare(b.code))) {
    const l = el("label", { class: "check" });
    const input = el("input", { type: "checkbox", name: "role", value: r.code });
    input.checked = checked.has(r.code); // the property, not the attribute: a reset clears it
    l.append(input, ` ${r.name}`);
    box.append(l);
  }
  if (!$("new-user-started-on").value) $("new-user-started-on").value = isoDay(new Date());

  const all = peopleSorted();
  fillSelect($("hand-over-from"), [["", t("choose")], ...all.map((p) => [p.id, p.active ? p.name : `${p.name}${t("inactive_suffix")}`])]);
  fillSelect($("hand-over-to"), [["", t("choose")], ...all.filter((p) => p.active).map((p) => [p.id, p.name])]);
}

// A profile record with all of `person`'s fields, `changes` applied (a write replaces fields).
function profileRecord(person, changes = {}) {
  const record = {
    kind: "user_profile", id: person.id, name: person.name, employee_no: person.employee_no, unit_id: person.unit_id,
    roles: person.roles, zone: person.zone, title: person.title, active: person.active,
    started_on: person.started_on, left_on: person.left_on, ...changes,
  };
  for (const k of ["title", "started_on", "left_on"]) if (record[k] === null || record[k] === undefined) delete record[k];
  return record;
}

async function createUser(event) {
  event.preventDefault();
  const form = $("new-user-form");
  clearMessages("new-user-form", "new-user-error", "new-user-status");
  const roles = [...form.querySelectorAll('input[name="role"]:checked')].map((i) => i.value);
  if (!roles.length) {
    $("new-user-error").textContent = t("pick_role");
    return;
  }
  const login = $("new-user-login").value.trim();
  const name = $("new-user-name").value.trim();
  await busy($("create-user"), async () => {
    try {
      let profileId;
      if (pendingAccount && pendingAccount.login === login.toLowerCase()) {
        profileId = pendingAccount.profile_id;
      } else {
        const account = await send("/v1/admin/accounts", "POST", {
          login, password: $("new-user-password").value, is_admin: $("new-user-admin").checked,
        });
        profileId = account.profile_id;
        pendingAccount = { login: login.toLowerCase(), profile_id: profileId };
      }
      const record = {
        kind: "user_profile", id: profileId, name, employee_no: $("new-user-employee-no").value.trim(),
        unit_id: $("new-user-unit").value, roles, zone: $("new-user-zone").value.trim(), active: true,
      };
      if ($("new-user-title").value.trim()) record.title = $("new-user-title").value.trim();
      if ($("new-user-started-on").value) record.started_on = $("new-user-started-on").value;
      await send("/v1/admin/records", "POST", record);
      pendingAccount = null;
      form.reset();
      $("new-user-status").textContent = fill(t("user_created"), { name });
      await loadConsole();
    } catch (e) {
      fail("new-user-error", e, form);
      if (pendingAccount) $("new-user-error").textContent += ` ${t("account_pending")}`;
    }
  });
}

// Deactivating someone who leaves: their account (and so their devices) is revoked, then
// their profile is written back inactive, left today.
async function deactivate(button) {
  const person = find.person.get(button.dataset.person);
  if (!person || !confirm(fill(t("confirm_deactivate"), { name: person.name }))) return;
  clearMessages("people-error", "people-status");
  await busy(button, async () => {
    try {
      if (person.account && !person.account.revoked_at) {
        await send(`/v1/admin/accounts/${encodeURIComponent(person.account.id)}/revoke`, "POST");
      }
      await send("/v1/admin/records", "POST", profileRecord(person, { active: false, left_on: isoDay(new Date()) }));
      $("people-status").textContent = fill(t("deactivated"), { name: person.name });
      await loadConsole();
    } catch (e) {
      fail("people-error", e);
    }
  });
}

async function handOver(event) {
  event.preventDefault();
  clearMessages("hand-over-form", "hand-over-error", "hand-over-result");
  const from = $("hand-over-from").value, to = $("hand-over-to").value;
  if (from && from === to) {
    $("hand-over-error").textContent = t("same_person");
    return;
  }
  await busy($("hand-over"), async () => {
    try {
      const moved = await send("/v1/admin/hand-over", "POST", { from, to });
      const counts = { customers: 0, contacts: 0, leads: 0, opportunities: 0, ...moved };
      $("hand-over-result").textContent = fill(t("handed_over"), counts);
      $("hand-over-result").dataset.counts = JSON.stringify(counts);
    } catch (e) {
      fail("hand-over-error", e, $("hand-over-form"));
    }
  });
}

// ---- 3. roles and the permission matrix -----------------------------------------------------

function drawRoles() {
  const body = $("roles").tBodies[0];
  body.replaceChildren();
  for (const r of [...data.roles].sort((a, b) => a.code.localeCompare(b.code))) {
    const tr = el("tr", { "data-role": r.code });
    const hidden = el("td");
    for (const f of r.hidden_fields) hidden.append(el("code", { class: "field" }, f));
    if (!r.hidden_fields.length) hidden.append("—");
    tr.append(el("td", {}, r.code), el("td", {}, r.name), el("td", {}, label("scope", r.data_scope)), hidden);
    body.append(tr);
  }
  if (!data.roles.length) emptyRow(body, 4);
  drawRoleForm();
  const codes = Object.keys(data.process?.matrix || {});
  $("matrix-none").hidden = Boolean(data.process);
  $("save-matrix").disabled = !data.process;
  if (matrix.dirty) return; // the admin's edits stay on screen
  fillSelect($("matrix-role"), codes.map((c) => [c, roleName(c) === c ? c : `${roleName(c)} (${c})`]));
  drawMatrix();
}

// The role form: a role's name, data scope and hidden fields (its code names it in people's
// profiles and in the matrix, so an existing role's code is not edited here).
function drawRoleForm() {
  const keep = $("role-pick").value;
  fillSelect($("role-pick"), [["", t("new_role")], ...[...data.roles].sort((a, b) => a.code.localeCompare(b.code)).map((r) => [r.id, `${r.name} (${r.code})`])]);
  fillSelect($("role-scope"), data.scopes.map((s) => [s, label("scope", s)]));
  const box = $("role-hidden");
  for (const l of box.querySelectorAll("label")) l.remove();
  for (const f of data.hideable_fields) {
    const l = el("label", { class: "check" });
    l.append(el("input", { type: "checkbox", name: "hidden", value: f }), el("code", {}, f));
    box.append(l);
  }
  if ([...$("role-pick").options].some((o) => o.value === keep)) $("role-pick").value = keep;
  pickRole();
}

function pickRole() {
  const role = data.roles.find((r) => r.id === $("role-pick").value);
  $("role-code").value = role?.code ?? "";
  $("role-code").readOnly = Boolean(role);
  $("role-name").value = role?.name ?? "";
  $("role-scope").value = role?.data_scope ?? "own";
  for (const i of $("role-hidden").querySelectorAll("input[name=hidden]")) i.checked = Boolean(role?.hidden_fields.includes(i.value));
}

async function saveRole(event) {
  event.preventDefault();
  clearMessages("role-form", "role-status", "role-error");
  const id = $("role-pick").value;
  const code = $("role-code").value.trim();
  const record = {
    kind: "role", code, name: $("role-name").value.trim(), data_scope: $("role-scope").value,
    permissions: data.roles.find((r) => r.id === id)?.permissions ?? [],
    hidden_fields: [...$("role-hidden").querySelectorAll("input[name=hidden]:checked")].map((i) => i.value),
  };
  if (id) record.id = id;
  await busy($("save-role"), async () => {
    try {
      const written = await send("/v1/admin/records", "POST", record);
      $("role-pick").append(el("option", { value: written.id }, code));
      $("role-pick").value = written.id;
      $("role-status").textContent = fill(t("role_saved"), { code });
      await loadConsole();
    } catch (e) {
      fail("role-error", e, $("role-form"));
    }
  });
}

// A select of "—" and the scopes, showing `value` (kept even when the page does not know it).
function scopeSelect(value, attrs) {
  const options = [["", "—"], ...data.scopes.map((s) => [s, label("scope", s)])];
  if (value && !data.scopes.includes(value)) options.push([value, value]);
  const select = el("select", attrs);
  fillSelect(select, options);
  select.value = value || "";
  select.addEventListener("change", () => {
    matrix.dirty = true;
    select.dataset.changed = "";
  });
  return select;
}

function drawMatrix() {
  const role = $("matrix-role").value;
  const grants = data.process?.matrix?.[role] || {};
  const head = $("matrix").tHead.rows[0];
  head.replaceChildren(el("th", { scope: "col" }, t("kind")), ...data.operations.map((op) => el("th", { scope: "col", "data-op": op }, label("op", op))));
  const body = $("matrix").tBodies[0];
  body.replaceChildren();
  for (const kind of role ? data.kinds : []) {
    const tr = el("tr", { "data-kind": kind });
    tr.append(el("th", { scope: "row" }, label("kind", kind)));
    for (const op of data.operations) {
      const td = el("td");
      td.append(scopeSelect(grants.kinds?.[kind]?.[op], { "data-kind": kind, "data-op": op, "aria-label": `${label("kind", kind)} · ${label("op", op)}` }));
      tr.append(td);
    }
    body.append(tr);
  }
  const rights = $("matrix-rights");
  rights.replaceChildren();
  for (const right of role ? data.rights : []) {
    const l = el("label", { class: "right" });
    l.append(el("span", {}, label("right", right)), scopeSelect(grants.rights?.[right], { "data-right": right }));
    rights.append(l);
  }
  matrix.role = role;
  matrix.revision = data.process?.revision ?? 0;
  matrix.dirty = false;
}

function switchMatrixRole() {
  if (matrix.dirty && !confirm(t("discard_changes"))) {
    $("matrix-role").value = matrix.role;
    return;
  }
  clearMessages("matrix-status", "matrix-error");
  drawMatrix();
}

async function saveMatrix() {
  clearMessages("matrix-status", "matrix-error");
  if (!matrix.role) return;
  $("matrix-reload").hidden = true;
  const permissions = { kinds: {}, rights: {} };
  for (const s of $("matrix").querySelectorAll("select[data-kind]")) {
    if (s.value) (permissions.kinds[s.dataset.kind] ||= {})[s.dataset.op] = s.value;
  }
  for (const s of $("matrix-rights").querySelectorAll("select[data-right]")) if (s.value) permissions.rights[s.dataset.right] = s.value;
  await busy($("save-matrix"), async () => {
    try {
      const answer = await send("/v1/admin/matrix", "PUT", { role: matrix.role, revision: matrix.revision, permissions });
      matrix.dirty = false;
      $("matrix-status").textContent = fill(t("matrix_saved"), { revision: answer?.revision ?? "" });
      await loadConsole();
    } catch (e) {
      if (e.status === 409) {
        $("matrix-error").textContent = `${t("matrix_conflict")}${e.body?.detail ? ` (${e.body.detail})` : ""}`;
        $("matrix-reload").hidden = false;
      } else {
        fail("matrix-error", e);
      }
    }
  });
}

// ---- 4. the process configuration -----------------------------------------------------------

function drawProcess() {
  const p = data.process;
  $("process-revision").textContent = p ? String(p.revision) : "—";
  $("process-name").textContent = p?.name || "—";
  $("process-lines").textContent = p ? String(p.toml.split("\n").length) : "—";
  if (processEdited()) return; // the admin's text stays; the server judges its revision
  processFile.text = p?.toml ?? "";
  processFile.revision = p?.revision ?? 0;
  $("process-toml").value = processFile.text;
}

async function saveProcess() {
  clearMessages("process-status", "process-error");
  const revision = processFile.revision + 1;
  const toml = $("process-toml").value;
  await busy($("save-process"), async () => {
    try {
      await send("/v1/admin/records", "POST", { kind: "process_config", toml, revision });
      processFile.text = toml; // saved: the server's text replaces it at the reload
      $("process-status").textContent = fill(t("process_saved"), { revision });
      await loadConsole();
    } catch (e) {
      fail("process-error", e); // the textarea keeps the admin's text
    }
  });
}

function revertProcess() {
  if (processEdited() && !confirm(t("confirm_revert"))) return;
  $("process-toml").value = processFile.text;
  clearMessages("process-status", "process-error");
}

// ---- 5. the audit log -----------------------------------------------------------------------

function drawAuditForm() {
  fillSelect($("audit-operation"), [["", t("all")], ...AUDIT_OPERATIONS.map((op) => [op, label("event", op)])]);
  fillSelect($("audit-user"), [["", t("all")], ...peopleSorted().map((p) => [p.id, p.name])]);
}

// The form's filters as query parameters (empty ones left out); days are local days, `to`
// taken to the end of its day (the server's `to` is exclusive). Null when the days are wrong.
function auditFilters() {
  const q = {};
  if ($("audit-operation").value) q.operation = $("audit-operation").value;
  if ($("audit-user").value) q.user = $("audit-user").value;
  if ($("audit-record").value.trim()) q.record = $("audit-record").value.trim();
  const from = parseDay($("audit-from").value), to = parseDay($("audit-to").value);
  if (from && to && to < from) return null;
  if (from) q.from = String(from.getTime());
  if (to) q.to = String(new Date(to.getFullYear(), to.getMonth(), to.getDate() + 1).getTime());
  return q;
}

// A changed value as the admin reads it: a person's or a unit's name for their id.
// A changed value as people read it: a person's or unit's name, a login, a local time for
// an instant field (`…_at`, `….at`), else the value itself.
const instantField = (field) => /(^|[._])at$/.test(field);
function shown(value, field = "") {
  if (value === null || value === undefined) return "—";
  if (instantField(field) && /^\d{12,14}$/.test(value)) return localTime(Number(value));
  return personName(value) || unitName(value) || find.login.get(value) || value;
}

// Who did it: the person, by their profile or their account, else the bare account id.
function who(entry) {
  const person = find.person.get(entry.user_id) || find.account.get(entry.account_id);
  if (person) return el("span", {}, person.name);
  const login = find.login.get(entry.account_id) || find.login.get(entry.user_id);
  if (login) return el("span", {}, login);
  if (entry.account_id) return el("code", { class: "id" }, entry.account_id);
  return el("span", { class: "muted" }, t("system"));
}

function auditRow(entry) {
  const tr = el("tr", { "data-stream": entry.stream, "data-seq": entry.seq, "data-operation": entry.operation });
  const record = el("td");
  if (entry.record_id) {
    record.append(el("button", { type: "button", class: "link id", "data-record": entry.record_id, title: `${entry.record_id} · ${t("filter_record")}` }, entry.record_id.slice(0, 8)));
  }
  const detail = el("td", { class: "detail" }, entry.detail || "");
  if (entry.rule) detail.append(el("span", { class: "sub" }, entry.rule));
  const changes = el("td", { class: "changes" });
  if (entry.changes.length) {
    const ul = el("ul");
    for (const c of entry.changes) {
      const li = el("li", { "data-field": c.field });
      li.append(el("code", {}, c.field), `: ${shown(c.before, c.field)} → ${shown(c.after, c.field)}`);
      ul.append(li);
    }
    changes.append(ul);
  }
  const whoCell = el("td");
  whoCell.append(who(entry));
  tr.append(el("td", { class: "time" }, localTime(entry.at)), whoCell, el("td", {}, label("event", entry.operation)),
    el("td", {}, entry.kind ? label("kind", entry.kind) : ""), record, detail, changes);
  return tr;
}

async function auditPage(after) {
  const body = $("audit").tBodies[0];
  const q = new URLSearchParams({ ...audit.filters, limit: String(AUDIT_PAGE) });
  if (after) q.set("after", after);
  $("audit-status").textContent = t("loading");
  try {
    const page = await api(`/v1/admin/audit?${q}`);
    body.querySelector("tr.none")?.remove();
    for (const entry of page.entries) body.append(auditRow(entry));
    if (!body.rows.length) emptyRow(body, 7, t("no_entries"));
    audit.next = page.next || null;
    $("audit-more").hidden = !audit.next;
    $("audit-status").textContent = fill(t("entries"), { n: body.querySelectorAll("tr:not(.none)").length });
  } catch (e) {
    $("audit-status").textContent = "";
    fail("audit-error", e, $("audit-form"));
  }
}

async function searchAudit(event) {
  event?.preventDefault();
  clearMessages("audit-form", "audit-error");
  const filters = auditFilters();
  if (!filters) {
    $("audit-error").textContent = t("bad_range");
    return;
  }
  audit.filters = filters;
  audit.loaded = true;
  $("audit").tBodies[0].replaceChildren();
  $("audit-more").hidden = true;
  await busy($("audit-search"), () => auditPage(null));
}

async function exportAudit(format, button) {
  clearMessages("audit-form", "audit-error");
  const filters = auditFilters();
  if (!filters) {
    $("audit-error").textContent = t("bad_range");
    return;
  }
  $("audit-status").textContent = t("exporting");
  await busy(button, async () => {
    try {
      const blob = await (await call(`/v1/admin/audit/export?${new URLSearchParams({ format, ...filters })}`)).blob();
      const url = URL.createObjectURL(blob);
      const a = el("a", { href: url, download: `fieldsales-audit-${isoDay(new Date())}.${format}` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      button.dataset.exported = String(blob.size);
      $("audit-status").textContent = t("exported");
    } catch (e) {
      $("audit-status").textContent = "";
      fail("audit-error", e, $("audit-form"));
    }
  });
}

// ---- 6. importing customers, contacts and products ------------------------------------------

function drawImportForm() {
  const keep = { entity: $("import-entity").value, owner: $("import-owner").value };
  fillSelect($("import-entity"), ENTITIES.map((e) => [e, t(`entity_${e}`)]));
  fillSelect($("import-owner"), [["", t("no_default_owner")], ...peopleSorted().filter((p) => p.active).map((p) => [p.id, p.name])]);
  if (keep.entity) $("import-entity").value = keep.entity;
  if (keep.owner) $("import-owner").value = keep.owner;
}

// A refusal reason of the row report as a sentence.
function reasonText(r) {
  const rest = Object.entries(r).filter(([k]) => k !== "code").map(([k, v]) => `${k}: ${personName(v) || v}`);
  return rest.length ? `${r.code} (${rest.join(", ")})` : r.code;
}

// The file goes up as it is; the server checks every row and answers with the row report.
async function importFile(event) {
  event.preventDefault();
  clearMessages("import-form", "import-error", "import-status", "import-result");
  const body = $("import-rows").tBodies[0];
  body.replaceChildren();
  const file = $("import-file").files[0];
  if (!file) {
    $("import-error").textContent = t("import_pick_file");
    return;
  }
  const q = { entity: $("import-entity").value, file: file.name, dry_run: String($("import-dry-run").checked) };
  if ($("import-owner").value) q.default_owner = $("import-owner").value;
  $("import-status").textContent = t("importing");
  await busy($("import-submit"), async () => {
    try {
      const report = await api(`/v1/admin/import?${new URLSearchParams(q)}`, {
        method: "POST", body: file, headers: { "Content-Type": "application/octet-stream" },
      });
      $("import-status").textContent = "";
      $("import-result").textContent = fill(t(report.dry_run ? "checked" : "imported"), {
        file: file.name, rows: report.rows, imported: report.imported, present: report.already_present.length,
        rejected: report.rejected.length, warnings: report.warnings.length,
      });
      $("import-result").dataset.imported = String(report.imported);
      $("import-result").dataset.rejected = String(report.rejected.length);
      const rows = [
        ...report.rejected.map((r) => [r.row, "rejected", r.reasons.map(reasonText).join("; ")]),
        ...report.already_present.map((r) => [r.row, "present", r.existing_id]),
        ...report.warnings.map((w) => [w.row, "warning", `${w.existing_name} (${w.score.toFixed(2)})`]),
      ].sort((a, b) => a[0] - b[0]);
      for (const [row, outcome, text] of rows) {
        const tr = el("tr", { "data-row": row, "data-outcome": outcome });
        tr.append(el("td", {}, String(row)), el("td", {}, t(`row_${outcome}`)), el("td", {}, text));
        body.append(tr);
      }
      if (!rows.length) emptyRow(body, 3);
    } catch (e) {
      $("import-status").textContent = "";
      fail("import-error", e, $("import-form"));
    }
  });
}

// ---- tabs -----------------------------------------------------------------------------------

function showTab(tab) {
  view.tab = TABS.includes(tab) ? tab : "org";
  for (const b of $("tabs").querySelectorAll("[data-tab]")) {
    const on = b.dataset.tab === view.tab;
    b.setAttribute("aria-selected", String(on));
    b.tabIndex = on ? 0 : -1;
  }
  for (const name of TABS) $(`tab-${name}`).hidden = name !== view.tab;
  writeUrl();
  if (view.tab === "audit" && data && !audit.loaded) searchAudit();
}

// Arrow keys move along the tab bar, as in any tab list.
function tabKeys(event) {
  const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
  if (!step) return;
  const next = TABS[(TABS.indexOf(view.tab) + step + TABS.length) % TABS.length];
  showTab(next);
  $("tabs").querySelector(`[data-tab="${next}"]`).focus();
}

// ---- loading --------------------------------------------------------------------------------

let current = "sign-in"; // which of the page's three faces shows: sign-in, console, refused

// The page's state, for the eye and for tests: on the console and on the body,
// `signed-out`, `loading`, `ready`, `error` or `refused`.
function setState(state) {
  $("console").dataset.state = state;
  document.body.dataset.state = state;
}

function showView(name) {
  current = name;
  setState({ "sign-in": "signed-out", console: "loading", refused: "refused" }[name]);
  $("sign-in-form").hidden = name !== "sign-in";
  $("console").hidden = name !== "console";
  $("refused").hidden = name !== "refused";
  $("sign-out").hidden = name === "sign-in";
}

async function loadConsole() {
  const status = $("status");
  setState("loading");
  status.removeAttribute("data-error");
  status.textContent = t("loading");
  try {
    const answer = await api("/v1/admin/console");
    if (current !== "console") return;
    data = answer;
    index();
    $("signed-in-as").textContent = personName(session.profile_id);
    drawOrg();
    drawPeople();
    drawUserForms();
    drawRoles();
    drawProcess();
    drawAuditForm();
    drawImportForm();
    status.textContent = "";
    setState("ready");
    if (view.tab === "audit" && !audit.loaded) searchAudit();
  } catch (e) {
    if (current !== "console") return;
    status.dataset.error = "";
    status.textContent = e.message;
    setState("error");
  }
}

// Who is signed in decides the page: an admin gets the console, anyone else the refusal.
async function start() {
  showView("console");
  showTab(view.tab);
  try {
    session = await api("/v1/auth/session");
    if (current !== "console") return;
    if (!session.is_admin) {
      refuse();
      return;
    }
    await loadConsole();
  } catch (e) {
    if (current !== "console") return;
    $("status").dataset.error = "";
    $("status").textContent = e.message;
    setState("error");
  }
}

// Forgets everything drawn for the previous user, so the next one never glimpses it.
function clearConsole() {
  data = null;
  session = null;
  pendingAccount = null;
  Object.assign(matrix, { role: null, revision: 0, dirty: false });
  Object.assign(processFile, { text: "", revision: 0 });
  Object.assign(audit, { filters: {}, next: null, loaded: false });
  for (const id of ["people", "roles", "matrix", "audit", "import-rows"]) $(id).tBodies[0].replaceChildren();
  $("matrix").tHead.rows[0].replaceChildren();
  for (const id of ["org-tree", "matrix-rights", "signed-in-as", "status", "process-revision", "process-name", "process-lines"]) $(id).replaceChildren();
  for (const s of $("console").querySelectorAll("select")) s.replaceChildren();
  for (const f of $("console").querySelectorAll("form")) f.reset();
  for (const e of $("console").querySelectorAll('[role="alert"], [role="status"]')) e.textContent = "";
  for (const l of $("new-user-roles").querySelectorAll("label")) l.remove();
  for (const l of $("role-hidden").querySelectorAll("label")) l.remove();
  $("process-toml").value = "";
  $("audit-more").hidden = true;
  $("matrix-reload").hidden = true;
}

function refuse() {
  clearConsole();
  showView("refused");
}

function signOut() {
  clearConsole();
  const token = sessionStorage.getItem(TOKEN);
  sessionStorage.removeItem(TOKEN);
  if (token) fetch("/v1/auth/logout", { method: "POST", headers: { Authorization: `Bearer ${token}` } }).catch(() => {});
  showView("sign-in");
}

async function signIn(event) {
  event.preventDefault();
  $("sign-in-error").textContent = "";
  try {
    const body = { tenant: $("tenant").value.trim(), login: $("login").value.trim(), password: $("password").value };
    const answer = await api("/v1/auth/browser", { method: "POST", body: JSON.stringify(body), anonymous: true, headers: { "Content-Type": "application/json" } });
    sessionStorage.setItem(TOKEN, answer.token);
    $("password").value = "";
    await start();
  } catch (e) {
    $("sign-in-error").textContent = e.message;
  }
}

function translate() {
  document.documentElement.lang = lang;
  document.title = `Fieldsales · ${t("title")}`;
  for (const e of document.querySelectorAll("[data-t]")) e.textContent = t(e.dataset.t);
  writeUrl();
}

function init() {
  readUrl();
  translate();
  $("sign-in-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", signOut);
  $("reload").addEventListener("click", loadConsole);
  for (const b of $("tabs").querySelectorAll("[data-tab]")) b.addEventListener("click", () => showTab(b.dataset.tab));
  $("tabs").addEventListener("keydown", tabKeys);

  $("unit-form").addEventListener("submit", addUnit);
  $("unit-parent").addEventListener("change", () => {
    if (!$("unit-pick").value) suggestLevel();
  });
  $("unit-pick").addEventListener("change", pickUnit);

  $("new-user-form").addEventListener("submit", createUser);
  $("people").addEventListener("click", (e) => {
    const button = e.target.closest('button[data-action="deactivate"]');
    if (button) deactivate(button);
  });
  $("hand-over-form").addEventListener("submit", handOver);

  $("role-form").addEventListener("submit", saveRole);
  $("role-pick").addEventListener("change", pickRole);
  $("matrix-form").addEventListener("submit", (e) => e.preventDefault());
  $("matrix-role").addEventListener("change", switchMatrixRole);
  $("save-matrix").addEventListener("click", saveMatrix);
  $("matrix-reload").addEventListener("click", () => {
    matrix.dirty = false;
    $("matrix-reload").hidden = true;
    clearMessages("matrix-error", "matrix-status");
    loadConsole();
  });

  $("save-process").addEventListener("click", saveProcess);
  $("revert-process").addEventListener("click", revertProcess);

  $("import-form").addEventListener("submit", importFile);

  $("audit-form").addEventListener("submit", searchAudit);
  $("audit-more").addEventListener("click", () => busy($("audit-more"), () => auditPage(audit.next)));
  $("audit-export-xlsx").addEventListener("click", (e) => exportAudit("xlsx", e.currentTarget));
  $("audit-export-csv").addEventListener("click", (e) => exportAudit("csv", e.currentTarget));
  $("audit").addEventListener("click", (e) => {
    const button = e.target.closest("button[data-record]");
    if (!button) return;
    $("audit-record").value = button.dataset.record;
    searchAudit();
  });

  // Unsaved edits of the matrix or the file are not lost to a stray reload.
  window.addEventListener("beforeunload", (e) => {
    if (data && (matrix.dirty || processEdited())) e.preventDefault();
  });

  showTab(view.tab);
  if (sessionStorage.getItem(TOKEN)) start();
  else showView("sign-in");
}

init();
