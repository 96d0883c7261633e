-- The notification log (issue #14): every mail the shop sends, as it was sent, with its
-- delivery state. Rows are written by the outbox handler, one per (event, template): a
-- retried event finds its row and never sends a mail that already went out.
CREATE TABLE notifications (
    id         TEXT PRIMARY KEY NOT NULL,
    -- The outbox event the mail answers (a resend has its own event).
    event_id   TEXT NOT NULL,
    template   TEXT NOT NULL,
    recipient  TEXT NOT NULL,
    subject    TEXT NOT NULL,
    text_body  TEXT NOT NULL,
    html_body  TEXT NOT NULL,
    -- 1 when the mail carries a one-time link: the stored bodies have it masked, and the
    -- mail is never resent from the log (the customer asks for a new link instead).
    secret     BIGINT NOT NULL DEFAULT 0 CHECK (secret IN (0, 1)),
    status     TEXT NOT NULL DEFAULT 'queued'
               CHECK (status IN ('queued', 'sent', 'retrying', 'failed')),
    attempts   BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    resend_of  TEXT REFERENCES notifications (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    sent_at    BIGINT,
    UNIQUE (event_id, template)
);
CREATE INDEX notifications_created ON notifications (created_at);
CREATE INDEX notifications_status ON notifications (status, created_at);
CREATE INDEX notifications_recipient ON notifications (recipient, created_at);
