//! The root `Query`: look-ups by id or e-mail, the lowest common manager of two people, the org
//! version (for optimistic reorganisations), and the federation entity resolvers for
//! `Employee`, `Department` and `User`.

use std::sync::Arc;

use async_graphql::{Context, ID, Object, Result};
use polygate_kit::batch::Batcher;

use super::department::DepartmentNode;
use super::employee::EmployeeNode;
use super::loaders::{DepartmentLoader, EmailLoader, EmployeeLoader};
use super::user::UserRef;
use super::{bad_input, department_id, employee_id, store_failed};
use crate::domain::Email;
use crate::store::OrgStore;

pub struct Query;

#[Object]
impl Query {
    async fn employee(&self, ctx: &Context<'_>, id: ID) -> Result<Option<EmployeeNode>> {
        load_employee(ctx, &id).await
    }

    /// The employee with this work e-mail (any case).
    async fn employee_by_email(
        &self,
        ctx: &Context<'_>,
        email: String,
    ) -> Result<Option<EmployeeNode>> {
        let email = Email::parse(&email).map_err(bad_input)?;
        ctx.data_unchecked::<Batcher<_, EmailLoader>>()
            .load_one(email)
            .await
            .map(|e| e.map(EmployeeNode))
            .map_err(store_failed)
    }

    async fn department(&self, ctx: &Context<'_>, id: ID) -> Result<Option<DepartmentNode>> {
        load_department(ctx, &id).await
    }

    /// The lowest person both `a` and `b` report to, directly or not (never `a` or `b`
    /// themselves); null when either is unknown or heads the company.
    async fn lowest_common_manager(
        &self,
        ctx: &Context<'_>,
        a: ID,
        b: ID,
    ) -> Result<Option<EmployeeNode>> {
        let (a, b) = (employee_id(&a)?, employee_id(&b)?);
        ctx.data_unchecked::<Arc<dyn OrgStore>>()
            .lowest_common_manager(&a, &b)
            .await
            .map(|m| m.map(EmployeeNode))
            .map_err(store_failed)
    }

    /// How many reorganisations changed the org so far; pass it as `expectedVersion` to a
    /// reorganisation to have it refused (`CONFLICT`) if someone else changed the org first.
    async fn org_version(&self, ctx: &Context<'_>) -> Result<i64> {
        ctx.data_unchecked::<Arc<dyn OrgStore>>()
            .org_version()
            .await
            .map(|v| v as i64)
            .map_err(store_failed)
    }

    #[graphql(entity)]
    async fn find_employee_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<EmployeeNode>> {
        load_employee(ctx, &id).await
    }

    #[graphql(entity)]
    async fn find_department_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<Option<DepartmentNode>> {
        load_department(ctx, &id).await
    }

    /// Every user can be asked for its `employee`; a malformed e-mail is refused.
    #[graphql(entity)]
    async fn find_user_by_email(&self, email: String) -> Result<UserRef> {
        Ok(UserRef(Email::parse(&email).map_err(bad_input)?))
    }
}

async fn load_employee(ctx: &Context<'_>, id: &ID) -> Result<Option<EmployeeNode>> {
    let id = employee_id(id)?;
    ctx.data_unchecked::<Batcher<_, EmployeeLoader>>()
        .load_one(id)
        .await
        .map(|e| e.map(EmployeeNode))
        .map_err(store_failed)
}

async fn load_department(ctx: &Context<'_>, id: &ID) -> Result<Option<DepartmentNode>> {
    let id = department_id(id)?;
    ctx.data_unchecked::<Batcher<_, DepartmentLoader>>()
        .load_one(id)
        .await
        .map(|d| d.map(DepartmentNode))
        .map_err(store_failed)
}
