//! Postal addresses: the entries of a user's address book, and the snapshot an order keeps of
//! the one it ships to.
//!
//! Non-obvious: an order copies the address ([`PostalAddress`], stored as JSON in
//! `orders.ship_to`) instead of pointing at the book entry, because users edit and delete
//! their addresses and an order must keep where it went. The JSON form is this type's serde
//! form, so a stored snapshot is read back through the same checks as user input.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{InvalidInput, invalid};
use crate::ids::{AddressId, UserId};

/// Most addresses one user may keep: an address book, not a mailing list.
pub const MAX_ADDRESSES_PER_USER: usize = 20;

/// Where a parcel goes. Every text is trimmed and free of control characters; empty optional
/// parts are `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostalAddress {
    pub recipient: String,
    pub line1: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    pub city: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2, upper case (`DE`, `US`).
    pub country: String,
}

/// The raw parts of an address as a client sends them.
#[derive(Debug, Clone, Default)]
pub struct AddressParts<'a> {
    pub recipient: &'a str,
    pub line1: &'a str,
    pub line2: Option<&'a str>,
    pub city: &'a str,
    pub region: Option<&'a str>,
    pub postal_code: Option<&'a str>,
    pub country: &'a str,
}

/// A length limit and how a too-long value is refused.
type Limit = (usize, &'static str);
const UP_TO_50: Limit = (50, "must be at most 50 characters");
const UP_TO_100: Limit = (100, "must be at most 100 characters");
const UP_TO_200: Limit = (200, "must be at most 200 characters");

/// `raw` trimmed, 1 to `max` characters without control characters.
fn required(raw: &str, field: &'static str, max: Limit) -> Result<String, InvalidInput> {
    match optional(Some(raw), field, max)? {
        Some(text) => Ok(text),
        None => invalid(field, "must not be empty"),
    }
}

/// Like [`required`], but empty or missing is `None`.
fn optional(
    raw: Option<&str>,
    field: &'static str,
    (max, too_long): Limit,
) -> Result<Option<String>, InvalidInput> {
    let Some(text) = raw.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().any(char::is_control) {
        return invalid(field, "must not contain control characters");
    }
    if text.chars().count() > max {
        return invalid(field, too_long);
    }
    Ok(Some(text.to_owned()))
}

impl PostalAddress {
    /// Checks every part; errors name the input field (`line1`, `country`, …).
    pub fn parse(parts: &AddressParts<'_>) -> Result<Self, InvalidInput> {
        let country = parts.country.trim().to_ascii_uppercase();
        if !(country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase())) {
            return invalid(
                "country",
                "must be two letters (ISO 3166-1 alpha-2), e.g. DE",
            );
        }
        Ok(Self {
            recipient: required(parts.recipient, "recipient", UP_TO_200)?,
            line1: required(parts.line1, "line1", UP_TO_200)?,
            line2: optional(parts.line2, "line2", UP_TO_200)?,
            city: required(parts.city, "city", UP_TO_100)?,
            region: optional(parts.region, "region", UP_TO_100)?,
            postal_code: optional(parts.postal_code, "postalCode", UP_TO_50)?,
            country,
        })
    }

    /// Re-checks a stored snapshot (JSON): only a bug or a hand edit makes it fail.
    pub fn from_json(value: serde_json::Value) -> Result<Self, String> {
        let raw: Self = serde_json::from_value(value).map_err(|e| e.to_string())?;
        Self::parse(&AddressParts {
            recipient: &raw.recipient,
            line1: &raw.line1,
            line2: raw.line2.as_deref(),
            city: &raw.city,
            region: raw.region.as_deref(),
            postal_code: raw.postal_code.as_deref(),
            country: &raw.country,
        })
        .map_err(|e| e.to_string())
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("an address serializes")
    }
}

/// An address to add to a user's book.
#[derive(Debug, Clone)]
pub struct NewAddress {
    pub id: AddressId,
    pub user: UserId,
    /// What the user calls it (`Home`, `Office`), at most 50 characters.
    pub label: Option<String>,
    pub address: PostalAddress,
}

impl NewAddress {
    /// A new entry of `user`'s book, with an id on the user's shard (addresses live there).
    pub fn new(
        user: UserId,
        label: Option<&str>,
        address: PostalAddress,
    ) -> Result<Self, InvalidInput> {
        Ok(Self {
            id: AddressId::new(user.shard()),
            user,
            label: optional(label, "label", UP_TO_50)?,
            address,
        })
    }
}

/// An entry of a user's address book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub id: AddressId,
    pub user: UserId,
    pub label: Option<String>,
    pub address: PostalAddress,
    pub created_at: DateTime<Utc>,
}

/// What adding an address did.
// One value per store call, never held in bulk: boxing the order would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddAddressOutcome {
    Added(Address),
    /// The user already keeps [`MAX_ADDRESSES_PER_USER`] addresses; nothing was added.
    BookFull,
    /// No such user.
    UnknownUser,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts<'a>() -> AddressParts<'a> {
        AddressParts {
            recipient: " Bob Buyer ",
            line1: "Torstraße 1",
            line2: Some("  "),
            city: "Berlin",
            region: None,
            postal_code: Some("10119"),
            country: "de",
        }
    }

    #[test]
    fn parts_are_trimmed_and_the_country_upper_cased() {
        let address = PostalAddress::parse(&parts()).unwrap();
        assert_eq!(address.recipient, "Bob Buyer");
        assert_eq!(address.line2, None, "blank optional parts are dropped");
        assert_eq!(address.country, "DE");
    }

    #[test]
    fn bad_parts_name_their_field() {
        let cases: [(&str, AddressParts<'_>); 4] = [
            (
                "country",
                AddressParts {
                    country: "DEU",
                    ..parts()
                },
            ),
            (
                "line1",
                AddressParts {
                    line1: " ",
                    ..parts()
                },
            ),
            (
                "city",
                AddressParts {
                    city: "Ber\nlin",
                    ..parts()
                },
            ),
            (
                "recipient",
                AddressParts {
                    recipient: &"x".repeat(201),
                    ..parts()
                },
            ),
        ];
        for (field, bad) in cases {
            assert_eq!(PostalAddress::parse(&bad).unwrap_err().field, field);
        }
        let long_label = "l".repeat(51);
        let address = PostalAddress::parse(&parts()).unwrap();
        let user = UserId::new(3);
        assert_eq!(
            NewAddress::new(user, Some(&long_label), address)
                .unwrap_err()
                .field,
            "label"
        );
    }

    #[test]
    fn the_snapshot_round_trips_through_json_and_rejects_an_empty_object() {
        let address = PostalAddress::parse(&parts()).unwrap();
        assert_eq!(PostalAddress::from_json(address.to_json()), Ok(address));
        assert!(PostalAddress::from_json(serde_json::json!({})).is_err());
    }
}
