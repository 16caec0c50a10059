//! What the integration tests share.

/// The value of the environment variable `var` (a test database's URL, a tool's path), or `None`
/// when the tests that need it should be skipped: a note says so on stderr, and when
/// `CONVLYTICS_REQUIRE_PG` is set (as CI sets it) a missing value fails the test instead.
pub fn required(var: &str, test: &str) -> Option<String> {
    let value = std::env::var(var).ok();
    if value.is_none() {
        assert!(std::env::var("CONVLYTICS_REQUIRE_PG").is_err(), "CONVLYTICS_REQUIRE_PG is set but {var} is not");
        let note = format!("note: {test}: {var} is not set; not run\n");
        let _ = std::io::Write::write_all(&mut std::io::stderr(), note.as_bytes());
    }
    value
}

/// The PostgreSQL test database's URL (`CONVLYTICS_TEST_PG_URL`), as [`required`] gives it.
pub fn postgres_url(test: &str) -> Option<String> {
    required("CONVLYTICS_TEST_PG_URL", test)
}
