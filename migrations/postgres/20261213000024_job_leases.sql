-- Periodic jobs (housekeeping, the payment sweeper, analytics roll-ups) run on one process of
-- a cluster at a time: the one holding the job's lease. A holder renews its lease well
-- before it expires; a holder that dies stops renewing, and another process takes the job
-- over once the lease has expired.
CREATE TABLE job_leases (
    job TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    -- Milliseconds since the epoch.
    acquired_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
