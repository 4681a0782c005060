//! The manager dashboards as JSON, for the web dashboard and any other client.
//!
//! Each answer is computed by the same core code the phone runs over its local store, with the
//! signed-in user's scope: a request can narrow the days and choose the rows, never widen
//! whose numbers it sees. The JSON is the core result type as it serializes (`Funnel`,
//! `VisitsDashboard`, `ReportCompliance`, `TargetBoard`, `AttentionList`, `MapPoints`), so a
//! phone's dashboard after a sync and the server's answer compare field for field.

use axum::Json;
use axum::extract::{Path, Query, State, rejection::QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use fieldsales_core::dashboard::attention::AttentionList;
use fieldsales_core::dashboard::funnel::Funnel;
use fieldsales_core::dashboard::people::{OrgChart, RepRecords};
use fieldsales_core::dashboard::reports::ReportCompliance;
use fieldsales_core::dashboard::targets::TargetBoard;
use fieldsales_core::dashboard::visits::{MapPoints, VisitsDashboard};
use fieldsales_core::dashboard::{
    DashboardRequest, DashboardSettings, DateRange, Focus, Granularity, GroupBy, PointCursor,
};
use fieldsales_core::{LocalDate, RecordId, Timestamp};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Session;
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::records::{Dashboard, DashboardQuery};
use crate::state::AppState;

/// The days and rows of a dashboard.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DashboardParams {
    /// The first day, `YYYY-MM-DD`.
    #[param(required = true, value_type = Option<LocalDate>, example = "2026-03-01")]
    pub from: Option<String>,
    /// The last day (included), `YYYY-MM-DD`.
    #[param(required = true, value_type = Option<LocalDate>, example = "2026-03-31")]
    pub to: Option<String>,
    /// `rep` (the default), `team` or `region`.
    #[param(value_type = Option<GroupBy>)]
    pub group_by: Option<String>,
    /// Visits only: `day` (the default) or `week`.
    #[param(value_type = Option<Granularity>)]
    pub granularity: Option<String>,
    /// Narrows the answer to this org unit of the caller's scope and the units below it.
    #[param(value_type = Option<RecordId>)]
    pub unit: Option<String>,
    /// Narrows the answer to this person of the caller's scope. Not with `unit`.
    #[param(value_type = Option<RecordId>)]
    pub rep: Option<String>,
}

/// The days of a map and where its page starts.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MapPointParams {
    /// The first day, `YYYY-MM-DD`.
    #[param(required = true, value_type = Option<LocalDate>, example = "2026-03-01")]
    pub from: Option<String>,
    /// The last day (included), `YYYY-MM-DD`.
    #[param(required = true, value_type = Option<LocalDate>, example = "2026-03-31")]
    pub to: Option<String>,
    /// The most points in this page, 1 to 5,000 (the default).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 5000)]
    pub limit: Option<String>,
    /// The previous page's `next.at`: this page starts after it. Give with `after_id`.
    #[param(value_type = Option<Timestamp>)]
    pub after_at: Option<String>,
    /// The previous page's `next.visit_id`. Give with `after_at`.
    #[param(value_type = Option<RecordId>)]
    pub after_id: Option<String>,
    /// Narrows the points to this org unit of the caller's scope and the units below it.
    #[param(value_type = Option<RecordId>)]
    pub unit: Option<String>,
    /// Narrows the points to this person of the caller's scope. Not with `unit`.
    #[param(value_type = Option<RecordId>)]
    pub rep: Option<String>,
}

