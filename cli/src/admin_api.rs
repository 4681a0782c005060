//! A client of the server's admin API: what an admin console does, from a terminal.
//!
//! Requests and answers are the server's own types (`fieldsales_server::api`), so what this
//! client sends is what the handlers read, checked by the compiler rather than by hand-built
//! JSON. Org units, user profiles, roles and the process configuration are records every
//! device pulls, so they are written where the server writes records
//! (`POST /v1/admin/records`), never into its database behind its back; accounts and devices
//! go through `/v1/admin/accounts` and `/v1/admin/devices`, so the password rules and the
//! revocations are the server's.

use fieldsales_server::api::{
    AccountView, AdminRecord, CreateAccountRequest, DeviceView, LoginRequest, LoginResponse,
    WrittenRecord,
};
use fieldsales_server::model::{AccountId, DeviceId, Password};
use fieldsales_server::{ErrorBody, ErrorCode};
use reqwest::{Method, RequestBuilder, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// What went wrong talking to the admin API.
#[derive(Debug, thiserror::Error)]
pub enum AdminApiError {
    /// The server's address is not a URL.
    #[error("`{url}` is not a server address such as http://127.0.0.1:8080")]
    BadUrl {
        /// What was given.
        url: String,
    },
    /// The server could not be reached.
    #[error("cannot reach {url}: {source}")]
    Unreachable {
        /// The address tried.
        url: String,
        /// Why.
        source: reqwest::Error,
    },
    /// The server refused: the credentials (401), the caller's rights (403), or the request
    /// (a bad field, a taken login, an unknown account).
    #[error("{path}: {status} {}: {}", code_name(body.code), body.detail)]
    Refused {
        /// The endpoint.
        path: String,
        /// The HTTP status.
        status: u16,
        /// The server's answer: its code, sentence and the field at fault.
        body: ErrorBody,
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

impl AdminApiError {
    /// The server's error code, when it answered with one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            AdminApiError::Refused { body, .. } => Some(body.code),
            _ => None,
        }
    }

    /// Whether the server refused who is calling (credentials, a revoked account, not an
    /// admin) rather than what they asked.
    pub fn is_auth(&self) -> bool {
        matches!(
            self,
            AdminApiError::Refused {
                status: 401 | 403,
                ..
            }
        )
    }
}

/// An error code as the API writes it (`login_taken`): its serialized name, the one the
/// server answers with.
pub fn code_name(code: ErrorCode) -> String {
    match serde_json::to_value(code) {
        Ok(serde_json::Value::String(name)) => name,
        // A unit variant always serializes to its name; nothing else can come back.
        _ => "unknown".to_owned(),
    }
}

/// An admin signed in to one tenant of one server.
pub struct AdminClient {
    http: reqwest::Client,
    base: Url,
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
        let base = Url::parse(base.trim_end_matches('/')).map_err(|_| AdminApiError::BadUrl {
            url: base.to_owned(),
        })?;
        let mut client = AdminClient {
            http: reqwest::Client::new(),
            base,
            token: String::new(),
        };
        let answer: LoginResponse = client
            .call(
                Method::POST,
                "/v1/auth/login",
                &[],
                Some(&LoginRequest {
                    tenant: tenant.to_owned(),
                    login: login.to_owned(),
                    password: Password::new(password),
                    device_name: "admin console".to_owned(),
                    device_id: None,
                }),
            )
            .await?;
        client.token = answer.token;
        Ok(client)
    }

    /// Writes an org unit, a user profile, a role or the process configuration.
    pub async fn write_record(&self, record: &AdminRecord) -> Result<WrittenRecord, AdminApiError> {
        self.call(Method::POST, "/v1/admin/records", &[], Some(record))
            .await
    }

    /// Creates a sign-in account.
    pub async fn create_account(
        &self,
        account: &CreateAccountRequest,
    ) -> Result<AccountView, AdminApiError> {
        self.call(Method::POST, "/v1/admin/accounts", &[], Some(account))
            .await
    }

    /// Every account of the tenant, by login.
    pub async fn accounts(&self) -> Result<Vec<AccountView>, AdminApiError> {
        self.call(Method::GET, "/v1/admin/accounts", &[], None::<&()>)
            .await
    }

    /// The account signing in with `login`, if there is one.
    pub async fn account_by_login(
        &self,
        login: &str,
    ) -> Result<Option<AccountView>, AdminApiError> {
        let found: Vec<AccountView> = self
            .call(
                Method::GET,
                "/v1/admin/accounts",
                &[("login", login)],
                None::<&()>,
            )
            .await?;
        Ok(found.into_iter().next())
    }

    /// Revokes an account and all its devices.
    pub async fn revoke_account(&self, id: AccountId) -> Result<AccountView, AdminApiError> {
        self.call(
            Method::POST,
            &format!("/v1/admin/accounts/{id}/revoke"),
            &[],
            None::<&()>,
        )
        .await
    }

    /// An account's devices, oldest first.
    pub async fn devices(&self, account: AccountId) -> Result<Vec<DeviceView>, AdminApiError> {
        self.call(
            Method::GET,
            &format!("/v1/admin/accounts/{account}/devices"),
            &[],
            None::<&()>,
        )
        .await
    }

    /// Revokes one device.
    pub async fn revoke_device(&self, id: DeviceId) -> Result<DeviceView, AdminApiError> {
        self.call(
            Method::POST,
            &format!("/v1/admin/devices/{id}/revoke"),
            &[],
            None::<&()>,
        )
        .await
    }

    /// Sends `body` (JSON) to `path` with `query`; the answer, decoded.
    async fn call<B: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&B>,
    ) -> Result<R, AdminApiError> {
        // The base may carry a path of its own (a server behind a proxy at `/fieldsales`).
        let mut url = self.base.clone();
        url.set_path(&format!("{}{path}", self.base.path().trim_end_matches('/')));
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let mut request: RequestBuilder = self.http.request(method, url.clone());
        if !self.token.is_empty() {
            request = request.bearer_auth(&self.token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|source| AdminApiError::Unreachable {
                url: url.to_string(),
                source,
            })?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|source| AdminApiError::Unreachable {
                url: url.to_string(),
                source,
            })?;
        let bad_answer = |detail: String| AdminApiError::BadAnswer {
            path: path.to_owned(),
            detail,
        };
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| {
                bad_answer(format!(
                    "{e}: {}",
                    String::from_utf8_lossy(&bytes)
                        .chars()
                        .take(200)
                        .collect::<String>()
                ))
            });
        }
        let body: ErrorBody = serde_json::from_slice(&bytes).map_err(|_| {
            bad_answer(format!(
                "{status} without an error body: {}",
                String::from_utf8_lossy(&bytes)
                    .chars()
                    .take(200)
                    .collect::<String>()
            ))
        })?;
        Err(AdminApiError::Refused {
            path: path.to_owned(),
            status: status.as_u16(),
            body,
        })
    }
}
