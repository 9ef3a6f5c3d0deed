//! Keys and names: employee and department ids (slugs, stable across stores and subgraphs:
//! telemetry's hosts name `platform`, `data`, `engineering`), e-mail addresses (the link to
//! commerce's `User`), and the bounded free texts.

use std::fmt;

use super::InvalidInput;

/// Longest id, so a key always fits an index entry comfortably.
pub const MAX_ID_LEN: usize = 64;

fn slug(field: &'static str, raw: &str) -> Result<String, InvalidInput> {
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
    if raw.is_empty() || raw.len() > MAX_ID_LEN {
        return Err(InvalidInput::new(
            field,
            format!("must be 1 to {MAX_ID_LEN} characters"),
        ));
    }
    if !raw.chars().all(ok_char) || !raw.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(InvalidInput::new(
            field,
            "only a-z, 0-9, '-' and '_', starting with a letter or digit",
        ));
    }
    Ok(raw.to_owned())
}

macro_rules! slug_id {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
                slug($field, raw).map(Self)
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidInput;
            fn try_from(raw: String) -> Result<Self, InvalidInput> {
                Self::parse(&raw)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

slug_id!(
    /// An employee's stable id, e.g. `alice` or `user042`.
    EmployeeId,
    "employeeId"
);
slug_id!(
    /// A department's stable slug, e.g. `company`, `engineering`, `platform`.
    DepartmentId,
    "departmentId"
);

/// An e-mail address, lower-cased: the key commerce's `User` and an `Employee` share.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let email = raw.trim().to_ascii_lowercase();
        let valid = email.len() <= Self::MAX_LEN
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !email.chars().any(|c| c.is_whitespace() || c.is_control())
                    && domain.chars().all(|c| c != '@')
            });
        if valid {
            Ok(Self(email))
        } else {
            Err(InvalidInput::new("email", "not a valid e-mail address"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = InvalidInput;
    fn try_from(raw: String) -> Result<Self, InvalidInput> {
        Self::parse(&raw)
    }
}

impl From<Email> for String {
    fn from(email: Email) -> String {
        email.0
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn text(field: &'static str, raw: &str, max: usize) -> Result<String, InvalidInput> {
    let trimmed = raw.trim();
    if trimmed.is_empty() || trimmed.chars().count() > max {
        return Err(InvalidInput::new(
            field,
            format!("must be 1 to {max} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(InvalidInput::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(trimmed.to_owned())
}

macro_rules! bounded_text {
    ($(#[$doc:meta])* $name:ident, $field:literal, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const MAX_CHARS: usize = $max;
            pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
                text($field, raw, $max).map(Self)
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidInput;
            fn try_from(raw: String) -> Result<Self, InvalidInput> {
                Self::parse(&raw)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
    };
}

bounded_text!(
    /// A person's display name.
    PersonName,
    "name",
    200
);
bounded_text!(
    /// A job title, e.g. `Staff engineer`.
    Title,
    "title",
    120
);
bounded_text!(
    /// A department's display name.
    DepartmentName,
    "name",
    120
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_lowercase_slugs_of_bounded_length() {
        assert!(EmployeeId::parse("user042").is_ok());
        assert!(DepartmentId::parse("org_123_4-x").is_ok());
        for bad in ["", "Alice", "a b", "-lead", "é", &"x".repeat(65)] {
            assert!(EmployeeId::parse(bad).is_err(), "{bad:?}");
        }
        let err = DepartmentId::parse("Sales").unwrap_err();
        assert_eq!(err.field, "departmentId");
    }

    #[test]
    fn emails_are_trimmed_lowercased_and_need_a_dotted_domain() {
        assert_eq!(
            Email::parse("  Alice@Example.COM ").unwrap().as_str(),
            "alice@example.com"
        );
        for bad in [
            "alice",
            "@example.com",
            "a@b",
            "a@.com",
            "a b@example.com",
            "a@b@c.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn texts_are_trimmed_and_bounded() {
        assert_eq!(PersonName::parse("  Ada ").unwrap().as_str(), "Ada");
        assert!(PersonName::parse("   ").is_err());
        assert!(Title::parse(&"t".repeat(121)).is_err());
        assert!(DepartmentName::parse("line\nbreak").is_err());
    }

    #[test]
    fn ids_deserialize_through_their_rules() {
        let ok: EmployeeId = serde_json::from_str("\"bob\"").unwrap();
        assert_eq!(ok.as_str(), "bob");
        assert!(serde_json::from_str::<EmployeeId>("\"Bob\"").is_err());
    }
}
