//! Reading counters out of a `/metrics` page.

/// The sum of `<family>_count` samples whose labels include every `label="value"` given.
pub fn histogram_count(page: &str, family: &str, labels: &[(&str, &str)]) -> u64 {
    let prefix = format!("{family}_count{{");
    page.lines()
        .filter(|line| line.starts_with(&prefix))
        .filter(|line| {
            labels
                .iter()
                .all(|(k, v)| line.contains(&format!("{k}=\"{v}\"")))
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as u64)
        .sum()
}

pub async fn fetch(url: &str) -> String {
    reqwest::get(url)
        .await
        .expect("metrics")
        .text()
        .await
        .expect("body")
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_only_matching_series() {
        let page = "\
polygate_store_call_seconds_count{engine=\"memory\",operation=\"a\",outcome=\"ok\",subgraph=\"session\"} 3
polygate_store_call_seconds_count{engine=\"memory\",operation=\"b\",outcome=\"ok\",subgraph=\"session\"} 5
polygate_store_call_seconds_count{engine=\"memory\",operation=\"a\",outcome=\"error\",subgraph=\"session\"} 1
";
        assert_eq!(
            super::histogram_count(page, "polygate_store_call_seconds", &[("operation", "a")]),
            4
        );
    }
}
