//! A client of the server's admin API: what an admin console does, from a terminal.
//!
//! Org units, user profiles, roles and the process configuration are records every device
//! pulls, so they are written where the server writes records (`POST /v1/admin/records`),
//! never into its database behind its back; accounts go through `/v1/admin/accounts` so the
//! password rules are the server's.

use serde_json::{Value, json};

/// What went wrong talking to the admin API.
#[derive(Debug, thiserror::Error)]
pub enum AdminApiError {
    /// The server could not be reached.
    #[error("cannot reach {url}: {source}")]
    Unreachable {
        /// The address tried.
        url: String,
        /// Why.
        source: reqwest::Error,
    },
    /// The server refused the credentials, or the account may not use the admin API.
    #[error("{path}: {status} {code}: {detail}")]
    Auth {
        /// The endpoint.
        path: String,
        /// The HTTP status (401 or 403).
        status: u16,
        /// The server's error code.
        code: String,
        /// The server's sentence.
        detail: String,
    },
    /// The server refused the request (a bad field, a taken login, an invalid record).
    #[error("{path}: {status} {code}: {detail}")]
    Refused {
        /// The endpoint.
        path: String,
        /// The HTTP status.
        status: u16,
        /// The server's error code (`invalid_field`, `login_taken`).
        code: String,
        /// The server's sentence.
        detail: String,
    },
    /// The server answered something this client does not understand.
    #[error("{path}: unexpected answer: {detail}")]
    BadAnswer {
        /// The endpoint.
        path: String,
        /// What was wrong with it.
        detail: String,
    },
}

/// An admin signed in to one tenant of one server.
pub struct AdminClient {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl AdminClient {
    /// Signs in as `login` of `tenant` at `base` (`http://host:port`).
    pub async fn sign_in(
        base: &str,
        tenant: &str,
        login: &str,
        password: &str,
    ) -> Result<AdminClient, AdminApiError> {
        // reqwest is built without a crypto provider; the sync client installs ring the same way.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut client = AdminClient {
            http: reqwest::Client::new(),
            base: base.trim_end_matches('/').to_owned(),
            token: String::new(),
        };
        let path = "/v1/auth/login";
        let answer = client
            .post(
                path,
                json!({"tenant": tenant, "login": login, "password": password,
                       "device_name": "admin console"}),
            )
            .await?;
        client.token = answer["token"]
            .as_str()
            .ok_or_else(|| AdminApiError::BadAnswer {
                path: path.into(),
                detail: format!("no token in {answer}"),
            })?
            .to_owned();
        Ok(client)
    }

    /// Posts `body` to `path`; the answer's JSON.
    pub async fn post(&self, path: &str, body: Value) -> Result<Value, AdminApiError> {
        let url = format!("{}{path}", self.base);
        let response = self
            .http
            .post(&url)
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .map_err(|source| AdminApiError::Unreachable {
                url: url.clone(),
                source,
            })?;
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(answer);
        }
        let code = answer["code"].as_str().unwrap_or("unknown").to_owned();
        let detail = answer["detail"]
            .as_str()
            .map_or_else(|| answer.to_string(), str::to_owned);
        let path = path.to_owned();
        let status = status.as_u16();
        Err(if status == 401 || status == 403 {
            AdminApiError::Auth {
                path,
                status,
                code,
                detail,
            }
        } else {
            AdminApiError::Refused {
                path,
                status,
                code,
                detail,
            }
        })
    }

    /// Writes a record through `/v1/admin/records` (see the server's `AdminRecord`); its id.
    pub async fn record(&self, record: Value) -> Result<fieldsales_core::RecordId, AdminApiError> {
        let path = "/v1/admin/records";
        let answer = self.post(path, record).await?;
        answer["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| AdminApiError::BadAnswer {
                path: path.into(),
                detail: format!("no record id in {answer}"),
            })
    }

    /// Creates a sign-in account for the person whose profile is `profile_id`; the account
    /// as the server shows it.
    pub async fn account(
        &self,
        login: &str,
        password: &str,
        profile_id: fieldsales_core::RecordId,
        is_admin: bool,
    ) -> Result<Value, AdminApiError> {
        self.post(
            "/v1/admin/accounts",
            json!({"login": login, "password": password, "profile_id": profile_id.to_string(),
                   "is_admin": is_admin}),
        )
        .await
    }
}
