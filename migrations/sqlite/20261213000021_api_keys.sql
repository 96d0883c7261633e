-- Keys for programs (an ERP, a marketplace feed) calling the JSON API's admin routes on
-- behalf of the staff member or vendor who made them. The key itself is shown once and
-- stored only as its SHA-256; it works only within its scopes and its owner's roles, until
-- it expires or is revoked. Every call made with a key is in the audit log.
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    -- Space-separated, e.g. 'orders:read products:write'.
    scopes       TEXT NOT NULL,
    digest       TEXT NOT NULL,
    -- The key's first characters, to tell keys apart in the list.
    prefix       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX api_keys_user ON api_keys (user_id);
CREATE UNIQUE INDEX api_keys_digest ON api_keys (digest);

-- Calls made with keys are audit entries kept for a while only; housekeeping deletes the old
-- ones by action and age.
CREATE INDEX audit_log_action ON audit_log (action, created_at);