impl MapPointParams {
    fn query(&self) -> Result<DashboardQuery, ApiError> {
        let days = DashboardParams {
            from: self.from.clone(),
            to: self.to.clone(),
            ..DashboardParams::default()
        };
        let most = DashboardSettings::default().map_point_limit;
        let limit = match self.limit.as_deref().map(str::trim) {
            None => most,
            Some(text) => match text.parse::<u32>() {
                Ok(n) if (1..=most).contains(&n) => n,
                _ => {
                    return Err(bad(
                        "limit",
                        format!("`{text}` is not a whole number from 1 to {most}"),
                    ));
                }
            },
        };
        let after = match (self.after_at.as_deref(), self.after_id.as_deref()) {
            (None, None) => None,
            (Some(at), Some(id)) => Some(PointCursor {
                at: at
                    .trim()
                    .parse::<i64>()
                    .map(Timestamp::from_millis)
                    .map_err(|_| {
                        bad(
                            "after_at",
                            format!("`{at}` is not a time in epoch milliseconds"),
                        )
                    })?,
                visit_id: id
                    .parse::<RecordId>()
                    .map_err(|_| bad("after_id", format!("`{id}` is not a visit ID")))?,
            }),
            (Some(_), None) => {
                return Err(bad(
                    "after_id",
                    "required with after_at: give both from the previous page's next".to_owned(),
                ));
            }
            (None, Some(_)) => {
                return Err(bad(
                    "after_at",
                    "required with after_id: give both from the previous page's next".to_owned(),
                ));
            }
        };
        Ok(DashboardQuery::MapPoints(days.range()?, limit, after))
    }

    fn focus(&self) -> Result<Option<Focus>, ApiError> {
        focus(self.unit.as_deref(), self.rep.as_deref())
    }
}

/// The focus a request's `unit` or `rep` names, checked for form only (scope is checked by
/// [`answer`]).
fn focus(unit: Option<&str>, rep: Option<&str>) -> Result<Option<Focus>, ApiError> {
    let id = |field: &str, text: &str| {
        text.trim()
            .parse::<RecordId>()
            .map_err(|_| bad(field, format!("`{text}` is not an ID")))
    };
    match (unit, rep) {
        (None, None) => Ok(None),
        (Some(u), None) => Ok(Some(Focus::Unit(id("unit", u)?))),
        (None, Some(r)) => Ok(Some(Focus::Person(id("rep", r)?))),
        (Some(_), Some(_)) => Err(bad("rep", "give either unit or rep, not both".to_owned())),
    }
}

fn bad(field: &str, detail: String) -> ApiError {
    ApiError::Client {
        status: StatusCode::BAD_REQUEST,
        code: ErrorCode::InvalidField,
        detail: format!("{field}: {detail}"),
        field: Some(field.to_owned()),
    }
}

fn day(field: &str, value: Option<&str>) -> Result<LocalDate, ApiError> {
    let text = value.ok_or_else(|| bad(field, "required, as YYYY-MM-DD".to_owned()))?;
    text.trim().parse().map_err(|_| {
        bad(
            field,
            format!("`{text}` is not a date of the form YYYY-MM-DD"),
        )
    })
}

impl DashboardParams {
    pub(super) fn range(&self) -> Result<DateRange, ApiError> {
        let from = day("from", self.from.as_deref())?;
        let to = day("to", self.to.as_deref())?;
        DateRange::new(from, to).map_err(|e| match e {
            fieldsales_core::Error::InvalidInput { detail, .. } => bad("to", detail),
            other => bad("to", other.to_string()),
        })
    }

    pub(super) fn request(&self) -> Result<DashboardRequest, ApiError> {
        let group_by = match self.group_by.as_deref().map(str::trim) {
            None | Some("rep") => GroupBy::Rep,
            Some("team") => GroupBy::Team,
            Some("region") => GroupBy::Region,
            Some(other) => {
                return Err(bad(
                    "group_by",
                    format!("`{other}` is not one of rep, team, region"),
                ));
            }
        };
        Ok(DashboardRequest {
            range: self.range()?,
            group_by,
        })
    }

    pub(super) fn focus(&self) -> Result<Option<Focus>, ApiError> {
        focus(self.unit.as_deref(), self.rep.as_deref())
    }

