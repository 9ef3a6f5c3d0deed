//! A gateway process killed in the middle of `placeOrder` or `cancelOrder` loses nothing and
//! applies nothing twice: a retry with the same idempotency key resumes the order, and when no
//! one retries, the sweeper finishes it.
//!
//! `POLYGATE_CRASH_AT=<point>` makes the process abort (no unwinding, like `kill -9`) at a named
//! point of the order saga. The buyer's shard lives on a second PostgreSQL server, as in a
//! sharded deployment: where the buyer's shard and the catalog share a database, placing is one
//! transaction and there is no step to die between. Skipped (with a printed reason) without
//! `POLYGATE_TEST_POSTGRES_URL` and `POLYGATE_TEST_POSTGRES2_URL`, except under CI.

use std::time::{Duration, Instant};

use polygate_commerce::domain::{
    Currency, DisplayName, Email, IdempotencyKey, Money, NewAddress, NewProduct, NewUser, Password,
    ProductName, Quantity, Restock, Sku, WarehouseCode,
};
use polygate_commerce::ids::ProductId;
use polygate_commerce::orders::crash_point;
use polygate_commerce::store::conformance;
use polygate_commerce::store::postgres::shard_move::move_shard;
use polygate_commerce::store::postgres::{DatabaseUrls, Topology};
use polygate_commerce::{CommerceStore, PasswordHasher, PostgresStore};
use polygate_e2e::gateway::{login_token, temp_data_dir};
use polygate_e2e::graphql::{Client, error_codes};
use polygate_e2e::{Service, free_port};
use polygate_kit::testing::postgres::{SECOND_URL_VAR, URL_VAR, with_fresh_databases};
use serde_json::{Value, json};

