//! The one error the apps see.
//!
//! Core keeps rich, precise errors; an app can only act on a handful of situations (show a
//! field as invalid, offer the existing duplicate, ask the user to sign in again...). Every
//! core error is therefore converted here, at one point, into a [`FieldsalesError`] variant
//! that names the situation. The text never repeats the value that was refused: an address, a
//! phone number or a position is personal data, and error text ends up in crash reports.

use fieldsales_core::Error as CoreError;
use fieldsales_core::codec::UnknownCode;
use fieldsales_core::id::MalformedId;
use fieldsales_core::money::InvalidMoney;
use fieldsales_core::place::InvalidCoordinates;
use fieldsales_core::process::PricingRefused;
use fieldsales_core::record::InvalidRecord;
use fieldsales_core::rule::RuleCode;
use fieldsales_core::sync::SyncError;
use fieldsales_core::time::InvalidTime;

/// Why a call into Fieldsales failed, as something the app can act on.
#[derive(Debug, Clone, PartialEq, thiserror::Error, uniffi::Error)]
pub enum FieldsalesError {
    /// The record does not exist on this device (or is no longer visible to this user).
    #[error("no {kind} record with id {id}")]
    NotFound {
        /// The kind of record looked for, such as `customer`.
        kind: String,
        /// The record ID that was looked for.
        id: String,
    },
    /// The new record looks like one that already exists; the app offers the existing one.
    #[error("possible duplicate of record {existing_id} (similarity {score:.2})")]
    Duplicate {
        /// The record that already exists.
        existing_id: String,
        /// How similar the two are, from 0.0 (not at all) to 1.0 (the same).
        score: f64,
    },
    /// A rule of the sales process refused the change.
    #[error("rule {rule} refused the change: {detail}")]
    RuleViolated {
        /// A stable code of the rule, such as `stage.required_fields`, for the app to branch on.
        rule: String,
        /// What the user has to do, in words.
        detail: String,
    },
    /// The signed-in user may not do this.
    #[error("not allowed: {action}")]
    NotAllowed {
        /// What was refused and who may do it, in words (`only a manager may assign leads`).
        action: String,
    },
    /// This needs the server and the device has no connection; nothing was changed.
    #[error("the server cannot be reached")]
    Offline,
    /// The server no longer accepts this device's session; the user must sign in again.
    #[error("the session has expired")]
    AuthExpired,
    /// An admin revoked this device or account; the local store has already been wiped and
    /// the app goes back to the sign-in screen.
    #[error("this {code} was revoked; local data was wiped")]
    Revoked {
        /// `device_revoked` or `account_revoked`.
        code: String,
    },
    /// Unknown tenant or login, or wrong password.
    #[error("wrong tenant, login or password")]
    BadCredentials,
    /// Nobody is signed in on this store; sign in first.
    #[error("not signed in")]
    NotSignedIn,
    /// The caller cancelled the work; what had been committed stays committed.
    #[error("cancelled")]
    Cancelled,
    /// The server refused the request for a reason the app shows as it is.
    #[error("the server refused the request ({status} {code}): {detail}")]
    ServerRefused {
        /// The HTTP status.
        status: i32,
        /// The server's stable code, for the app to branch on.
        code: String,
        /// The server's sentence.
        detail: String,
    },
    /// The store cannot be opened with the key given: a wrong key, no key for an encrypted
    /// store, or a key for a plain one. Nothing was changed; open it again with its key.
    #[error("the store cannot be opened with this key; nothing was changed")]
    WrongKey,
    /// The local database failed (disk full, file damaged...).
    #[error("local storage failed: {detail}")]
    Storage {
        /// What failed, without record contents.
        detail: String,
    },
    /// A value given by the app cannot be used.
    #[error("invalid {field}: {detail}")]
    InvalidInput {
        /// The argument or record field at fault, such as `zone`.
        field: String,
        /// What a valid value looks like.
        detail: String,
    },
    /// A fault inside the library or the operating system refused a resource (a thread, a
    /// file handle). The app can only report it; the detail is for the bug report.
    #[error("internal failure: {detail}")]
    Internal {
        /// What failed.
        detail: String,
    },
}

