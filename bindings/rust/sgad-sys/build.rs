//! Finds libsgad and generates the FFI declarations from its public
//! headers.
//!
//! With SGAD_LIB_DIR set (a directory holding libsgad.so), the library is
//! linked from there and the headers are read from SGAD_INCLUDE_DIR, or
//! from SGAD_LIB_DIR/../include when that is unset: this is how the
//! tests use the in-tree build. Otherwise pkg-config finds an installed
//! libsgad (sgad.pc, version 1.x).

use std::env;
use std::path::{Path, PathBuf};

/// Where the headers are, after telling cargo how to link the library.
fn locate_library() -> PathBuf {
    println!("cargo:rerun-if-env-changed=SGAD_LIB_DIR");
    println!("cargo:rerun-if-env-changed=SGAD_INCLUDE_DIR");
    if let Some(lib_dir) = env::var_os("SGAD_LIB_DIR") {
        let lib_dir = PathBuf::from(lib_dir);
        if !lib_dir.join("libsgad.so").exists() && !lib_dir.join("libsgad.a").exists() {
            panic!("SGAD_LIB_DIR={} holds no libsgad.so or libsgad.a: build the library \
                    (make lib) or point SGAD_LIB_DIR at it", lib_dir.display());
        }
        let include_dir = match env::var_os("SGAD_INCLUDE_DIR") {
            Some(dir) => PathBuf::from(dir),
            None => lib_dir.join("..").join("include"),
        };
        println!("cargo:rustc-link-search=native={}", lib_dir.display());
        println!("cargo:rustc-link-lib=sgad");
        // Dependents read these as DEP_SGAD_LIB_DIR / DEP_SGAD_INCLUDE.
        println!("cargo:lib_dir={}", lib_dir.display());
        println!("cargo:include={}", include_dir.display());
        return include_dir;
    }
    let library = pkg_config::Config::new()
        .range_version("1.0".."2.0")
        .probe("sgad")
        .unwrap_or_else(|e| {
            panic!("libsgad 1.x not found by pkg-config ({e}); install it (make install) \
                    or set SGAD_LIB_DIR to a directory holding libsgad.so")
        });
    let include_dir = library
        .include_paths
        .first()
        .cloned()
        .unwrap_or_else(|| PathBuf::from("/usr/include"));
    if let Some(lib_dir) = library.link_paths.first() {
        println!("cargo:lib_dir={}", lib_dir.display());
    }
    println!("cargo:include={}", include_dir.display());
    include_dir
}

/// Runs bindgen over sgad/sgad.h. Enums become newtypes over their C
/// integer, with the values as associated constants: a value a newer
/// libsgad returns (codes are only ever appended) is then a plain number
/// to compare, where a Rust enum would make it undefined behaviour.
fn generate(include_dir: &Path) {
    let header = include_dir.join("sgad").join("sgad.h");
    if !header.exists() {
        panic!("{} not found: set SGAD_INCLUDE_DIR to the directory holding sgad/",
               header.display());
    }
    let bindings = bindgen::Builder::default()
        .header(header.to_string_lossy())
        .clang_arg(format!("-I{}", include_dir.display()))
        .allowlist_function("sgad_.*")
        .allowlist_type("sgad_.*")
        .allowlist_var("SGAD_.*")
        .newtype_enum("sgad_.*")
        .size_t_is_usize(true)
        .parse_callbacks(Box::new(bindgen::CargoCallbacks))
        .generate()
        .unwrap_or_else(|e| panic!("bindgen failed on {}: {e:?}", header.display()));
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("bindings.rs");
    bindings
        .write_to_file(&out)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}

fn main() {
    let include_dir = locate_library();
    generate(&include_dir);
}