    pub(super) fn granularity(&self) -> Result<Granularity, ApiError> {
        match self.granularity.as_deref().map(str::trim) {
            None | Some("day") => Ok(Granularity::Day),
            Some("week") => Ok(Granularity::Week),
            Some(other) => Err(bad(
                "granularity",
                format!("`{other}` is not one of day, week"),
            )),
        }
    }
}

/// The caller's dashboards, each narrowed to one focus of their scope (checked once).
pub(super) struct Dashboards<'a> {
    state: &'a AppState,
    viewer: fieldsales_core::me::Me,
    session: &'a Session,
    focus: Option<Focus>,
}

impl<'a> Dashboards<'a> {
    /// The signed-in caller's dashboards narrowed to `focus`: 404 `not_in_scope` when the
    /// unit or person is not one the caller sees (or does not exist), so the answer never
    /// tells a unit of another region from one that does not exist.
    pub(super) async fn of(
        state: &'a AppState,
        session: &'a Session,
        focus: Option<Focus>,
    ) -> Result<Dashboards<'a>, ApiError> {
        let viewer = super::signed_in_user(state, session).await?;
        let this = Dashboards {
            state,
            viewer,
            session,
            focus: None,
        };
        if let Some(f) = focus {
            let Dashboard::OrgChart(chart) = this.get(DashboardQuery::OrgChart).await? else {
                return Err(ApiError::internal(WrongAnswer));
            };
            let known = match f {
                Focus::Unit(u) => chart.units.iter().any(|x| x.id == u),
                Focus::Person(p) => chart.people.iter().any(|x| x.id == p),
            };
            if !known {
                let (field, what) = match f {
                    Focus::Unit(_) => ("unit", "unit"),
                    Focus::Person(_) => ("rep", "person"),
                };
                return Err(ApiError::Client {
                    status: StatusCode::NOT_FOUND,
                    code: ErrorCode::NotInScope,
                    detail: format!("{field}: no {what} of your scope has this ID"),
                    field: Some(field.to_owned()),
                });
            }
        }
        Ok(Dashboards { focus, ..this })
    }

    /// The caller's time zone, for local times.
    pub(super) fn zone(&self) -> fieldsales_core::Zone {
        self.viewer.zone.clone()
    }

    /// One dashboard.
    pub(super) async fn get(&self, query: DashboardQuery) -> Result<Dashboard, ApiError> {
        Ok(self
            .state
            .records
            .dashboard(
                self.session.tenant_id,
                self.viewer.clone(),
                self.focus,
                query,
                self.state.clock.now(),
            )
            .await?)
    }
}

/// A dashboard of another kind than asked came back: a bug, answered 500.
#[derive(Debug, thiserror::Error)]
#[error("the dashboard computed is not the one asked for")]
pub(super) struct WrongAnswer;

async fn answer(
    state: &AppState,
    session: &Session,
    focus: Option<Focus>,
    query: DashboardQuery,
) -> Result<Response, ApiError> {
    let dashboard = Dashboards::of(state, session, focus)
        .await?
        .get(query)
        .await?;
    Ok(match dashboard {
        Dashboard::Funnel(d) => Json(d).into_response(),
        Dashboard::Visits(d) => Json(d).into_response(),
        Dashboard::Reports(d) => Json(d).into_response(),
        Dashboard::Targets(d) => Json(d).into_response(),
        Dashboard::Attention(d) => Json(d).into_response(),
        Dashboard::MapPoints(d) => Json(d).into_response(),
        Dashboard::OrgChart(d) => Json(d).into_response(),
        Dashboard::PersonRecords(d) => Json(d).into_response(),
    })
}

