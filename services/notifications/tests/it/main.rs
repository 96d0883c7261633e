//! Notification tests: every template, delivery through a real SMTP server that goes away
//! and comes back, and the log.

mod delivery;
mod smtp_sink;
mod templates;
