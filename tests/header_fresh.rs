//! The committed files that describe the C ABI are what the sources
//! generate: byte for byte the copies `build.rs` wrote to the `OUT_DIR` of
//! the build that compiled this test:
//!
//! - `include/wsc.h`, the C header;
//! - `php/resources/wsc.ffi.h`, the declarations PHP's `FFI::cdef` reads;
//! - `php/src/Ffi/Abi.php`, the ABI's constants for PHP.
//!
//! The comparison does not depend on the environment: a stale file fails
//! here, in CI and on a developer's machine alike. `make headers` (which
//! `make build` runs) refreshes the files: it runs this test with
//! `WSC_UPDATE_GENERATED=1`, which copies the generated text over a stale
//! file instead of failing.
//!
//! Cargo sets `OUT_DIR` for every target of a package with a build script,
//! integration tests included, so the test names that exact directory.

use std::fs;
use std::path::{Path, PathBuf};

/// The build script's output directory of the build that compiled this test.
const OUT_DIR: &str = env!("OUT_DIR");

/// Each generated file: its name in `OUT_DIR`, its committed path.
const GENERATED: [(&str, &str); 3] = [
    ("wsc.h", "include/wsc.h"),
    ("wsc.ffi.h", "php/resources/wsc.ffi.h"),
    ("Abi.php", "php/src/Ffi/Abi.php"),
];

/// Where the two texts first differ, for the failure message.
fn first_difference(generated: &str, committed: &str) -> String {
    match generated
        .lines()
        .zip(committed.lines())
        .position(|(a, b)| a != b)
    {
        Some(i) => format!(
            "first difference at line {}:\n  generated: {}\n  committed: {}",
            i + 1,
            generated.lines().nth(i).unwrap_or(""),
            committed.lines().nth(i).unwrap_or("")
        ),
        None => format!(
            "lengths differ: {} generated lines, {} committed",
            generated.lines().count(),
            committed.lines().count()
        ),
    }
}

/// Checks one generated file; with `WSC_UPDATE_GENERATED=1`, rewrites a
/// stale committed copy instead. Returns the failure, if any.
fn check(name: &str, committed: &str, update: bool) -> Option<String> {
    let generated_path = Path::new(OUT_DIR).join(name);
    let generated = fs::read_to_string(&generated_path)
        .unwrap_or_else(|e| panic!("{}: {e}", generated_path.display()));
    let committed_path: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join(committed);
    let current = fs::read_to_string(&committed_path).ok();
    if current.as_deref() == Some(generated.as_str()) {
        return None;
    }
    if update {
        if let Some(dir) = committed_path.parent() {
            fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        }
        fs::write(&committed_path, &generated)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", committed_path.display()));
        eprintln!("refreshed {committed} from {}", generated_path.display());
        return None;
    }
    let why = match current {
        Some(text) => first_difference(&generated, &text),
        None => "it is missing".to_string(),
    };
    Some(format!(
        "{committed} is stale: it differs from {} ({why})",
        generated_path.display()
    ))
}

#[test]
fn committed_abi_files_are_what_the_sources_generate() {
    let update = std::env::var_os("WSC_UPDATE_GENERATED").is_some_and(|v| v == "1");
    let failures: Vec<String> = GENERATED
        .iter()
        .filter_map(|(name, committed)| check(name, committed, update))
        .collect();
    assert!(
        failures.is_empty(),
        "{}\nRun `make headers` (or `WSC_UPDATE_GENERATED=1 cargo test --test header_fresh`) \
         and commit the refreshed files.",
        failures.join("\n")
    );
}
