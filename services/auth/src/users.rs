//! Accounts: sign-up, sign-in, verification, password reset and change, email change, and
//! the admin's `create-admin`.

use std::time::Duration;

use shop_core::audit::{self, Actor, Change};
use shop_core::db::Conn;
use shop_core::outbox;
use shop_core::{Clock, Db, DbResultExt, Email, Timestamp};

use crate::events::{self, EmailChangeRequested, EmailChanged, UserEvent};
use crate::throttle;
use crate::tokens::{self, Purpose};
use crate::{Account, AuthError, Role, Status, UserId, password};

/// Longest display name.
pub const NAME_MAX: usize = 100;

/// Sign-ups allowed from one client address per hour.
const SIGNUPS_PER_HOUR: i64 = 20;

fn clean_name(name: &str) -> Result<String, AuthError> {
    let name = name.trim();
    if name.is_empty() {
        Err(AuthError::NameRequired)
    } else if name.chars().count() > NAME_MAX {
        Err(AuthError::NameTooLong)
    } else if name.chars().any(char::is_control) {
        Err(AuthError::InvalidField {
            field: "display_name",
            message: "Use letters, digits and punctuation only.".to_owned(),
        })
    } else {
        Ok(name.to_owned())
    }
}

fn check_new_password(password: &str, email: &Email) -> Result<(), AuthError> {
    password::validate(password)?;
    if password.trim().eq_ignore_ascii_case(email.as_str()) {
        return Err(AuthError::PasswordIsEmail);
    }
    Ok(())
}

/// A user as the `users` table holds it ([`ACCOUNT_COLUMNS`]).
#[derive(sqlx::FromRow)]
pub(crate) struct AccountRow {
    pub(crate) id: String,
    pub(crate) email: String,
    pub(crate) display_name: String,
    pub(crate) status: String,
    pub(crate) email_verified_at: Option<i64>,
    pub(crate) created_at: i64,
}

const ACCOUNT_COLUMNS: &str =
    "id, email, display_name, status, email_verified_at, created_at FROM users";

async fn account_from_row(conn: &mut Conn, row: AccountRow) -> Result<Account, sqlx::Error> {
    let roles = roles_on(conn, &row.id).await?;
    Ok(Account {
        email: Email::parse(&row.email).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        id: UserId::from_db(row.id),
        display_name: row.display_name,
        roles,
        status: Status::parse(&row.status).unwrap_or(Status::Disabled),
        email_verified_at: row.email_verified_at.map(Timestamp),
        created_at: Timestamp(row.created_at),
    })
}

async fn roles_on(conn: &mut Conn, user: &str) -> Result<Vec<Role>, sqlx::Error> {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role")
            .bind(user)
            .fetch_all(conn)
            .await?;
    let mut roles: Vec<Role> = names.iter().filter_map(|n| Role::parse(n)).collect();
    roles.sort();
    Ok(roles)
}

/// The roles a user holds.
pub async fn roles(db: &Db, user: &UserId) -> Result<Vec<Role>, sqlx::Error> {
    let mut conn = db.reader().acquire().await?;
    roles_on(&mut conn, user.as_str()).await
}

/// An account by id, whatever its status.
pub async fn find(db: &Db, id: &UserId) -> Result<Option<Account>, sqlx::Error> {
    let mut conn = db.reader().acquire().await?;
    find_on(&mut conn, id).await
}

async fn find_on(conn: &mut Conn, id: &UserId) -> Result<Option<Account>, sqlx::Error> {
    let row: Option<AccountRow> =
        sqlx::query_as(&format!("SELECT {ACCOUNT_COLUMNS} WHERE id = $1"))
            .bind(id.as_str())
            .fetch_optional(&mut *conn)
            .await?;
    match row {
        Some(row) => Ok(Some(account_from_row(conn, row).await?)),
        None => Ok(None),
    }
}

#[derive(sqlx::FromRow)]
struct IdEmail {
    id: String,
    email: String,
}

