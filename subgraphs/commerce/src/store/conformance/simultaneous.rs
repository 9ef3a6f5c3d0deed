//! Orders placed at the same moment. An adapter may place them together in one transaction
//! (Postgres gathers the orders that arrive while it is busy), or race them through the saga;
//! either way each order must end as it would have alone.
//!
//! Non-obvious: the check is split into [`SimultaneousOrders::prepare`], [`place`] and
//! [`check`] so an adapter's own test can hold its database busy around `place` and be sure the
//! orders are gathered into one call (`tests/placing_together_postgres.rs`).
//!
//! [`place`]: SimultaneousOrders::place
//! [`check`]: SimultaneousOrders::check

use futures::future::join_all;

use super::orders::{place, unfinished_of};
use super::{available, create_product, create_user, eur, qty, stocked_product, unique_key, usd};
use crate::domain::{IdempotencyKey, Order, Product, User};
use crate::orders::{PlaceError, PlaceOrder, place_order};
use crate::store::CommerceStore;

/// Five orders placed at once, each with a different fate:
/// - `refused`: 1 × `contested` (1 in stock) and 1 × `absent` (never stocked): out of stock; the
///   unit of `contested` it may have held goes back, so
/// - `after_refused`, 1 × `contested`, gets that unit whichever of the two goes first;
/// - `twice`: the same user and key twice, 1 × `plenty`: one order, returned to both;
/// - `in_euros`: 1 × `plenty` in EUR, which has no EUR price: refused.
pub struct SimultaneousOrders {
    contested: Product,
    absent: Product,
    plenty: Product,
    buyers: [User; 4],
    twice_key: IdempotencyKey,
}

/// What each order got, in the order of [`SimultaneousOrders`]' fields.
pub struct Outcomes(Vec<Result<Order, PlaceError>>);

impl SimultaneousOrders {
    /// How many orders [`place`](Self::place) sends.
    pub const ORDERS: usize = 5;

    pub async fn prepare(store: &dyn CommerceStore) -> Self {
        let contested = stocked_product(store, "same-moment", 300, 1).await;
        let absent = create_product(store, "same-moment", usd(300)).await;
        let plenty = stocked_product(store, "same-moment", 300, 5).await;
        let mut buyers = Vec::new();
        for _ in 0..4 {
            buyers.push(create_user(store, "same-moment").await);
        }
        Self {
            contested,
            absent,
            plenty,
            buyers: buyers.try_into().expect("four buyers"),
            twice_key: unique_key("same-moment"),
        }
    }

    /// Places the five orders concurrently, in the order listed on the type.
    pub async fn place(&self, store: &dyn CommerceStore) -> Outcomes {
        let [refused_by, after_refused_by, twice_by, in_euros_by] = &self.buyers;
        let refused_key = unique_key("same-moment");
        let after_key = unique_key("same-moment");
        let in_euros = PlaceOrder {
            user: in_euros_by.id,
            key: unique_key("same-moment"),
            currency: eur(),
            lines: vec![(self.plenty.sku.clone(), qty(1))],
            ship_to: super::ship_to(),
        };
        let both = [(&self.contested.sku, 1), (&self.absent.sku, 1)];
        let contested = [(&self.contested.sku, 1)];
        let plenty = [(&self.plenty.sku, 1)];
        let calls: Vec<futures::future::BoxFuture<'_, _>> = vec![
            Box::pin(place(store, refused_by, &refused_key, &both)),
            Box::pin(place(store, after_refused_by, &after_key, &contested)),
            Box::pin(place(store, twice_by, &self.twice_key, &plenty)),
            Box::pin(place(store, twice_by, &self.twice_key, &plenty)),
            Box::pin(place_order(store, in_euros)),
        ];
        Outcomes(join_all(calls).await)
    }

    pub async fn check(&self, store: &dyn CommerceStore, outcomes: Outcomes) {
        let [refused, after_refused, twice, twice_again, in_euros]: [Result<Order, PlaceError>; 5] =
            outcomes.0.try_into().expect("five outcomes");
        // Short of `absent` if it came first, of `contested` if the other order took the unit.
        match refused {
            Err(PlaceError::OutOfStock(sku)) => assert!(
                sku == self.absent.sku.as_str() || sku == self.contested.sku.as_str(),
                "out of stock of {sku}"
            ),
            other => panic!("the order of a never-stocked product is refused: {other:?}"),
        }
        let after_refused = after_refused.expect("the contested unit goes to the other order");
        assert_eq!(after_refused.lines.len(), 1);
        assert_eq!(after_refused.lines[0].product, self.contested.id);
        let (twice, twice_again) = (twice.expect("placed"), twice_again.expect("placed"));
        assert_eq!(twice.id, twice_again.id, "one key, one order");
        match in_euros {
            Err(PlaceError::NoPrice(sku)) => assert_eq!(sku, self.plenty.sku.as_str()),
            other => panic!("an order in a currency without a price is refused: {other:?}"),
        }
        assert_eq!(available(store, self.contested.id).await, 0);
        assert_eq!(available(store, self.absent.id).await, 0);
        assert_eq!(
            available(store, self.plenty.id).await,
            4,
            "one unit sold once"
        );
        let buyers: Vec<_> = self.buyers.iter().map(|b| b.id).collect();
        assert!(unfinished_of(store, &buyers).await.is_empty());
    }
}

/// Orders placed at the same moment each end as they would have alone.
pub async fn orders_placed_at_the_same_moment_keep_their_own_outcomes(store: &dyn CommerceStore) {
    let orders = SimultaneousOrders::prepare(store).await;
    let outcomes = orders.place(store).await;
    orders.check(store, outcomes).await;
}
