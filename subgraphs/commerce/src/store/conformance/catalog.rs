//! The catalog: products and their prices and stock, restocks, and holding stock for an order.

use std::collections::HashSet;

use super::{
    add_stock, available, create_product, create_warehouse, eur, new_product, qty, read_product,
    stocked_product, unique_category, unique_key, unique_sku, unique_warehouse_code, usd,
};
use crate::domain::{Currency, LineRequest, Money, Product, Reservation, Restock, RestockOutcome};
use crate::ids::{DEFAULT_SHARD, OrderId, ProductId};
use crate::store::{CommerceStore, StoreError};

/// `product` with its prices sorted, since adapters may list them in any order.
fn normalised(mut product: Product) -> Product {
    product.prices.sort_by(|a, b| a.currency.cmp(&b.currency));
    product
}

/// A created product reads back the same by id and by SKU, with every current price and the
/// stock of all warehouses; unknown ids and SKUs are ignored.
pub async fn products_round_trip_by_id_and_sku(store: &dyn CommerceStore) {
    let category = unique_category("round");
    let new = new_product("round", usd(1999), Some(category.clone()));
    let created = store
        .create_product(new.clone())
        .await
        .expect("create_product");
    assert_eq!(created.id, new.id);
    assert_eq!(created.sku, new.sku);
    assert_eq!(created.name, new.name);
    assert_eq!(created.description, new.description);
    assert_eq!(created.category, Some(category));
    assert!(created.active, "a new product is for sale");
    assert_eq!(created.prices, vec![usd(1999)]);
    assert_eq!(created.available, 0, "no stock yet");
    assert_eq!(read_product(store, created.id).await, created);

    let (north, south) = (
        create_warehouse(store, "n").await,
        create_warehouse(store, "s").await,
    );
    add_stock(store, created.id, &north, 7).await;
    add_stock(store, created.id, &south, 5).await;
    let euros = Money::new(1799, eur()).unwrap();
    store.set_price(created.id, euros.clone()).await.unwrap();
    let expected = normalised(Product {
        prices: vec![usd(1999), euros],
        available: 12,
        ..created.clone()
    });

    let other = create_product(store, "round2", usd(5)).await;
    let unknown = ProductId::new(DEFAULT_SHARD);
    let by_id = store
        .products_by_ids(&[created.id, unknown, created.id], None)
        .await
        .unwrap();
    assert_eq!(by_id.len(), 1, "each existing product once: {by_id:?}");
    assert_eq!(normalised(by_id[0].clone()), expected);

    let by_sku = store
        .products_by_skus(&[unique_sku("nosuch"), created.sku.clone()], None)
        .await
        .unwrap();
    assert_eq!(by_sku.len(), 1, "{by_sku:?}");
    assert_eq!(normalised(by_sku[0].clone()), expected);

    let both = store
        .products_by_ids(&[other.id, created.id], None)
        .await
        .unwrap();
    let ids: HashSet<ProductId> = both.iter().map(|p| p.id).collect();
    assert_eq!(ids, HashSet::from([created.id, other.id]));
    assert!(store.products_by_ids(&[], None).await.unwrap().is_empty());
    assert!(store.products_by_skus(&[], None).await.unwrap().is_empty());
}

/// SKUs resolve to their products' ids, whatever their case; unknown SKUs are left out, and the
/// answer is the same the second time (a caching wrapper may answer it from memory).
pub async fn product_ids_by_skus_finds_exactly_the_known_skus(store: &dyn CommerceStore) {
    let one = create_product(store, "ids1", usd(100)).await;
    let two = create_product(store, "ids2", usd(200)).await;
    let lower = crate::domain::Sku::parse(&two.sku.as_str().to_lowercase()).unwrap();
    let asked = [one.sku.clone(), unique_sku("nosuch"), lower];
    for round in ["first", "second"] {
        let mut found = store.product_ids_by_skus(&asked).await.unwrap();
        found.sort();
        let mut expected = vec![(one.sku.clone(), one.id), (two.sku.clone(), two.id)];
        expected.sort();
        assert_eq!(found, expected, "{round} time");
    }
    assert!(store.product_ids_by_skus(&[]).await.unwrap().is_empty());
}

/// A second product with a taken SKU is a `Conflict` and is not stored.
pub async fn duplicate_sku_is_a_conflict(store: &dyn CommerceStore) {
    let first = create_product(store, "dupsku", usd(100)).await;
    let mut again = new_product("dupsku", usd(200), None);
    again.sku = first.sku.clone();
    let err = store.create_product(again.clone()).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "got {err:?}");
    assert!(
        store
            .products_by_ids(&[again.id], None)
            .await
            .unwrap()
            .is_empty()
    );
    let found = store
        .products_by_skus(std::slice::from_ref(&first.sku), None)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, first.id, "the first product keeps its SKU");
}