/// The email addresses of `ids` (those that still exist), for pages that show who owns or
/// changed something another service records by user id.
pub async fn emails(
    db: &Db,
    ids: &[UserId],
) -> Result<std::collections::HashMap<UserId, String>, sqlx::Error> {
    let mut out = std::collections::HashMap::new();
    let mut wanted: Vec<&UserId> = ids.iter().collect();
    wanted.sort();
    wanted.dedup();
    // In chunks: a statement takes a bounded number of parameters.
    for chunk in wanted.chunks(100) {
        let sql = format!(
            "SELECT id, email FROM users WHERE id IN ({})",
            shop_core::db::placeholders(1, chunk.len())
        );
        let mut query = sqlx::query_as::<_, IdEmail>(&sql);
        for id in chunk {
            query = query.bind(id.as_str());
        }
        for row in query.fetch_all(db.reader()).await? {
            out.insert(UserId::from_db(row.id), row.email);
        }
    }
    Ok(out)
}

/// An account by email address, whatever its status.
pub async fn find_by_email(db: &Db, email: &Email) -> Result<Option<Account>, sqlx::Error> {
    let mut conn = db.reader().acquire().await?;
    let row: Option<AccountRow> =
        sqlx::query_as(&format!("SELECT {ACCOUNT_COLUMNS} WHERE email = $1"))
            .bind(email.as_str())
            .fetch_optional(&mut *conn)
            .await?;
    match row {
        Some(row) => Ok(Some(account_from_row(&mut conn, row).await?)),
        None => Ok(None),
    }
}

/// What a shopper fills in to sign up.
#[derive(Debug, Clone)]
pub struct Registration {
    pub email: Email,
    pub display_name: String,
    pub password: String,
    /// The client address, for the sign-up rate limit.
    pub ip: String,
}

/// What [`register`] did. The caller answers both the same way ("we sent you a link"), so
/// the answer never tells whether an address has an account.
#[derive(Debug, Clone)]
pub enum Registered {
    /// A new account; its welcome mail with the link that confirms it is on its way.
    New(Account),
    /// The address already had an account; its owner is sent a note instead.
    Existing,
}

/// How many "someone tried to register with your address" notes an address gets a day.
const ATTEMPT_NOTES_PER_DAY: i64 = 3;

/// Creates a customer account. The welcome mail with the link that confirms the address
/// (and signs the account in) goes out through the outbox. For an address that already has
/// an account nothing is created: its owner gets a note with sign-in and reset links, and
/// the result is [`Registered::Existing`], which callers must not tell apart in their answer.
/// Both paths hash the password, so they take about the same time.
pub async fn register(db: &Db, clock: &Clock, reg: Registration) -> Result<Registered, AuthError> {
    let name = clean_name(&reg.display_name)?;
    check_new_password(&reg.password, &reg.email)?;
    throttle::hit(
        db,
        clock,
        &format!("signup:{}", reg.ip),
        SIGNUPS_PER_HOUR,
        Duration::from_secs(3600),
    )
    .await?;
    let hash = password::hash(reg.password).await?;
    let now = clock.now().millis();
    let id = UserId::new();

    let mut tx = db.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO users (id, email, display_name, password_hash, status, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 'active', $5, $5)",
    )
    .bind(id.as_str())
    .bind(reg.email.as_str())
    .bind(&name)
    .bind(&hash)
    .bind(now)
    .execute(&mut *tx)
    .await
    .on_unique_violation(AuthError::EmailTaken)?;
    if inserted.is_err() {
        // PostgreSQL has aborted this transaction: tell the owner in a new one.
        drop(tx);
        return registration_attempted(db, clock, &reg.email).await;
    }
    grant_role_on(&mut tx, clock, &id, Role::Customer).await?;
    user_event(&mut tx, clock, events::USER_REGISTERED, &id).await?;
    let account = find_on(&mut tx, &id)
        .await?
        .ok_or(AuthError::UserNotFound)?;
    tx.commit().await?;
    tracing::info!(user.id = %id, "account registered");
    Ok(Registered::New(account))
}

/// A user's id and account status.
#[derive(sqlx::FromRow)]
struct IdStatus {
    id: String,
    status: String,
}