/// The sales funnel of the caller's scope: open deals and amounts per stage, conversion,
/// won and lost.
#[utoipa::path(
    get,
    path = "/v1/dashboards/funnel",
    tag = "dashboards",
    security(("bearer" = [])),
    params(DashboardParams),
    responses(
        (status = 200, description = "A `Funnel` (core type)", body = Funnel),
        (status = 400, description = "`invalid_field`: `field` names the parameter", body = ErrorBody),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "`profile_missing`", body = ErrorBody),
        (status = 404, description = "`not_in_scope`: `unit` or `rep` is not of the caller's scope", body = ErrorBody),
    )
)]
pub async fn funnel(
    State(state): State<AppState>,
    session: Session,
    query: Result<Query<DashboardParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let p = super::query_params(query)?;
    answer(
        &state,
        &session,
        p.focus()?,
        DashboardQuery::Funnel(p.request()?),
    )
    .await
}

/// Visits of the caller's scope: planned and done, check-ins by geofence verdict, durations.
/// The check-ins themselves, for a map, come from `/v1/dashboards/visits/points`.
#[utoipa::path(
    get,
    path = "/v1/dashboards/visits",
    tag = "dashboards",
    security(("bearer" = [])),
    params(DashboardParams),
    responses(
        (status = 200, description = "A `VisitsDashboard` (core type)", body = VisitsDashboard),
        (status = 400, description = "`invalid_field`: `field` names the parameter", body = ErrorBody),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "`profile_missing`", body = ErrorBody),
        (status = 404, description = "`not_in_scope`: `unit` or `rep` is not of the caller's scope", body = ErrorBody),
    )
)]
pub async fn visits(
    State(state): State<AppState>,
    session: Session,
    query: Result<Query<DashboardParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let p = super::query_params(query)?;
    let q = DashboardQuery::Visits(p.request()?, p.granularity()?);
    answer(&state, &session, p.focus()?, q).await
}

/// The check-ins of the caller's scope over the days, for a map, a page at a time, newest
/// first: each point with its rep, place, local day, geofence verdict and suspicion flags.
/// The next page starts after the previous page's `next` (`after_at`, `after_id`); `next`
/// is null on the last page. The points of all pages are the check-ins
/// `/v1/dashboards/visits` counts for the same days.
#[utoipa::path(
    get,
    path = "/v1/dashboards/visits/points",
    tag = "dashboards",
    security(("bearer" = [])),
    params(MapPointParams),
    responses(
        (status = 200, description = "A `MapPoints` (core type)", body = MapPoints),
        (status = 400, description = "`invalid_field`: `field` names the parameter", body = ErrorBody),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "`profile_missing`", body = ErrorBody),
        (status = 404, description = "`not_in_scope`: `unit` or `rep` is not of the caller's scope", body = ErrorBody),
    )
)]
pub async fn visit_points(
    State(state): State<AppState>,
    session: Session,
    query: Result<Query<MapPointParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let p = super::query_params(query)?;
    answer(&state, &session, p.focus()?, p.query()?).await
}

/// Daily-report compliance of the caller's scope: on time, late, missing, false, penalties.
#[utoipa::path(
    get,
    path = "/v1/dashboards/reports",
    tag = "dashboards",
    security(("bearer" = [])),
    params(DashboardParams),
    responses(
        (status = 200, description = "A `ReportCompliance` (core type)", body = ReportCompliance),
        (status = 400, description = "`invalid_field`: `field` names the parameter", body = ErrorBody),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "`profile_missing`", body = ErrorBody),
        (status = 404, description = "`not_in_scope`: `unit` or `rep` is not of the caller's scope", body = ErrorBody),
    )
)]
pub async fn reports(
    State(state): State<AppState>,
    session: Session,
    query: Result<Query<DashboardParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let p = super::query_params(query)?;
    answer(
        &state,
        &session,
        p.focus()?,
        DashboardQuery::Reports(p.request()?),
    )
    .await
}

