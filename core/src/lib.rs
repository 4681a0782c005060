//! Fieldsales core.
