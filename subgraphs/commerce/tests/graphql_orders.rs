//! The catalog and order API executed directly over a SQLite store: products, placing and
//! cancelling orders, restocking, who may see which order, input validation, and batching.
//!
//! The store-call counter behind the batching test is process-wide, so that test holds the
//! write side of [`EXCLUSIVE`] while every other test holds the read side.

mod common;

use common::{Fixture, codes, fixture, json, viewer};
use polygate_commerce::domain::{
    CategorySlug, Currency, IdempotencyKey, Money, NewProduct, ProductName, Quantity, Restock,
    RestockOutcome, Sku, WarehouseCode,
};
use polygate_commerce::ids::{DEFAULT_SHARD, ProductId};
use polygate_commerce::seed::DemoProduct;
use polygate_kit::Viewer;
use polygate_kit::metrics::store_calls;
use serde_json::{Value, json};
use tokio::sync::{RwLock, RwLockReadGuard};

static EXCLUSIVE: RwLock<()> = RwLock::const_new(());

const PLACE: &str = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) {
    id status currency total { amountMinor currency } createdAt user { id }
    lines { sku quantity unitPrice { amountMinor currency } product { id sku available } } } }";
const ORDER: &str = "query($id: ID!) { order(id: $id) { id status user { id } } }";
const CANCEL: &str = "mutation($id: ID!) { cancelOrder(id: $id) { id status } }";
const PRODUCT: &str = "query($id: ID, $sku: String) {
    product(id: $id, sku: $sku) { id sku name category available prices { amountMinor currency }
        usd: price { amountMinor currency } eur: price(currency: \"EUR\") { amountMinor } } }";
const RESTOCK: &str = "mutation($i: RestockInput!) { restock(input: $i) { sku available } }";
const MY_ORDERS: &str = "query($first: Int, $after: String) {
    me { orders(first: $first, after: $after) { nodes { id } endCursor hasNextPage } } }";

/// A fresh store with a three-product catalog and three users: a buyer, another customer, and
/// someone who signs in as staff.
struct Shop {
    f: Fixture,
    buyer: Viewer,
    other: Viewer,
    staff: Viewer,
    _shared: RwLockReadGuard<'static, ()>,
}

/// The test catalog: two kitchen products (the knife priced in USD only) and a notebook.
const CATALOG: [DemoProduct; 3] = [
    DemoProduct {
        sku: "MUG-01",
        name: "Mug",
        description: "A mug.",
        category: "kitchen",
        usd_minor: 1400,
        eur_minor: Some(1300),
        stock: 10,
    },
    DemoProduct {
        sku: "KNIFE-01",
        name: "Knife",
        description: "A knife.",
        category: "kitchen",
        usd_minor: 8900,
        eur_minor: None,
        stock: 3,
    },
    DemoProduct {
        sku: "NOTEBOOK-A5",
        name: "Notebook",
        description: "A notebook.",
        category: "office",
        usd_minor: 1250,
        eur_minor: None,
        stock: 50,
    },
];

async fn shop() -> Shop {
    let shared = EXCLUSIVE.read().await;
    let f = fixture().await;
    stock_catalog(&f).await;
    let buyer = f.register("buyer@example.com", "password-1", "Buyer").await;
    let other = f.register("other@example.com", "password-2", "Other").await;
    let staff = f.register("staff@example.com", "password-3", "Staff").await;
    let (buyer, other, staff) = (
        viewer(&buyer, false),
        viewer(&other, false),
        viewer(&staff, true),
    );
    for who in [&buyer, &other, &staff] {
        common::add_address(&f, who).await;
    }
    Shop {
        f,
        buyer,
        other,
        staff,
        _shared: shared,
    }
}

async fn stock_catalog(f: &Fixture) {
    let store = f.store.as_ref();
    let warehouse = WarehouseCode::parse("BER-1").unwrap();
    store
        .ensure_warehouse(&warehouse, "Berlin 1", "DE")
        .await
        .unwrap();
    for demo in CATALOG {
        let product = store
            .create_product(NewProduct {
                id: ProductId::new(DEFAULT_SHARD),
                sku: Sku::parse(demo.sku).unwrap(),
                name: ProductName::parse(demo.name).unwrap(),
                description: demo.description.to_owned(),
                category: Some(CategorySlug::parse(demo.category).unwrap()),
                price: Money::new(demo.usd_minor, Currency::usd()).unwrap(),
            })
            .await
            .unwrap();
        if let Some(eur) = demo.eur_minor {
            let eur = Money::new(eur, Currency::parse("EUR").unwrap()).unwrap();
            store.set_price(product.id, eur).await.unwrap();
        }
        let restock = Restock {
            key: IdempotencyKey::parse(&format!("test-{}", demo.sku)).unwrap(),
            product: product.id,
            warehouse: warehouse.clone(),
            quantity: Quantity::new(demo.stock, "quantity").unwrap(),
        };
        assert_eq!(
            store.restock(&restock).await.unwrap(),
            RestockOutcome::Applied
        );
    }
}

impl Shop {
    async fn run(&self, query: &str, variables: Value, as_: &Viewer) -> async_graphql::Response {
        self.f.run(query, variables, Some(as_.clone())).await
    }

    /// Places `items` (`[(sku, quantity)]`) in USD with `key` as `as_`.
    async fn place(
        &self,
        as_: &Viewer,
        items: &[(&str, i32)],
        key: &str,
    ) -> async_graphql::Response {
        let items: Vec<Value> = items
            .iter()
            .map(|(sku, quantity)| json!({"sku": sku, "quantity": quantity}))
            .collect();
        let input = json!({"i": {"items": items, "idempotencyKey": key}});
        self.run(PLACE, input, as_).await
    }

    /// Places an order that must succeed and returns it.
    async fn placed(&self, as_: &Viewer, items: &[(&str, i32)], key: &str) -> Value {
        let response = self.place(as_, items, key).await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        json(&response)["placeOrder"].clone()
    }

    async fn product(&self, sku: &str) -> Value {
        let response = self.f.run(PRODUCT, json!({"sku": sku}), None).await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        json(&response)["product"].clone()
    }

    async fn available(&self, sku: &str) -> i64 {
        self.product(sku).await["available"].as_i64().unwrap()
    }
}

/// The one error of `response`: its code and message.
fn only_error(response: &async_graphql::Response) -> (String, String) {
    assert_eq!(response.errors.len(), 1, "{:?}", response.errors);
    (
        codes(response).remove(0),
        response.errors[0].message.clone(),
    )
}

#[tokio::test]
async fn placing_an_order_holds_stock_at_the_current_prices() {
    let s = shop().await;
    let order = s
        .placed(
            &s.buyer,
            &[("mug-01", 2), ("KNIFE-01", 1), ("MUG-01", 1)],
            "k1",
        )
        .await;
    assert_eq!(order["status"], "PENDING");
    assert_eq!(order["currency"], "USD");
    assert_eq!(
        order["total"],
        json!({"amountMinor": "13100", "currency": "USD"}),
        "3 × 14.00 + 89.00, as a Long string"
    );
    assert!(order["createdAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(order["user"]["id"], s.buyer.user_id.as_str());
    let lines = order["lines"].as_array().unwrap();
    let mug = lines.iter().find(|l| l["sku"] == "MUG-01").unwrap();
    assert_eq!(mug["quantity"], 3, "lines of one SKU are merged");
    assert_eq!(
        mug["unitPrice"],
        json!({"amountMinor": "1400", "currency": "USD"})
    );
    assert_eq!(mug["product"]["sku"], "MUG-01");
    assert_eq!(mug["product"]["available"], 7);
    assert_eq!(s.available("KNIFE-01").await, 2);
}

#[tokio::test]
async fn place_order_inputs_are_checked_with_bad_user_input_naming_the_field() {
    let s = shop().await;
    let key = |k: &str| k.to_owned();
    let item = |sku: &str, quantity: i32| json!({"sku": sku, "quantity": quantity});
    let fifty_one: Vec<Value> = (0..51).map(|n| item(&format!("SKU-{n}"), 1)).collect();
    let cases = [
        (
            json!([item("NOPE-1", 1)]),
            "USD",
            key("a"),
            "items: unknown SKU NOPE-1",
        ),
        (
            json!([item("MUG-01", 0)]),
            "USD",
            key("a"),
            "items[0].quantity: must be at least 1",
        ),
        (
            json!([item("MUG-01", 1), item("KNIFE-01", 10001)]),
            "USD",
            key("a"),
            "items[1].quantity: must be at most 10000",
        ),
        (
            json!([item("MUG-01", -4)]),
            "USD",
            key("a"),
            "items[0].quantity: must be at least 1",
        ),
        (json!([item("a b", 1)]), "USD", key("a"), "items[0].sku:"),
        (json!([item("MUG-01", 1)]), "usd", key("a"), "currency:"),
        (json!([item("MUG-01", 1)]), "EURO", key("a"), "currency:"),
        (
            json!([]),
            "USD",
            key("a"),
            "items: must contain at least one item",
        ),
        (
            json!(fifty_one),
            "USD",
            key("a"),
            "items: must contain at most 50 items",
        ),
        (
            json!([item("MUG-01", 6000), item("mug-01", 6000)]),
            "USD",
            key("a"),
            "items: the quantities of one SKU together must be at most 10000",
        ),
        (
            json!([item("MUG-01", 1)]),
            "USD",
            key(""),
            "idempotencyKey:",
        ),
        (
            json!([item("MUG-01", 1)]),
            "USD",
            "k".repeat(101),
            "idempotencyKey:",
        ),
        (
            json!([item("MUG-01", 1)]),
            "USD",
            key("has space"),
            "idempotencyKey:",
        ),
        (
            json!([item("KNIFE-01", 1)]),
            "EUR",
            key("a"),
            "items: KNIFE-01 has no price in EUR",
        ),
    ];
    for (items, currency, key, message) in cases {
        let input = json!({"i": {"items": items, "currency": currency, "idempotencyKey": key}});
        let response = s.run(PLACE, input, &s.buyer).await;
        let (code, got) = only_error(&response);
        assert_eq!(code, "BAD_USER_INPUT", "{message}: {got}");
        assert!(
            got.starts_with(message),
            "expected {message:?}, got {got:?}"
        );
    }
    assert_eq!(s.available("MUG-01").await, 10, "nothing was reserved");

    let missing_key = json!({"i": {"items": [item("MUG-01", 1)]}});
    let response = s.run(PLACE, missing_key, &s.buyer).await;
    assert!(
        !response.errors.is_empty() && json(&response).is_null(),
        "a missing idempotencyKey fails validation: {:?}",
        response.errors
    );
}

#[tokio::test]
async fn placing_an_order_needs_a_session() {
    let s = shop().await;
    let input = json!({"i": {"items": [{"sku": "MUG-01", "quantity": 1}], "idempotencyKey": "k"}});
    let response = s.f.run(PLACE, input, None).await;
    assert_eq!(codes(&response), ["UNAUTHENTICATED"]);
}

#[tokio::test]
async fn ordering_more_than_the_stock_fails_with_out_of_stock() {
    let s = shop().await;
    let response = s
        .place(&s.buyer, &[("MUG-01", 1), ("KNIFE-01", 4)], "k")
        .await;
    let (code, message) = only_error(&response);
    assert_eq!(code, "OUT_OF_STOCK");
    assert!(message.contains("KNIFE-01"), "{message}");
    assert_eq!(s.available("MUG-01").await, 10, "all lines or none");
}

#[tokio::test]
async fn the_same_idempotency_key_returns_the_same_order_and_a_different_order_conflicts() {
    let s = shop().await;
    let first = s.placed(&s.buyer, &[("MUG-01", 2)], "checkout-1").await;
    let again = s.placed(&s.buyer, &[("MUG-01", 2)], "checkout-1").await;
    assert_eq!(first["id"], again["id"]);
    assert_eq!(s.available("MUG-01").await, 8, "stock was held once");

    let changed = s.place(&s.buyer, &[("MUG-01", 3)], "checkout-1").await;
    assert_eq!(only_error(&changed).0, "CONFLICT");

    let someone_else = s.placed(&s.other, &[("MUG-01", 2)], "checkout-1").await;
    assert_ne!(
        someone_else["id"], first["id"],
        "keys are per buyer, not global"
    );
}

#[tokio::test]
async fn an_order_is_visible_to_its_buyer_and_staff_only() {
    let s = shop().await;
    let order = s.placed(&s.buyer, &[("NOTEBOOK-A5", 5)], "k").await;
    let id = order["id"].as_str().unwrap();
    let vars = json!({"id": id});

    let own = s.run(ORDER, vars.clone(), &s.buyer).await;
    assert!(own.errors.is_empty(), "{:?}", own.errors);
    assert_eq!(json(&own)["order"]["id"], id);
    assert_eq!(json(&own)["order"]["user"]["id"], s.buyer.user_id.as_str());

    let staff = s.run(ORDER, vars.clone(), &s.staff).await;
    assert!(staff.errors.is_empty(), "{:?}", staff.errors);

    let other = s.run(ORDER, vars.clone(), &s.other).await;
    assert_eq!(codes(&other), ["FORBIDDEN"]);
    assert_eq!(json(&other)["order"], Value::Null);

    let anonymous = s.f.run(ORDER, vars, None).await;
    assert_eq!(codes(&anonymous), ["UNAUTHENTICATED"]);

    let missing = s.run(ORDER, json!({"id": "12345"}), &s.staff).await;
    assert_eq!(codes(&missing), ["NOT_FOUND"]);
    let malformed = s.run(ORDER, json!({"id": "x1"}), &s.buyer).await;
    assert_eq!(codes(&malformed), ["BAD_USER_INPUT"]);

    let mine = s.run(MY_ORDERS, json!({}), &s.buyer).await;
    assert!(mine.errors.is_empty(), "{:?}", mine.errors);
    assert_eq!(json(&mine)["me"]["orders"]["nodes"], json!([{"id": id}]));
}

#[tokio::test]
async fn order_entities_respect_who_may_see_them() {
    let s = shop().await;
    let order = s.placed(&s.buyer, &[("MUG-01", 1)], "k").await;
    let query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Order { id } } }";
    let vars = json!({"r": [{"__typename": "Order", "id": order["id"]}]});

    let own = s.run(query, vars.clone(), &s.buyer).await;
    assert!(own.errors.is_empty(), "{:?}", own.errors);
    assert_eq!(json(&own)["_entities"][0]["id"], order["id"]);
    let other = s.run(query, vars.clone(), &s.other).await;
    assert_eq!(codes(&other), ["FORBIDDEN"]);
    let anonymous = s.f.run(query, vars, None).await;
    assert_eq!(codes(&anonymous), ["UNAUTHENTICATED"]);
}

#[tokio::test]
async fn order_history_pages_newest_first_for_the_user_and_staff_only() {
    let s = shop().await;
    let mut placed = Vec::new();
    for n in 0..3 {
        let order = s.placed(&s.buyer, &[("MUG-01", 1)], &format!("k{n}")).await;
        placed.push(order["id"].as_str().unwrap().to_owned());
    }
    placed.reverse();

    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let response = s
            .run(MY_ORDERS, json!({"first": 2, "after": after}), &s.buyer)
            .await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        let page = json(&response)["me"]["orders"].clone();
        for node in page["nodes"].as_array().unwrap() {
            seen.push(node["id"].as_str().unwrap().to_owned());
        }
        if page["hasNextPage"] == false {
            break;
        }
        after = page["endCursor"].clone();
    }
    assert_eq!(seen, placed);

    // Lines are read only when selected, directly or through a fragment; either way they come.
    for query in [
        "{ me { orders { nodes { id lines { sku quantity } } } } }",
        "{ me { orders { nodes { ...L } } } } fragment L on Order { id lines { sku quantity } }",
    ] {
        let response = s.run(query, json!({}), &s.buyer).await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        let nodes = json(&response)["me"]["orders"]["nodes"].clone();
        let nodes = nodes.as_array().unwrap();
        assert_eq!(nodes.len(), 3, "{query}");
        for node in nodes {
            assert_eq!(
                node["lines"],
                json!([{"sku": "MUG-01", "quantity": 1}]),
                "{query}"
            );
        }
    }

    for first in [0, 101] {
        let response = s.run(MY_ORDERS, json!({"first": first}), &s.buyer).await;
        assert_eq!(codes(&response), ["BAD_USER_INPUT"], "first = {first}");
    }
    for cursor in ["garbage", "12.x", "1."] {
        let response = s.run(MY_ORDERS, json!({"after": cursor}), &s.buyer).await;
        let (code, message) = only_error(&response);
        assert_eq!(code, "BAD_USER_INPUT", "{cursor}");
        assert!(message.starts_with("after:"), "{message}");
    }

    let users_orders = "query($r: [_Any!]!) { _entities(representations: $r) {
        ... on User { id orders { nodes { id } } } } }";
    let vars = json!({"r": [{"__typename": "User", "id": s.buyer.user_id}]});
    let other = s.run(users_orders, vars.clone(), &s.other).await;
    assert_eq!(codes(&other), ["FORBIDDEN"]);
    assert_eq!(
        json(&other)["_entities"][0]["id"],
        s.buyer.user_id.as_str(),
        "only the orders are hidden, not the user"
    );
    assert_eq!(json(&other)["_entities"][0]["orders"], Value::Null);
    let staff = s.run(users_orders, vars, &s.staff).await;
    assert!(staff.errors.is_empty(), "{:?}", staff.errors);
    assert_eq!(
        json(&staff)["_entities"][0]["orders"]["nodes"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test]
async fn cancelling_an_order_gives_its_stock_back() {
    let s = shop().await;
    let order = s.placed(&s.buyer, &[("KNIFE-01", 2)], "k").await;
    let vars = json!({"id": order["id"]});
    assert_eq!(s.available("KNIFE-01").await, 1);

    let other = s.run(CANCEL, vars.clone(), &s.other).await;
    assert_eq!(codes(&other), ["FORBIDDEN"]);
    let anonymous = s.f.run(CANCEL, vars.clone(), None).await;
    assert_eq!(codes(&anonymous), ["UNAUTHENTICATED"]);
    assert_eq!(
        s.available("KNIFE-01").await,
        1,
        "refused cancels change nothing"
    );

    let cancelled = s.run(CANCEL, vars.clone(), &s.buyer).await;
    assert!(cancelled.errors.is_empty(), "{:?}", cancelled.errors);
    assert_eq!(json(&cancelled)["cancelOrder"]["status"], "CANCELLED");
    assert_eq!(s.available("KNIFE-01").await, 3);

    let again = s.run(CANCEL, vars.clone(), &s.staff).await;
    assert!(again.errors.is_empty(), "{:?}", again.errors);
    assert_eq!(json(&again)["cancelOrder"]["status"], "CANCELLED");
    assert_eq!(s.available("KNIFE-01").await, 3, "stock comes back once");

    let seen = s.run(ORDER, vars, &s.buyer).await;
    assert_eq!(json(&seen)["order"]["status"], "CANCELLED");
    let missing = s.run(CANCEL, json!({"id": "12345"}), &s.buyer).await;
    assert_eq!(codes(&missing), ["NOT_FOUND"]);
}

#[tokio::test]
async fn restocking_is_for_staff_and_applies_once_per_key() {
    let s = shop().await;
    let input = |sku: &str, warehouse: &str, quantity: i32, key: &str| {
        json!({"i": {"sku": sku, "warehouse": warehouse, "quantity": quantity,
                      "idempotencyKey": key}})
    };
    let delivery = input("knife-01", "BER-1", 7, "delivery-1");

    let anonymous = s.f.run(RESTOCK, delivery.clone(), None).await;
    assert_eq!(codes(&anonymous), ["UNAUTHENTICATED"]);
    let customer = s.run(RESTOCK, delivery.clone(), &s.buyer).await;
    assert_eq!(codes(&customer), ["FORBIDDEN"]);
    assert_eq!(s.available("KNIFE-01").await, 3);

    for _ in 0..2 {
        let response = s.run(RESTOCK, delivery.clone(), &s.staff).await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        assert_eq!(
            json(&response)["restock"],
            json!({"sku": "KNIFE-01", "available": 10})
        );
    }

    for (vars, code, prefix) in [
        (
            input("KNIFE-01", "BER-1", 8, "delivery-1"),
            "CONFLICT",
            "idempotencyKey:",
        ),
        (
            input("KNIFE-01", "XYZ-9", 1, "d2"),
            "BAD_USER_INPUT",
            "warehouse:",
        ),
        (
            input("NOPE-1", "BER-1", 1, "d3"),
            "BAD_USER_INPUT",
            "sku: unknown SKU NOPE-1",
        ),
        (
            input("KNIFE-01", "BER-1", 0, "d4"),
            "BAD_USER_INPUT",
            "quantity:",
        ),
        (
            input("KNIFE-01", "BER-1", 10001, "d5"),
            "BAD_USER_INPUT",
            "quantity:",
        ),
        (
            input("KNIFE-01", "BER 1", 1, "d6"),
            "BAD_USER_INPUT",
            "warehouse:",
        ),
        (
            input("KNIFE-01", "BER-1", 1, ""),
            "BAD_USER_INPUT",
            "idempotencyKey:",
        ),
    ] {
        let response = s.run(RESTOCK, vars, &s.staff).await;
        let (got, message) = only_error(&response);
        assert_eq!(got, code, "{prefix}: {message}");
        assert!(message.starts_with(prefix), "{message}");
    }
    assert_eq!(s.available("KNIFE-01").await, 10);
}

#[tokio::test]
async fn set_price_is_for_staff_and_takes_long_amounts() {
    let s = shop().await;
    let query = "mutation($i: SetPriceInput!) { setPrice(input: $i) {
        jpy: price(currency: \"JPY\") { amountMinor currency } } }";
    let input =
        |amount: Value| json!({"i": {"sku": "MUG-01", "currency": "JPY", "amountMinor": amount}});

    let customer = s.run(query, input(json!("2000")), &s.buyer).await;
    assert_eq!(codes(&customer), ["FORBIDDEN"]);

    let response = s.run(query, input(json!("300000000000")), &s.staff).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    assert_eq!(
        json(&response)["setPrice"]["jpy"],
        json!({"amountMinor": "300000000000", "currency": "JPY"}),
        "amounts beyond 32 bits survive"
    );
    let as_number = s.run(query, input(json!(2100)), &s.staff).await;
    assert!(as_number.errors.is_empty(), "{:?}", as_number.errors);

    let negative = s.run(query, input(json!("-1")), &s.staff).await;
    assert_eq!(codes(&negative), ["BAD_USER_INPUT"]);
    let too_large = s.run(query, input(json!("1000000000001")), &s.staff).await;
    assert_eq!(codes(&too_large), ["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn a_product_is_found_by_exactly_one_of_id_and_sku() {
    let s = shop().await;
    let mug = s.product("mug-01").await;
    assert_eq!(mug["sku"], "MUG-01");
    assert_eq!(mug["category"], "kitchen");
    assert_eq!(
        mug["usd"],
        json!({"amountMinor": "1400", "currency": "USD"})
    );
    assert_eq!(mug["eur"], json!({"amountMinor": "1300"}));
    assert_eq!(mug["prices"].as_array().unwrap().len(), 2);
    assert_eq!(mug["available"], 10);

    let by_id = s.f.run(PRODUCT, json!({"id": mug["id"]}), None).await;
    assert_eq!(json(&by_id)["product"]["sku"], "MUG-01");
    let knife = s.product("KNIFE-01").await;
    assert_eq!(knife["eur"], Value::Null, "no price in EUR");
    let unknown = s.f.run(PRODUCT, json!({"sku": "NOPE-1"}), None).await;
    assert!(unknown.errors.is_empty() && json(&unknown)["product"].is_null());

    for vars in [
        json!({"id": mug["id"], "sku": "MUG-01"}),
        json!({}),
        json!({"id": "abc"}),
        json!({"sku": "no spaces"}),
    ] {
        let response = s.f.run(PRODUCT, vars.clone(), None).await;
        assert_eq!(codes(&response), ["BAD_USER_INPUT"], "{vars}");
    }
    let bad_currency =
        s.f.run(
            "query { product(sku: \"MUG-01\") { price(currency: \"usd\") { amountMinor } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(codes(&bad_currency), ["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn products_page_by_id_within_a_category() {
    let s = shop().await;
    let query = "query($c: String, $first: Int, $after: ID) {
        products(category: $c, first: $first, after: $after) {
            nodes { sku } endCursor hasNextPage } }";
    let first =
        s.f.run(query, json!({"c": "kitchen", "first": 1}), None)
            .await;
    assert!(first.errors.is_empty(), "{:?}", first.errors);
    let page = json(&first)["products"].clone();
    assert_eq!(page["nodes"], json!([{"sku": "MUG-01"}]));
    assert_eq!(page["hasNextPage"], true);
    let second =
        s.f.run(
            query,
            json!({"c": "kitchen", "first": 5, "after": page["endCursor"]}),
            None,
        )
        .await;
    let page = json(&second)["products"].clone();
    assert_eq!(page["nodes"], json!([{"sku": "KNIFE-01"}]));
    assert_eq!(page["hasNextPage"], false);

    let all = s.f.run(query, json!({}), None).await;
    assert_eq!(json(&all)["products"]["nodes"].as_array().unwrap().len(), 3);

    for vars in [
        json!({"first": 0}),
        json!({"first": 101}),
        json!({"c": "Kitchen Tools"}),
        json!({"after": "not-an-id"}),
    ] {
        let response = s.f.run(query, vars.clone(), None).await;
        assert_eq!(codes(&response), ["BAD_USER_INPUT"], "{vars}");
    }
}

#[tokio::test]
async fn entities_of_five_products_and_five_orders_cost_one_store_call_each() {
    let exclusive = EXCLUSIVE.write().await;
    let f = fixture().await;
    stock_catalog(&f).await;
    let buyer_id = f.register("batch@example.com", "password-1", "Batch").await;
    let buyer = viewer(&buyer_id, false);
    common::add_address(&f, &buyer).await;
    let mut products = Vec::new();
    for n in 0..2 {
        let product = f
            .store
            .create_product(NewProduct {
                id: ProductId::new(DEFAULT_SHARD),
                sku: Sku::parse(&format!("EXTRA-{n}")).unwrap(),
                name: ProductName::parse("Extra").unwrap(),
                description: String::new(),
                category: None,
                price: Money::new(100, Currency::usd()).unwrap(),
            })
            .await
            .unwrap();
        products.push(product.id.to_string());
    }
    for demo in CATALOG {
        let found = f
            .store
            .products_by_skus(&[Sku::parse(demo.sku).unwrap()], None)
            .await
            .unwrap();
        products.push(found[0].id.to_string());
    }
    let mut orders = Vec::new();
    for n in 0..5 {
        let items = json!([{"sku": "NOTEBOOK-A5", "quantity": 1}]);
        let input = json!({"i": {"items": items, "idempotencyKey": format!("batch-{n}")}});
        let response = f.run(PLACE, input, Some(buyer.clone())).await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        orders.push(json(&response)["placeOrder"]["id"].clone());
    }

    let mut representations: Vec<Value> = products
        .iter()
        .map(|id| json!({"__typename": "Product", "id": id}))
        .collect();
    representations.extend(
        orders
            .iter()
            .map(|id| json!({"__typename": "Order", "id": id})),
    );
    let query = "query($r: [_Any!]!) { _entities(representations: $r) {
        ... on Product { id sku } ... on Order { id total { amountMinor } } } }";

    let products_before = store_calls("commerce", "products_by_ids");
    let orders_before = store_calls("commerce", "orders_by_ids");
    let response = f
        .run(query, json!({"r": representations}), Some(buyer))
        .await;
    let products_calls = store_calls("commerce", "products_by_ids") - products_before;
    let orders_calls = store_calls("commerce", "orders_by_ids") - orders_before;
    drop(exclusive);

    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let entities = json(&response)["_entities"].as_array().unwrap().clone();
    let returned: Vec<&Value> = entities.iter().map(|e| &e["id"]).collect();
    let expected: Vec<Value> = products
        .iter()
        .map(|id| json!(id))
        .chain(orders.iter().cloned())
        .collect();
    assert_eq!(returned, expected.iter().collect::<Vec<_>>());
    assert_eq!(products_calls, 1, "one products_by_ids for 5 products");
    assert_eq!(orders_calls, 1, "one orders_by_ids for 5 orders");
}

#[tokio::test]
async fn the_demo_seed_stocks_a_catalog_once() {
    let _shared = EXCLUSIVE.read().await;
    let f = fixture().await;
    let hasher = polygate_commerce::PasswordHasher::insecure_fast_for_tests();
    let first = polygate_commerce::seed_demo(f.store.as_ref(), &hasher)
        .await
        .unwrap();
    assert_eq!(first.products, polygate_commerce::seed::DEMO_CATALOG.len());
    let second = polygate_commerce::seed_demo(f.store.as_ref(), &hasher)
        .await
        .unwrap();
    assert!(second.skipped && second.products == 0);

    let query = "{ products(first: 100) { nodes { sku available eur: price(currency: \"EUR\") {
        amountMinor } } } }";
    let response = f.run(query, json!({}), None).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let nodes = json(&response)["products"]["nodes"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(nodes.len(), polygate_commerce::seed::DEMO_CATALOG.len());
    let mug = nodes.iter().find(|n| n["sku"] == "MUG-01").unwrap();
    assert_eq!(mug["available"], 120, "stocked once, not per run");
    assert_eq!(mug["eur"]["amountMinor"], "1300");
}
