//! Search: category and price, attribute filters, text, paging.

use super::*;
use crate::domain::{AttributeFilter, FilterOp, PriceRange, SearchQuery, SearchText};

fn query(category: Option<&CategorySlug>) -> SearchQuery {
    SearchQuery::new(None, vec![], category.cloned(), None, 100, None).unwrap()
}

fn filter(key: &str, op: FilterOp, value: &str) -> AttributeFilter {
    AttributeFilter::new("filters[0]", key, op, value).unwrap()
}

/// A category matches at any level of a product's path; the price range includes both ends
/// and leaves out products without a list price.
pub async fn search_filters_by_category_at_any_level_and_by_price(store: &dyn CatalogStore) {
    let root = unique_category("root");
    let leaf = unique_category("leaf");
    let (a, b, c, d) = (
        unique_sku("CA"),
        unique_sku("CB"),
        unique_sku("CC"),
        unique_sku("CD"),
    );
    put(
        store,
        content(&a, &[&root, &leaf], Some(1_000), vec![], vec![]),
    )
    .await;
    put(store, content(&b, &[&root], Some(2_000), vec![], vec![])).await;
    put(store, content(&c, &[&root], Some(3_000), vec![], vec![])).await;
    put(store, content(&d, &[&root], None, vec![], vec![])).await;

    let all = store.search(&query(Some(&root))).await.unwrap();
    let mut expected = skus(&all);
    expected.sort();
    assert_eq!(skus(&all), expected, "in SKU order");
    assert_eq!(all.len(), 4);
    let leaf_only = store.search(&query(Some(&leaf))).await.unwrap();
    assert_eq!(skus(&leaf_only), [a.to_string()]);

    let mut priced = query(Some(&root));
    priced.price = Some(PriceRange::new(Some(1_000), Some(2_000)).unwrap());
    let mut found = skus(&store.search(&priced).await.unwrap());
    found.sort();
    let mut want = vec![a.to_string(), b.to_string()];
    want.sort();
    assert_eq!(found, want);

    priced.price = Some(PriceRange::new(Some(2_500), None).unwrap());
    assert_eq!(skus(&store.search(&priced).await.unwrap()), [c.to_string()]);
}

/// Each filter matches one attribute (key, operator and value together); two filters must
/// both match; a numeric filter never matches text and the other way round.
pub async fn search_filters_by_attributes_as_text_and_as_numbers(store: &dyn CatalogStore) {
    let category = unique_category("attr");
    let colour = unique_key("colour");
    let capacity = unique_key("capacity");
    let (small_blue, big_blue, big_red) = (unique_sku("AS"), unique_sku("AB"), unique_sku("AR"));
    let attrs = |c: &str, ml: f64| vec![text(&colour, c), number(&capacity, ml, Some("ml"))];
    put(
        store,
        content(
            &small_blue,
            &[&category],
            None,
            attrs("blue", 250.0),
            vec![],
        ),
    )
    .await;
    put(
        store,
        content(&big_blue, &[&category], None, attrs("blue", 500.0), vec![]),
    )
    .await;
    put(
        store,
        content(&big_red, &[&category], None, attrs("red", 500.0), vec![]),
    )
    .await;

    let mut q = query(Some(&category));
    q.filters = vec![filter(&colour, FilterOp::Eq, "blue")];
    let mut found = skus(&store.search(&q).await.unwrap());
    found.sort();
    let mut want = vec![small_blue.to_string(), big_blue.to_string()];
    want.sort();
    assert_eq!(found, want);

    q.filters = vec![
        filter(&colour, FilterOp::Eq, "blue"),
        filter(&capacity, FilterOp::Gte, "300"),
    ];
    assert_eq!(
        skus(&store.search(&q).await.unwrap()),
        [big_blue.to_string()]
    );

    q.filters = vec![filter(&capacity, FilterOp::Lt, "500")];
    assert_eq!(
        skus(&store.search(&q).await.unwrap()),
        [small_blue.to_string()]
    );

    // The key and the value must meet in one attribute: "red" is a colour, not a capacity.
    q.filters = vec![filter(&capacity, FilterOp::Eq, "red")];
    assert!(store.search(&q).await.unwrap().is_empty());
    q.filters = vec![filter(&colour, FilterOp::Eq, "500")];
    assert!(
        store.search(&q).await.unwrap().is_empty(),
        "a number never matches text"
    );
}

/// Text matches words of the name or the description; every word must match.
pub async fn search_finds_products_with_every_word_of_the_text(store: &dyn CatalogStore) {
    let (one, two) = (unique_word("wone"), unique_word("wtwo"));
    let (a, b) = (unique_sku("TA"), unique_sku("TB"));
    let mut ca = plain(&a);
    ca.description = format!("Made for {one} and for {two} alike.");
    let mut cb = plain(&b);
    cb.name = format!("The {one} special");
    put(store, ca).await;
    put(store, cb).await;

    let search = |words: String| async move {
        let text = SearchText::parse(&words).unwrap();
        let q = SearchQuery::new(text, vec![], None, None, 100, None).unwrap();
        let mut found = skus(&store.search(&q).await.unwrap());
        found.sort();
        found
    };
    let mut both = vec![a.to_string(), b.to_string()];
    both.sort();
    assert_eq!(search(one.clone()).await, both, "name and description");
    assert_eq!(search(format!("{one} {two}")).await, [a.to_string()]);
    assert_eq!(
        search(two.to_uppercase()).await,
        [a.to_string()],
        "case-insensitive"
    );
    assert!(search(unique_word("none")).await.is_empty());
}

/// Pages of 2 after the last SKU of the previous page list every match once, in order.
pub async fn search_pages_in_sku_order_without_gaps(store: &dyn CatalogStore) {
    let category = unique_category("page");
    let mut written = Vec::new();
    for n in 0..5 {
        let sku = unique_sku(&format!("P{n}"));
        put(
            store,
            content(&sku, &[&category], Some(100), vec![], vec![]),
        )
        .await;
        written.push(sku.to_string());
    }
    written.sort();
    let mut seen = Vec::new();
    let mut after = None;
    for _ in 0..10 {
        let q = SearchQuery::new(None, vec![], Some(category.clone()), None, 2, after).unwrap();
        let page = store.search(&q).await.unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 2);
        after = Some(page.last().unwrap().content.sku.clone());
        seen.extend(skus(&page));
    }
    assert_eq!(seen, written);
}
