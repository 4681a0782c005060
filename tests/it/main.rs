//! End-to-end scenarios: one test binary, one module per story. A real server listens on a
//! loopback port; each device is a real store signed in through the sync client.

mod auth;
mod authority;
mod convergence;
mod crash_loop;
mod fair_fines;
mod faults;
mod field_sync;
mod field_truth;
mod jobs;
mod layering;
mod matrix;
mod property;
mod rejection;
mod sales_sync;
mod same_facts;
mod scope;
mod web_dashboard;
