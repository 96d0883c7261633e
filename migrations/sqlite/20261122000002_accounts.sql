-- Accounts (SQLite). Keep in step with ../postgres/20261122000002_accounts.sql.

-- Server-side sessions (tower-sessions records). `user_id` is copied out of the session data
-- when someone signs in, so all of a user's sessions can be listed and ended at once.
CREATE TABLE sessions (
    id           TEXT PRIMARY KEY NOT NULL,
    user_id      TEXT REFERENCES users (id) ON DELETE CASCADE,
    data         TEXT NOT NULL,
    expires_at   INTEGER NOT NULL,
    user_agent   TEXT,
    ip           TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Single-use tokens mailed to a user (email verification, password reset, email change).
-- Only a SHA-256 of the token is stored; the token itself exists only in the mail.
CREATE TABLE user_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL CHECK (purpose IN ('verify_email', 'reset_password', 'change_email')),
    new_email  TEXT,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX user_tokens_user ON user_tokens (user_id, purpose);

-- Failed sign-ins per account and per client address, for growing delays.
CREATE TABLE login_failures (
    throttle_key    TEXT PRIMARY KEY NOT NULL,
    failures        INTEGER NOT NULL,
    last_failure_at INTEGER NOT NULL,
    blocked_until   INTEGER NOT NULL
);

-- Fixed-window counters for rate-limited requests (reset and verification mails).
CREATE TABLE rate_limits (
    limit_key    TEXT PRIMARY KEY NOT NULL,
    window_start INTEGER NOT NULL,
    hits         INTEGER NOT NULL
);

-- A customer's address book.
CREATE TABLE addresses (
    id           TEXT PRIMARY KEY NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    full_name    TEXT NOT NULL,
    line1        TEXT NOT NULL,
    line2        TEXT NOT NULL DEFAULT '',
    city         TEXT NOT NULL,
    region       TEXT NOT NULL DEFAULT '',
    postal_code  TEXT NOT NULL,
    country      TEXT NOT NULL,
    phone        TEXT NOT NULL DEFAULT '',
    is_default   INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX addresses_user ON addresses (user_id);
-- At most one default shipping address per user.
CREATE UNIQUE INDEX addresses_one_default ON addresses (user_id) WHERE is_default = 1;

-- Who changed what, when: every admin (and later vendor) change.
CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY NOT NULL,
    actor_id    TEXT REFERENCES users (id) ON DELETE SET NULL,
    actor_label TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    before_json TEXT,
    after_json  TEXT,
    created_at  INTEGER NOT NULL
);
CREATE INDEX audit_log_created ON audit_log (created_at);
CREATE INDEX audit_log_target ON audit_log (target_type, target_id, created_at);

CREATE INDEX users_created ON users (created_at);
CREATE INDEX user_roles_role ON user_roles (role, user_id);