/// Walking `list_products` page by page visits every product once, in id order, and a category
/// lists exactly its own products.
pub async fn list_products_pages_without_gaps_and_filters_by_category(store: &dyn CommerceStore) {
    let (kitchen, garden) = (unique_category("kitchen"), unique_category("garden"));
    let mut in_kitchen = Vec::new();
    for _ in 0..5 {
        let new = new_product("list", usd(100), Some(kitchen.clone()));
        in_kitchen.push(store.create_product(new).await.unwrap().id);
    }
    let mut in_garden = Vec::new();
    for _ in 0..2 {
        let new = new_product("list", usd(100), Some(garden.clone()));
        in_garden.push(store.create_product(new).await.unwrap().id);
    }
    let uncategorised = create_product(store, "list", usd(100)).await.id;

    let walk = |category| async move {
        let mut walked = Vec::new();
        let mut after = None;
        loop {
            let page = store.list_products(category, 2, after).await.unwrap();
            assert!(page.len() <= 2);
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            walked.extend(page.iter().map(|p| p.id));
        }
        walked
    };

    let mut expected_kitchen = in_kitchen.clone();
    expected_kitchen.sort();
    assert_eq!(walk(Some(&kitchen)).await, expected_kitchen);
    let garden_page = store.list_products(Some(&garden), 10, None).await.unwrap();
    assert_eq!(
        garden_page.iter().map(|p| p.id).collect::<HashSet<_>>(),
        HashSet::from_iter(in_garden.iter().copied())
    );
    assert!(
        garden_page
            .iter()
            .all(|p| p.category.as_ref() == Some(&garden) && p.active)
    );
    let nowhere = unique_category("nowhere");
    assert!(
        store
            .list_products(Some(&nowhere), 10, None)
            .await
            .unwrap()
            .is_empty()
    );

    let everything: Vec<ProductId> = store
        .list_products(None, 10_000, None)
        .await
        .unwrap()
        .iter()
        .map(|p| p.id)
        .collect();
    let walked = walk(None).await;
    assert!(
        walked.windows(2).all(|w| w[0] < w[1]),
        "strictly increasing ids"
    );
    assert_eq!(walked, everything, "no gaps, no duplicates");
    for id in in_kitchen.iter().chain(&in_garden).chain([&uncategorised]) {
        assert!(walked.contains(id), "{id} is listed");
    }
}

/// `set_price` makes the new price current at once, per currency, and orders sell at it.
pub async fn set_price_changes_the_current_price(store: &dyn CommerceStore) {
    let product = stocked_product(store, "price", 1000, 3).await;
    store.set_price(product.id, usd(1250)).await.unwrap();
    assert_eq!(
        read_product(store, product.id).await.prices,
        vec![usd(1250)]
    );

    let euros = Money::new(990, eur()).unwrap();
    store.set_price(product.id, euros.clone()).await.unwrap();
    store.set_price(product.id, usd(1300)).await.unwrap();
    let read = read_product(store, product.id).await;
    assert_eq!(read.prices.len(), 2, "one current price per currency");
    assert_eq!(read.price_in(&Currency::usd()), Some(&usd(1300)));
    assert_eq!(read.price_in(&eur()), Some(&euros));

    let order = OrderId::new(DEFAULT_SHARD);
    let line = LineRequest {
        product: product.id,
        quantity: qty(1),
    };
    let held = store
        .reserve_stock(order, &Currency::usd(), &[line])
        .await
        .unwrap();
    let Reservation::Held(held) = held else {
        panic!("stock is held: {held:?}")
    };
    assert_eq!(held[0].unit_price_minor, 1300, "sold at the current price");
    assert_eq!(store.release_stock(order).await.unwrap(), vec![product.id]);
}

/// A restock applies once per key: a repeat changes nothing, the key with other content is
/// refused, and an unknown warehouse is named as such.
pub async fn restock_applies_once_per_key(store: &dyn CommerceStore) {
    let product = create_product(store, "restock", usd(100)).await;
    let other = create_product(store, "restock", usd(100)).await;
    let warehouse = create_warehouse(store, "r").await;
    let second = create_warehouse(store, "r").await;
    store
        .ensure_warehouse(&warehouse, "Renamed but kept", "FR")
        .await
        .expect("ensuring an existing warehouse is fine");

    let first = Restock {
        key: unique_key("restock"),
        product: product.id,
        warehouse: warehouse.clone(),
        quantity: qty(5),
    };
    assert_eq!(
        store.restock(&first).await.unwrap(),
        RestockOutcome::Applied
    );
    assert_eq!(available(store, product.id).await, 5);
    assert_eq!(
        store.restock(&first).await.unwrap(),
        RestockOutcome::AlreadyApplied
    );
    assert_eq!(available(store, product.id).await, 5, "applied once");

    let reused = [
        Restock {
            quantity: qty(6),
            ..first.clone()
        },
        Restock {
            warehouse: second.clone(),
            ..first.clone()
        },
        Restock {
            product: other.id,
            ..first.clone()
        },
    ];
    for restock in &reused {
        assert_eq!(
            store.restock(restock).await.unwrap(),
            RestockOutcome::KeyReused,
            "{restock:?}"
        );
    }
    assert_eq!(available(store, product.id).await, 5);
    assert_eq!(available(store, other.id).await, 0);

    let nowhere = Restock {
        key: unique_key("restock"),
        warehouse: unique_warehouse_code("nw"),
        ..first.clone()
    };
    assert_eq!(
        store.restock(&nowhere).await.unwrap(),
        RestockOutcome::UnknownWarehouse
    );
    assert_eq!(available(store, product.id).await, 5);

    add_stock(store, product.id, &second, 2).await;
    assert_eq!(
        available(store, product.id).await,
        7,
        "summed over warehouses"
    );
}