/// Someone registered with the address of an existing account: its owner hears of it (a few
/// times a day at most, so nobody can flood an inbox this way).
async fn registration_attempted(
    db: &Db,
    clock: &Clock,
    email: &Email,
) -> Result<Registered, AuthError> {
    let owner: Option<IdStatus> = sqlx::query_as("SELECT id, status FROM users WHERE email = $1")
        .bind(email.as_str())
        .fetch_optional(db.reader())
        .await?;
    let Some(IdStatus { id, status }) = owner else {
        return Ok(Registered::Existing);
    };
    if status != Status::Active.as_str() {
        return Ok(Registered::Existing);
    }
    let limited = throttle::hit(
        db,
        clock,
        &format!("signup-note:{}", email.as_str()),
        ATTEMPT_NOTES_PER_DAY,
        Duration::from_secs(24 * 3600),
    )
    .await;
    match limited {
        Ok(()) => {
            let mut tx = db.begin().await?;
            user_event(
                &mut tx,
                clock,
                events::REGISTRATION_ATTEMPTED,
                &UserId::from_db(id),
            )
            .await?;
            tx.commit().await?;
        }
        Err(throttle::CheckError::Throttled(_)) => {}
        Err(throttle::CheckError::Db(e)) => return Err(e.into()),
    }
    tracing::info!("registration with an existing address; its owner is told");
    Ok(Registered::Existing)
}

/// A user's id, password hash and account status.
#[derive(sqlx::FromRow)]
struct StoredCredentials {
    id: String,
    password_hash: String,
    status: String,
}

/// Checks an email and password pair without throttling (see [`login`]); `None` when either
/// is wrong. Takes about the same time whether or not the account exists: an unknown
/// address is checked against a dummy hash.
pub async fn verify_credentials(
    db: &Db,
    email: &Email,
    password: &str,
) -> Result<Option<(UserId, Status)>, AuthError> {
    let row: Option<StoredCredentials> =
        sqlx::query_as("SELECT id, password_hash, status FROM users WHERE email = $1")
            .bind(email.as_str())
            .fetch_optional(db.reader())
            .await?;
    let (found, hash) = match row {
        Some(StoredCredentials {
            id,
            password_hash: hash,
            status,
        }) => (Some((id, status)), hash),
        None => (None, password::dummy_hash().to_owned()),
    };
    let ok = password::verify(password.to_owned(), hash).await?;
    Ok(found.filter(|_| ok).map(|(id, status)| {
        (
            UserId::from_db(id),
            Status::parse(&status).unwrap_or(Status::Disabled),
        )
    }))
}

/// A sign-in attempt.
#[derive(Debug, Clone)]
pub struct Login<'a> {
    /// As typed; need not be a valid address (then it simply matches no account).
    pub email: &'a str,
    pub password: &'a str,
    /// The client address, for the per-address throttle.
    pub ip: &'a str,
}

/// Signs in: refuses while this account from this address, the address, or (under a
/// distributed guess) the account is throttled; checks the password, counts failures, and
/// clears the account's counters on success.
pub async fn login(db: &Db, clock: &Clock, attempt: Login<'_>) -> Result<Account, AuthError> {
    throttle::check_login_attempt(db, clock, attempt.email, attempt.ip).await?;

    let verified = match Email::parse(attempt.email) {
        Ok(email) => verify_credentials(db, &email, attempt.password).await?,
        Err(_) => {
            // Not an address at all: spend the same time as a real check anyway.
            let _ = password::verify(
                attempt.password.to_owned(),
                password::dummy_hash().to_owned(),
            )
            .await?;
            None
        }
    };
    let Some((id, status)) = verified else {
        throttle::record_login_failure(db, clock, attempt.email, attempt.ip).await?;
        tracing::info!("sign-in refused: wrong email or password");
        return Err(AuthError::InvalidCredentials);
    };
    if status == Status::Disabled {
        return Err(AuthError::AccountDisabled);
    }
    let mut tx = db.begin().await?;
    if let Ok(email) = Email::parse(attempt.email) {
        throttle::clear_login(&mut tx, &email, attempt.ip).await?;
    }
    tx.commit().await?;
    let account = find(db, &id).await?.ok_or(AuthError::UserNotFound)?;
    tracing::info!(user.id = %id, "signed in");
    Ok(account)
}

/// Asks for another verification mail, at most once a minute and five times a day.
pub async fn resend_verification(db: &Db, clock: &Clock, user: &UserId) -> Result<(), AuthError> {
    let account = find(db, user).await?.ok_or(AuthError::UserNotFound)?;
    if account.is_verified() {
        return Err(AuthError::AlreadyVerified);
    }
    let key = format!("verify:{}", user.as_str());
    throttle::hit(db, clock, &format!("{key}:min"), 1, Duration::from_secs(60)).await?;
    throttle::hit(
        db,
        clock,
        &format!("{key}:day"),
        5,
        Duration::from_secs(24 * 3600),
    )
    .await?;
    let mut tx = db.begin().await?;
    user_event(&mut tx, clock, events::VERIFICATION_REQUESTED, user).await?;
    tx.commit().await?;
    Ok(())
}

