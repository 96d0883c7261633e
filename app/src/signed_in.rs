//! Signing in and out on a request's session, and who is signed in on it: the HTTP side of
//! `auth::sessions`, which keeps the sessions themselves.

use std::time::Duration;

use auth::sessions::{AUTH_KEY, SignedIn, storage_key, timeouts};
use auth::{Account, AuthError, Status};
use shop_core::{Clock, Db};
use tower_sessions::{Expiry, Session};

/// How often a signed-in session records that it is still in use (and so pushes its idle
/// expiry forward). Writing on every request would make every page view a write.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

fn session_err(e: impl std::fmt::Display) -> AuthError {
    AuthError::Session(e.to_string())
}

fn time_expiry(d: Duration) -> Expiry {
    use tower_sessions::cookie::time;
    Expiry::OnInactivity(time::Duration::try_from(d).unwrap_or(time::Duration::days(30)))
}

/// Signs `account` in on this session: a new session id (so an id planted before sign-in is
/// worthless), the user recorded, and the role's idle timeout set.
pub async fn sign_in(
    session: &Session,
    clock: &Clock,
    account: &Account,
    user_agent: Option<&str>,
    ip: Option<&str>,
) -> Result<(), AuthError> {
    session.cycle_id().await.map_err(session_err)?;
    let now = clock.now().millis();
    let signed_in = SignedIn {
        user_id: account.id.clone(),
        at: now,
        seen: now,
        user_agent: user_agent.map(|ua| ua.chars().take(300).collect()),
        ip: ip.map(str::to_owned),
    };
    session
        .insert(AUTH_KEY, &signed_in)
        .await
        .map_err(session_err)?;
    session.set_expiry(Some(time_expiry(timeouts(&account.roles).idle)));
    Ok(())
}

/// Signs out: the session is deleted from the store and its cookie removed; the old cookie
/// is worthless afterwards.
pub async fn sign_out(session: &Session) -> Result<(), AuthError> {
    session.flush().await.map_err(session_err)
}

/// The signed-in account, or `None`. Ends the session when its user is gone or disabled, or
/// a timeout has passed. Notes the use at most once a minute.
pub async fn current(
    session: &Session,
    db: &Db,
    clock: &Clock,
) -> Result<Option<(Account, SignedIn)>, AuthError> {
    let Some(mut signed_in) = session
        .get::<SignedIn>(AUTH_KEY)
        .await
        .map_err(session_err)?
    else {
        return Ok(None);
    };
    let account = auth::users::find(db, &signed_in.user_id).await?;
    let Some(account) = account.filter(|a| a.status == Status::Active) else {
        sign_out(session).await?;
        return Ok(None);
    };
    let now = clock.now().millis();
    let limits = timeouts(&account.roles);
    let over = |since: i64, limit: Duration| {
        now.saturating_sub(since) > i64::try_from(limit.as_millis()).unwrap_or(i64::MAX)
    };
    if over(signed_in.seen, limits.idle) || over(signed_in.at, limits.absolute) {
        tracing::info!(user.id = %account.id, "session timed out");
        sign_out(session).await?;
        return Ok(None);
    }
    if over(signed_in.seen, TOUCH_EVERY) {
        signed_in.seen = now;
        session
            .insert(AUTH_KEY, &signed_in)
            .await
            .map_err(session_err)?;
        session.set_expiry(Some(time_expiry(limits.idle)));
    }
    Ok(Some((account, signed_in)))
}

/// The storage key of this request's session, if it has one.
pub fn current_key(session: &Session) -> Option<String> {
    session.id().map(|id| storage_key(&id))
}
