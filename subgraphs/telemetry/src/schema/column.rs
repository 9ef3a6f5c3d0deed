//! A list of scalars resolved as one value.
//!
//! async-graphql resolves a `Vec<T>` item by item, one future per element even for scalars, and
//! an object per point adds a future per field: in the benchmark, a series query's time over
//! the same SQL grew with the number of points it returned. `Column` has the GraphQL type of the
//! `Vec` it wraps (`[Float]!`, `[String!]!`) but builds the whole list in one pass.

use std::borrow::Cow;

use async_graphql::parser::types::Field;
use async_graphql::{
    ContextSelectionSet, OutputType, Positioned, ScalarType, ServerResult, Value, registry,
};

/// A scalar that converts itself to a GraphQL value without a resolver: async-graphql's own
/// conversion (`ScalarType::to_value`; a non-finite `f64` becomes null), or null for `None`.
pub trait ColumnItem: OutputType {
    fn to_value(&self) -> Value;
}

impl ColumnItem for String {
    fn to_value(&self) -> Value {
        ScalarType::to_value(self)
    }
}

impl ColumnItem for f64 {
    fn to_value(&self) -> Value {
        ScalarType::to_value(self)
    }
}

impl<T: ColumnItem> ColumnItem for Option<T> {
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, ColumnItem::to_value)
    }
}

/// `Vec<T>` in the schema, one `Value::List` when resolved.
pub struct Column<T>(pub Vec<T>);

impl<T: ColumnItem> OutputType for Column<T> {
    fn type_name() -> Cow<'static, str> {
        Vec::<T>::type_name()
    }

    fn qualified_type_name() -> String {
        Vec::<T>::qualified_type_name()
    }

    fn create_type_info(registry: &mut registry::Registry) -> String {
        Vec::<T>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        _ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        Ok(Value::List(
            self.0.iter().map(ColumnItem::to_value).collect(),
        ))
    }
}
