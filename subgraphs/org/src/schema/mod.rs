//! The org GraphQL schema (Apollo Federation v2): `Employee` and `Department` entities, the
//! `User @key(fields: "email")` link to commerce's users, traversal fields, and the three
//! reorganisation mutations.
//!
//! Non-obvious: every field that loads something per parent object (an employee's manager,
//! reports, span of control, department; a department's parent, children, head) goes through a
//! [`Batcher`] kept in the schema data, so a list of N employees, `_entities` representations
//! included, costs one store call per field, not N.

use std::sync::Arc;

use async_graphql::{EmptySubscription, ID, Schema};
use polygate_kit::batch::Batcher;
use polygate_kit::error::internal_error;
use polygate_kit::{ErrorCode, api_error};

use crate::clock::Clock;
use crate::domain::{DepartmentId, EmployeeId, InvalidInput};
use crate::store::{OrgStore, StoreError};

mod department;
mod employee;
mod loaders;
mod mutation;
mod query;
mod user;

pub use department::{DepartmentHeadCount, DepartmentNode, EmployeePage};
pub use employee::{EmployeeNode, SpanOfControl, SubordinateNode, SubordinatePage};
pub use loaders::{
    DepartmentLoader, EmailLoader, EmployeeLoader, HeadLoader, ManagerLoader, ReportsLoader,
    SpanLoader, SubDepartmentsLoader,
};
pub use mutation::{Mutation, ReorgResult};
pub use query::Query;
pub use user::UserRef;

pub type OrgSchema = Schema<Query, Mutation, EmptySubscription>;

/// The clock reorganisations are dated by, as schema data.
#[derive(Clone)]
pub(crate) struct Today(pub Arc<dyn Clock>);

pub fn build(store: Arc<dyn OrgStore>, clock: Arc<dyn Clock>) -> OrgSchema {
    Schema::build(Query, Mutation, EmptySubscription)
        .enable_federation()
        .data(Batcher::new(EmployeeLoader(store.clone())))
        .data(Batcher::new(EmailLoader(store.clone())))
        .data(Batcher::new(ManagerLoader(store.clone())))
        .data(Batcher::new(ReportsLoader(store.clone())))
        .data(Batcher::new(SpanLoader(store.clone())))
        .data(Batcher::new(DepartmentLoader(store.clone())))
        .data(Batcher::new(SubDepartmentsLoader(store.clone())))
        .data(Batcher::new(HeadLoader(store.clone())))
        .data(Today(clock))
        .data(store)
        .finish()
}

/// The federation SDL; needs no store, since printing resolves nothing.
pub fn sdl() -> String {
    Schema::build(Query, Mutation, EmptySubscription)
        .enable_federation()
        .finish()
        .sdl_with_options(polygate_kit::sdl_options())
}

/// Largest `first` any paged field accepts.
pub const MAX_PAGE: i32 = 100;

/// `first` of a paged field as a row count; `BAD_USER_INPUT` outside 1 to [`MAX_PAGE`].
pub(crate) fn page_size(first: i32) -> async_graphql::Result<u32> {
    if (1..=MAX_PAGE).contains(&first) {
        Ok(first as u32)
    } else {
        Err(api_error(
            ErrorCode::BadUserInput,
            format!("first: must be between 1 and {MAX_PAGE}"),
        ))
    }
}

/// A value that failed the domain rules: `BAD_USER_INPUT`, the message naming the field.
pub(crate) fn bad_input(err: InvalidInput) -> async_graphql::Error {
    api_error(ErrorCode::BadUserInput, err.to_string())
}

pub(crate) fn employee_id(id: &ID) -> async_graphql::Result<EmployeeId> {
    EmployeeId::parse(id).map_err(bad_input)
}

pub(crate) fn department_id(id: &ID) -> async_graphql::Result<DepartmentId> {
    DepartmentId::parse(id).map_err(bad_input)
}

/// A store failure as the client sees it: the caller's mistakes with their code and message,
/// the store's own trouble as `STORE_UNAVAILABLE` / `INTERNAL` with details only in the log.
pub(crate) fn store_failed(err: StoreError) -> async_graphql::Error {
    match err {
        StoreError::NotFound(m) => api_error(ErrorCode::NotFound, m),
        StoreError::Refused(m) => api_error(ErrorCode::BadUserInput, m),
        StoreError::Conflict(m) => api_error(ErrorCode::Conflict, m),
        StoreError::Unavailable(_) => internal_error(ErrorCode::StoreUnavailable, &err),
        StoreError::Other(_) => internal_error(ErrorCode::Internal, &err),
    }
}