impl FieldsalesError {
    /// The value given for `field` cannot be used, for the reason `problem` gives.
    pub(crate) fn invalid(field: &str, problem: &impl InputProblem) -> Self {
        let detail = problem.detail();
        tracing::debug!(field, %detail, "input refused at the FFI boundary");
        FieldsalesError::InvalidInput {
            field: field.to_string(),
            detail,
        }
    }
}

/// A core error about a value from outside, described without repeating the value.
pub(crate) trait InputProblem {
    /// What a valid value looks like.
    fn detail(&self) -> String;
}

impl InputProblem for InvalidTime {
    fn detail(&self) -> String {
        match self {
            InvalidTime::Instant(_) => {
                "expected an RFC 3339 instant such as 2026-03-08T17:59:59+08:00"
            }
            InvalidTime::Date(_) => "expected a calendar date as YYYY-MM-DD",
            InvalidTime::Zone(_) => "expected an IANA time zone name such as Asia/Shanghai",
            InvalidTime::TimeOfDay(_) => "expected a time of day as HH:MM",
        }
        .to_string()
    }
}

impl InputProblem for InvalidMoney {
    fn detail(&self) -> String {
        match self {
            InvalidMoney::Currency(_) => {
                "expected a three-letter ISO 4217 currency code such as CNY".to_string()
            }
            InvalidMoney::CurrencyMismatch(a, b) => {
                format!("amounts in {a} and {b} cannot be combined")
            }
            InvalidMoney::Overflow => "the amount is out of range".to_string(),
            InvalidMoney::Negative { .. } => "must not be negative".to_string(),
        }
    }
}

impl InputProblem for InvalidCoordinates {
    fn detail(&self) -> String {
        "expected a finite latitude within ±90 and longitude within ±180 degrees".to_string()
    }
}

impl InputProblem for MalformedId {
    fn detail(&self) -> String {
        "expected a record ID (a UUID such as 0190f5b8-7c1e-7a3b-9d2e-4f6a8b0c1d2e)".to_string()
    }
}

impl InputProblem for UnknownCode {
    fn detail(&self) -> String {
        format!("expected one of: {}", self.expected.join(", "))
    }
}

impl From<CoreError> for FieldsalesError {
    /// The one place a core error becomes what the app sees.
    fn from(e: CoreError) -> Self {
        use FieldsalesError as F;
        let rule = |rule: RuleCode, detail: String| F::RuleViolated {
            rule: rule.to_string(),
            detail,
        };
        let storage = |detail: String| {
            tracing::warn!(%detail, "local storage failed");
            F::Storage { detail }
        };
        match e {
            CoreError::NotFound { kind, id } => F::NotFound {
                kind: kind.to_string(),
                id: id.to_string(),
            },
            CoreError::WrongKind { id, expected, .. } => F::NotFound {
                kind: expected.as_str().to_string(),
                id: id.to_string(),
            },
            CoreError::Invalid(invalid) => invalid_record(&invalid),
            CoreError::DuplicateCustomer { existing_id, score } => F::Duplicate {
                existing_id: existing_id.to_string(),
                score,
            },
            CoreError::RuleViolated { rule: code, detail } => rule(code, detail),
            CoreError::NotAllowed(action) => F::NotAllowed { action },
            CoreError::ProcessConfig(errors) => rule(RuleCode::ProcessInvalid, errors.to_string()),
            CoreError::StageMove(refused) => rule(
                fieldsales_core::authority::opportunity::refusal_code(&refused),
                refused.to_string(),
            ),
            CoreError::Decision(refused) => rule(
                fieldsales_core::authority::approval::refusal_code(&refused),
                refused.to_string(),
            ),
            CoreError::Claim(refused) => rule(
                fieldsales_core::authority::lead::claim_code(&refused),
                refused.to_string(),
            ),
            CoreError::Pricing(PricingRefused::ZeroQuantity) => F::InvalidInput {
                field: "quantity".into(),
                detail: "must be at least 1".into(),
            },
            CoreError::Pricing(PricingRefused::DiscountOverFull(_)) => F::InvalidInput {
                field: "manual_discount".into(),
                detail: "must not exceed 100% (10000 basis points)".into(),
            },
            CoreError::Pricing(refused) => rule(RuleCode::PricingRefused, refused.to_string()),
            CoreError::InvalidInput { field, detail } => F::InvalidInput {
                field: field.to_string(),
                detail,
            },
            CoreError::Document { .. } | CoreError::UnknownKind(_) => {
                storage(format!("a stored record cannot be read: {e}"))
            }
            CoreError::NewerDatabase { .. } => storage(e.to_string()),
            CoreError::WrongKey => F::WrongKey,
            CoreError::Storage(sqlite) => storage(sqlite.to_string()),
            CoreError::Io(io) => storage(io.to_string()),
            other => F::Internal {
                detail: other.to_string(),
            },
        }
    }
}