/// Target attainment of the caller's scope, as a leaderboard.
#[utoipa::path(
    get,
    path = "/v1/dashboards/targets",
    tag = "dashboards",
    security(("bearer" = [])),
    params(DashboardParams),
    responses(
        (status = 200, description = "A `TargetBoard` (core type)", body = TargetBoard),
        (status = 400, description = "`invalid_field`: `field` names the parameter", body = ErrorBody),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "`profile_missing`", body = ErrorBody),
        (status = 404, description = "`not_in_scope`: `unit` or `rep` is not of the caller's scope", body = ErrorBody),
    )
)]
pub async fn targets(
    State(state): State<AppState>,
    session: Session,
    query: Result<Query<DashboardParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let p = super::query_params(query)?;
    answer(
        &state,
        &session,
        p.focus()?,
        DashboardQuery::Targets(p.request()?),
    )
    .await
}

/// What needs the caller's attention: overdue deals, leads about to be reclaimed, reports
/// to read. `group_by` is ignored.
#[utoipa::path(
    get,
    path = "/v1/dashboards/attention",
    tag = "dashboards",
    security(("bearer" = [])),
    params(DashboardParams),
    responses(
        (status = 200, description = "An `AttentionList` (core type)", body = AttentionList),
        (status = 400, description = "`invalid_field`: `field` names the parameter", body = ErrorBody),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "`profile_missing`", body = ErrorBody),
        (status = 404, description = "`not_in_scope`: `unit` or `rep` is not of the caller's scope", body = ErrorBody),
    )
)]
pub async fn attention(
    State(state): State<AppState>,
    session: Session,
    query: Result<Query<DashboardParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let p = super::query_params(query)?;
    answer(
        &state,
        &session,
        p.focus()?,
        DashboardQuery::Attention(p.range()?),
    )
    .await
}

/// The days of a person's records.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PersonParams {
    /// The first day, `YYYY-MM-DD`.
    #[param(required = true, value_type = Option<LocalDate>, example = "2026-03-01")]
    pub from: Option<String>,
    /// The last day (included), `YYYY-MM-DD`.
    #[param(required = true, value_type = Option<LocalDate>, example = "2026-03-31")]
    pub to: Option<String>,
}

/// The units and people of the caller's scope as a tree (region, team, rep), for drilling
/// down; the caller's own name and unit with them.
#[utoipa::path(
    get,
    path = "/v1/dashboards/org",
    tag = "dashboards",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "An `OrgChart` (core type)", body = OrgChart),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "`profile_missing`", body = ErrorBody),
    )
)]
pub async fn org(State(state): State<AppState>, session: Session) -> Result<Response, ApiError> {
    answer(&state, &session, None, DashboardQuery::OrgChart).await
}

/// One person's own records over the days: their check-ins with the verdict, flags,
/// accuracy, distance and duration of each, their daily reports with compliance and
/// penalties, and their deals (every open one, and those closed on the days).
#[utoipa::path(
    get,
    path = "/v1/dashboards/people/{id}",
    tag = "dashboards",
    security(("bearer" = [])),
    params(
        ("id" = RecordId, Path, description = "The person's profile record"),
        PersonParams,
    ),
    responses(
        (status = 200, description = "A `RepRecords` (core type)", body = RepRecords),
        (status = 400, description = "`invalid_path` or `invalid_field`", body = ErrorBody),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "`profile_missing`", body = ErrorBody),
        (status = 404, description = "`not_in_scope`: not a person of the caller's scope", body = ErrorBody),
    )
)]
pub async fn person(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    query: Result<Query<PersonParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let person: RecordId = id.trim().parse().map_err(|_| {
        ApiError::client(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidPath,
            format!("`{id}` is not a person's ID"),
        )
    })?;
    let p = super::query_params(query)?;
    let range = DashboardParams {
        from: p.from,
        to: p.to,
        ..DashboardParams::default()
    }
    .range()?;
    let focus = Some(Focus::Person(person));
    answer(
        &state,
        &session,
        focus,
        DashboardQuery::PersonRecords(person, range),
    )
    .await
}
