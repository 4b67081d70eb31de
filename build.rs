//! Generates the C header `include/wsc.h` from `src/ffi/` with cbindgen, and
//! `include/wsc_php.h`, the same declarations without preprocessor lines,
//! which is the text PHP's `FFI::cdef` can parse.
//!
//! Both are always written to `OUT_DIR`. Outside CI (`CI` unset) they are
//! also copied into `include/` so that a developer's build keeps the
//! committed copies fresh; in CI they are not, and `tests/header_fresh.rs`
//! fails when the committed copies differ from what the sources generate.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=CI");

    // The SONAME of libwsc.so: `libwsc.so.<major>` (see docs/compatibility.md:
    // it changes only with an incompatible change of the C ABI). Programs
    // linked with `-lwsc` record this name, so the build tree gets the link
    // `libwsc.so.0 -> libwsc.so` too: `cc ... -L target/release -lwsc
    // -Wl,-rpath,$PWD/target/release` (the C tests, the examples) then runs.
    let major = env::var("CARGO_PKG_VERSION_MAJOR").expect("CARGO_PKG_VERSION_MAJOR");
    if env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libwsc.so.{major}");
        soname_link(&out_dir, &format!("libwsc.so.{major}"));
    }

    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is readable");
    config.after_includes = Some(version_macros());
    let mut c_header = Vec::new();
    cbindgen::Builder::new()
        .with_config(config)
        .with_src(crate_dir.join("src/ffi/mod.rs"))
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut c_header);
    let c_header = String::from_utf8(c_header).expect("the header is UTF-8");
    let php_header = php_variant(&c_header);

    write_if_changed(&out_dir.join("wsc.h"), &c_header);
    write_if_changed(&out_dir.join("wsc_php.h"), &php_header);
    if env::var_os("CI").is_none() {
        let include = crate_dir.join("include");
        fs::create_dir_all(&include).expect("include/ can be created");
        write_if_changed(&include.join("wsc.h"), &c_header);
        write_if_changed(&include.join("wsc_php.h"), &php_header);
    }
}

/// Makes `<profile dir>/NAME -> libwsc.so` (OUT_DIR is
/// `<profile dir>/build/wsc-<hash>/out`). The link may dangle until rustc has
/// linked the library; an existing correct link is left alone.
fn soname_link(out_dir: &Path, name: &str) {
    let Some(profile_dir) = out_dir.ancestors().nth(3) else {
        return;
    };
    let link = profile_dir.join(name);
    if fs::read_link(&link).is_ok_and(|t| t == Path::new("libwsc.so")) {
        return;
    }
    let _ = fs::remove_file(&link);
    #[cfg(unix)]
    std::os::unix::fs::symlink("libwsc.so", &link)
        .unwrap_or_else(|e| panic!("cannot make the link {}: {e}", link.display()));
}

/// `WSC_VERSION_MAJOR`, `_MINOR`, `_PATCH` and `WSC_VERSION_STRING`: the
/// version of the header, from Cargo.toml's `version` (compare with
/// `wsc_version()` at run time).
fn version_macros() -> String {
    let v = |name: &str| env::var(name).unwrap_or_else(|_| panic!("{name} is set by Cargo"));
    format!(
        "#define WSC_VERSION_MAJOR {} /**< The major version of this header (semver). */\n\
         #define WSC_VERSION_MINOR {} /**< Its minor version. */\n\
         #define WSC_VERSION_PATCH {} /**< Its patch version. */\n\
         #define WSC_VERSION_STRING \"{}\" /**< \"MAJOR.MINOR.PATCH\"; `wsc_version()` gives the loaded library's. */",
        v("CARGO_PKG_VERSION_MAJOR"),
        v("CARGO_PKG_VERSION_MINOR"),
        v("CARGO_PKG_VERSION_PATCH"),
        v("CARGO_PKG_VERSION"),
    )
}

/// The header without preprocessor lines (include guard, `#include`,
/// `#define`, `extern "C"` blocks): PHP's FFI parser accepts none of them.
/// Constants reach PHP by `Wsc\Library` reading the `#define` lines of
/// `wsc.h`, so there is still one source.
fn php_variant(c_header: &str) -> String {
    let mut out = String::from(
        "/* Generated from wsc.h for PHP's FFI::cdef (no preprocessor lines) — do not edit. */\n",
    );
    let mut skip_cpp = 0usize;
    for line in c_header.lines() {
        let t = line.trim_start();
        if t.starts_with("#if") {
            // `#ifdef __cplusplus` ... `#endif` blocks are dropped whole.
            if t.contains("__cplusplus") {
                skip_cpp += 1;
            }
            continue;
        }
        if t.starts_with("#endif") {
            skip_cpp = skip_cpp.saturating_sub(1);
            continue;
        }
        if skip_cpp > 0 || t.starts_with('#') {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn write_if_changed(path: &Path, text: &str) {
    if fs::read_to_string(path)
        .map(|old| old == text)
        .unwrap_or(false)
    {
        return;
    }
    fs::write(path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}
