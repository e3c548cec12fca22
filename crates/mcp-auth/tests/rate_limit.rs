//! Rate limits: quotas, bursts, per-principal and per-tool keys, bounded key storage.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mcp_auth::rate_limit::{Quota, RateLimiter};
use mcp_auth::{AuthError, AuthErrorKind, AuthMethod, Principal};

#[test]
fn the_101st_call_of_100_per_minute_is_refused_with_a_retry_after() {
    let limits = RateLimiter::new(Quota::per_minute(100).unwrap());
    // A request comes back every 0.6 s, so the scenario holds only if the 101 calls take
    // less; on a machine so loaded that they do not, it runs again with a fresh principal.
    let mut attempt = 0;
    let (refused, principal) = loop {
        attempt += 1;
        assert!(attempt <= 10, "101 calls never fit in 0.5 s");
        let principal = Principal::new(format!("alice-{attempt}"), AuthMethod::ApiKey);
        let started = Instant::now();
        let passed = (0..100)
            .filter(|_| limits.check_principal(&principal, Some("search")).is_ok())
            .count();
        let outcome = limits.check_principal(&principal, Some("search"));
        if started.elapsed() < Duration::from_millis(500) {
            assert_eq!(passed, 100);
            break (outcome.unwrap_err(), principal);
        }
    };
    assert_eq!(
        refused,
        AuthError::RateLimited {
            retry_after_secs: 1
        }
    );
    assert_eq!(refused.kind(), AuthErrorKind::RateLimited);
    assert_eq!(refused.http_status(), http::StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.retry_after(), Some(Duration::from_secs(1)));
    assert_eq!(refused.jsonrpc_code(), -31429);
    assert_eq!(refused.jsonrpc_data().unwrap()["retryAfterSecs"], 1);
    assert!(refused.is_retryable());
    // Without per-tool keys, every tool draws on the same bucket; others have their own.
    assert!(limits.check(&principal.id, Some("other-tool")).is_err());
    assert!(limits.check("bob", Some("search")).is_ok());
}

#[test]
fn bursts_are_capped_and_retry_after_covers_the_interval() {
    let quota = Quota::per_hour(60).unwrap().with_burst(5).unwrap();
    let limits = RateLimiter::new(quota);
    for _ in 0..5 {
        limits.check("a", None).unwrap();
    }
    match limits.check("a", None) {
        // One request per minute comes back.
        Err(AuthError::RateLimited { retry_after_secs }) => {
            assert!((30..=60).contains(&retry_after_secs), "{retry_after_secs}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn per_tool_keys_and_quotas() {
    let limits = RateLimiter::new(Quota::per_hour(3).unwrap())
        .per_tool(true)
        .tool_quota("expensive", Quota::per_hour(1).unwrap());
    for _ in 0..3 {
        limits.check("a", Some("search")).unwrap();
        limits.check("a", Some("fetch")).unwrap();
    }
    assert!(limits.check("a", Some("search")).is_err());
    assert!(limits.check("a", Some("fetch")).is_err());
    assert!(
        limits.check("a", None).is_ok(),
        "non-tool requests have their own bucket"
    );

    limits.check("a", Some("expensive")).unwrap();
    match limits.check("a", Some("expensive")) {
        Err(AuthError::RateLimited { retry_after_secs }) => assert!(retry_after_secs > 3000),
        other => panic!("{other:?}"),
    }
    assert!(
        limits.check("b", Some("expensive")).is_ok(),
        "per principal"
    );
}

#[test]
fn a_principal_quota_overrides_the_default() {
    let limits = RateLimiter::new(Quota::per_hour(2).unwrap())
        .principal_quota("batch", Quota::per_hour(50).unwrap())
        .tool_quota("expensive", Quota::per_hour(1).unwrap());
    for _ in 0..50 {
        limits.check("batch", Some("expensive")).unwrap();
    }
    assert!(limits.check("batch", None).is_err());
    for _ in 0..2 {
        limits.check("normal", None).unwrap();
    }
    assert!(limits.check("normal", None).is_err());
}

#[test]
fn a_flood_of_principals_keeps_memory_bounded() {
    let limits = RateLimiter::new(Quota::per_hour(2).unwrap()).max_keys(64);
    // Established principals keep their own buckets.
    limits.check("regular", None).unwrap();
    for i in 0..5000 {
        let _ = limits.check(&format!("flood-{i}"), None);
    }
    assert!(
        limits.tracked_keys() <= 64 + 1,
        "tracked {} keys",
        limits.tracked_keys()
    );
    // The flood shares the overflow bucket, so it is limited, not let through.
    assert!(limits.check("flood-new", None).is_err());
    // The regular principal's state survived: one request left of its two.
    assert!(limits.check("regular", None).is_ok());
    assert!(limits.check("regular", None).is_err());
}

#[test]
fn idle_keys_are_dropped_to_make_room() {
    // Buckets refill in a nanosecond-scale interval, so every key is idle at once.
    let quota = Quota::new(1_000_000_000, Duration::from_secs(1)).unwrap();
    let limits = RateLimiter::new(quota).max_keys(16);
    for i in 0..16 {
        limits.check(&format!("p{i}"), None).unwrap();
    }
    assert_eq!(limits.tracked_keys(), 16);
    // A newcomer finds the table full: the sweep drops the idle keys.
    limits.check("newcomer", None).unwrap();
    assert!(limits.tracked_keys() < 16, "{}", limits.tracked_keys());
}

#[test]
fn concurrent_checks_never_exceed_the_quota() {
    let limits = Arc::new(RateLimiter::new(Quota::per_hour(100).unwrap()));
    let passed = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..100 {
                    if limits.check("shared", None).is_ok() {
                        passed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            });
        }
    });
    assert_eq!(passed.into_inner(), 100);
}

#[test]
fn quotas_from_configuration() {
    let quota: Quota =
        serde_json::from_str(r#"{"requests": 100, "period_secs": 60, "burst": 10}"#).unwrap();
    assert_eq!((quota.requests(), quota.burst()), (100, 10));
    assert_eq!(quota.period().as_secs(), 60);
    assert_eq!(
        serde_json::to_value(quota).unwrap(),
        serde_json::json!({"requests": 100, "period_secs": 60, "burst": 10})
    );
    assert!(serde_json::from_str::<Quota>(r#"{"requests": 0, "period_secs": 60}"#).is_err());
    assert!(serde_json::from_str::<Quota>(r#"{"requests": 5, "period_secs": 0}"#).is_err());
    assert!(Quota::per_minute(5).unwrap().with_burst(0).is_err());
}