impl From<SyncError> for FieldsalesError {
    /// The one place a sync or sign-in failure becomes what the app sees.
    fn from(e: SyncError) -> Self {
        use FieldsalesError as F;
        match e {
            SyncError::Offline { attempts, detail } => {
                tracing::info!(attempts, %detail, "the server cannot be reached");
                F::Offline
            }
            SyncError::BadCredentials => F::BadCredentials,
            SyncError::AuthExpired { code } => {
                tracing::info!(%code, "the session ended");
                F::AuthExpired
            }
            SyncError::Revoked { code } => F::Revoked { code },
            SyncError::Refused {
                status,
                code,
                detail,
            } => F::ServerRefused {
                status: i32::from(status),
                code,
                detail,
            },
            SyncError::Protocol(detail) => F::Internal {
                detail: format!("the server's answer broke the protocol: {detail}"),
            },
            SyncError::NotSignedIn => F::NotSignedIn,
            SyncError::Cancelled => F::Cancelled,
            SyncError::Store(core) => core.into(),
        }
    }
}

/// A record field the record's own rules refuse, named `kind.field`.
fn invalid_record(invalid: &InvalidRecord) -> FieldsalesError {
    let (kind, field, detail) = match invalid {
        InvalidRecord::Missing { kind, field } => (kind, field, "is required".to_string()),
        InvalidRecord::Negative { kind, field } => (kind, field, "must not be negative".into()),
        InvalidRecord::Invalid {
            kind,
            field,
            detail,
        } => (kind, field, detail.clone()),
        InvalidRecord::TooLong { kind, field, max } => {
            (kind, field, format!("must be at most {max} characters"))
        }
    };
    FieldsalesError::InvalidInput {
        field: format!("{kind}.{field}"),
        detail,
    }
}

/// Turns a core result about one input into the app's error, naming the input.
pub(crate) trait OrInvalid<T> {
    /// Maps the error to [`FieldsalesError::InvalidInput`] for `field`.
    fn or_invalid(self, field: &str) -> Result<T, FieldsalesError>;
}

