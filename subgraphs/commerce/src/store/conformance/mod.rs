//! Behaviour every [`CommerceStore`] adapter must show, as plain async checks that panic on
//! failure. The adapters' integration tests run each check against a fresh database, and all of
//! them one after another on one database ([`run_all`]).
//!
//! Non-obvious: compiled into the library (not `#[cfg(test)]`) so integration tests in `tests/`
//! and future adapters can call it. The checks speak only through the trait (no SQL, nothing
//! engine-specific), and every check makes its own users, products, warehouses and keys with
//! unique names and leaves no request unfinished, so checks may share a database. One file per
//! area: `users`, `catalog`, `orders`, `simultaneous` (orders placed at the same moment) and
//! `lifecycle` (addresses, payments, shipping, refunds), `retention` (archived payments),
//! `restore` (after a restore).

mod catalog;
mod lifecycle;
mod orders;
mod restore;
mod retention;
mod simultaneous;
mod users;

use polygate_kit::testing::unique_name;

use super::CommerceStore;
use crate::domain::{
    AddressParts, CategorySlug, Currency, DisplayName, Email, IdempotencyKey, Money, NewProduct,
    NewUser, PasswordHash, PostalAddress, Product, ProductName, Quantity, Restock, RestockOutcome,
    Sku, User, WarehouseCode,
};
use crate::ids::{DEFAULT_SHARD, ProductId};

pub use catalog::{
    duplicate_sku_is_a_conflict, list_products_pages_without_gaps_and_filters_by_category,
    product_ids_by_skus_finds_exactly_the_known_skus, products_round_trip_by_id_and_sku,
    reserve_stock_is_all_or_nothing_and_idempotent, restock_applies_once_per_key,
    set_price_changes_the_current_price,
};
pub use lifecycle::{
    a_crash_after_ship_mark_is_finished_by_the_sweeper,
    a_declined_payment_changes_nothing_but_its_attempt,
    a_lost_answer_is_finished_by_the_retry_without_a_second_charge,
    an_address_book_is_bounded_and_orders_keep_a_copy, duplicate_callbacks_apply_once,
    paying_captures_once_and_the_order_becomes_paid, pending_order,
    refunds_give_money_back_and_stock_only_before_shipping,
    settled_rows_leave_the_hot_tables_and_live_ones_stay,
    shipping_turns_reservations_into_stock_that_left,
};
pub use orders::{
    a_crash_after_cancel_mark_releases_the_stock_once, a_crash_after_open_is_placed_by_the_sweeper,
    a_crash_after_reserve_is_placed_once, a_short_line_gives_back_the_lines_held_before_it,
    an_order_beyond_stock_is_refused_and_stays_refused, an_unknown_sku_is_refused,
    cancelling_gives_the_stock_back_once,
    fifty_concurrent_buyers_of_ten_units_leave_exactly_ten_orders,
    order_history_pages_newest_first_without_gaps_or_duplicates, orders_by_ids_returns_lines,
    record_order_and_reject_order_request_respect_each_other, the_same_key_twice_places_one_order,
    the_same_key_with_different_lines_is_key_reused,
};
pub use restore::stock_held_without_a_request_is_found_and_given_back;
pub use retention::final_payments_are_archived_and_still_answer_callbacks;
pub use simultaneous::{
    SimultaneousOrders, orders_placed_at_the_same_moment_keep_their_own_outcomes,
};
pub use users::{
    create_then_find_by_email, duplicate_email_is_a_conflict,
    list_users_pages_without_gaps_or_duplicates, ping_succeeds,
    users_by_emails_returns_exactly_the_asked_users, users_by_ids_returns_exactly_the_asked_users,
};

