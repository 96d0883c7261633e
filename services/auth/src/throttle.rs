//! Slowing down guessing and mail bombing.
//!
//! **Sign-in failures** are counted under three keys, each by the email typed (whether or
//! not an account has it, so the throttle reveals nothing):
//! - per account *and* client address: after a few free failures each further one adds a
//!   delay that doubles, up to a cap. Someone hammering an account from their address only
//!   slows themselves down: the owner signing in from another address is not held up.
//! - per client address, across accounts: one address guessing many accounts.
//! - per account, from every address, only once failures come from many addresses within
//!   the hour (a distributed guess): then a short account-wide delay slows it down. An
//!   attacker with a few addresses cannot trigger it, so cannot keep the owner out.
//!
//! During a delay, sign-in with that key is refused without checking the password. There is
//! no permanent lockout. A success clears the account's counters (not the address's: a
//! guesser with one real account must not be able to reset their own counter), and a
//! password reset clears the account-wide one. Counters are forgotten a day after the last
//! failure.
//!
//! **Rate limits** (reset and verification mails, sign-ups) are fixed-window counters.
//!
//! Both live in the database, so several server instances share them.

use std::time::Duration;

use shop_core::{Clock, Db};

/// A request refused for now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub retry_after_secs: u64,
}

/// "12 seconds", "3 minutes", for messages.
pub fn describe_wait(secs: u64) -> String {
    match secs {
        0..=1 => "a second".to_owned(),
        2..=59 => format!("{secs} seconds"),
        60..=119 => "a minute".to_owned(),
        _ => format!("{} minutes", secs.div_ceil(60)),
    }
}

/// How a sign-in key is throttled.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Failures allowed before delays start.
    pub free: i64,
    /// The first delay; each further failure doubles it.
    pub base: Duration,
    /// The longest delay.
    pub cap: Duration,
}

/// Per account and client address: from the 5th failure on, 1 s, 2 s, 4 s ... up to 5
/// minutes.
pub const ACCOUNT_FROM_CLIENT: Policy = Policy {
    free: 4,
    base: Duration::from_secs(1),
    cap: Duration::from_secs(5 * 60),
};

/// Per account from every address, counted only while [`DISTRIBUTED_ADDRESSES`] or more
/// addresses failed on it within the hour: 1 s, 2 s ... up to a minute.
pub const ACCOUNT_WIDE: Policy = Policy {
    free: 0,
    base: Duration::from_secs(1),
    cap: Duration::from_secs(60),
};

/// How many addresses failing on one account within the hour count as a distributed guess.
pub const DISTRIBUTED_ADDRESSES: i64 = 10;

/// Per client address, across accounts: from the 10th failure on, 1 s, 2 s, 4 s ... up to
/// 15 minutes.
pub const CLIENT: Policy = Policy {
    free: 9,
    base: Duration::from_secs(1),
    cap: Duration::from_secs(15 * 60),
};

/// Failures older than this are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(24 * 3600);

impl Policy {
    /// The delay after the `failures`-th failure in a row.
    pub fn delay_after(&self, failures: i64) -> Duration {
        if failures <= self.free {
            return Duration::ZERO;
        }
        let doublings = u32::try_from(failures - self.free - 1)
            .unwrap_or(u32::MAX)
            .min(30);
        self.base
            .saturating_mul(2u32.saturating_pow(doublings))
            .min(self.cap)
    }
}

/// The key for an account's counter.
pub fn account_key(email: &str) -> String {
    format!("acct:{}", email.trim().to_lowercase())
}

/// The key for a client address's counter.
pub fn client_key(ip: &str) -> String {
    format!("ip:{}", address_group(ip))
}

/// The unit one client is counted in: an IPv4 address, or an IPv6 address's /64 (one
/// subscriber's network, within which an attacker can pick any address they like).
pub fn address_group(ip: &str) -> String {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Ok(v4) => v4.to_string(),
        Err(_) => ip.to_owned(),
    }
}

fn pair_prefix(email: &str) -> String {
    format!("pair:{email}|")
}

/// The key for an account's counter from one client (see [`address_group`]).
fn account_client_key(email: &str, ip: &str) -> String {
    format!("{}{}", pair_prefix(email), address_group(ip))
}