impl<T, E: InputProblem> OrInvalid<T> for Result<T, E> {
    fn or_invalid(self, field: &str) -> Result<T, FieldsalesError> {
        self.map_err(|e| FieldsalesError::invalid(field, &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fieldsales_core::process::ClaimRefused;
    use fieldsales_core::{GeoPoint, Zone};

    #[test]
    fn a_refused_position_does_not_leak_into_the_error_text() {
        // A rep's position is personal data; crash reports must not carry it.
        let err = GeoPoint::new(131.234_567, 121.47)
            .or_invalid("position")
            .unwrap_err();
        let FieldsalesError::InvalidInput { field, detail } = &err else {
            panic!("expected InvalidInput, got {err:?}");
        };
        assert_eq!(field, "position");
        assert!(!detail.contains("131"), "{detail}");
        assert!(!err.to_string().contains("131.23"), "{err}");
    }

    #[test]
    fn an_unknown_zone_names_the_argument_and_the_expected_form() {
        let err = "Asia/Shanghia"
            .parse::<Zone>()
            .or_invalid("zone")
            .unwrap_err();
        assert_eq!(
            err,
            FieldsalesError::InvalidInput {
                field: "zone".into(),
                detail: "expected an IANA time zone name such as Asia/Shanghai".into(),
            }
        );
        assert!(!err.to_string().contains("Shanghia"));
    }

    #[test]
    fn an_unknown_code_lists_the_accepted_ones() {
        let err = UnknownCode {
            type_name: "Channel",
            code: "fax".into(),
            expected: &["call", "meeting"],
        };
        assert_eq!(err.detail(), "expected one of: call, meeting");
    }

    #[test]
    fn each_core_refusal_becomes_the_variant_and_rule_code_an_app_branches_on() {
        use fieldsales_core::RecordId;
        use fieldsales_core::process::{DecisionRefused, StageMoveRefused};
        use fieldsales_core::record::Kind;
        let id = RecordId::new();
        let rule_of = |e: CoreError| match FieldsalesError::from(e) {
            FieldsalesError::RuleViolated { rule, .. } => rule,
            other => panic!("expected RuleViolated, got {other:?}"),
        };
        assert_eq!(
            rule_of(
                StageMoveRefused::AlreadyThere {
                    stage: "bidding".into()
                }
                .into()
            ),
            "stage.already_there"
        );
        assert_eq!(
            rule_of(DecisionRefused::OwnRequest.into()),
            "approval.own_request"
        );
        assert_eq!(
            rule_of(
                ClaimRefused::LimitReached {
                    limit: 50,
                    open: 50
                }
                .into()
            ),
            "lead.limit_reached"
        );
        assert_eq!(rule_of(ClaimRefused::Converted.into()), "lead.converted");
        assert_eq!(
            rule_of(CoreError::rule(RuleCode::OrderCancelled, "cancelled")),
            "order.cancelled"
        );
        assert_eq!(
            FieldsalesError::from(CoreError::from(PricingRefused::ZeroQuantity)),
            FieldsalesError::InvalidInput {
                field: "quantity".into(),
                detail: "must be at least 1".into()
            }
        );
        assert_eq!(
            FieldsalesError::from(CoreError::WrongKind {
                id,
                expected: Kind::Customer,
                found: "lead".into()
            }),
            FieldsalesError::NotFound {
                kind: "customer".into(),
                id: id.to_string()
            }
        );
        assert!(matches!(
            FieldsalesError::from(CoreError::Io(std::io::Error::other("disk full"))),
            FieldsalesError::Storage { .. }
        ));
        assert!(matches!(
            FieldsalesError::from(CoreError::NewerDatabase {
                found: 9,
                supported: 2
            }),
            FieldsalesError::Storage { .. }
        ));
        assert_eq!(
            FieldsalesError::from(CoreError::NotAllowed(
                "only a manager may set targets".into()
            )),
            FieldsalesError::NotAllowed {
                action: "only a manager may set targets".into()
            }
        );
    }

    #[test]
    fn each_sync_failure_becomes_what_the_app_does_next() {
        use FieldsalesError as F;
        let cases: Vec<(SyncError, F)> = vec![
            (
                SyncError::Offline {
                    attempts: 5,
                    detail: "connection refused".into(),
                },
                F::Offline,
            ),
            (SyncError::BadCredentials, F::BadCredentials),
            (
                SyncError::AuthExpired {
                    code: "token_expired".into(),
                },
                F::AuthExpired,
            ),
            (
                SyncError::Revoked {
                    code: "account_revoked".into(),
                },
                F::Revoked {
                    code: "account_revoked".into(),
                },
            ),
            (
                SyncError::Refused {
                    status: 413,
                    code: "too_large".into(),
                    detail: "the push is too large".into(),
                },
                F::ServerRefused {
                    status: 413,
                    code: "too_large".into(),
                    detail: "the push is too large".into(),
                },
            ),
            (SyncError::NotSignedIn, F::NotSignedIn),
            (SyncError::Cancelled, F::Cancelled),
            (
                SyncError::Store(CoreError::rule(RuleCode::GeofenceOutside, "too far")),
                F::RuleViolated {
                    rule: "geofence.outside".into(),
                    detail: "too far".into(),
                },
            ),
        ];
        for (sync, expected) in cases {
            assert_eq!(FieldsalesError::from(sync), expected);
        }
        assert!(matches!(
            FieldsalesError::from(SyncError::Protocol("bad frame".into())),
            F::Internal { .. }
        ));
    }
}
