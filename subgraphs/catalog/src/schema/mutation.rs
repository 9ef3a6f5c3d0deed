//! Mutations: reviews for signed-in users, content and variants for staff.

use async_graphql::{Context, Object, Result};

use super::inputs::{AddReviewInput, ProductContentInput, VariantInput};
use super::product::{ProductNode, ReviewNode};
use super::{bad_input, now, staff_only, store, store_failed};
use crate::domain::{NewReview, Sku, UserRef};

pub struct Mutation;

#[Object]
impl Mutation {
    /// Reviews a product as the signed-in user: one review per user per product (`CONFLICT` for
    /// a second, different one; sending the same review again returns it). Rating 1 to 5, title
    /// 1 to 120 characters, body up to 4000, else `BAD_USER_INPUT`; `NOT_FOUND` when the product
    /// has no catalog content.
    async fn add_review(&self, ctx: &Context<'_>, input: AddReviewInput) -> Result<ReviewNode> {
        let viewer = polygate_kit::Viewer::require(ctx)?;
        let sku = Sku::parse(&input.sku).map_err(bad_input)?;
        let review = NewReview::new(
            sku,
            UserRef(viewer.user_id.clone()),
            i64::from(input.rating),
            &input.title,
            &input.body,
            now(ctx),
        )
        .map_err(bad_input)?;
        let outcome = store(ctx).add_review(review).await.map_err(store_failed)?;
        Ok(ReviewNode(outcome.review().clone()))
    }

    /// Creates or replaces a product's content (reviews and rating stay); staff only.
    /// `CONFLICT` when a variant SKU belongs to another product.
    async fn upsert_product_content(
        &self,
        ctx: &Context<'_>,
        input: ProductContentInput,
    ) -> Result<ProductNode> {
        staff_only(ctx, "edit product content")?;
        let content = input.parse().map_err(bad_input)?;
        let product = store(ctx)
            .upsert_content(content, now(ctx))
            .await
            .map_err(store_failed)?;
        Ok(ProductNode::new(product))
    }

    /// Adds a variant to a product, or replaces the one with the same SKU; staff only.
    async fn upsert_variant(
        &self,
        ctx: &Context<'_>,
        sku: String,
        variant: VariantInput,
    ) -> Result<ProductNode> {
        staff_only(ctx, "edit variants")?;
        let sku = Sku::parse(&sku).map_err(bad_input)?;
        let variant = variant.parse("variant").map_err(bad_input)?;
        let product = store(ctx)
            .upsert_variant(&sku, variant, now(ctx))
            .await
            .map_err(store_failed)?;
        Ok(ProductNode::new(product))
    }

    /// Removes one variant from a product; staff only. `NOT_FOUND` when there is no such
    /// variant.
    async fn remove_variant(
        &self,
        ctx: &Context<'_>,
        sku: String,
        variant_sku: String,
    ) -> Result<ProductNode> {
        staff_only(ctx, "edit variants")?;
        let sku = Sku::parse(&sku).map_err(bad_input)?;
        let variant_sku = Sku::parse_field("variantSku", &variant_sku).map_err(bad_input)?;
        let product = store(ctx)
            .remove_variant(&sku, &variant_sku, now(ctx))
            .await
            .map_err(store_failed)?;
        Ok(ProductNode::new(product))
    }

    /// Renames a brand in every product that carries it (the name is copied into each product
    /// document); staff only. Returns how many products were rewritten. Runs in batches of 100,
    /// one transaction each, so readers may see both names until it returns.
    async fn rename_brand(&self, ctx: &Context<'_>, from: String, to: String) -> Result<i32> {
        staff_only(ctx, "rename brands")?;
        let from = brand_name("from", &from)?;
        let to = brand_name("to", &to)?;
        let mut renamed = 0usize;
        // Bounded: 10 000 batches of 100 is a million products.
        for _ in 0..10_000 {
            let batch = store(ctx)
                .rename_brand(&from, &to, 100, now(ctx))
                .await
                .map_err(store_failed)?;
            if batch.is_empty() {
                break;
            }
            renamed += batch.len();
        }
        Ok(i32::try_from(renamed).unwrap_or(i32::MAX))
    }

    /// Deletes a product's catalog content and its reviews; staff only. False when it had
    /// none.
    async fn delete_product_content(&self, ctx: &Context<'_>, sku: String) -> Result<bool> {
        staff_only(ctx, "delete product content")?;
        let sku = Sku::parse(&sku).map_err(bad_input)?;
        store(ctx)
            .delete_content(&sku, now(ctx))
            .await
            .map_err(store_failed)
    }
}

fn brand_name(field: &str, raw: &str) -> Result<String> {
    crate::domain::bounded_text(field, raw, crate::domain::limits::BRAND, false).map_err(bad_input)
}
