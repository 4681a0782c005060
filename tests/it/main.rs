//! End-to-end scenarios: one test binary, one module per story. A real server listens on a
//! loopback port; each device is a real store signed in through the sync client.

/// Runs the named scenarios of the module it is invoked in once more, unchanged, on three
/// server instances over one PostgreSQL database behind a round-robin balancer (see
/// `fieldsales_tests::on_backend`): `<module>::on_postgres::<scenario>`.
macro_rules! on_postgres {
    ($($scenario:ident),* $(,)?) => {
        mod on_postgres {
            $(
                #[test]
                fn $scenario() {
                    fieldsales_tests::on_backend(
                        fieldsales_tests::Backend::Postgres { instances: 3 },
                        super::$scenario,
                    );
                }
            )*
        }
    };
}

mod audit;
mod auth;
mod authority;
mod backup;
mod browser;
mod convergence;
mod crash_loop;
mod device_crash;
mod fair_fines;
mod faults;
mod field_sync;
mod field_truth;
mod hidden;
mod instances;
mod jobs;
mod layering;
mod matrix;
mod property;
mod rejection;
mod sales_sync;
mod same_facts;
mod scope;
mod web_admin;
mod web_dashboard;
