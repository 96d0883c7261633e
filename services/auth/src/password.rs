//! Password hashing with argon2id at OWASP's recommended cost (19 MiB, 2 passes, 1 lane).
//! Hashing takes tens of milliseconds of CPU, so it runs on the blocking thread pool.

use std::sync::OnceLock;

use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use argon2::{Algorithm, Argon2, Params, Version};

/// Shortest accepted password.
pub const MIN_LEN: usize = 8;
/// Longest accepted password (long passphrases are welcome; unbounded input is not).
pub const MAX_LEN: usize = 128;

/// Why a password is not accepted or could not be processed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("Use at least {MIN_LEN} characters.")]
    TooShort,
    #[error("Use at most {MAX_LEN} characters.")]
    TooLong,
    #[error("That password is too common. Choose something harder to guess.")]
    TooCommon,
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Checks length (in characters, not bytes) and refuses passwords from the built-in list of
/// the most common ones.
pub fn validate(password: &str) -> Result<(), PasswordError> {
    let len = password.chars().count();
    if len < MIN_LEN {
        Err(PasswordError::TooShort)
    } else if len > MAX_LEN {
        Err(PasswordError::TooLong)
    } else if is_common(password) {
        Err(PasswordError::TooCommon)
    } else {
        Ok(())
    }
}

fn is_common(password: &str) -> bool {
    static LIST: OnceLock<std::collections::HashSet<&'static str>> = OnceLock::new();
    let list = LIST.get_or_init(|| {
        include_str!("common_passwords.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    });
    list.contains(password.trim().to_lowercase().as_str())
}

/// Computes the dummy hash on the blocking pool, so the first failed sign-in after start-up
/// does not pay for it on the async runtime.
pub async fn warm_up() {
    let _ = tokio::task::spawn_blocking(|| dummy_hash().len()).await;
}

/// Hashes a password into a PHC string.
pub async fn hash(password: String) -> Result<String, PasswordError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| PasswordError::Hashing(e.to_string()))
    })
    .await
    .map_err(|e| PasswordError::Hashing(e.to_string()))?
}

/// Verifies a password against a stored PHC string.
pub async fn verify(password: String, phc: String) -> Result<bool, PasswordError> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&phc).map_err(|e| PasswordError::Hashing(e.to_string()))?;
        Ok(argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .map_err(|e| PasswordError::Hashing(e.to_string()))?
}

/// A real hash of a random password, verified against when an account does not exist so
/// that the response takes as long as for a real account.
pub fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        argon2()
            .hash_password(b"no account has this password", &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_use_argon2id_at_owasp_cost() {
        let h = hash("correct horse battery".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(
            verify("correct horse battery".into(), h.clone())
                .await
                .unwrap()
        );
        assert!(!verify("wrong".into(), h).await.unwrap());
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        assert_eq!(validate("Password123"), Err(PasswordError::TooCommon));
        assert_eq!(validate("QWERTYUIOP"), Err(PasswordError::TooCommon));
        assert!(validate("tangerine-lighthouse").is_ok());
    }

    #[test]
    fn length_is_counted_in_characters() {
        assert_eq!(validate("short"), Err(PasswordError::TooShort));
        assert_eq!(validate("ééééééé"), Err(PasswordError::TooShort));
        assert!(validate("éééééééé").is_ok());
        assert_eq!(
            validate(&"x".repeat(MAX_LEN + 1)),
            Err(PasswordError::TooLong)
        );
    }
}
