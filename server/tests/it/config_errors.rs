//! A bad configuration value stops start-up with one clear line naming the variable.

use std::process::Command;

fn run_with(vars: &[(&str, &str)]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_shop"));
    cmd.arg("migrate")
        .env_clear()
        .env("SHOP_DATA_DIR", dir.path());
    if let Ok(path) = std::env::var("PATH") {
        cmd.env("PATH", path);
    }
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.output().expect("run the shop binary")
}

#[test]
fn a_bad_database_url_names_the_variable_and_exits_2() {
    let out = run_with(&[("DATABASE_URL", "mysql://root:hunter2@db/shop")]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.starts_with("configuration error: DATABASE_URL: "),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "secrets are never printed");
}

#[test]
fn a_bad_listen_address_names_the_variable() {
    let out = run_with(&[("LEPTOS_SITE_ADDR", "not-an-address")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).starts_with("configuration error: LEPTOS_SITE_ADDR: ")
    );
}

#[test]
fn an_unreachable_database_fails_with_a_clear_message_not_a_panic() {
    let out = run_with(&[("DATABASE_URL", "postgres://shop:hunter2@127.0.0.1:1/shop")]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot open the database (DATABASE_URL)"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"));
    assert!(!stderr.contains("hunter2"));
}

#[test]
fn migrate_creates_the_sqlite_file_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/nested/shop.db", dir.path().display());
    for _ in 0..2 {
        let out = Command::new(env!("CARGO_BIN_EXE_shop"))
            .arg("migrate")
            .env("DATABASE_URL", &url)
            .env("SHOP_DATA_DIR", dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(dir.path().join("nested/shop.db").exists());
}
