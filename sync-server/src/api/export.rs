//! The dashboards a manager sees in the browser, as an Excel workbook: the same days, the
//! same focus (a unit or a person of their scope), the same rows and, when asked, the
//! previous period beside the current one. Every figure comes from the same core dashboards
//! the JSON API answers, so the workbook and the page cannot disagree.

use axum::extract::{Query, State, rejection::QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fieldsales_core::dashboard::attention::AttentionList;
use fieldsales_core::dashboard::funnel::{Funnel, FunnelFigures};
use fieldsales_core::dashboard::people::RepRecords;
use fieldsales_core::dashboard::reports::{ReportCompliance, ReportFigures};
use fieldsales_core::dashboard::targets::TargetBoard;
use fieldsales_core::dashboard::visits::{MapPoints, VisitsDashboard};
use fieldsales_core::dashboard::{
    Dashboard, DashboardQuery, DashboardRequest, DateRange, Focus, Granularity, GroupBy,
};
use fieldsales_core::{BasisPoints, Money, RecordId, Timestamp, Zone};
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use serde::Deserialize;
use utoipa::IntoParams;

use super::dashboards::{DashboardParams, Dashboards, WrongAnswer};
use crate::auth::Session;
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::state::AppState;

/// The content type of an `.xlsx` workbook.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// What to export: the page's days, rows and focus, its language, and whether the previous
/// period is shown beside.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// The first day, `YYYY-MM-DD`.
    #[param(required = true, value_type = Option<fieldsales_core::LocalDate>, example = "2026-03-01")]
    pub from: Option<String>,
    /// The last day (included), `YYYY-MM-DD`.
    #[param(required = true, value_type = Option<fieldsales_core::LocalDate>, example = "2026-03-31")]
    pub to: Option<String>,
    /// `rep` (the default), `team` or `region`.
    #[param(value_type = Option<GroupBy>)]
    pub group_by: Option<String>,
    /// Narrows the workbook to this org unit of the caller's scope.
    #[param(value_type = Option<RecordId>)]
    pub unit: Option<String>,
    /// Narrows the workbook to this person of the caller's scope, with their own records.
    #[param(value_type = Option<RecordId>)]
    pub rep: Option<String>,
    /// `true`: the period of the same length just before, beside the current one.
    #[param(value_type = Option<bool>)]
    pub compare: Option<String>,
    /// The language of the headings: `zh-Hans` (the default) or `en`.
    #[param(value_type = Option<String>, example = "en")]
    pub lang: Option<String>,
}

/// The headings' language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    Zh,
    En,
}

fn bad(field: &str, detail: String) -> ApiError {
    ApiError::Client {
        status: StatusCode::BAD_REQUEST,
        code: ErrorCode::InvalidField,
        detail: format!("{field}: {detail}"),
        field: Some(field.to_owned()),
    }
}

impl ExportParams {
    fn lang(&self) -> Result<Lang, ApiError> {
        match self.lang.as_deref().map(str::trim) {
            None | Some("zh-Hans" | "zh" | "zh-CN") => Ok(Lang::Zh),
            Some("en" | "en-US" | "en-GB") => Ok(Lang::En),
            Some(other) => Err(bad("lang", format!("`{other}` is not one of zh-Hans, en"))),
        }
    }

    fn compare(&self) -> Result<bool, ApiError> {
        match self.compare.as_deref().map(str::trim) {
            None | Some("false" | "0") => Ok(false),
            Some("true" | "1") => Ok(true),
            Some(other) => Err(bad("compare", format!("`{other}` is not true or false"))),
        }
    }

    fn dashboard(&self) -> DashboardParams {
        DashboardParams {
            from: self.from.clone(),
            to: self.to.clone(),
            group_by: self.group_by.clone(),
            granularity: None,
            unit: self.unit.clone(),
            rep: self.rep.clone(),
        }
    }
}

