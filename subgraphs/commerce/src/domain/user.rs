//! Users and the value types of sign-up and sign-in.
//!
//! Non-obvious: `Email` is lowercased when parsed, so equality and the store's unique index on
//! `lower(email)` agree; the original casing a user typed is not kept.

use std::fmt;

use chrono::{DateTime, Utc};

use super::invalid;
use crate::ids::{UserId, pick_shard};

/// A value that failed validation; `field` names the input field for the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct InvalidInput {
    pub field: &'static str,
    pub reason: &'static str,
}

/// A trimmed, lowercased email address with exactly one `@`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        const F: &str = "email";
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return invalid(F, "must not be empty");
        }
        if email.len() > Self::MAX_LEN {
            return invalid(F, "must be at most 254 bytes");
        }
        if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return invalid(F, "must not contain spaces or control characters");
        }
        let Some((local, domain)) = email.split_once('@') else {
            return invalid(F, "must contain an @");
        };
        if domain.contains('@') {
            return invalid(F, "must contain exactly one @");
        }
        if local.is_empty() || local.len() > 64 {
            return invalid(F, "must have 1 to 64 characters before the @");
        }
        let labels_ok = domain.split('.').count() >= 2 && domain.split('.').all(|l| !l.is_empty());
        if !labels_ok {
            return invalid(F, "must have a domain like example.com after the @");
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A clear-text password of 8 to 128 characters; never printed.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        match raw.chars().count() {
            0..8 => invalid("password", "must be at least 8 characters"),
            8..=128 => Ok(Self(raw.to_owned())),
            _ => invalid("password", "must be at most 128 characters"),
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A trimmed display name of 1 to 100 characters without control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        const F: &str = "name";
        let name = raw.trim();
        if name.chars().any(char::is_control) {
            return invalid(F, "must not contain control characters");
        }
        match name.chars().count() {
            0 => invalid(F, "must not be empty"),
            1..=100 => Ok(Self(name.to_owned())),
            _ => invalid(F, "must be at most 100 characters"),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An argon2 hash in PHC string form, as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a PHC string read from the store or produced by the hasher.
    pub fn from_phc(phc: String) -> Self {
        Self(phc)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

/// A registered user, without credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub name: DisplayName,
    pub staff: bool,
    pub created_at: DateTime<Utc>,
}

/// A user with the stored password hash, for sign-in only.
#[derive(Debug, Clone)]
pub struct UserWithHash {
    pub user: User,
    pub password_hash: PasswordHash,
}

/// What the store needs to create a user; the id is chosen here so its shard decides placement.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: UserId,
    pub email: Email,
    pub name: DisplayName,
    pub password_hash: PasswordHash,
    pub staff: bool,
}

impl NewUser {
    /// A non-staff user with a fresh id on a random logical shard.
    pub fn new(email: Email, name: DisplayName, password_hash: PasswordHash) -> Self {
        Self {
            id: UserId::new(pick_shard()),
            email,
            name,
            password_hash,
            staff: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        let email = Email::parse("  Alice@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "alice@example.com");
    }

    #[test]
    fn malformed_emails_are_rejected_naming_the_field() {
        let long = format!("{}@example.com", "a".repeat(250));
        for bad in [
            "",
            "alice",
            "a@b@c.com",
            "@example.com",
            "a@",
            "a@b",
            "a b@c.com",
            &long,
        ] {
            let err = Email::parse(bad).unwrap_err();
            assert_eq!(err.field, "email", "{bad:?}");
        }
    }

    #[test]
    fn passwords_must_have_8_to_128_characters() {
        assert!(Password::parse("1234567").is_err());
        assert!(Password::parse("12345678").is_ok());
        assert!(Password::parse(&"é".repeat(128)).is_ok());
        assert!(Password::parse(&"x".repeat(129)).is_err());
        assert_eq!(
            format!("{:?}", Password::parse("secret-123").unwrap()),
            "Password(<redacted>)"
        );
    }

    #[test]
    fn names_are_trimmed_bounded_and_printable() {
        assert_eq!(DisplayName::parse(" Bob ").unwrap().as_str(), "Bob");
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse("Bo\u{7}b").is_err());
        assert!(DisplayName::parse(&"n".repeat(100)).is_ok());
        assert!(DisplayName::parse(&"n".repeat(101)).is_err());
    }
}