/// Calls `$callback!` with the name of every check, so each adapter's test file turns the same
/// list into one test per check and none can be forgotten:
/// `polygate_commerce::commerce_store_checks!(on_my_engine);`
#[macro_export]
macro_rules! commerce_store_checks {
    ($callback:ident) => {
        $callback!(
            create_then_find_by_email,
            duplicate_email_is_a_conflict,
            users_by_ids_returns_exactly_the_asked_users,
            users_by_emails_returns_exactly_the_asked_users,
            list_users_pages_without_gaps_or_duplicates,
            ping_succeeds,
            products_round_trip_by_id_and_sku,
            product_ids_by_skus_finds_exactly_the_known_skus,
            duplicate_sku_is_a_conflict,
            list_products_pages_without_gaps_and_filters_by_category,
            set_price_changes_the_current_price,
            restock_applies_once_per_key,
            reserve_stock_is_all_or_nothing_and_idempotent,
            fifty_concurrent_buyers_of_ten_units_leave_exactly_ten_orders,
            orders_placed_at_the_same_moment_keep_their_own_outcomes,
            the_same_key_twice_places_one_order,
            the_same_key_with_different_lines_is_key_reused,
            an_unknown_sku_is_refused,
            an_order_beyond_stock_is_refused_and_stays_refused,
            a_short_line_gives_back_the_lines_held_before_it,
            record_order_and_reject_order_request_respect_each_other,
            cancelling_gives_the_stock_back_once,
            a_crash_after_open_is_placed_by_the_sweeper,
            a_crash_after_reserve_is_placed_once,
            a_crash_after_cancel_mark_releases_the_stock_once,
            order_history_pages_newest_first_without_gaps_or_duplicates,
            orders_by_ids_returns_lines,
            an_address_book_is_bounded_and_orders_keep_a_copy,
            paying_captures_once_and_the_order_becomes_paid,
            a_declined_payment_changes_nothing_but_its_attempt,
            a_lost_answer_is_finished_by_the_retry_without_a_second_charge,
            duplicate_callbacks_apply_once,
            shipping_turns_reservations_into_stock_that_left,
            a_crash_after_ship_mark_is_finished_by_the_sweeper,
            refunds_give_money_back_and_stock_only_before_shipping,
            settled_rows_leave_the_hot_tables_and_live_ones_stay,
            final_payments_are_archived_and_still_answer_callbacks,
            stock_held_without_a_request_is_found_and_given_back,
        );
    };
}

/// Every check, one after another, on the same store.
pub async fn run_all(store: &dyn CommerceStore) {
    create_then_find_by_email(store).await;
    duplicate_email_is_a_conflict(store).await;
    users_by_ids_returns_exactly_the_asked_users(store).await;
    users_by_emails_returns_exactly_the_asked_users(store).await;
    list_users_pages_without_gaps_or_duplicates(store).await;

    products_round_trip_by_id_and_sku(store).await;
    product_ids_by_skus_finds_exactly_the_known_skus(store).await;
    duplicate_sku_is_a_conflict(store).await;
    list_products_pages_without_gaps_and_filters_by_category(store).await;
    set_price_changes_the_current_price(store).await;
    restock_applies_once_per_key(store).await;
    reserve_stock_is_all_or_nothing_and_idempotent(store).await;

    fifty_concurrent_buyers_of_ten_units_leave_exactly_ten_orders(store).await;
    orders_placed_at_the_same_moment_keep_their_own_outcomes(store).await;
    the_same_key_twice_places_one_order(store).await;
    the_same_key_with_different_lines_is_key_reused(store).await;
    an_unknown_sku_is_refused(store).await;
    an_order_beyond_stock_is_refused_and_stays_refused(store).await;
    a_short_line_gives_back_the_lines_held_before_it(store).await;
    record_order_and_reject_order_request_respect_each_other(store).await;
    cancelling_gives_the_stock_back_once(store).await;
    a_crash_after_open_is_placed_by_the_sweeper(store).await;
    a_crash_after_reserve_is_placed_once(store).await;
    a_crash_after_cancel_mark_releases_the_stock_once(store).await;
    order_history_pages_newest_first_without_gaps_or_duplicates(store).await;
    orders_by_ids_returns_lines(store).await;

    an_address_book_is_bounded_and_orders_keep_a_copy(store).await;
    paying_captures_once_and_the_order_becomes_paid(store).await;
    a_declined_payment_changes_nothing_but_its_attempt(store).await;
    a_lost_answer_is_finished_by_the_retry_without_a_second_charge(store).await;
    duplicate_callbacks_apply_once(store).await;
    shipping_turns_reservations_into_stock_that_left(store).await;
    a_crash_after_ship_mark_is_finished_by_the_sweeper(store).await;
    refunds_give_money_back_and_stock_only_before_shipping(store).await;
    settled_rows_leave_the_hot_tables_and_live_ones_stay(store).await;
    final_payments_are_archived_and_still_answer_callbacks(store).await;
    stock_held_without_a_request_is_found_and_given_back(store).await;

    ping_succeeds(store).await;
}

// ---- fixtures shared by the checks ----------------------------------------------------------

/// A well-formed PHC string; the store never verifies it.
const FAKE_HASH: &str = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