/// The period of the same length that ends the day before `range` starts.
pub fn previous(range: DateRange) -> Option<DateRange> {
    let days = range.days();
    let mut from = range.from;
    for _ in 0..days {
        from = from.pred();
    }
    DateRange::new(from, range.from.pred()).ok()
}

/// The dashboards of a workbook, each read once.
struct Figures {
    funnel: Funnel,
    visits: VisitsDashboard,
    reports: ReportCompliance,
}

async fn figures(d: &Dashboards<'_>, req: DashboardRequest) -> Result<Figures, ApiError> {
    let funnel = match d.get(DashboardQuery::Funnel(req)).await? {
        Dashboard::Funnel(f) => f,
        _ => return Err(ApiError::internal(WrongAnswer)),
    };
    let visits = match d.get(DashboardQuery::Visits(req, Granularity::Day)).await? {
        Dashboard::Visits(v) => v,
        _ => return Err(ApiError::internal(WrongAnswer)),
    };
    let reports = match d.get(DashboardQuery::Reports(req)).await? {
        Dashboard::Reports(r) => r,
        _ => return Err(ApiError::internal(WrongAnswer)),
    };
    Ok(Figures {
        funnel,
        visits,
        reports,
    })
}

/// The dashboards of the caller's scope over the days as an Excel workbook: a summary (with
/// the previous period when `compare`), the funnel by stage, one row per rep, team or region,
/// the targets' leaderboard, the attention list, the check-ins with their verdicts and flags,
/// and with `rep` the person's own visits, reports and deals.
#[utoipa::path(
    get,
    path = "/v1/dashboards/export",
    tag = "dashboards",
    security(("bearer" = [])),
    params(ExportParams),
    responses(
        (status = 200, description = "An Excel workbook (.xlsx)", body = super::Binary,
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 400, description = "`invalid_field`: `field` names the parameter", body = ErrorBody),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "`profile_missing`", body = ErrorBody),
        (status = 404, description = "`not_in_scope`: `unit` or `rep` is not of the caller's scope", body = ErrorBody),
    )
)]
pub async fn export(
    State(state): State<AppState>,
    session: Session,
    query: Result<Query<ExportParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let p = super::query_params(query)?;
    let lang = p.lang()?;
    let compare = p.compare()?;
    let params = p.dashboard();
    let req = params.request()?;
    let focus = params.focus()?;
    let d = Dashboards::of(&state, &session, focus).await?;
    let now = figures(&d, req).await?;
    let before = match previous(req.range).filter(|_| compare) {
        Some(range) => Some((range, figures(&d, DashboardRequest { range, ..req }).await?)),
        None => None,
    };
    let targets = match d.get(DashboardQuery::Targets(req)).await? {
        Dashboard::Targets(t) => t,
        _ => return Err(ApiError::internal(WrongAnswer)),
    };
    let attention = match d.get(DashboardQuery::Attention(req.range)).await? {
        Dashboard::Attention(a) => a,
        _ => return Err(ApiError::internal(WrongAnswer)),
    };
    let limit = fieldsales_core::dashboard::DashboardSettings::default().map_point_limit;
    let points = match d
        .get(DashboardQuery::MapPoints(req.range, limit, None))
        .await?
    {
        Dashboard::MapPoints(m) => m,
        _ => return Err(ApiError::internal(WrongAnswer)),
    };
    let person = match focus {
        Some(Focus::Person(id)) => match d.get(DashboardQuery::PersonRecords(id, req.range)).await?
        {
            Dashboard::PersonRecords(r) => Some(r),
            _ => return Err(ApiError::internal(WrongAnswer)),
        },
        _ => None,
    };
    let zone = d.zone();
    let book = Book {
        lang,
        zone,
        range: req.range,
        now: &now,
        before: before.as_ref().map(|(r, f)| (*r, f)),
        targets: &targets,
        attention: &attention,
        points: &points,
        person: person.as_ref(),
    };
    let bytes = book
        .write()
        .map_err(|e| ApiError::internal(WorkbookFailed(e)))?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(XLSX));
    let name = format!(
        "attachment; filename=\"fieldsales-{}-{}.xlsx\"",
        req.range.from, req.range.to
    );
    if let Ok(value) = HeaderValue::from_str(&name) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// The workbook could not be written.
