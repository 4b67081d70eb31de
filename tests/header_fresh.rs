//! The committed headers `include/wsc.h` and `include/wsc_php.h` are what
//! the sources generate: byte for byte the copies `build.rs` wrote to the
//! `OUT_DIR` of the build that compiled this test.
//!
//! Cargo sets `OUT_DIR` for every target of a package with a build script,
//! integration tests included, so the test names that exact directory. Only
//! if it were missing does the test fall back to the newest
//! `target/<profile>/build/wsc-*/out/`.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// `target/<profile>/`: the test binary lives in its `deps/`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>")
        .to_path_buf()
}

fn mtime(p: &Path) -> Option<SystemTime> {
    fs::metadata(p).and_then(|m| m.modified()).ok()
}

/// The `OUT_DIR` of this crate's newest build-script run in this profile:
/// among `build/wsc-*/out/` holding `wsc.h`, the one whose run record
/// (`build/wsc-*/output`, rewritten on every run) or directory is newest.
fn newest_out_dir() -> PathBuf {
    let build = profile_dir().join("build");
    let entries =
        fs::read_dir(&build).unwrap_or_else(|e| panic!("cannot list {}: {e}", build.display()));
    entries
        .filter_map(|e| e.ok())
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with("wsc-") && e.path().join("out/wsc.h").is_file()
        })
        .map(|e| {
            let dir = e.path();
            let when = mtime(&dir.join("output"))
                .or_else(|| mtime(&dir.join("out")))
                .unwrap_or(SystemTime::UNIX_EPOCH);
            (when, dir.join("out"))
        })
        .max()
        .map(|(_, out)| out)
        .unwrap_or_else(|| panic!("no wsc-*/out/wsc.h under {}", build.display()))
}

fn out_dir() -> PathBuf {
    match option_env!("OUT_DIR") {
        Some(d) => PathBuf::from(d),
        None => newest_out_dir(),
    }
}

fn assert_fresh(name: &str) {
    let out = out_dir();
    let generated = fs::read(out.join(name)).expect("the generated header");
    let committed_path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("include")
        .join(name);
    let committed =
        fs::read(&committed_path).unwrap_or_else(|e| panic!("{}: {e}", committed_path.display()));
    if generated != committed {
        let g = String::from_utf8_lossy(&generated);
        let c = String::from_utf8_lossy(&committed);
        let first = g
            .lines()
            .zip(c.lines())
            .position(|(a, b)| a != b)
            .map_or_else(
                || {
                    format!(
                        "lengths differ: {} vs {} lines",
                        g.lines().count(),
                        c.lines().count()
                    )
                },
                |i| {
                    format!(
                        "first difference at line {}:\n  generated: {}\n  committed: {}",
                        i + 1,
                        g.lines().nth(i).unwrap_or(""),
                        c.lines().nth(i).unwrap_or("")
                    )
                },
            );
        panic!(
            "include/{name} is stale: it differs from {} ({first}).\n\
             Run `cargo build` without CI set (build.rs then rewrites include/) and commit include/.",
            out.join(name).display()
        );
    }
}

#[test]
fn committed_c_header_is_fresh() {
    assert_fresh("wsc.h");
}

#[test]
fn committed_php_header_is_fresh() {
    assert_fresh("wsc_php.h");
}