/// Counts a failed sign-in on `email` from `ip` under all three keys. The account keys are
/// kept only for what could be an account's address, normalised (so it cannot be spelt
/// another way, and it holds no `|`, so no other address shares its prefix); anything else
/// only counts against the client.
pub async fn record_login_failure(
    db: &Db,
    clock: &Clock,
    email: &str,
    ip: &str,
) -> Result<(), sqlx::Error> {
    record_failure(db, clock, &client_key(ip), CLIENT).await?;
    let Ok(email) = shop_core::Email::parse(email) else {
        return Ok(());
    };
    let email = email.as_str();
    record_failure(
        db,
        clock,
        &account_client_key(email, ip),
        ACCOUNT_FROM_CLIENT,
    )
    .await?;
    let hour_ago = clock.now().minus(Duration::from_secs(3600)).millis();
    let pattern = format!("{}%", shop_core::audit::escape_like(&pair_prefix(email)));
    let addresses: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM login_failures
         WHERE throttle_key LIKE $1 ESCAPE '\\' AND last_failure_at >= $2",
    )
    .bind(pattern)
    .bind(hour_ago)
    .fetch_one(db.reader())
    .await?;
    if addresses >= DISTRIBUTED_ADDRESSES {
        record_failure(db, clock, &account_key(email), ACCOUNT_WIDE).await?;
    }
    Ok(())
}

/// Refuses a sign-in on `email` from `ip` while any of its keys is in its delay.
pub async fn check_login_attempt(
    db: &Db,
    clock: &Clock,
    email: &str,
    ip: &str,
) -> Result<(), CheckError> {
    let Ok(email) = shop_core::Email::parse(email) else {
        return check_login(db, clock, &[&client_key(ip)]).await;
    };
    let email = email.as_str();
    check_login(
        db,
        clock,
        &[
            &account_client_key(email, ip),
            &client_key(ip),
            &account_key(email),
        ],
    )
    .await
}

/// Forgets an account's failures after its owner signed in from `ip`.
pub async fn clear_login(
    conn: &mut shop_core::db::Conn,
    email: &shop_core::Email,
    ip: &str,
) -> Result<(), sqlx::Error> {
    clear(&mut *conn, &account_client_key(email.as_str(), ip)).await?;
    clear(conn, &account_key(email.as_str())).await
}

/// Refuses when any of `keys` is in its delay.
pub async fn check_login(db: &Db, clock: &Clock, keys: &[&str]) -> Result<(), CheckError> {
    let now = clock.now().millis();
    let mut wait_ms = 0i64;
    for key in keys {
        let blocked: Option<i64> =
            sqlx::query_scalar("SELECT blocked_until FROM login_failures WHERE throttle_key = $1")
                .bind(*key)
                .fetch_optional(db.reader())
                .await?;
        if let Some(until) = blocked {
            wait_ms = wait_ms.max(until - now);
        }
    }
    if wait_ms > 0 {
        Err(CheckError::Throttled(Throttled {
            retry_after_secs: u64::try_from(wait_ms).unwrap_or(0).div_ceil(1000),
        }))
    } else {
        Ok(())
    }
}

/// What [`check_login`] and [`hit`] can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("throttled")]
    Throttled(Throttled),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl From<CheckError> for crate::AuthError {
    fn from(e: CheckError) -> Self {
        match e {
            CheckError::Throttled(t) => t.into(),
            CheckError::Db(e) => e.into(),
        }
    }
}