/// Follows a verification link: marks the address verified. Returns the account.
pub async fn verify_email(db: &Db, clock: &Clock, token: &str) -> Result<Account, AuthError> {
    let mut tx = db.begin().await?;
    let (user, email) = tokens::consume(&mut tx, clock, token, Purpose::VerifyEmail)
        .await?
        .ok_or(AuthError::InvalidToken)?;
    // The token verifies the address it was sent to; if the account has moved to another
    // address since, it proves nothing about the new one.
    let updated = sqlx::query(
        "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $1), updated_at = $1
         WHERE id = $2 AND email = $3",
    )
    .bind(clock.now().millis())
    .bind(user.as_str())
    .bind(&email)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 0 {
        return Err(AuthError::InvalidToken);
    }
    let account = find_on(&mut tx, &user)
        .await?
        .ok_or(AuthError::UserNotFound)?;
    tx.commit().await?;
    tracing::info!(user.id = %user, "email verified");
    Ok(account)
}

/// Asks for a password-reset mail. Answers the same whether or not the address has an
/// account (the caller shows one message for both); only existing, active accounts get a
/// mail. Limited per address typed and per client address.
pub async fn request_password_reset(
    db: &Db,
    clock: &Clock,
    email: &Email,
    ip: &str,
) -> Result<(), AuthError> {
    throttle::hit(
        db,
        clock,
        &format!("reset:{}:min", email.as_str()),
        1,
        Duration::from_secs(60),
    )
    .await?;
    throttle::hit(
        db,
        clock,
        &format!("reset:{}:hour", email.as_str()),
        5,
        Duration::from_secs(3600),
    )
    .await?;
    throttle::hit(
        db,
        clock,
        &format!("reset-ip:{ip}"),
        20,
        Duration::from_secs(3600),
    )
    .await?;
    let found: Option<String> =
        sqlx::query_scalar("SELECT id FROM users WHERE email = $1 AND status = 'active'")
            .bind(email.as_str())
            .fetch_optional(db.reader())
            .await?;
    if let Some(id) = found {
        let mut tx = db.begin().await?;
        user_event(
            &mut tx,
            clock,
            events::PASSWORD_RESET_REQUESTED,
            &UserId::from_db(id.clone()),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(user.id = %id, "password reset requested");
    }
    Ok(())
}

/// Sets a new password from a reset link. Ends every session of the account, clears its
/// sign-in throttle, and (the link proved the mailbox) marks the address verified.
pub async fn reset_password(
    db: &Db,
    clock: &Clock,
    token: &str,
    new_password: &str,
) -> Result<UserId, AuthError> {
    password::validate(new_password)?;
    let hash = password::hash(new_password.to_owned()).await?;
    let now = clock.now().millis();
    let mut tx = db.begin().await?;
    let (user, email) = tokens::consume(&mut tx, clock, token, Purpose::ResetPassword)
        .await?
        .ok_or(AuthError::InvalidToken)?;
    if new_password.trim().eq_ignore_ascii_case(&email) {
        return Err(AuthError::PasswordIsEmail);
    }
    let updated = sqlx::query(
        "UPDATE users SET password_hash = $1, updated_at = $2,
                email_verified_at = CASE WHEN email = $3 THEN COALESCE(email_verified_at, $2)
                                         ELSE email_verified_at END
         WHERE id = $4 AND status = 'active'",
    )
    .bind(&hash)
    .bind(now)
    .bind(&email)
    .bind(user.as_str())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 0 {
        return Err(AuthError::InvalidToken);
    }
    crate::sessions::end_all_on(&mut tx, &user, None).await?;
    throttle::clear(&mut tx, &throttle::account_key(&email)).await?;
    user_event(&mut tx, clock, events::PASSWORD_CHANGED, &user).await?;
    tx.commit().await?;
    tracing::info!(user.id = %user, "password reset; all sessions ended");
    Ok(user)
}

async fn check_current_password(
    db: &Db,
    user: &UserId,
    current_password: &str,
) -> Result<Account, AuthError> {
    let account = find(db, user).await?.ok_or(AuthError::UserNotFound)?;
    match verify_credentials(db, &account.email, current_password).await? {
        Some((id, _)) if &id == user => Ok(account),
        _ => Err(AuthError::WrongPassword),
    }
}

/// Changes the password of a signed-in user who knows the current one. Ends every other
/// session of the account (`keep_session` is the session making the change, by its stored
/// key).
pub async fn change_password(
    db: &Db,
    clock: &Clock,
    user: &UserId,
    current_password: &str,
    new_password: &str,
    keep_session: Option<&str>,
) -> Result<(), AuthError> {
    let account = check_current_password(db, user, current_password).await?;
    check_new_password(new_password, &account.email)?;
    let hash = password::hash(new_password.to_owned()).await?;
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
        .bind(&hash)
        .bind(clock.now().millis())
        .bind(user.as_str())
        .execute(&mut *tx)
        .await?;
    let ended = crate::sessions::end_all_on(&mut tx, user, keep_session).await?;
    user_event(&mut tx, clock, events::PASSWORD_CHANGED, user).await?;
    tx.commit().await?;
    tracing::info!(user.id = %user, sessions.ended = ended, "password changed");
    Ok(())
}

/// Changes the display name.
pub async fn update_name(
    db: &Db,
    clock: &Clock,
    user: &UserId,
    display_name: &str,
) -> Result<Account, AuthError> {
    let name = clean_name(display_name)?;
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE users SET display_name = $1, updated_at = $2 WHERE id = $3")
        .bind(&name)
        .bind(clock.now().millis())
        .bind(user.as_str())
        .execute(&mut *tx)
        .await?;
    let account = find_on(&mut tx, user)
        .await?
        .ok_or(AuthError::UserNotFound)?;
    tx.commit().await?;
    Ok(account)
}

/// Starts moving the account to `new_email`: needs the current password; the new address
/// gets a confirmation link and nothing changes until it is followed.
pub async fn request_email_change(
    db: &Db,
    clock: &Clock,
    user: &UserId,
    current_password: &str,
    new_email: &Email,
) -> Result<(), AuthError> {
    let account = check_current_password(db, user, current_password).await?;
    if &account.email == new_email {
        return Err(AuthError::SameEmail);
    }
    if find_by_email(db, new_email).await?.is_some() {
        return Err(AuthError::EmailTaken);
    }
    throttle::hit(
        db,
        clock,
        &format!("email-change:{}", user.as_str()),
        5,
        Duration::from_secs(3600),
    )
    .await?;
    let mut tx = db.begin().await?;
    outbox::enqueue(
        &mut tx,
        clock,
        events::EMAIL_CHANGE_REQUESTED,
        &EmailChangeRequested {
            user_id: user.clone(),
            new_email: new_email.as_str().to_owned(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Follows an email-change link: the account moves to the new (now verified) address and
/// the old address is told.
pub async fn confirm_email_change(
    db: &Db,
    clock: &Clock,
    token: &str,
) -> Result<Account, AuthError> {
    let now = clock.now().millis();
    let mut tx = db.begin().await?;
    let (user, new_email) = tokens::consume(&mut tx, clock, token, Purpose::ChangeEmail)
        .await?
        .ok_or(AuthError::InvalidToken)?;
    let old_email: Option<String> =
        sqlx::query_scalar("SELECT email FROM users WHERE id = $1 AND status = 'active'")
            .bind(user.as_str())
            .fetch_optional(&mut *tx)
            .await?;
    let old_email = old_email.ok_or(AuthError::InvalidToken)?;
    let updated = sqlx::query(
        "UPDATE users SET email = $1, email_verified_at = $2, updated_at = $2 WHERE id = $3",
    )
    .bind(&new_email)
    .bind(now)
    .bind(user.as_str())
    .execute(&mut *tx)
    .await
    .on_unique_violation(AuthError::EmailTaken)?;
    updated?;
    outbox::enqueue(
        &mut tx,
        clock,
        events::EMAIL_CHANGED,
        &EmailChanged {
            user_id: user.clone(),
            old_email,
            new_email,
        },
    )
    .await?;
    let account = find_on(&mut tx, &user)
        .await?
        .ok_or(AuthError::UserNotFound)?;
    tx.commit().await?;
    tracing::info!(user.id = %user, "email address changed");
    Ok(account)
}

/// Who a mail goes to and the link token it carries.
#[derive(Debug, Clone)]
pub struct MailToken {
    pub to: Email,
    pub display_name: String,
    pub token: String,
}

/// Issues the token for a mail the outbox handler is about to send: `None` when the mail no
/// longer makes sense (the account is gone or disabled, the address is already verified).
pub async fn mail_token(
    db: &Db,
    clock: &Clock,
    user: &UserId,
    purpose: Purpose,
    new_email: Option<&Email>,
) -> Result<Option<MailToken>, AuthError> {
    let Some(account) = find(db, user).await? else {
        return Ok(None);
    };
    if account.status != Status::Active
        || (purpose == Purpose::VerifyEmail && account.is_verified())
    {
        return Ok(None);
    }
    let to = match (purpose, new_email) {
        (Purpose::ChangeEmail, Some(e)) => e.clone(),
        (Purpose::ChangeEmail, None) => return Ok(None),
        _ => account.email.clone(),
    };
    let mut tx = db.begin().await?;
    let token = tokens::issue(&mut tx, clock, user, purpose, &to).await?;
    tx.commit().await?;
    Ok(Some(MailToken {
        to,
        display_name: account.display_name,
        token,
    }))
}

/// Writes one of the events about a single user in the caller's transaction.
async fn user_event(
    conn: &mut Conn,
    clock: &Clock,
    kind: &str,
    user: &UserId,
) -> Result<(), sqlx::Error> {
    outbox::enqueue(
        conn,
        clock,
        kind,
        &UserEvent {
            user_id: user.clone(),
        },
    )
    .await
    .map(|_| ())
}

pub(crate) async fn grant_role_on(
    conn: &mut Conn,
    clock: &Clock,
    user: &UserId,
    role: Role,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO user_roles (user_id, role, granted_at) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, role) DO NOTHING",
    )
    .bind(user.as_str())
    .bind(role.as_str())
    .bind(clock.now().millis())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Whether [`create_or_promote_admin`] made a new account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminOutcome {
    Created,
    Promoted,
}

/// Creates an admin account, or gives an existing account the admin role and the given
/// password. The operator running this vouches for the address, so it counts as verified
/// (the admin role requires a verified email).
pub async fn create_or_promote_admin(
    db: &Db,
    clock: &Clock,
    email: &Email,
    display_name: &str,
    password: &str,
) -> Result<(UserId, AdminOutcome), AuthError> {
    let name = clean_name(display_name)?;
    check_new_password(password, email)?;
    let hash = password::hash(password.to_owned()).await?;
    let now = clock.now().millis();

    let mut tx = db.begin().await?;
    let existing: Option<String> = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(email.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    let (id, outcome) = match existing {
        Some(id) => {
            sqlx::query(
                "UPDATE users SET password_hash = $1, status = 'active',
                        email_verified_at = COALESCE(email_verified_at, $2), updated_at = $2
                 WHERE id = $3",
            )
            .bind(&hash)
            .bind(now)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
            (UserId::from_db(id), AdminOutcome::Promoted)
        }
        None => {
            let id = UserId::new();
            sqlx::query(
                "INSERT INTO users (id, email, display_name, password_hash, status, email_verified_at, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, 'active', $5, $5, $5)",
            )
            .bind(id.as_str())
            .bind(email.as_str())
            .bind(&name)
            .bind(&hash)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            (id, AdminOutcome::Created)
        }
    };
    let before = roles_on(&mut tx, id.as_str()).await?;
    for role in [Role::Customer, Role::Admin] {
        grant_role_on(&mut tx, clock, &id, role).await?;
    }
    let after = roles_on(&mut tx, id.as_str()).await?;
    audit::record(
        &mut tx,
        clock,
        &Actor::system("cli:create-admin"),
        Change {
            action: match outcome {
                AdminOutcome::Created => "user.admin_created",
                AdminOutcome::Promoted => "user.admin_promoted",
            },
            target_type: "user",
            target_id: id.as_str(),
            before: (outcome == AdminOutcome::Promoted)
                .then(|| serde_json::json!({ "roles": before })),
            after: Some(serde_json::json!({ "roles": after, "status": "active" })),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user.id = %id, ?outcome, "admin account ready");
    Ok((id, outcome))
}