#[derive(Debug, thiserror::Error)]
#[error("the workbook could not be written: {0}")]
struct WorkbookFailed(XlsxError);

/// Every heading of the workbook, in both languages.
fn t(lang: Lang, key: &str) -> &'static str {
    const WORDS: &[(&str, &str, &str)] = &[
        ("summary", "概要", "Summary"),
        ("funnel", "销售漏斗", "Funnel"),
        ("rows", "明细", "Breakdown"),
        ("targets", "目标", "Targets"),
        ("attention", "待关注", "Attention"),
        ("check_ins", "签到", "Check-ins"),
        ("visits", "拜访", "Visits"),
        ("reports", "日报", "Reports"),
        ("deals", "商机", "Deals"),
        ("figure", "指标", "Figure"),
        ("current", "本期", "This period"),
        ("previous", "上期", "Previous period"),
        ("change", "变化", "Change"),
        ("period", "期间", "Period"),
        ("open", "在途商机", "Open deals"),
        ("pipeline", "管道金额", "Pipeline"),
        ("forecast", "加权预测", "Weighted forecast"),
        ("won", "赢单", "Won"),
        ("won_amount", "赢单金额", "Won amount"),
        ("lost", "输单", "Lost"),
        ("win_rate", "赢单率", "Win rate"),
        ("false_progress", "虚假推进", "False progress"),
        (
            "false_progress_penalties",
            "虚假推进罚款",
            "False-progress penalties",
        ),
        ("check_ins_n", "签到", "Check-ins"),
        ("planned", "计划拜访", "Planned"),
        ("planned_done", "计划完成", "Planned done"),
        ("inside", "围栏内", "Inside"),
        ("outside", "围栏外", "Outside"),
        ("cannot_tell", "无法判断", "Cannot tell"),
        ("unable_to_verify", "无法核实", "Unable to verify"),
        ("unjudged", "未判定", "Unjudged"),
        ("flagged", "异常签到", "Flagged check-ins"),
        ("average_duration", "平均时长(分)", "Average duration (min)"),
        ("on_time", "按时", "On time"),
        ("late", "迟交", "Late"),
        ("missing", "缺交", "Missing"),
        ("false", "虚假", "False"),
        ("penalties", "罚款", "Penalties"),
        ("stage", "阶段", "Stage"),
        ("open_amount", "在途金额", "Open amount"),
        ("weighted", "加权金额", "Weighted amount"),
        ("entered", "进入", "Entered"),
        ("advanced", "推进", "Advanced"),
        ("conversion", "转化率", "Conversion"),
        ("name", "名称", "Name"),
        ("rank", "排名", "Rank"),
        ("subject", "对象", "Subject"),
        ("metric", "指标", "Metric"),
        ("target", "目标", "Target"),
        ("achieved", "完成", "Achieved"),
        ("attainment", "达成率", "Attainment"),
        ("section", "类别", "Section"),
        ("owner", "负责人", "Owner"),
        ("status", "状态", "Status"),
        ("when", "时间", "When"),
        ("amount", "金额", "Amount"),
        ("overdue", "超期商机", "Overdue deal"),
        ("lead_due", "即将回收的线索", "Lead due for reclaim"),
        ("reclaimed", "已回收线索", "Reclaimed lead"),
        ("false_deal", "虚假推进商机", "Falsely progressed deal"),
        ("approval", "待审批", "Approval waiting"),
        ("rep", "销售代表", "Rep"),
        ("date", "日期", "Date"),
        ("time", "时间", "Time"),
        ("lat", "纬度", "Latitude"),
        ("lon", "经度", "Longitude"),
        ("fence", "围栏判定", "Fence verdict"),
        ("flags", "标记", "Flags"),
        ("customer", "客户", "Customer"),
        ("accuracy", "精度(米)", "Accuracy (m)"),
        ("distance", "距离(米)", "Distance (m)"),
        ("duration", "时长(分)", "Duration (min)"),
        ("photos", "照片", "Photos"),
        ("state", "状态", "State"),
        ("compliance", "合规", "Compliance"),
        ("submitted_at", "提交时间", "Submitted"),
        ("penalty", "罚款", "Penalty"),
        ("expected_close", "预计成交", "Expected close"),
        ("outcome", "结果", "Outcome"),
        (
            "truncated",
            "(仅列出最新的部分)",
            "(only the newest are listed)",
        ),
    ];
    WORDS
        .iter()
        .find(|(k, ..)| *k == key)
        .map_or("", |(_, zh, en)| match lang {
            Lang::Zh => zh,
            Lang::En => en,
        })
}

