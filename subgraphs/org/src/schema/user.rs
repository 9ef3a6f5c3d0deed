//! Commerce's `User`, as the org sees it: keyed by e-mail, with the `employee` it is.
//!
//! Non-obvious: the org resolves `User` only from an e-mail (`@key(fields: "email")`), so the
//! gateway can go from commerce's `me` to the org in one hop, and from an `Employee` back to
//! commerce by the same key. Reading `email` here needs a signed-in viewer, as on `Employee`.

use async_graphql::{Context, Object, Result};
use polygate_kit::Viewer;
use polygate_kit::batch::Batcher;

use super::employee::EmployeeNode;
use super::loaders::EmailLoader;
use super::store_failed;
use crate::domain::Email;

/// A reference to commerce's `User` by e-mail.
pub struct UserRef(pub Email);

#[Object(name = "User")]
impl UserRef {
    async fn email(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Viewer::require(ctx)?;
        Ok(Some(self.0.as_str()))
    }

    /// The employee with this e-mail; null when the user does not work here.
    async fn employee(&self, ctx: &Context<'_>) -> Result<Option<EmployeeNode>> {
        ctx.data_unchecked::<Batcher<_, EmailLoader>>()
            .load_one(self.0.clone())
            .await
            .map(|e| e.map(EmployeeNode))
            .map_err(store_failed)
    }
}
