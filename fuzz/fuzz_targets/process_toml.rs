//! The sales process file (TOML): it loads or fails with errors that name a place; what loads
//! writes out and loads back the same.
#![no_main]

use fieldsales_core::process::SalesProcess;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match SalesProcess::from_toml(&text) {
        Ok(process) => {
            let written = process.to_toml().expect("a loaded process writes out");
            let again = SalesProcess::from_toml(&written).expect("what it wrote loads");
            assert_eq!(again, process);
        }
        Err(errors) => assert!(!errors.to_string().is_empty()),
    }
});
