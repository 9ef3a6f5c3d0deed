//! The `Department` entity: its place in the department tree, its head, its people, and the
//! tree below it with head counts.

use std::sync::Arc;

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use polygate_kit::batch::Batcher;

use super::employee::EmployeeNode;
use super::loaders::{DepartmentLoader, HeadLoader, SubDepartmentsLoader};
use super::{employee_id, page_size, store_failed};
use crate::domain::{Department, DepartmentCount};
use crate::store::OrgStore;

pub struct DepartmentNode(pub Department);

/// One department of a tree, with its head counts.
pub struct DepartmentHeadCount(DepartmentCount);

#[Object]
impl DepartmentHeadCount {
    async fn department(&self) -> DepartmentNode {
        DepartmentNode(self.0.department.clone())
    }

    /// Levels below the tree's root: 0 for the root.
    async fn depth(&self) -> i32 {
        self.0.depth as i32
    }

    /// Members of this department itself.
    async fn head_count(&self) -> i64 {
        self.0.head_count as i64
    }

    /// Members of this department and of every department below it.
    async fn total_head_count(&self) -> i64 {
        self.0.total_head_count as i64
    }
}

/// A page of employees, by id.
#[derive(SimpleObject)]
pub struct EmployeePage {
    pub items: Vec<EmployeeNode>,
    /// Pass as `after` for the next page; null on the last page.
    pub next_cursor: Option<ID>,
}

#[Object(name = "Department")]
impl DepartmentNode {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn name(&self) -> &str {
        self.0.name.as_str()
    }

    /// The department this one is part of; null for the company itself.
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<DepartmentNode>> {
        let Some(parent) = self.0.parent.clone() else {
            return Ok(None);
        };
        ctx.data_unchecked::<Batcher<_, DepartmentLoader>>()
            .load_one(parent)
            .await
            .map(|d| d.map(DepartmentNode))
            .map_err(store_failed)
    }

    /// The departments directly part of this one, by id.
    async fn children(&self, ctx: &Context<'_>) -> Result<Vec<DepartmentNode>> {
        let children = ctx
            .data_unchecked::<Batcher<_, SubDepartmentsLoader>>()
            .load_one(self.0.id.clone())
            .await
            .map_err(store_failed)?;
        Ok(children
            .unwrap_or_default()
            .into_iter()
            .map(DepartmentNode)
            .collect())
    }

    /// Who heads it; null when nobody does.
    async fn head(&self, ctx: &Context<'_>) -> Result<Option<EmployeeNode>> {
        ctx.data_unchecked::<Batcher<_, HeadLoader>>()
            .load_one(self.0.id.clone())
            .await
            .map(|h| h.map(EmployeeNode))
            .map_err(store_failed)
    }

    /// This department and every department below it, parents first, with head counts.
    async fn tree(&self, ctx: &Context<'_>) -> Result<Vec<DepartmentHeadCount>> {
        let rows = ctx
            .data_unchecked::<Arc<dyn OrgStore>>()
            .department_tree(&self.0.id)
            .await
            .map_err(store_failed)?;
        Ok(rows.into_iter().map(DepartmentHeadCount).collect())
    }

    /// The people of this department and of every department below it, by id, `first` (1 to
    /// 100) at a time after the `after` cursor.
    async fn people(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
        after: Option<ID>,
    ) -> Result<EmployeePage> {
        let first = page_size(first)?;
        let after = after.as_ref().map(employee_id).transpose()?;
        let mut rows = ctx
            .data_unchecked::<Arc<dyn OrgStore>>()
            .people_in_department(&self.0.id, first + 1, after.as_ref())
            .await
            .map_err(store_failed)?;
        let more = rows.len() > first as usize;
        rows.truncate(first as usize);
        let next_cursor = more
            .then(|| rows.last().map(|e| ID(e.id.to_string())))
            .flatten();
        Ok(EmployeePage {
            items: rows.into_iter().map(EmployeeNode).collect(),
            next_cursor,
        })
    }
}
