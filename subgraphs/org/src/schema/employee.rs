//! The `Employee` entity: who someone is, where they sit in the hierarchy, and the traversals
//! that start from them.
//!
//! Non-obvious: `email` needs a signed-in viewer. It is the key that links an employee to
//! commerce's `User`, whose own `email` only the user and staff may see; an anonymous caller
//! must not be able to read it through the org instead.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};
use polygate_kit::Viewer;
use polygate_kit::batch::Batcher;

use super::department::DepartmentNode;
use super::loaders::{DepartmentLoader, ManagerLoader, ReportsLoader, SpanLoader};
use super::user::UserRef;
use super::{bad_input, page_size, store_failed};
use crate::domain::{Depth, Employee, Role, Span, SubordinateCursor};
use crate::store::OrgStore;

/// A person as GraphQL shows them.
pub struct EmployeeNode(pub Employee);

/// Someone's role in their department.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "DepartmentRole")]
pub enum RoleValue {
    Head,
    Member,
}

impl From<Role> for RoleValue {
    fn from(role: Role) -> Self {
        match role {
            Role::Head => RoleValue::Head,
            Role::Member => RoleValue::Member,
        }
    }
}

/// How many people someone manages.
#[derive(SimpleObject)]
pub struct SpanOfControl {
    /// People who report to them directly.
    pub direct: i64,
    /// Everyone below them, at any depth.
    pub total: i64,
}

impl From<Span> for SpanOfControl {
    fn from(span: Span) -> Self {
        Self {
            direct: span.direct as i64,
            total: span.total as i64,
        }
    }
}

/// Someone below a manager.
pub struct SubordinateNode {
    employee: Employee,
    depth: u32,
}

#[Object(name = "Subordinate")]
impl SubordinateNode {
    async fn employee(&self) -> EmployeeNode {
        EmployeeNode(self.employee.clone())
    }

    /// Levels below the manager: 1 for a direct report.
    async fn depth(&self) -> i32 {
        self.depth as i32
    }
}

/// A page of subordinates, ordered by depth then id.
#[derive(SimpleObject)]
pub struct SubordinatePage {
    pub items: Vec<SubordinateNode>,
    /// Pass as `after` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

#[Object(name = "Employee")]
impl EmployeeNode {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn name(&self) -> &str {
        self.0.name.as_str()
    }

    async fn title(&self) -> &str {
        self.0.title.as_str()
    }

    /// Their work e-mail; needs a signed-in viewer (null with `UNAUTHENTICATED` otherwise).
    async fn email(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Viewer::require(ctx)?;
        Ok(Some(self.0.email.as_str()))
    }

    /// Head or member of their department.
    async fn role(&self) -> RoleValue {
        self.0.role.into()
    }

    async fn department(&self, ctx: &Context<'_>) -> Result<Option<DepartmentNode>> {
        ctx.data_unchecked::<Batcher<_, DepartmentLoader>>()
            .load_one(self.0.department.clone())
            .await
            .map(|d| d.map(DepartmentNode))
            .map_err(store_failed)
    }

    /// Whom they report to; null for the head of the company.
    async fn manager(&self, ctx: &Context<'_>) -> Result<Option<EmployeeNode>> {
        ctx.data_unchecked::<Batcher<_, ManagerLoader>>()
            .load_one(self.0.id.clone())
            .await
            .map(|m| m.map(EmployeeNode))
            .map_err(store_failed)
    }

    /// Who reports to them directly, by id.
    async fn reports(&self, ctx: &Context<'_>) -> Result<Vec<EmployeeNode>> {
        let reports = ctx
            .data_unchecked::<Batcher<_, ReportsLoader>>()
            .load_one(self.0.id.clone())
            .await
            .map_err(store_failed)?;
        Ok(reports
            .unwrap_or_default()
            .into_iter()
            .map(EmployeeNode)
            .collect())
    }

    async fn span_of_control(&self, ctx: &Context<'_>) -> Result<SpanOfControl> {
        let span = ctx
            .data_unchecked::<Batcher<_, SpanLoader>>()
            .load_one(self.0.id.clone())
            .await
            .map_err(store_failed)?;
        Ok(span.unwrap_or_default().into())
    }

    /// Their manager, their manager's manager, … up to the head of the company, nearest first.
    async fn chain_of_command(&self, ctx: &Context<'_>) -> Result<Vec<EmployeeNode>> {
        let chain = ctx
            .data_unchecked::<Arc<dyn OrgStore>>()
            .chain_of_command(&self.0.id)
            .await
            .map_err(store_failed)?;
        Ok(chain.into_iter().map(EmployeeNode).collect())
    }

    /// Everyone below them, at most `maxDepth` levels down (1 to 64, all when omitted), ordered
    /// by depth then id, `first` (1 to 100) at a time after the `after` cursor.
    async fn subordinates(
        &self,
        ctx: &Context<'_>,
        max_depth: Option<i32>,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> Result<SubordinatePage> {
        let depth = match max_depth {
            Some(d) => Depth::new(i64::from(d)).map_err(bad_input)?,
            None => Depth::UNLIMITED,
        };
        let first = page_size(first)?;
        let after: Option<SubordinateCursor> =
            after.map(|a| a.parse()).transpose().map_err(bad_input)?;
        // One more than asked tells whether another page follows.
        let mut rows = ctx
            .data_unchecked::<Arc<dyn OrgStore>>()
            .subordinates(&self.0.id, depth, first + 1, after.as_ref())
            .await
            .map_err(store_failed)?;
        let more = rows.len() > first as usize;
        rows.truncate(first as usize);
        let next_cursor = more
            .then(|| rows.last().map(|s| SubordinateCursor::after(s).to_string()))
            .flatten();
        Ok(SubordinatePage {
            items: rows
                .into_iter()
                .map(|s| SubordinateNode {
                    employee: s.employee,
                    depth: s.depth,
                })
                .collect(),
            next_cursor,
        })
    }

    /// Their account in the shop (commerce's `User`), linked by e-mail.
    async fn user(&self) -> UserRef {
        UserRef(self.0.email.clone())
    }
}
