//! OpenAPI schemas of core's value types, for the server's API description (feature
//! `openapi`, which only the server turns on: core itself never depends on utoipa).
//!
//! These types serialize by hand (an instant as its milliseconds, an amount as minor units
//! and a currency code), so their schemas say what the serialization writes; the records
//! and dashboards that hold them derive their own schemas and refer to these by name.

use std::borrow::Cow;

use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::{RefOr, schema};
use utoipa::{PartialSchema, ToSchema};

use crate::{BasisPoints, Currency, LocalDate, Money, RecordId, Timestamp, Zone};

fn scalar(kind: Type, format: Option<KnownFormat>, description: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(kind)
        .format(format.map(SchemaFormat::KnownFormat))
        .description(Some(description))
        .into()
}

macro_rules! value_schema {
    ($type:ty, $name:literal, $schema:expr) => {
        impl PartialSchema for $type {
            fn schema() -> RefOr<Schema> {
                $schema
            }
        }

        impl ToSchema for $type {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    };
}

value_schema!(
    Timestamp,
    "Timestamp",
    scalar(
        Type::Integer,
        Some(KnownFormat::Int64),
        "An instant: UTC milliseconds since the Unix epoch."
    )
);

value_schema!(
    LocalDate,
    "LocalDate",
    scalar(
        Type::String,
        Some(KnownFormat::Date),
        "A calendar day in the zone the answer names (YYYY-MM-DD)."
    )
);

value_schema!(
    RecordId,
    "RecordId",
    scalar(
        Type::String,
        Some(KnownFormat::Uuid),
        "A record's id (a UUID, made on the device that created the record)."
    )
);

value_schema!(
    Zone,
    "Zone",
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some("An IANA time zone name."))
        .examples(["Asia/Shanghai"])
        .into()
);

value_schema!(
    Currency,
    "Currency",
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("^[A-Z]{3}$"))
        .description(Some("An ISO 4217 currency code."))
        .examples(["CNY"])
        .into()
);

value_schema!(
    BasisPoints,
    "BasisPoints",
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
        .minimum(Some(0))
        .description(Some("A rate in hundredths of a percent: 1000 is 10%."))
        .into()
);

/// The schema of a list of codes that input is read strictly against (an unknown code is
/// refused, as `string_enum!`'s `FromStr` and `Deserialize` do): the codes this version knows.
pub fn known_codes<'a>(
    description: &str,
    codes: impl IntoIterator<Item = &'a str>,
) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(codes.into_iter().map(str::to_owned)))
        .description(Some(description))
        .into()
}

impl PartialSchema for Money {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "An amount in integer minor units (fen, cents) of its currency: \
                 {\"minor\": 123400, \"currency\": \"CNY\"} is ¥1,234.00.",
            ))
            .property(
                "minor",
                scalar(
                    Type::Integer,
                    Some(KnownFormat::Int64),
                    "Minor units: 100 is 1.00.",
                ),
            )
            .required("minor")
            .property("currency", schema::Ref::from_schema_name(Currency::name()))
            .required("currency")
            .into()
    }
}

impl ToSchema for Money {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Money")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((Currency::name().into_owned(), Currency::schema()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The schemas say what serde writes: an instant is a number, a day and an id strings, an
    /// amount an object of exactly `minor` and `currency`.
    #[test]
    fn each_schema_has_the_json_type_its_value_serializes_to() {
        let json_type = |schema: RefOr<Schema>| match schema {
            RefOr::T(Schema::Object(o)) => serde_json::to_value(&o.schema_type)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned)),
            _ => None,
        };
        let kind_of = |v: serde_json::Value| match v {
            serde_json::Value::Number(_) => "integer",
            serde_json::Value::String(_) => "string",
            serde_json::Value::Object(_) => "object",
            _ => "other",
        };
        let cases = [
            (
                Timestamp::schema(),
                serde_json::to_value(Timestamp::from_millis(1)),
            ),
            (
                LocalDate::schema(),
                serde_json::to_value(LocalDate::from_ymd(2026, 3, 9)),
            ),
            (RecordId::schema(), serde_json::to_value(RecordId::new())),
            (Zone::schema(), serde_json::to_value(Zone::SHANGHAI)),
            (Currency::schema(), serde_json::to_value(Currency::CNY)),
            (BasisPoints::schema(), serde_json::to_value(BasisPoints(10))),
            (
                Money::schema(),
                serde_json::to_value(Money::new(123_400, Currency::CNY)),
            ),
        ];
        for (schema, value) in cases {
            let value = value.expect("serializes");
            assert_eq!(
                json_type(schema).as_deref(),
                Some(kind_of(value.clone())),
                "{value}"
            );
        }
        let money = serde_json::to_value(Money::new(1, Currency::CNY)).expect("serializes");
        let mut keys: Vec<&String> = money.as_object().expect("an object").keys().collect();
        keys.sort();
        assert_eq!(keys, ["currency", "minor"]);
    }
}
