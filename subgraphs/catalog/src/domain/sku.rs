//! The stock-keeping unit: the key catalog and commerce share for `Product`.

use serde::{Deserialize, Serialize};

use super::InvalidInput;

/// 1 to 64 characters of `A-Z`, `0-9`, `.`, `_` and `-` — commerce's rule, so every SKU one side
/// accepts the other does too. Lower-case input is upper-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sku(String);

impl Sku {
    pub const MAX_LEN: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        Self::parse_field("sku", raw)
    }

    /// [`Sku::parse`] with the error naming `field`.
    pub fn parse_field(field: &str, raw: &str) -> Result<Self, InvalidInput> {
        let sku = raw.trim().to_ascii_uppercase();
        if sku.is_empty() || sku.len() > Self::MAX_LEN {
            return Err(InvalidInput::new(
                field,
                format!("must be 1 to {} characters", Self::MAX_LEN),
            ));
        }
        if !sku.bytes().all(|b| {
            b.is_ascii_uppercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        }) {
            return Err(InvalidInput::new(
                field,
                "may hold only letters, digits, `.`, `_` and `-`",
            ));
        }
        Ok(Self(sku))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Sku {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Sku {
    type Error = InvalidInput;
    fn try_from(raw: String) -> Result<Self, InvalidInput> {
        Self::parse(&raw)
    }
}

impl From<Sku> for String {
    fn from(sku: Sku) -> String {
        sku.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sku_is_upper_cased_and_checked() {
        assert_eq!(Sku::parse(" mug-01 ").unwrap().as_str(), "MUG-01");
        assert!(Sku::parse("").is_err());
        assert!(Sku::parse("MUG 01").is_err());
        assert!(Sku::parse(&"A".repeat(65)).is_err());
        assert_eq!(
            Sku::parse_field("variants[0].sku", "a b")
                .unwrap_err()
                .field,
            "variants[0].sku"
        );
    }
}