/// Counts a failed sign-in against `key` and starts its delay when due.
pub async fn record_failure(
    db: &Db,
    clock: &Clock,
    key: &str,
    policy: Policy,
) -> Result<(), sqlx::Error> {
    let now = clock.now();
    let forget_before = now.minus(FORGET_AFTER).millis();
    let mut tx = db.begin().await?;
    let failures: i64 = sqlx::query_scalar(
        "INSERT INTO login_failures (throttle_key, failures, last_failure_at, blocked_until)
         VALUES ($1, 1, $2, 0)
         ON CONFLICT (throttle_key) DO UPDATE SET
             failures = CASE WHEN login_failures.last_failure_at < $3 THEN 1
                             ELSE login_failures.failures + 1 END,
             last_failure_at = $2
         RETURNING failures",
    )
    .bind(key)
    .bind(now.millis())
    .bind(forget_before)
    .fetch_one(&mut *tx)
    .await?;
    let delay = policy.delay_after(failures);
    if !delay.is_zero() {
        sqlx::query("UPDATE login_failures SET blocked_until = $1 WHERE throttle_key = $2")
            .bind(now.plus(delay).millis())
            .bind(key)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}

/// Forgets the failures counted against `key`.
pub async fn clear(conn: &mut shop_core::db::Conn, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_failures WHERE throttle_key = $1")
        .bind(key)
        .execute(conn)
        .await
        .map(|_| ())
}

/// A rate-limit counter after one more hit: hits in the window and when the window began.
#[derive(sqlx::FromRow)]
struct Counter {
    hits: i64,
    window_start: i64,
}

/// Counts one request against `key` and refuses it when more than `limit` arrived in the
/// current `window`.
pub async fn hit(
    db: &Db,
    clock: &Clock,
    key: &str,
    limit: i64,
    window: Duration,
) -> Result<(), CheckError> {
    let now = clock.now();
    let window_ms = i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
    let mut tx = db.begin().await?;
    let Counter {
        hits,
        window_start: started,
    }: Counter = sqlx::query_as(
        "INSERT INTO rate_limits (limit_key, window_start, hits) VALUES ($1, $2, 1)
         ON CONFLICT (limit_key) DO UPDATE SET
             hits = CASE WHEN rate_limits.window_start <= $3 THEN 1 ELSE rate_limits.hits + 1 END,
             window_start = CASE WHEN rate_limits.window_start <= $3 THEN $2
                                 ELSE rate_limits.window_start END
         RETURNING hits, window_start",
    )
    .bind(key)
    .bind(now.millis())
    .bind(now.millis() - window_ms)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    if hits > limit {
        let wait_ms = (started + window_ms - now.millis()).max(1000);
        Err(CheckError::Throttled(Throttled {
            retry_after_secs: u64::try_from(wait_ms).unwrap_or(0).div_ceil(1000),
        }))
    } else {
        Ok(())
    }
}

/// Deletes counters nobody needs any more (a periodic job calls this).
pub async fn purge(db: &Db, clock: &Clock) -> Result<u64, sqlx::Error> {
    let now = clock.now();
    let mut tx = db.begin().await?;
    let a =
        sqlx::query("DELETE FROM login_failures WHERE last_failure_at < $1 AND blocked_until < $2")
            .bind(now.minus(FORGET_AFTER).millis())
            .bind(now.millis())
            .execute(&mut *tx)
            .await?
            .rows_affected();
    // No limit uses a window longer than a day.
    let b = sqlx::query("DELETE FROM rate_limits WHERE window_start < $1")
        .bind(now.minus(Duration::from_secs(24 * 3600)).millis())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(a + b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_start_after_the_free_failures_and_double_up_to_the_cap() {
        let pair = ACCOUNT_FROM_CLIENT;
        assert_eq!(pair.delay_after(4), Duration::ZERO);
        assert_eq!(pair.delay_after(5), Duration::from_secs(1));
        assert_eq!(pair.delay_after(6), Duration::from_secs(2));
        assert_eq!(pair.delay_after(9), Duration::from_secs(16));
        assert_eq!(pair.delay_after(40), Duration::from_secs(300));
        assert_eq!(pair.delay_after(i64::MAX), Duration::from_secs(300));
        assert_eq!(ACCOUNT_WIDE.delay_after(1), Duration::from_secs(1));
        assert_eq!(ACCOUNT_WIDE.delay_after(30), Duration::from_secs(60));
        assert_eq!(CLIENT.delay_after(9), Duration::ZERO);
        assert_eq!(CLIENT.delay_after(10), Duration::from_secs(1));
    }

    #[test]
    fn waits_read_naturally() {
        assert_eq!(describe_wait(1), "a second");
        assert_eq!(describe_wait(12), "12 seconds");
        assert_eq!(describe_wait(61), "a minute");
        assert_eq!(describe_wait(299), "5 minutes");
    }
}
