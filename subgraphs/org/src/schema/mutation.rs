//! Reorganisations, for staff only: move a person, move a team, merge two departments. Each is
//! one store transaction that refuses a cycle (`BAD_USER_INPUT`) and, given `expectedVersion`,
//! a change decided on an org someone else has changed since (`CONFLICT`).

use std::sync::Arc;

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use polygate_kit::{ErrorCode, Viewer, api_error};

use super::{Today, department_id, employee_id, store_failed};
use crate::domain::{Reorg, ReorgOutcome};
use crate::store::OrgStore;

pub struct Mutation;

/// What a reorganisation did.
#[derive(SimpleObject)]
pub struct ReorgResult {
    /// The org version after it.
    pub version: i64,
    /// False when the org already looked like this (e.g. a retried request): nothing changed.
    pub changed: bool,
}

#[Object]
impl Mutation {
    /// `employeeId` now reports to `newManagerId`; their direct reports stay and report to
    /// their previous manager.
    async fn move_employee(
        &self,
        ctx: &Context<'_>,
        employee_id: ID,
        new_manager_id: ID,
        expected_version: Option<i64>,
    ) -> Result<ReorgResult> {
        let change = Reorg::MoveEmployee {
            employee: self::employee_id(&employee_id)?,
            new_manager: self::employee_id(&new_manager_id)?,
        };
        reorganise(ctx, change, expected_version).await
    }

    /// `managerId` and everyone below them now report, through `managerId`, to `newManagerId`.
    async fn move_team(
        &self,
        ctx: &Context<'_>,
        manager_id: ID,
        new_manager_id: ID,
        expected_version: Option<i64>,
    ) -> Result<ReorgResult> {
        let change = Reorg::MoveTeam {
            manager: self::employee_id(&manager_id)?,
            new_manager: self::employee_id(&new_manager_id)?,
        };
        reorganise(ctx, change, expected_version).await
    }

    /// Moves every member and sub-department of `fromId` to `intoId` and removes `fromId`.
    async fn merge_departments(
        &self,
        ctx: &Context<'_>,
        from_id: ID,
        into_id: ID,
        expected_version: Option<i64>,
    ) -> Result<ReorgResult> {
        let change = Reorg::MergeDepartments {
            from: department_id(&from_id)?,
            into: department_id(&into_id)?,
        };
        reorganise(ctx, change, expected_version).await
    }
}

async fn reorganise(
    ctx: &Context<'_>,
    change: Reorg,
    expected_version: Option<i64>,
) -> Result<ReorgResult> {
    let viewer = Viewer::require(ctx)?;
    if !viewer.staff {
        return Err(api_error(
            ErrorCode::Forbidden,
            "only staff may reorganise the org",
        ));
    }
    let expected = expected_version
        .map(|v| {
            u64::try_from(v).map_err(|_| {
                api_error(
                    ErrorCode::BadUserInput,
                    "expectedVersion: must not be negative",
                )
            })
        })
        .transpose()?;
    let today = ctx.data_unchecked::<Today>().0.today();
    let ReorgOutcome { version, changed } = ctx
        .data_unchecked::<Arc<dyn OrgStore>>()
        .reorganise(&change, expected, today)
        .await
        .map_err(store_failed)?;
    Ok(ReorgResult {
        version: version as i64,
        changed,
    })
}
