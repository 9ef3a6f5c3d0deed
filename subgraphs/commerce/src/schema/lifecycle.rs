//! An order's life after `placeOrder`: `payOrder` (the buyer), `shipOrder`, `markDelivered` and
//! `refundOrder` (staff). Each refusal is a clear code with nothing changed: paying a paid order
//! or refunding an unpaid one is `CONFLICT`, a declined payment is `BAD_USER_INPUT` naming
//! `paymentMethod`, a provider that did not answer is `STORE_UNAVAILABLE` (retry with the same
//! key).
//!
//! Non-obvious: the status checks here are only for the message; the store re-checks every
//! transition under the order's row lock, so two staff members shipping at once ship once.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Result};
use polygate_kit::{ErrorCode, api_error};

use super::order::{OrderNode, not_found, visible_order};
use super::{bad_input, parse_id, signed_in, staff_only, store, store_failed};
use crate::domain::{IdempotencyKey, OrderStatus, PaymentMethod};
use crate::ids::OrderId;
use crate::orders::{self, StatusError};
use crate::payments::{self, PROVIDER_TIMEOUT, PayError, PayOrder, PaymentProvider, RefundError};

/// The payment provider the mutations use.
#[derive(Clone)]
pub(crate) struct Provider(pub Arc<dyn PaymentProvider>);

fn provider<'a>(ctx: &Context<'a>) -> &'a dyn PaymentProvider {
    ctx.data_unchecked::<Provider>().0.as_ref()
}

/// Paying for an order.
#[derive(InputObject)]
pub struct PayOrderInput {
    pub order_id: ID,
    /// The payment method as the provider's client library tokenised it, e.g. `tok_visa`.
    pub payment_method: String,
    /// 1 to 100 printable ASCII characters, chosen by the client per payment: sending it again
    /// (after a timeout, say) continues the same payment and never charges twice.
    pub idempotency_key: String,
}

fn unanswered() -> async_graphql::Error {
    api_error(
        ErrorCode::StoreUnavailable,
        "the payment provider did not answer; retry with the same idempotencyKey",
    )
}

fn wrong_status(field: &str, status: OrderStatus, what: &str) -> async_graphql::Error {
    api_error(
        ErrorCode::Conflict,
        format!("{field}: the order is {} and {what}", status.as_str()),
    )
}

/// `payOrder`: the buyer pays their pending order.
pub(crate) async fn pay(ctx: &Context<'_>, input: PayOrderInput) -> Result<OrderNode> {
    let (_, buyer) = signed_in(ctx)?;
    let order = parse_id::<OrderId>(&input.order_id, "orderId", "order")?;
    let key = IdempotencyKey::parse(&input.idempotency_key).map_err(bad_input)?;
    let method = PaymentMethod::parse(&input.payment_method).map_err(bad_input)?;
    // Someone else's order is FORBIDDEN (staff included: paying is the buyer's act).
    match visible_order(ctx, order).await? {
        None => return Err(not_found()),
        Some(found) if found.user != buyer => {
            return Err(api_error(
                ErrorCode::Forbidden,
                "only the buyer may pay an order",
            ));
        }
        Some(_) => {}
    }
    let call = PayOrder {
        order,
        key,
        method,
        reader: Some(buyer),
    };
    match payments::pay_order(store(ctx).as_ref(), provider(ctx), call, PROVIDER_TIMEOUT).await {
        Ok(paid) => Ok(OrderNode::new(paid)),
        Err(PayError::NotFound) => Err(not_found()),
        Err(PayError::NotPayable(status)) => Err(wrong_status("orderId", status, "cannot be paid")),
        Err(PayError::InProgress) => Err(api_error(
            ErrorCode::Conflict,
            "orderId: another payment of this order is under way; retry it with its idempotencyKey",
        )),
        Err(PayError::NothingToPay) => Err(api_error(
            ErrorCode::Conflict,
            "orderId: the order's total is zero; there is nothing to pay",
        )),
        Err(PayError::Declined(reason)) => Err(api_error(
            ErrorCode::BadUserInput,
            format!("paymentMethod: declined by the payment provider ({reason})"),
        )),
        Err(PayError::ProviderUnavailable(e)) => {
            tracing::warn!(%order, error = %e, "payOrder: the provider's answer is unknown");
            Err(unanswered())
        }
        Err(PayError::Store(e)) => Err(store_failed(e)),
    }
}

/// `refundOrder` (staff): the captured payment goes back.
pub(crate) async fn refund(ctx: &Context<'_>, id: ID) -> Result<OrderNode> {
    let staff = staff_only(ctx, "refund orders")?;
    let order = parse_id::<OrderId>(&id, "id", "order")?;
    match payments::refund_order(
        store(ctx).as_ref(),
        provider(ctx),
        order,
        Some(staff),
        PROVIDER_TIMEOUT,
    )
    .await
    {
        Ok(refunded) => Ok(OrderNode::new(refunded)),
        Err(RefundError::NotFound) => Err(not_found()),
        Err(RefundError::NotRefundable(status)) => Err(wrong_status(
            "id",
            status,
            "has no captured payment to refund",
        )),
        Err(RefundError::ProviderUnavailable(e)) => {
            tracing::warn!(%order, error = %e, "refundOrder: the provider's answer is unknown");
            Err(api_error(
                ErrorCode::StoreUnavailable,
                "the payment provider did not answer; retry the refund",
            ))
        }
        Err(RefundError::Store(e)) => Err(store_failed(e)),
    }
}

/// `shipOrder` (staff): a paid order leaves the warehouse.
pub(crate) async fn ship(ctx: &Context<'_>, id: ID) -> Result<OrderNode> {
    staff_only(ctx, "ship orders")?;
    let order = parse_id::<OrderId>(&id, "id", "order")?;
    status_change(
        orders::ship_order(store(ctx).as_ref(), order).await,
        "is not paid, so it cannot ship",
    )
}

/// `markDelivered` (staff, or the carrier's integration signed in as staff).
pub(crate) async fn deliver(ctx: &Context<'_>, id: ID) -> Result<OrderNode> {
    staff_only(ctx, "mark orders delivered")?;
    let order = parse_id::<OrderId>(&id, "id", "order")?;
    status_change(
        orders::mark_delivered(store(ctx).as_ref(), order).await,
        "has not shipped, so it cannot be delivered",
    )
}

fn status_change(
    outcome: Result<crate::domain::Order, StatusError>,
    refused: &str,
) -> Result<OrderNode> {
    match outcome {
        Ok(order) => Ok(OrderNode::new(order)),
        Err(StatusError::NotFound) => Err(not_found()),
        Err(StatusError::Refused(status)) => Err(wrong_status("id", status, refused)),
        Err(StatusError::Store(e)) => Err(store_failed(e)),
    }
}
