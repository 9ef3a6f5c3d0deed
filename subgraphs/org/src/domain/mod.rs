//! The org's types, each validated on construction so that bad input is refused at the edge
//! (`BAD_USER_INPUT`) and never reaches a store. `ids` holds the names and keys; `org` the
//! records the store port speaks in; `reorg` the changes that move people and departments.

mod ids;
mod org;
mod reorg;

pub use ids::{DepartmentId, DepartmentName, Email, EmployeeId, PersonName, Title};
pub use org::{
    Department, DepartmentCount, DepartmentRecord, Depth, Employee, EmployeeRecord, OrgChart, Role,
    Span, Subordinate, SubordinateCursor,
};
pub use reorg::{Reorg, ReorgOutcome};

/// A value that failed the domain rules; the message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct InvalidInput {
    pub field: &'static str,
    pub reason: String,
}

impl InvalidInput {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}
