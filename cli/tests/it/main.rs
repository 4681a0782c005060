//! The `fieldsales` command line, run as an admin would run it: the real binary for the
//! commands, the library for the finer points of an import.

mod admin;
mod admin_api;
mod bad_files;
mod contacts_and_products;
mod demo;
mod device;
mod fuzz;
mod import_customers;
mod opportunities;
mod readable;
mod round_trip;
mod server;
mod support;