/// Holding stock is all or nothing, serves each line from one warehouse, fixes the price, and
/// repeating it for the same order holds nothing more; releasing gives it back once.
pub async fn reserve_stock_is_all_or_nothing_and_idempotent(store: &dyn CommerceStore) {
    let plenty = stocked_product(store, "plenty", 250, 5).await;
    let scarce = stocked_product(store, "scarce", 900, 1).await;
    let dollars = Currency::usd();
    let line = |product: &Product, n| LineRequest {
        product: product.id,
        quantity: qty(n),
    };

    let refused = OrderId::new(DEFAULT_SHARD);
    let short = [line(&plenty, 3), line(&scarce, 2)];
    assert_eq!(
        store
            .reserve_stock(refused, &dollars, &short)
            .await
            .unwrap(),
        Reservation::Short { product: scarce.id }
    );
    assert_eq!(available(store, plenty.id).await, 5, "nothing held");
    assert_eq!(available(store, scarce.id).await, 1, "nothing held");

    let unknown = ProductId::new(DEFAULT_SHARD);
    let lines = [
        line(&plenty, 1),
        LineRequest {
            product: unknown,
            quantity: qty(1),
        },
    ];
    assert_eq!(
        store
            .reserve_stock(refused, &dollars, &lines)
            .await
            .unwrap(),
        Reservation::Unavailable { product: unknown }
    );
    assert_eq!(
        store
            .reserve_stock(refused, &eur(), &[line(&plenty, 1)])
            .await
            .unwrap(),
        Reservation::NoPrice { product: plenty.id }
    );
    assert_eq!(available(store, plenty.id).await, 5, "nothing held");

    let order = OrderId::new(DEFAULT_SHARD);
    let lines = [line(&scarce, 1), line(&plenty, 3)];
    let held = store.reserve_stock(order, &dollars, &lines).await.unwrap();
    let Reservation::Held(held_lines) = &held else {
        panic!("stock is held: {held:?}")
    };
    let summary: Vec<_> = held_lines
        .iter()
        .map(|h| {
            (
                h.product,
                h.sku.clone(),
                h.quantity.get(),
                h.unit_price_minor,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (scarce.id, scarce.sku.clone(), 1, 900),
            (plenty.id, plenty.sku.clone(), 3, 250)
        ],
        "lines in request order, at the current price"
    );
    assert_eq!(available(store, plenty.id).await, 2);
    assert_eq!(available(store, scarce.id).await, 0);

    store.set_price(plenty.id, usd(999)).await.unwrap();
    let again = store.reserve_stock(order, &dollars, &lines).await.unwrap();
    assert_eq!(again, held, "a repeat returns what the first call held");
    assert_eq!(
        available(store, plenty.id).await,
        2,
        "and holds nothing more"
    );
    assert_eq!(available(store, scarce.id).await, 0);

    // Two warehouses with 2 each make 4 available, but no one warehouse can serve 3.
    let split = create_product(store, "split", usd(10)).await;
    for code in ["a", "b"] {
        let warehouse = create_warehouse(store, code).await;
        add_stock(store, split.id, &warehouse, 2).await;
    }
    assert_eq!(available(store, split.id).await, 4);
    let too_many = OrderId::new(DEFAULT_SHARD);
    assert_eq!(
        store
            .reserve_stock(too_many, &dollars, &[line(&split, 3)])
            .await
            .unwrap(),
        Reservation::Short { product: split.id }
    );
    assert_eq!(available(store, split.id).await, 4);

    let mut released = store.release_stock(order).await.unwrap();
    released.sort();
    let mut expected = vec![plenty.id, scarce.id];
    expected.sort();
    assert_eq!(released, expected);
    assert_eq!(available(store, plenty.id).await, 5);
    assert_eq!(available(store, scarce.id).await, 1);
    assert!(store.release_stock(order).await.unwrap().is_empty());
    assert_eq!(available(store, plenty.id).await, 5, "released once");
    assert!(store.release_stock(refused).await.unwrap().is_empty());
}
