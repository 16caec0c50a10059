//! What the integration tests share.

/// The PostgreSQL test database's URL (`CONVLYTICS_TEST_PG_URL`), or `None` when the tests that
/// need one should be skipped: a note says so on stderr, and when `CONVLYTICS_REQUIRE_PG` is set
/// (as CI sets it) a missing URL fails the test instead.
pub fn postgres_url(test: &str) -> Option<String> {
    let url = std::env::var("CONVLYTICS_TEST_PG_URL").ok();
    if url.is_none() {
        assert!(
            std::env::var("CONVLYTICS_REQUIRE_PG").is_err(),
            "CONVLYTICS_REQUIRE_PG is set but CONVLYTICS_TEST_PG_URL is not"
        );
        eprintln!("{test}: CONVLYTICS_TEST_PG_URL is not set; not run");
    }
    url
}