fn new_user(tag: &str) -> NewUser {
    let email = Email::parse(&format!("{}@example.com", unique_name(tag))).expect("valid email");
    NewUser::new(
        email,
        DisplayName::parse(&format!("Conformance {tag}")).expect("valid name"),
        PasswordHash::from_phc(FAKE_HASH.to_owned()),
    )
}

/// A new user (public for adapters' own tests).
pub async fn create_user(store: &dyn CommerceStore, tag: &str) -> User {
    store.create_user(new_user(tag)).await.expect("create_user")
}

/// A SKU no other check uses; keep `tag` short (SKUs have at most 64 characters).
fn unique_sku(tag: &str) -> Sku {
    Sku::parse(&unique_name(tag)).expect("valid sku")
}

/// A category slug no other check uses.
fn unique_category(tag: &str) -> CategorySlug {
    let slug = unique_name(tag).replace('_', "-").to_ascii_lowercase();
    CategorySlug::parse(&slug).expect("valid slug")
}

/// An idempotency key no other check uses.
fn unique_key(tag: &str) -> IdempotencyKey {
    IdempotencyKey::parse(&unique_name(tag)).expect("valid key")
}

/// Where the checks' orders ship.
pub fn ship_to() -> PostalAddress {
    PostalAddress::parse(&AddressParts {
        recipient: "Conformance Buyer",
        line1: "Torstraße 1",
        line2: None,
        city: "Berlin",
        region: None,
        postal_code: Some("10119"),
        country: "DE",
    })
    .expect("a valid address")
}

fn eur() -> Currency {
    Currency::parse("EUR").expect("valid currency")
}

fn usd(amount_minor: i64) -> Money {
    Money::new(amount_minor, Currency::usd()).expect("valid money")
}

fn qty(n: i32) -> Quantity {
    Quantity::new(n, "quantity").expect("valid quantity")
}

fn new_product(tag: &str, price: Money, category: Option<CategorySlug>) -> NewProduct {
    NewProduct {
        id: ProductId::new(DEFAULT_SHARD),
        sku: unique_sku(tag),
        name: ProductName::parse(&format!("Conformance {tag}")).expect("valid name"),
        description: format!("A product of the {tag} check."),
        category,
        price,
    }
}

async fn create_product(store: &dyn CommerceStore, tag: &str, price: Money) -> Product {
    let new = new_product(tag, price, None);
    store.create_product(new).await.expect("create_product")
}

/// A warehouse code no other check uses; codes have at most 32 characters, so keep `tag` to a
/// few letters.
fn unique_warehouse_code(tag: &str) -> WarehouseCode {
    WarehouseCode::parse(&unique_name(tag).replace('_', "-")).expect("valid code")
}

/// A new warehouse (in Germany) with a code no other check uses.
async fn create_warehouse(store: &dyn CommerceStore, tag: &str) -> WarehouseCode {
    let code = unique_warehouse_code(tag);
    store
        .ensure_warehouse(&code, &format!("Conformance {tag}"), "DE")
        .await
        .expect("ensure_warehouse");
    code
}

/// Adds `units` of `product` to `warehouse` under a fresh key.
async fn add_stock(
    store: &dyn CommerceStore,
    product: ProductId,
    warehouse: &WarehouseCode,
    units: i32,
) {
    let restock = Restock {
        key: unique_key("restock"),
        product,
        warehouse: warehouse.clone(),
        quantity: qty(units),
    };
    let outcome = store.restock(&restock).await.expect("restock");
    assert_eq!(outcome, RestockOutcome::Applied);
}

/// A product priced `price_minor` USD with `units` in stock in a new warehouse (public for
/// adapters' own tests).
pub async fn stocked_product(
    store: &dyn CommerceStore,
    tag: &str,
    price_minor: i64,
    units: i32,
) -> Product {
    let product = create_product(store, tag, usd(price_minor)).await;
    let warehouse = create_warehouse(store, "wh").await;
    add_stock(store, product.id, &warehouse, units).await;
    product
}

/// The product as read now.
async fn read_product(store: &dyn CommerceStore, id: ProductId) -> Product {
    let mut found = store
        .products_by_ids(&[id], None)
        .await
        .expect("products_by_ids");
    assert_eq!(found.len(), 1, "product {id} is found once: {found:?}");
    found.remove(0)
}

/// The units of the product available to sell now.
async fn available(store: &dyn CommerceStore, id: ProductId) -> i64 {
    read_product(store, id).await.available
}
