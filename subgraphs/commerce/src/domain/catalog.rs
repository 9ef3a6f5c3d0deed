//! Products, prices and stock: the catalog, which lives unsharded in the catalog database.
//!
//! Non-obvious: money is integer minor units plus a currency, never floating point, and a
//! product carries every current price so one cached document answers any currency.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{InvalidInput, invalid};
use crate::ids::ProductId;

/// A stock-keeping unit: 1 to 64 of `A-Z 0-9 . _ -`, starting with a letter or digit. Input is
/// trimmed and uppercased, so `sku-1` and `SKU-1` are the same product.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sku(String);

impl Sku {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        const F: &str = "sku";
        let sku = raw.trim().to_ascii_uppercase();
        let Some(first) = sku.chars().next() else {
            return invalid(F, "must not be empty");
        };
        if sku.len() > 64 {
            return invalid(F, "must be at most 64 characters");
        }
        let allowed = |c: char| c.is_ascii_uppercase() || c.is_ascii_digit() || "._-".contains(c);
        if !first.is_ascii_alphanumeric() || !sku.chars().all(allowed) {
            return invalid(
                F,
                "must be letters, digits, '.', '_' or '-', starting with a letter or digit",
            );
        }
        Ok(Self(sku))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An ISO 4217 code: three uppercase letters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Currency(String);

impl Currency {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let code = raw.trim();
        if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Self(code.to_owned()))
        } else {
            invalid(
                "currency",
                "must be three uppercase letters (ISO 4217), e.g. USD",
            )
        }
    }

    pub fn usd() -> Self {
        Self("USD".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An amount in minor units (cents) of a currency.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub amount_minor: i64,
    pub currency: Currency,
}

impl Money {
    /// Largest accepted price: 10^12 minor units, far below where sums of lines could overflow.
    pub const MAX_MINOR: i64 = 1_000_000_000_000;

    pub fn new(amount_minor: i64, currency: Currency) -> Result<Self, InvalidInput> {
        if !(0..=Self::MAX_MINOR).contains(&amount_minor) {
            return invalid("amountMinor", "must be between 0 and 10^12");
        }
        Ok(Self {
            amount_minor,
            currency,
        })
    }
}

/// A product name: trimmed, 1 to 200 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProductName(String);

impl ProductName {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let name = raw.trim();
        if name.chars().any(char::is_control) {
            return invalid("name", "must not contain control characters");
        }
        match name.chars().count() {
            0 => invalid("name", "must not be empty"),
            1..=200 => Ok(Self(name.to_owned())),
            _ => invalid("name", "must be at most 200 characters"),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A category slug: lowercase words joined by single hyphens, e.g. `kitchen-tools`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CategorySlug(String);

impl CategorySlug {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let slug = raw.trim();
        let word_ok = |w: &str| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        };
        if slug.len() <= 64 && slug.split('-').all(word_ok) {
            Ok(Self(slug.to_owned()))
        } else {
            invalid(
                "category",
                "must be lowercase words joined by '-', e.g. kitchen-tools",
            )
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A warehouse code: 1 to 32 of `A-Z 0-9 -`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WarehouseCode(String);

impl WarehouseCode {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let code = raw.trim().to_ascii_uppercase();
        let ok = (1..=32).contains(&code.len())
            && code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(code))
        } else {
            invalid("warehouse", "must be 1 to 32 of A-Z, 0-9 and '-'")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A number of units in one order line or one restock: 1 to [`Quantity::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Quantity(i32);

impl Quantity {
    /// Beyond this a quantity is a typo or an attack, not an order.
    pub const MAX: i32 = 10_000;

    pub fn new(raw: i32, field: &'static str) -> Result<Self, InvalidInput> {
        match raw {
            ..=0 => invalid(field, "must be at least 1"),
            1..=Self::MAX => Ok(Self(raw)),
            _ => invalid(field, "must be at most 10000"),
        }
    }

    pub fn get(self) -> i32 {
        self.0
    }
}

/// A product as read: its current prices (one per currency) and the units available to sell
/// (on hand minus reserved, summed over warehouses).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub id: ProductId,
    pub sku: Sku,
    pub name: ProductName,
    pub description: String,
    pub category: Option<CategorySlug>,
    pub active: bool,
    pub prices: Vec<Money>,
    pub available: i64,
    pub created_at: DateTime<Utc>,
}

impl Product {
    /// The current price in `currency`, if the product has one.
    pub fn price_in(&self, currency: &Currency) -> Option<&Money> {
        self.prices.iter().find(|p| &p.currency == currency)
    }
}

/// A product to create, with its first price and, optionally, its category (created if new).
#[derive(Debug, Clone)]
pub struct NewProduct {
    pub id: ProductId,
    pub sku: Sku,
    pub name: ProductName,
    pub description: String,
    pub category: Option<CategorySlug>,
    pub price: Money,
}

/// Adds `quantity` units of a product to a warehouse's stock, once per idempotency key.
#[derive(Debug, Clone)]
pub struct Restock {
    pub key: super::IdempotencyKey,
    pub product: ProductId,
    pub warehouse: WarehouseCode,
    pub quantity: Quantity,
}

/// What a restock did: `applied` is false when the key had been used before (nothing changed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestockOutcome {
    Applied,
    AlreadyApplied,
    UnknownWarehouse,
    /// The key was used before for a different product, warehouse or quantity.
    KeyReused,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skus_are_normalised_and_checked() {
        assert_eq!(Sku::parse(" mug-01 ").unwrap().as_str(), "MUG-01");
        for bad in ["", "-A", "A B", "Ä1", &"A".repeat(65)] {
            assert_eq!(Sku::parse(bad).unwrap_err().field, "sku", "{bad:?}");
        }
    }

    #[test]
    fn quantities_must_be_sane() {
        assert!(Quantity::new(0, "quantity").is_err());
        assert!(Quantity::new(-3, "quantity").is_err());
        assert!(Quantity::new(Quantity::MAX + 1, "quantity").is_err());
        assert_eq!(Quantity::new(7, "quantity").unwrap().get(), 7);
    }

    #[test]
    fn currencies_and_money_are_checked() {
        assert!(Currency::parse("usd").is_err());
        assert!(Currency::parse("EURO").is_err());
        let eur = Currency::parse("EUR").unwrap();
        assert!(Money::new(-1, eur.clone()).is_err());
        assert!(Money::new(Money::MAX_MINOR + 1, eur.clone()).is_err());
        assert_eq!(Money::new(1999, eur).unwrap().amount_minor, 1999);
    }

    #[test]
    fn slugs_and_warehouse_codes_are_checked() {
        assert!(CategorySlug::parse("kitchen-tools").is_ok());
        for bad in ["", "Kitchen", "a--b", "-a", "a_b"] {
            assert!(CategorySlug::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(WarehouseCode::parse("ber-1").unwrap().as_str(), "BER-1");
        assert!(WarehouseCode::parse("BER 1").is_err());
    }
}