/// One cell.
enum Cell {
    Text(String),
    Count(u64),
    Money(Money),
    Share(Option<BasisPoints>),
    Number(f64),
    Empty,
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_owned())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

struct Book<'a> {
    lang: Lang,
    zone: Zone,
    range: DateRange,
    now: &'a Figures,
    before: Option<(DateRange, &'a Figures)>,
    targets: &'a TargetBoard,
    attention: &'a AttentionList,
    points: &'a MapPoints,
    person: Option<&'a RepRecords>,
}

/// Writes rows of cells into one worksheet, headings bold and frozen.
struct SheetWriter<'w> {
    sheet: &'w mut Worksheet,
    row: u32,
    bold: Format,
    money: Format,
    share: Format,
}

impl<'w> SheetWriter<'w> {
    fn new(sheet: &'w mut Worksheet, name: &str, head: &[&str]) -> Result<Self, XlsxError> {
        sheet.set_name(name)?;
        let mut this = SheetWriter {
            sheet,
            row: 0,
            bold: Format::new().set_bold(),
            money: Format::new().set_num_format("#,##0.00"),
            share: Format::new().set_num_format("0.0%"),
        };
        for (col, h) in head.iter().enumerate() {
            let col = u16::try_from(col).unwrap_or(u16::MAX);
            this.sheet
                .write_string_with_format(0, col, *h, &this.bold)?;
            this.sheet
                .set_column_width(col, if col == 0 { 24 } else { 16 })?;
        }
        this.sheet.set_freeze_panes(1, 0)?;
        this.row = 1;
        Ok(this)
    }

    fn row(&mut self, cells: Vec<Cell>) -> Result<(), XlsxError> {
        for (col, cell) in cells.into_iter().enumerate() {
            let col = u16::try_from(col).unwrap_or(u16::MAX);
            let r = self.row;
            match cell {
                Cell::Text(s) => {
                    self.sheet.write_string(r, col, s)?;
                }
                Cell::Count(n) => {
                    self.sheet.write_number(r, col, n as f64)?;
                }
                Cell::Money(m) => {
                    self.sheet.write_number_with_format(
                        r,
                        col,
                        m.minor as f64 / 100.0,
                        &self.money,
                    )?;
                }
                Cell::Share(Some(bp)) => {
                    self.sheet.write_number_with_format(
                        r,
                        col,
                        f64::from(bp.0) / 10_000.0,
                        &self.share,
                    )?;
                }
                Cell::Number(x) => {
                    self.sheet.write_number(r, col, x)?;
                }
                Cell::Share(None) | Cell::Empty => {}
            }
        }
        self.row += 1;
        Ok(())
    }
}

