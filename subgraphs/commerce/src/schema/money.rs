//! Money as GraphQL shows it: integer minor units plus a currency, never a float.
//!
//! Non-obvious: GraphQL's `Int` is 32 bits and prices go up to 10^12 minor units (order totals
//! beyond), so amounts use the custom scalar `Long`, written as a decimal string: JavaScript
//! clients would silently round JSON numbers above 2^53. As input `Long` also takes an integer.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, SimpleObject, Value};

use crate::domain::{Currency, Money};

/// A 64-bit integer in GraphQL: the scalar `Long` (its description is on the impl below).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Long(pub i64);

/// A signed 64-bit integer written as a decimal string, e.g. `"1999"`, because GraphQL's `Int`
/// is 32-bit and JSON numbers above 2^53 lose precision in JavaScript. Input accepts the string
/// or an integer.
#[Scalar(name = "Long")]
impl ScalarType for Long {
    fn parse(value: Value) -> InputValueResult<Self> {
        let parsed = match &value {
            Value::String(s) => s.parse::<i64>().ok(),
            Value::Number(n) => n.as_i64(),
            _ => None,
        };
        parsed
            .map(Long)
            .ok_or_else(|| InputValueError::custom("expected a 64-bit integer as a decimal string"))
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_string())
    }
}

/// An amount of money: integer minor units (cents for USD and EUR) of an ISO 4217 currency.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
#[graphql(name = "Money")]
pub struct MoneyNode {
    /// The amount in the currency's minor unit (e.g. `"1999"` is 19.99 USD), as a `Long`
    /// string; never a float. Divide by 10^(the currency's minor-unit digits) to display it.
    pub amount_minor: Long,
    /// ISO 4217 code, e.g. `USD`.
    pub currency: String,
}

impl MoneyNode {
    pub fn new(amount_minor: i64, currency: &Currency) -> Self {
        Self {
            amount_minor: Long(amount_minor),
            currency: currency.as_str().to_owned(),
        }
    }
}

impl From<&Money> for MoneyNode {
    fn from(money: &Money) -> Self {
        Self::new(money.amount_minor, &money.currency)
    }
}
