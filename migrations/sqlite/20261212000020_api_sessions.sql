-- The server's own secrets (signing keys), generated on first start and shared by every
-- instance. They began as the checkout's; the JSON API's token key joins them.
ALTER TABLE checkout_keys RENAME TO server_secrets;

-- A sign-in through the JSON API: one family of refresh tokens. Signing out, or presenting
-- a refresh token that was already used (it was copied), revokes the family: its access
-- tokens stop working at once and none of its refresh tokens refreshes again.
CREATE TABLE api_sessions (
    id           TEXT PRIMARY KEY NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    revoked_at   INTEGER,
    -- 'signed_out', 'reused', 'password_changed'
    revoked_why  TEXT
);
CREATE INDEX api_sessions_user ON api_sessions (user_id);

-- Refresh tokens, by the SHA-256 of the token (the token itself is never stored). Each is
-- used once: refreshing marks it used and issues the next.
CREATE TABLE api_refresh_tokens (
    digest     TEXT PRIMARY KEY NOT NULL,
    session_id TEXT NOT NULL REFERENCES api_sessions(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX api_refresh_tokens_session ON api_refresh_tokens (session_id);
CREATE INDEX api_refresh_tokens_expires ON api_refresh_tokens (expires_at);
