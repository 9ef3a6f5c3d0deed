//! An order's whole life through GraphQL over a SQLite store with the demo data (bob buys,
//! alice is staff, user001 is someone else) and the fake payment provider: every `OrderStatus`
//! reached by its mutation, and each refusal answered with a clear code and nothing changed.
//!
//! The store-call counter behind the batching test is process-wide, so that test holds the
//! write side of [`EXCLUSIVE`] while every other test holds the read side.

mod common;

use async_graphql::Response;
use common::{Fixture, codes, fixture, json, viewer};
use polygate_commerce::PasswordHasher;
use polygate_kit::Viewer;
use polygate_kit::metrics::store_calls;
use serde_json::{Value, json};
use tokio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

static EXCLUSIVE: RwLock<()> = RwLock::const_new(());

const ORDER_FIELDS: &str = "id status total { amountMinor }
    shipTo { recipient line1 city country }
    payments { status amount { amountMinor } provider providerRef failure }";

/// The demo shop: bob (buyer, with the demo address), user001 (another customer), alice (staff).
struct Demo {
    f: Fixture,
    bob: Viewer,
    other: Viewer,
    alice: Viewer,
}

enum Guard {
    Shared(#[allow(dead_code)] RwLockReadGuard<'static, ()>),
    Exclusive(#[allow(dead_code)] RwLockWriteGuard<'static, ()>),
}

async fn demo(guard: &mut Option<Guard>, exclusive: bool) -> Demo {
    *guard = Some(if exclusive {
        Guard::Exclusive(EXCLUSIVE.write().await)
    } else {
        Guard::Shared(EXCLUSIVE.read().await)
    });
    let f = fixture().await;
    let report =
        polygate_commerce::seed_demo(f.store.as_ref(), &PasswordHasher::insecure_fast_for_tests())
            .await
            .expect("seed");
    let id_of = |email: &str| {
        report
            .created
            .iter()
            .find(|u| u.email == email)
            .map(|u| u.id.to_string())
            .expect("a demo user")
    };
    Demo {
        bob: viewer(&id_of("bob@example.com"), false),
        other: viewer(&id_of("user001@example.com"), false),
        alice: viewer(&id_of("alice@example.com"), true),
        f,
    }
}

impl Demo {
    async fn run(&self, query: &str, variables: Value, as_: &Viewer) -> Response {
        self.f.run(query, variables, Some(as_.clone())).await
    }

    /// Runs a mutation that must succeed and returns its one field.
    async fn ok(&self, query: &str, variables: Value, as_: &Viewer) -> Value {
        let response = self.run(query, variables, as_).await;
        assert!(response.errors.is_empty(), "{query}: {:?}", response.errors);
        let data = json(&response);
        data.as_object().unwrap().values().next().unwrap().clone()
    }

    /// bob places `quantity` mugs (14.00 USD each) under `key`.
    async fn mugs(&self, quantity: i32, key: &str) -> Value {
        let query = format!(
            "mutation($i: PlaceOrderInput!) {{ placeOrder(input: $i) {{ {ORDER_FIELDS} }} }}"
        );
        let input = json!({"i": {"items": [{"sku": "MUG-01", "quantity": quantity}],
                                 "idempotencyKey": key}});
        self.ok(&query, input, &self.bob).await
    }

    async fn pay(&self, order: &Value, method: &str, key: &str, as_: &Viewer) -> Response {
        let query =
            format!("mutation($i: PayOrderInput!) {{ payOrder(input: $i) {{ {ORDER_FIELDS} }} }}");
        let input = json!({"i": {"orderId": order["id"], "paymentMethod": method,
                                 "idempotencyKey": key}});
        self.run(&query, input, as_).await
    }

    /// `shipOrder`, `markDelivered`, `refundOrder` or `cancelOrder` of `order`.
    async fn act(&self, mutation: &str, order: &Value, as_: &Viewer) -> Response {
        let query = format!("mutation($id: ID!) {{ {mutation}(id: $id) {{ {ORDER_FIELDS} }} }}");
        self.run(&query, json!({"id": order["id"]}), as_).await
    }

    async fn status(&self, order: &Value) -> String {
        let response = self
            .run(
                "query($id: ID!) { order(id: $id) { status } }",
                json!({"id": order["id"]}),
                &self.alice,
            )
            .await;
        json(&response)["order"]["status"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn mugs_available(&self) -> i64 {
        let response = self
            .f
            .run(
                "{ product(sku: \"MUG-01\") { available } }",
                json!({}),
                None,
            )
            .await;
        json(&response)["product"]["available"].as_i64().unwrap()
    }
}

/// The one error's code and message.
fn only_error(response: &Response) -> (String, String) {
    assert_eq!(response.errors.len(), 1, "{:?}", response.errors);
    (
        codes(response).remove(0),
        response.errors[0].message.clone(),
    )
}

fn field(response: &Response, name: &str) -> Value {
    assert!(response.errors.is_empty(), "{name}: {:?}", response.errors);
    json(response)[name].clone()
}

#[tokio::test]
async fn every_order_status_is_reached_through_its_mutation() {
    let mut guard = None;
    let d = demo(&mut guard, false).await;
    let stock = d.mugs_available().await;

    let order = d.mugs(2, "life-1").await;
    assert_eq!(order["status"], "PENDING");
    assert_eq!(order["shipTo"]["recipient"], "Bob Buyer");
    assert_eq!(order["shipTo"]["country"], "DE");
    assert_eq!(order["payments"], json!([]));
    assert_eq!(d.mugs_available().await, stock - 2);

    let paid = field(
        &d.pay(&order, "tok_visa", "pay-1", &d.bob).await,
        "payOrder",
    );
    assert_eq!(paid["status"], "PAID");
    assert_eq!(paid["payments"][0]["status"], "CAPTURED");
    assert_eq!(paid["payments"][0]["amount"]["amountMinor"], "2800");
    assert_eq!(paid["payments"][0]["provider"], "fake");

    let shipped = field(&d.act("shipOrder", &order, &d.alice).await, "shipOrder");
    assert_eq!(shipped["status"], "SHIPPED");
    assert_eq!(
        d.mugs_available().await,
        stock - 2,
        "shipping moves no available units"
    );
    let delivered = field(
        &d.act("markDelivered", &order, &d.alice).await,
        "markDelivered",
    );
    assert_eq!(delivered["status"], "DELIVERED");
    let refunded = field(&d.act("refundOrder", &order, &d.alice).await, "refundOrder");
    assert_eq!(refunded["status"], "REFUNDED");
    assert_eq!(refunded["payments"][0]["status"], "REFUNDED");
    assert_eq!(
        d.mugs_available().await,
        stock - 2,
        "delivered mugs do not come back"
    );

    let cancelled = d.mugs(1, "life-2").await;
    let cancelled = field(
        &d.act("cancelOrder", &cancelled, &d.bob).await,
        "cancelOrder",
    );
    assert_eq!(cancelled["status"], "CANCELLED");

    let unshipped = d.mugs(3, "life-3").await;
    assert_eq!(d.mugs_available().await, stock - 5);
    field(
        &d.pay(&unshipped, "tok_visa", "pay-3", &d.bob).await,
        "payOrder",
    );
    let back = field(
        &d.act("refundOrder", &unshipped, &d.alice).await,
        "refundOrder",
    );
    assert_eq!(back["status"], "REFUNDED");
    assert_eq!(
        d.mugs_available().await,
        stock - 2,
        "refunded before shipping: stock back"
    );
    assert!(d.f.store.inventory_drift().await.unwrap().is_empty());
}

#[tokio::test]
async fn refusals_answer_clear_codes_and_change_nothing() {
    let mut guard = None;
    let d = demo(&mut guard, false).await;
    let order = d.mugs(1, "refuse-1").await;

    let declined = d
        .pay(&order, "tok_chargeDeclined", "declined", &d.bob)
        .await;
    let (code, message) = only_error(&declined);
    assert_eq!(code, "BAD_USER_INPUT");
    assert_eq!(
        message,
        "paymentMethod: declined by the payment provider (card_declined)"
    );
    assert_eq!(d.status(&order).await, "PENDING");

    for (mutation, message) in [
        (
            "refundOrder",
            "id: the order is pending and has no captured payment to refund",
        ),
        (
            "shipOrder",
            "id: the order is pending and is not paid, so it cannot ship",
        ),
        (
            "markDelivered",
            "id: the order is pending and has not shipped, so it cannot be delivered",
        ),
    ] {
        let (code, got) = only_error(&d.act(mutation, &order, &d.alice).await);
        assert_eq!(
            (code.as_str(), got.as_str()),
            ("CONFLICT", message),
            "{mutation}"
        );
        assert_eq!(
            d.status(&order).await,
            "PENDING",
            "{mutation} changed nothing"
        );
    }
    for mutation in ["shipOrder", "refundOrder", "markDelivered"] {
        assert_eq!(
            codes(&d.act(mutation, &order, &d.bob).await),
            ["FORBIDDEN"],
            "{mutation}"
        );
    }
    assert_eq!(
        codes(&d.pay(&order, "tok_visa", "theirs", &d.other).await),
        ["FORBIDDEN"]
    );
    assert_eq!(
        codes(&d.pay(&order, "tok_visa", "staff", &d.alice).await),
        ["FORBIDDEN"]
    );

    let lost = d.pay(&order, "tok_timeout", "lost", &d.bob).await;
    assert_eq!(only_error(&lost).0, "STORE_UNAVAILABLE");
    assert_eq!(d.status(&order).await, "PENDING");
    let (code, _) = only_error(&d.act("cancelOrder", &order, &d.bob).await);
    assert_eq!(code, "CONFLICT", "a payment is under way");
    let paid = field(
        &d.pay(&order, "tok_timeout", "lost", &d.bob).await,
        "payOrder",
    );
    assert_eq!(
        paid["status"], "PAID",
        "the retry with the same key finishes the payment"
    );
    let attempts: Vec<&str> = paid["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        attempts,
        ["FAILED", "CAPTURED"],
        "one declined attempt, one charge"
    );

    let again = d.pay(&order, "tok_visa", "double", &d.bob).await;
    let (code, message) = only_error(&again);
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("CONFLICT", "orderId: the order is paid and cannot be paid")
    );
    let (code, message) = only_error(&d.act("cancelOrder", &order, &d.bob).await);
    assert_eq!(code, "CONFLICT");
    assert!(message.contains("refund"), "{message}");
    let same = field(
        &d.pay(&order, "tok_timeout", "lost", &d.bob).await,
        "payOrder",
    );
    assert_eq!(
        same["payments"], paid["payments"],
        "a retry after success charges nothing"
    );

    let bad = d.pay(&order, "", "k", &d.bob).await;
    assert_eq!(only_error(&bad).0, "BAD_USER_INPUT");
    assert!(d.f.store.inventory_drift().await.unwrap().is_empty());
}

#[tokio::test]
async fn orders_ship_to_a_copy_of_the_chosen_address_book_entry() {
    let mut guard = None;
    let d = demo(&mut guard, false).await;
    let add = "mutation($i: AddressInput!) { addAddress(input: $i) {
        id label address { recipient line1 city postalCode country } } }";
    let bad = d
        .run(add, json!({"i": {"recipient": "Bob", "line1": "1 Rue", "city": "Lyon", "country": "France"}}), &d.bob)
        .await;
    let (code, message) = only_error(&bad);
    assert_eq!(code, "BAD_USER_INPUT");
    assert!(message.starts_with("country:"), "{message}");
    let office = d
        .ok(
            add,
            json!({"i": {"label": "Office", "recipient": "Bob at work", "line1": "1 Rue de la Paix",
                               "city": "Lyon", "postalCode": "69002", "country": "fr"}}),
            &d.bob,
        )
        .await;
    assert_eq!(office["address"]["country"], "FR");

    let book = d
        .ok("{ me { addresses { id label } } }", json!({}), &d.bob)
        .await;
    let labels: Vec<&str> = book["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["Office", "Home"], "newest first");
    let home = book["addresses"][1]["id"].clone();

    let newest = d.mugs(1, "ship-newest").await;
    assert_eq!(
        newest["shipTo"]["city"], "Lyon",
        "the newest entry by default"
    );
    let place =
        format!("mutation($i: PlaceOrderInput!) {{ placeOrder(input: $i) {{ {ORDER_FIELDS} }} }}");
    let chosen = d
        .ok(&place, json!({"i": {"items": [{"sku": "MUG-01", "quantity": 1}], "idempotencyKey": "ship-home", "shipTo": home}}), &d.bob)
        .await;
    assert_eq!(chosen["shipTo"]["city"], "Berlin");

    let theirs = d
        .run(&place, json!({"i": {"items": [{"sku": "MUG-01", "quantity": 1}], "idempotencyKey": "ship-x", "shipTo": office["id"]}}), &d.other)
        .await;
    assert_eq!(
        only_error(&theirs),
        (
            "BAD_USER_INPUT".to_owned(),
            "shipTo: not an address in your address book".to_owned()
        )
    );

    let newcomer = d.f.register("new@example.com", "password-9", "New").await;
    let empty = d
        .run(
            &place,
            json!({"i": {"items": [{"sku": "MUG-01", "quantity": 1}], "idempotencyKey": "ship-y"}}),
            &viewer(&newcomer, false),
        )
        .await;
    let (code, message) = only_error(&empty);
    assert_eq!(code, "BAD_USER_INPUT");
    assert!(
        message.starts_with("shipTo: your address book is empty"),
        "{message}"
    );

    let someone = d
        .run(
            "query($id: ID!) { user(id: $id) { addresses { id } } }",
            json!({"id": d.bob.user_id}),
            &d.other,
        )
        .await;
    assert_eq!(codes(&someone), ["FORBIDDEN"]);
}

#[tokio::test]
async fn a_page_of_orders_with_their_payments_costs_one_payments_call() {
    let mut guard = None;
    let d = demo(&mut guard, true).await;
    for n in 0..4 {
        let order = d.mugs(1, &format!("page-{n}")).await;
        field(
            &d.pay(&order, "tok_visa", &format!("page-pay-{n}"), &d.bob)
                .await,
            "payOrder",
        );
    }
    let before = store_calls("commerce", "payments_of");
    let page = d
        .ok(
            "{ me { orders(first: 10) { nodes { id payments { status } } } } }",
            json!({}),
            &d.bob,
        )
        .await;
    let calls = store_calls("commerce", "payments_of") - before;
    let nodes = page["orders"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 4);
    assert!(
        nodes
            .iter()
            .all(|o| o["payments"][0]["status"] == "CAPTURED")
    );
    assert_eq!(calls, 1, "one payments_of for a page of four orders");
}
