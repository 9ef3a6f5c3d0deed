//! Gathers the orders that arrive while earlier ones are being placed, and places them together
//! in one transaction ([`together::place`]; README, "Placing orders together").
//!
//! Non-obvious:
//! - There is no timer. A call starts as soon as fewer than [`IN_FLIGHT`] are running, with
//!   every order waiting then; a quiet database places each order alone, as fast as before, and
//!   a busy one commits once per call instead of once per order.
//! - Calls run on spawned tasks, not on the first caller's: a caller that times out or goes away
//!   must not strand the orders gathered with its own.
//! - When a call fails, nothing of it was written (one transaction), so each of its orders is
//!   tried again alone and gets an error of its own only if it fails alone.

use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

use futures::StreamExt as _;
use prometheus::{Histogram, IntGauge, register_histogram, register_int_gauge};
use sqlx::PgPool;
use tokio::sync::oneshot;

use super::together;
use crate::domain::{OrderRequest, PlacedAtOnce};
use crate::store::StoreError;

/// Calls in flight at once: one can compute while another waits for its commit to reach disk.
/// More would mostly wait on each other's stock locks, which a call holds until it commits.
pub const IN_FLIGHT: usize = 2;
/// Orders in one call at most: bounds a call's arguments, the stock it locks and its time.
pub const MAX_ORDERS: usize = 64;

static ORDERS_PER_CALL: LazyLock<Histogram> = LazyLock::new(|| {
    register_histogram!(
        "polygate_commerce_orders_per_placing_call",
        "Orders placed together in one transaction (place_orders_together)",
        vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0]
    )
    .expect("metric registers once")
});

static WAITING: LazyLock<IntGauge> = LazyLock::new(|| {
    register_int_gauge!(
        "polygate_commerce_orders_waiting_to_be_placed",
        "Orders waiting for the next place_orders_together call (both calls in flight)"
    )
    .expect("metric registers once")
});

type Answer = Result<PlacedAtOnce, StoreError>;

/// The placing queue of one database.
pub struct Gathering {
    pool: PgPool,
    /// Behind a transaction pooler each call is an explicit transaction (see `together::place`).
    pooled: bool,
    queue: Mutex<Queue>,
}

#[derive(Default)]
struct Queue {
    waiting: Vec<Waiting>,
    in_flight: usize,
}

struct Waiting {
    order: OrderRequest,
    answer: oneshot::Sender<Answer>,
}

impl Gathering {
    pub fn new(pool: PgPool, pooled: bool) -> Arc<Self> {
        Arc::new(Self {
            pool,
            pooled,
            queue: Mutex::default(),
        })
    }

    /// Places `order` in the next call, with whatever else is waiting by then.
    pub async fn place(self: &Arc<Self>, order: &OrderRequest) -> Answer {
        let (answer, answered) = oneshot::channel();
        {
            let mut queue = self.queue();
            queue.waiting.push(Waiting {
                order: order.clone(),
                answer,
            });
            WAITING.set(queue.waiting.len() as i64);
        }
        self.start_calls();
        answered.await.unwrap_or_else(|_| {
            Err(StoreError::Other(
                "the call placing this order ended without an answer".to_owned(),
            ))
        })
    }

    fn queue(&self) -> MutexGuard<'_, Queue> {
        // Nothing panics while holding the lock, so a poisoned queue is still consistent.
        self.queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn start_calls(self: &Arc<Self>) {
        loop {
            let gathered: Vec<Waiting> = {
                let mut queue = self.queue();
                if queue.in_flight >= IN_FLIGHT || queue.waiting.is_empty() {
                    return;
                }
                queue.in_flight += 1;
                let take = queue.waiting.len().min(MAX_ORDERS);
                let gathered = queue.waiting.drain(..take).collect();
                WAITING.set(queue.waiting.len() as i64);
                gathered
            };
            let gathering = Arc::clone(self);
            tokio::spawn(async move {
                let slot = InFlight(Arc::clone(&gathering));
                gathering.call(gathered).await;
                drop(slot);
                gathering.start_calls();
            });
        }
    }

    async fn call(&self, gathered: Vec<Waiting>) {
        ORDERS_PER_CALL.observe(gathered.len() as f64);
        let orders: Vec<&OrderRequest> = gathered.iter().map(|w| &w.order).collect();
        match together::place(&self.pool, &orders, self.pooled).await {
            Ok(answers) => {
                for (waiting, answer) in gathered.into_iter().zip(answers) {
                    let _gone = waiting.answer.send(answer);
                }
            }
            Err(e) if gathered.len() == 1 => {
                let _gone = gathered.into_iter().next().map(|w| w.answer.send(Err(e)));
            }
            Err(e) => {
                tracing::debug!(error = %e, orders = gathered.len(), "placing together failed; placing each alone");
                futures::stream::iter(gathered)
                    .for_each_concurrent(IN_FLIGHT, |waiting| async move {
                        let answer = self.alone(&waiting.order).await;
                        let _gone = waiting.answer.send(answer);
                    })
                    .await;
            }
        }
    }

    async fn alone(&self, order: &OrderRequest) -> Answer {
        ORDERS_PER_CALL.observe(1.0);
        together::place(&self.pool, &[order], self.pooled)
            .await?
            .pop()
            .unwrap_or_else(|| Err(StoreError::Other("no answer for a lone order".to_owned())))
    }
}

/// Frees its call's slot however the call ends, a panic included.
struct InFlight(Arc<Gathering>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.queue().in_flight -= 1;
    }
}