const PASSWORD: &str = "crash-test-pw";
const SKU: &str = "CRASH-1";
const STOCK: i32 = 10;
const PLACE: &str = "mutation($key: String!) {
    placeOrder(input: { items: [{ sku: \"CRASH-1\", quantity: 3 }], idempotencyKey: $key }) { id }
}";
const AVAILABLE: &str = "{ product(sku: \"CRASH-1\") { available } }";
const MY_ORDERS: &str = "{ me { orders(first: 50) { nodes { id status } } } }";

/// The catalog database, and the database the buyer's shard is moved to.
struct Databases {
    catalog: String,
    orders: String,
}

impl Databases {
    fn new(mut urls: Vec<String>) -> Self {
        let orders = urls.remove(1);
        Self {
            catalog: urls.remove(0),
            orders,
        }
    }

    fn topology(&self) -> Topology {
        let mut topology = Topology::single(self.catalog.clone());
        topology
            .shards
            .insert("orders".into(), DatabaseUrls::primary(self.orders.clone()));
        topology
    }
}

/// A buyer (on their own database) and a product with stock, written straight through the
/// store.
async fn prepare(dbs: &Databases) -> String {
    let store = PostgresStore::connect_topology(&dbs.topology())
        .await
        .expect("connect");
    let hasher = PasswordHasher::insecure_fast_for_tests();
    let email = format!(
        "{}@example.com",
        polygate_kit::testing::unique_name("crash")
    );
    let hash = hasher
        .hash(&Password::parse(PASSWORD).unwrap())
        .await
        .expect("hash");
    let buyer = store
        .create_user(NewUser::new(
            Email::parse(&email).unwrap(),
            DisplayName::parse("Crash Buyer").unwrap(),
            hash,
        ))
        .await
        .expect("buyer");
    // placeOrder ships to the buyer's newest address; it moves with the buyer's shard.
    let address = NewAddress::new(buyer.id, None, conformance::ship_to()).unwrap();
    store.add_address(&address).await.expect("an address");
    move_shard(&store, buyer.id.shard(), "orders")
        .await
        .expect("move the buyer's shard");
    let product = store
        .create_product(NewProduct {
            id: ProductId::new(0),
            sku: Sku::parse(SKU).unwrap(),
            name: ProductName::parse("Crash test widget").unwrap(),
            description: String::new(),
            category: None,
            price: Money::new(500, Currency::usd()).unwrap(),
        })
        .await
        .expect("product");
    let warehouse = WarehouseCode::parse("CRASH-WH").unwrap();
    store
        .ensure_warehouse(&warehouse, "Crash", "DE")
        .await
        .unwrap();
    store
        .restock(&Restock {
            key: IdempotencyKey::parse("crash-stock").unwrap(),
            product: product.id,
            warehouse,
            quantity: Quantity::new(STOCK, "quantity").unwrap(),
        })
        .await
        .unwrap();
    email
}

/// `polygate serve` with commerce on `dbs`, crashing at `crash_at` when given.
async fn gateway(dbs: &Databases, crash_at: Option<&str>) -> Service {
    let port = free_port();
    let data = temp_data_dir("crash");
    let mut env = vec![
        ("POLYGATE_SERVER__LISTEN", format!("127.0.0.1:{port}")),
        ("POLYGATE_SERVER__DATA_DIR", data.display().to_string()),
        ("POLYGATE_SUBGRAPHS__COMMERCE__STORE", dbs.catalog.clone()),
        (
            "POLYGATE_SUBGRAPHS__COMMERCE__SHARDS__ORDERS",
            dbs.orders.clone(),
        ),
        (
            "POLYGATE_SUBGRAPHS__COMMERCE__SWEEP_EVERY_SECS",
            "1".to_owned(),
        ),
        ("RUST_LOG", "warn".to_owned()),
    ];
    if let Some(point) = crash_at {
        env.push((crash_point::ENV, point.to_owned()));
    }
    Service::start("polygate", &["serve"], &env, port, "/readiness")
        .await
        .expect("gateway starts")
        .owning(data)
}

async fn signed_in(gateway: &Service, email: &str) -> Client {
    let client = Client::new(gateway.url("/graphql"));
    client.with_token(&login_token(&client, email, PASSWORD).await)
}

async fn available(client: &Client) -> i64 {
    let r = client.query(AVAILABLE, json!({})).await;
    r["data"]["product"]["available"]
        .as_i64()
        .unwrap_or_else(|| panic!("{r}"))
}

async fn my_orders(client: &Client) -> Vec<Value> {
    let r = client.query(MY_ORDERS, json!({})).await;
    r["data"]["me"]["orders"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"))
        .clone()
}

/// Sends a request the gateway dies serving; the connection breaks instead of answering.
async fn request_that_kills(gateway: &mut Service, client: &Client, key: &str) {
    let outcome = tokio::time::timeout(
        Duration::from_secs(10),
        client.try_query(PLACE, json!({ "key": key })),
    )
    .await
    .expect("the request ends");
    assert!(
        outcome.is_err(),
        "the gateway answered instead of dying: {outcome:?}"
    );
    assert!(
        gateway.wait_exit(Duration::from_secs(10)),
        "the gateway process died"
    );
}

#[tokio::test]
async fn a_crash_between_reserving_and_recording_is_resumed_by_the_retry() {
    with_fresh_databases(
        "commerce_crash",
        &[URL_VAR, SECOND_URL_VAR],
        |urls| async move {
            let dbs = Databases::new(urls);
            let email = prepare(&dbs).await;
            for point in [crash_point::AFTER_OPEN, crash_point::AFTER_RESERVE] {
                let key = format!("retry-{point}");
                let mut doomed = gateway(&dbs, Some(point)).await;
                let client = signed_in(&doomed, &email).await;
                let before = available(&client).await;
                request_that_kills(&mut doomed, &client, &key).await;

                let healthy = gateway(&dbs, None).await;
                let client = signed_in(&healthy, &email).await;
                let first = client.query(PLACE, json!({ "key": key })).await;
                let again = client.query(PLACE, json!({ "key": key })).await;
                assert_eq!(first["errors"], Value::Null, "{point}: {first}");
                assert_eq!(
                    first["data"], again["data"],
                    "{point}: the same order both times"
                );
                let id = &first["data"]["placeOrder"]["id"];
                let orders = my_orders(&client).await;
                assert_eq!(
                    orders.iter().filter(|o| &o["id"] == id).count(),
                    1,
                    "{point}"
                );
                assert_eq!(
                    available(&client).await,
                    before - 3,
                    "{point}: stock held once"
                );
            }
        },
    )
    .await;
}

#[tokio::test]
async fn the_sweeper_finishes_what_a_crash_left_when_nobody_retries() {
    with_fresh_databases(
        "commerce_crash",
        &[URL_VAR, SECOND_URL_VAR],
        |urls| async move {
            let dbs = Databases::new(urls);
            let email = prepare(&dbs).await;

            // Placing dies after the stock is held; the order appears without any retry.
            let mut doomed = gateway(&dbs, Some(crash_point::AFTER_RESERVE)).await;
            let client = signed_in(&doomed, &email).await;
            request_that_kills(&mut doomed, &client, "sweep-place").await;
            let healthy = gateway(&dbs, None).await;
            let client = signed_in(&healthy, &email).await;
            let deadline = Instant::now() + Duration::from_secs(20);
            while my_orders(&client).await.is_empty() {
                assert!(
                    Instant::now() < deadline,
                    "the sweeper never placed the order"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            assert_eq!(my_orders(&client).await.len(), 1);
            assert_eq!(available(&client).await, i64::from(STOCK) - 3);
            let id = my_orders(&client).await[0]["id"]
                .as_str()
                .unwrap()
                .to_owned();
            drop(healthy);

            // Cancelling dies after the order is marked; its stock comes back without any retry.
            let mut doomed = gateway(&dbs, Some(crash_point::AFTER_CANCEL_MARK)).await;
            let client = signed_in(&doomed, &email).await;
            let cancel = format!("mutation {{ cancelOrder(id: \"{id}\") {{ status }} }}");
            let outcome = client.try_query(&cancel, json!({})).await;
            assert!(
                outcome.is_err(),
                "the gateway answered instead of dying: {outcome:?}"
            );
            assert!(doomed.wait_exit(Duration::from_secs(10)));
            let healthy = gateway(&dbs, None).await;
            let client = signed_in(&healthy, &email).await;
            let deadline = Instant::now() + Duration::from_secs(20);
            while available(&client).await != i64::from(STOCK) {
                assert!(
                    Instant::now() < deadline,
                    "the sweeper never released the stock"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            let orders = my_orders(&client).await;
            assert_eq!(orders[0]["status"], "CANCELLED", "{orders:?}");
            // Cancelling again changes nothing: the stock is not released twice.
            let again = client.query(&cancel, json!({})).await;
            assert!(error_codes(&again).is_empty(), "{again}");
            assert_eq!(available(&client).await, i64::from(STOCK));
        },
    )
    .await;
}
