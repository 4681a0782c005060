//! 查重 across the whole company for a phone that is online: a rep about to create a customer
//! learns that a colleague already follows the company, whichever region it is in. Hits the
//! rep may not read show only the fields the configuration allows (the name and the owner by
//! default: enough to ask for a share). The same check runs again on every pushed new
//! customer, so a phone that skips this call is refused at sync.

use axum::Json;
use axum::extract::State;
use fieldsales_core::authority::customer::DuplicateCheck;
use fieldsales_core::record::{Customer, Header};
use fieldsales_core::{RecordId, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Session;
use crate::error::{ApiError, ApiJson, ErrorBody};
use crate::state::AppState;

/// The names of a customer about to be created.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DuplicateQuery {
    /// The registered full name (工商注册全称).
    pub legal_name: String,
    /// The short name, if any.
    #[serde(default)]
    pub short_name: Option<String>,
    /// The English name, if any.
    #[serde(default)]
    pub english_name: Option<String>,
}

/// The longest name the check reads, in characters.
const MAX_NAME_CHARS: usize = 200;

fn checked(field: &str, value: &str) -> Result<(), ApiError> {
    if value.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::invalid_field(
            field,
            &crate::model::InvalidValue {
                reason: format!("at most {MAX_NAME_CHARS} characters"),
            },
        ));
    }
    Ok(())
}

/// The duplicate check of a customer about to be created, over the whole company.
#[utoipa::path(
    post,
    path = "/v1/customers/duplicates",
    tag = "customers",
    request_body = DuplicateQuery,
    responses(
        (status = 200, description = "What exists with the same or close names", body = DuplicateCheck),
        (status = 400, description = "A name too long or missing", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn duplicates(
    State(state): State<AppState>,
    session: Session,
    ApiJson(query): ApiJson<DuplicateQuery>,
) -> Result<Json<DuplicateCheck>, ApiError> {
    checked("legal_name", &query.legal_name)?;
    if query.legal_name.trim().is_empty() {
        return Err(ApiError::invalid_field(
            "legal_name",
            &crate::model::InvalidValue {
                reason: "must not be blank".into(),
            },
        ));
    }
    for (field, value) in [
        ("short_name", &query.short_name),
        ("english_name", &query.english_name),
    ] {
        if let Some(v) = value {
            checked(field, v)?;
        }
    }
    let viewer = super::signed_in_user(&state, &session).await?;
    let mut customer = Customer::new(
        Header::new(viewer.user_id, Timestamp::default()),
        query.legal_name.trim(),
    );
    customer.header.id = RecordId::new();
    customer.short_name = query.short_name;
    customer.english_name = query.english_name;
    let check = state
        .records
        .duplicates(session.tenant_id, viewer, customer)
        .await?;
    Ok(Json(check))
}