/// A summary line: its heading and the figure of a period.
type Line = (&'static str, fn(&Figures) -> Cell);

const SUMMARY: &[Line] = &[
    ("open", |f| {
        Cell::Count(f.funnel.total.stages.iter().map(|s| s.open).sum())
    }),
    ("pipeline", |f| Cell::Money(f.funnel.total.pipeline)),
    ("forecast", |f| {
        Cell::Money(f.funnel.total.weighted_forecast)
    }),
    ("won", |f| Cell::Count(f.funnel.total.won)),
    ("won_amount", |f| Cell::Money(f.funnel.total.won_amount)),
    ("lost", |f| Cell::Count(f.funnel.total.lost)),
    ("win_rate", |f| Cell::Share(f.funnel.total.win_rate)),
    ("false_progress", |f| {
        Cell::Count(f.funnel.total.false_progress)
    }),
    ("false_progress_penalties", |f| {
        Cell::Money(f.funnel.total.false_progress_penalties)
    }),
    ("check_ins_n", |f| Cell::Count(f.visits.total.check_ins)),
    ("planned", |f| Cell::Count(f.visits.total.planned)),
    ("planned_done", |f| Cell::Count(f.visits.total.planned_done)),
    ("inside", |f| Cell::Count(f.visits.total.inside)),
    ("outside", |f| Cell::Count(f.visits.total.outside)),
    ("cannot_tell", |f| Cell::Count(f.visits.total.cannot_tell)),
    ("unable_to_verify", |f| {
        Cell::Count(f.visits.total.unable_to_verify)
    }),
    ("flagged", |f| Cell::Count(f.visits.total.flagged)),
    ("average_duration", |f| {
        minutes(f.visits.total.average_duration_s)
    }),
    ("on_time", |f| Cell::Count(f.reports.total.on_time)),
    ("late", |f| Cell::Count(f.reports.total.late)),
    ("missing", |f| Cell::Count(f.reports.total.missing)),
    ("false", |f| Cell::Count(f.reports.total.false_reports)),
    ("penalties", |f| Cell::Money(f.reports.total.penalties)),
];

fn minutes(seconds: Option<u64>) -> Cell {
    seconds.map_or(Cell::Empty, |s| Cell::Number((s as f64 / 60.0).round()))
}

/// The change from `before` to `now`, for figures that are counts or amounts.
fn change(now: &Cell, before: &Cell) -> Cell {
    match (now, before) {
        (Cell::Count(a), Cell::Count(b)) => Cell::Number(*a as f64 - *b as f64),
        (Cell::Money(a), Cell::Money(b)) => {
            Cell::Money(Money::new(a.minor.saturating_sub(b.minor), a.currency))
        }
        _ => Cell::Empty,
    }
}

impl Book<'_> {
    fn w(&self, key: &str) -> &'static str {
        t(self.lang, key)
    }

    fn local(&self, at: Timestamp) -> String {
        at.to_utc()
            .with_timezone(&self.zone.tz())
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }

    fn write(&self) -> Result<Vec<u8>, XlsxError> {
        let mut book = Workbook::new();
        self.summary(book.add_worksheet())?;
        self.funnel(book.add_worksheet())?;
        self.rows(book.add_worksheet())?;
        self.targets(book.add_worksheet())?;
        self.attention(book.add_worksheet())?;
        self.check_ins(book.add_worksheet())?;
        if let Some(person) = self.person {
            self.person_visits(book.add_worksheet(), person)?;
            self.person_reports(book.add_worksheet(), person)?;
            self.person_deals(book.add_worksheet(), person)?;
        }
        book.save_to_buffer()
    }

    fn summary(&self, sheet: &mut Worksheet) -> Result<(), XlsxError> {
        let mut head = vec![self.w("figure"), self.w("current")];
        if self.before.is_some() {
            head.extend([self.w("previous"), self.w("change")]);
        }
        let mut s = SheetWriter::new(sheet, self.w("summary"), &head)?;
        let mut period = vec![
            Cell::from(self.w("period")),
            Cell::from(format!("{} – {}", self.range.from, self.range.to)),
        ];
        if let Some((range, _)) = self.before {
            period.push(Cell::from(format!("{} – {}", range.from, range.to)));
        }
        s.row(period)?;
        for (key, figure) in SUMMARY {
            let now = figure(self.now);
            let mut cells = vec![Cell::from(self.w(key))];
            match self.before {
                Some((_, before)) => {
                    let then = figure(before);
                    let delta = change(&now, &then);
                    cells.extend([now, then, delta]);
                }
                None => cells.push(now),
            }
            s.row(cells)?;
        }
        Ok(())
    }

    fn funnel(&self, sheet: &mut Worksheet) -> Result<(), XlsxError> {
        let head = [
            "stage",
            "open",
            "open_amount",
            "weighted",
            "entered",
            "advanced",
            "conversion",
        ]
        .map(|k| self.w(k));
        let mut s = SheetWriter::new(sheet, self.w("funnel"), &head)?;
        let funnel = &self.now.funnel;
        for stage in &funnel.total.stages {
            let name = funnel
                .stages
                .iter()
                .find(|i| i.key == stage.stage)
                .map_or(stage.stage.clone(), |i| i.name.clone());
            s.row(vec![
                Cell::Text(name),
                Cell::Count(stage.open),
                Cell::Money(stage.open_amount),
                Cell::Money(stage.weighted_amount),
                Cell::Count(stage.entered),
                Cell::Count(stage.advanced),
                Cell::Share(stage.conversion),
            ])?;
        }
        Ok(())
    }

    fn rows(&self, sheet: &mut Worksheet) -> Result<(), XlsxError> {
        let head = [
            "name",
            "open",
            "pipeline",
            "forecast",
            "won",
            "won_amount",
            "lost",
            "win_rate",
            "check_ins_n",
            "flagged",
            "outside",
            "on_time",
            "late",
            "missing",
            "penalties",
        ]
        .map(|k| self.w(k));
        let mut s = SheetWriter::new(sheet, self.w("rows"), &head)?;
        // Every group any of the three dashboards names, by name.
        let mut groups: Vec<(String, RecordId)> = Vec::new();
        let f = self.now;
        let named = f
            .funnel
            .groups
            .iter()
            .map(|g| &g.group)
            .chain(f.visits.rows.iter().map(|r| &r.group))
            .chain(f.reports.groups.iter().map(|r| &r.group));
        for g in named {
            if !groups.iter().any(|(_, id)| *id == g.id) {
                groups.push((g.name.clone(), g.id));
            }
        }
        groups.sort();
        for (name, id) in groups {
            let funnel: Option<&FunnelFigures> = f
                .funnel
                .groups
                .iter()
                .find(|g| g.group.id == id)
                .map(|g| &g.figures);
            let (mut check_ins, mut flagged, mut outside) = (0, 0, 0);
            for r in f.visits.rows.iter().filter(|r| r.group.id == id) {
                check_ins += r.figures.check_ins;
                flagged += r.figures.flagged;
                outside += r.figures.outside;
            }
            let reports: Option<&ReportFigures> = f
                .reports
                .groups
                .iter()
                .find(|g| g.group.id == id)
                .map(|g| &g.figures);
            let money = |m: Option<Money>| m.map_or(Cell::Empty, Cell::Money);
            let count = |n: Option<u64>| Cell::Count(n.unwrap_or(0));
            s.row(vec![
                Cell::Text(name),
                count(funnel.map(|x| x.stages.iter().map(|s| s.open).sum())),
                money(funnel.map(|x| x.pipeline)),
                money(funnel.map(|x| x.weighted_forecast)),
                count(funnel.map(|x| x.won)),
                money(funnel.map(|x| x.won_amount)),
                count(funnel.map(|x| x.lost)),
                Cell::Share(funnel.and_then(|x| x.win_rate)),
                Cell::Count(check_ins),
                Cell::Count(flagged),
                Cell::Count(outside),
                count(reports.map(|x| x.on_time)),
                count(reports.map(|x| x.late)),
                count(reports.map(|x| x.missing)),
                money(reports.map(|x| x.penalties)),
            ])?;
        }
        Ok(())
    }

    fn targets(&self, sheet: &mut Worksheet) -> Result<(), XlsxError> {
        let head = [
            "rank",
            "subject",
            "period",
            "metric",
            "target",
            "achieved",
            "attainment",
        ]
        .map(|k| self.w(k));
        let mut s = SheetWriter::new(sheet, self.w("targets"), &head)?;
        for row in &self.targets.leaderboard {
            s.row(vec![
                Cell::Count(u64::from(row.rank)),
                Cell::Text(row.subject.name.clone()),
                Cell::Text(format!("{} – {}", row.period_start, row.period_end)),
                Cell::Text(row.metric.as_str().to_owned()),
                Cell::Money(row.target),
                Cell::Money(row.achieved),
                Cell::Share(row.attainment),
            ])?;
        }
        Ok(())
    }

    fn attention(&self, sheet: &mut Worksheet) -> Result<(), XlsxError> {
        let head = ["section", "name", "owner", "status", "when", "amount"].map(|k| self.w(k));
        let mut s = SheetWriter::new(sheet, self.w("attention"), &head)?;
        let a = self.attention;
        for o in &a.overdue_opportunities {
            s.row(vec![
                Cell::from(self.w("overdue")),
                Cell::Text(o.name.clone()),
                Cell::Text(o.owner.name.clone()),
                Cell::Text(o.stage.clone()),
                Cell::Text(self.local(o.due_at)),
                Cell::Money(o.amount),
            ])?;
        }
        for l in &a.leads_due_for_reclaim {
            s.row(vec![
                Cell::from(self.w("lead_due")),
                Cell::Text(l.company_name.clone()),
                Cell::Text(l.owner.name.clone()),
                Cell::Empty,
                Cell::Text(self.local(l.due_at)),
                Cell::Empty,
            ])?;
        }
        for l in &a.reclaimed_leads {
            s.row(vec![
                Cell::from(self.w("reclaimed")),
                Cell::Text(l.company_name.clone()),
                Cell::Text(l.from.name.clone()),
                Cell::Text(l.status.clone()),
                Cell::Text(self.local(l.at)),
                Cell::Empty,
            ])?;
        }
        for f in &a.false_progress {
            s.row(vec![
                Cell::from(self.w("false_deal")),
                Cell::Text(f.name.clone()),
                Cell::Text(f.owner.name.clone()),
                Cell::Text(f.stage.clone()),
                Cell::Text(self.local(f.marked_at)),
                Cell::Number(f.penalty_minor as f64 / 100.0),
            ])?;
        }
        for w in &a.approvals_waiting {
            s.row(vec![
                Cell::from(self.w("approval")),
                Cell::Text(w.title.clone()),
                Cell::Text(w.requester.name.clone()),
                Cell::Text(w.rule.clone()),
                Cell::Text(self.local(w.created_at)),
                w.amount.map_or(Cell::Empty, Cell::Money),
            ])?;
        }
        Ok(())
    }

    fn fence(&self, code: Option<&str>) -> String {
        let key = code.unwrap_or("unjudged");
        match t(self.lang, key) {
            "" => key.to_owned(),
            word => word.to_owned(),
        }
    }

    fn check_ins(&self, sheet: &mut Worksheet) -> Result<(), XlsxError> {
        let head = ["rep", "date", "time", "lat", "lon", "fence", "flags"].map(|k| self.w(k));
        let mut s = SheetWriter::new(sheet, self.w("check_ins"), &head)?;
        for p in &self.points.points {
            s.row(vec![
                Cell::Text(p.rep.name.clone()),
                Cell::Text(p.date.to_string()),
                Cell::Text(self.local(p.at)),
                Cell::Number(p.lat),
                Cell::Number(p.lon),
                Cell::Text(self.fence(p.fence.as_ref().map(|f| f.as_str()))),
                Cell::Text(p.flags.join(" ")),
            ])?;
        }
        if self.points.next.is_some() {
            s.row(vec![Cell::from(self.w("truncated"))])?;
        }
        Ok(())
    }

    fn person_visits(&self, sheet: &mut Worksheet, r: &RepRecords) -> Result<(), XlsxError> {
        let head = [
            "customer", "date", "time", "fence", "flags", "accuracy", "distance", "duration",
            "photos",
        ]
        .map(|k| self.w(k));
        let name = format!("{} {}", self.w("visits"), r.person.name);
        let mut s = SheetWriter::new(sheet, &sheet_name(&name), &head)?;
        for v in &r.visits {
            s.row(vec![
                Cell::Text(v.customer_name.clone()),
                Cell::Text(v.date.to_string()),
                Cell::Text(self.local(v.at)),
                Cell::Text(self.fence(v.fence.as_ref().map(|f| f.as_str()))),
                Cell::Text(v.flags.join(" ")),
                Cell::Number(v.accuracy_m.round()),
                v.distance_m
                    .map_or(Cell::Empty, |d| Cell::Number(d.round())),
                minutes(v.duration_s),
                Cell::Count(v.photos),
            ])?;
        }
        if r.visits_truncated {
            s.row(vec![Cell::from(self.w("truncated"))])?;
        }
        Ok(())
    }

    fn person_reports(&self, sheet: &mut Worksheet, r: &RepRecords) -> Result<(), XlsxError> {
        let head = ["date", "state", "compliance", "submitted_at", "penalty"].map(|k| self.w(k));
        let name = format!("{} {}", self.w("reports"), r.person.name);
        let mut s = SheetWriter::new(sheet, &sheet_name(&name), &head)?;
        for report in &r.reports {
            let compliance = report.compliance.as_deref().map(|c| match t(self.lang, c) {
                "" => c.to_owned(),
                word => word.to_owned(),
            });
            s.row(vec![
                Cell::Text(report.date.to_string()),
                Cell::Text(report.state.clone()),
                compliance.map_or(Cell::Empty, Cell::Text),
                report
                    .submitted_at
                    .map_or(Cell::Empty, |at| Cell::Text(self.local(at))),
                report.penalty.map_or(Cell::Empty, Cell::Money),
            ])?;
        }
        Ok(())
    }

    fn person_deals(&self, sheet: &mut Worksheet, r: &RepRecords) -> Result<(), XlsxError> {
        let head = [
            "name",
            "customer",
            "stage",
            "amount",
            "expected_close",
            "outcome",
        ]
        .map(|k| self.w(k));
        let name = format!("{} {}", self.w("deals"), r.person.name);
        let mut s = SheetWriter::new(sheet, &sheet_name(&name), &head)?;
        for d in &r.deals {
            s.row(vec![
                Cell::Text(d.name.clone()),
                Cell::Text(d.customer_name.clone()),
                Cell::Text(d.stage.clone()),
                Cell::Money(d.amount),
                d.expected_close.clone().map_or(Cell::Empty, Cell::Text),
                d.outcome.clone().map_or(Cell::Empty, Cell::Text),
            ])?;
        }
        Ok(())
    }
}

/// A worksheet name Excel accepts: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(name: &str) -> String {
    name.chars()
        .filter(|c| !"[]:*?/\\".contains(*c))
        .take(31)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_previous_period_is_as_long_and_ends_the_day_before() {
        let day = |s: &str| s.parse::<fieldsales_core::LocalDate>().expect("day");
        let march = DateRange::new(day("2026-03-01"), day("2026-03-31")).expect("range");
        let before = previous(march).expect("previous");
        assert_eq!(before.from, day("2026-01-29"));
        assert_eq!(before.to, day("2026-02-28"));
        assert_eq!(before.days(), march.days());
    }

    #[test]
    fn every_heading_has_both_languages() {
        for key in ["summary", "win_rate", "flagged", "penalties", "truncated"] {
            assert!(!t(Lang::Zh, key).is_empty() && !t(Lang::En, key).is_empty());
        }
        assert_eq!(sheet_name("拜访 a:b/c[d]"), "拜访 abcd");
        assert_eq!(sheet_name(&"商".repeat(40)).chars().count(), 31);
    }
}
