//! Org's `Department` entity, extended here with the hosts it owns (a host's `team` is a
//! department's slug id). The departments of one plan step share one store call.

use async_graphql::{Context, ID, Object, Result};
use polygate_kit::batch::Batcher;

use super::host::HostNode;
use super::loaders::TeamLoader;
use super::store_failed;
use crate::domain::Team;

/// A department, known here only by its id.
pub struct DepartmentNode(pub Team);

#[Object(name = "Department")]
impl DepartmentNode {
    async fn id(&self) -> ID {
        ID(self.0.as_str().to_owned())
    }

    /// The hosts this department owns, in id order.
    async fn hosts(&self, ctx: &Context<'_>) -> Result<Vec<HostNode>> {
        let hosts = ctx
            .data_unchecked::<Batcher<Team, TeamLoader>>()
            .load_one(self.0.clone())
            .await
            .map_err(store_failed)?
            .unwrap_or_default();
        Ok(hosts.into_iter().map(HostNode).collect())
    }
}
