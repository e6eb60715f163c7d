//! `sqlx::migrate!` embeds `migrations/` at compile time, but cargo does not know the macro
//! read that directory: without this line a new migration file is not compiled in until
//! something else in the crate changes, and tests run against a schema without it.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
