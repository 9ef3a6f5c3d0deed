//! Named query files and the fragments filled into them.
//!
//! The hot-path queries live as `.sql` files under `sql/telemetry/<engine>/queries/` so they can
//! be read, pasted into a shell and EXPLAINed as they are. Their `{placeholders}` are filled only
//! with names from the closed metric list ([`crate::domain::Metric`]) and fragments built here,
//! never with client text; values always travel as bound parameters. Non-obvious: the fragments
//! are the same SQL on every engine (aggregates, partial sums), so one function serves all.

use crate::domain::{Aggregate, Measurement, Metric};

/// `template` with every `{name}` of `fills` replaced.
///
/// # Panics
/// When a placeholder is left unfilled: a bug caught by the first test that runs the query.
pub fn render(template: &str, fills: &[(&str, &str)]) -> String {
    // The files' comments document the placeholders; the SQL sent goes without them.
    let mut out: String = template
        .lines()
        .filter(|line| !line.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    for (name, value) in fills {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    if let Some(start) = out.find('{') {
        let rest = &out[start..];
        if rest
            .chars()
            .nth(1)
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        {
            panic!(
                "unfilled placeholder in query: {}",
                &rest[..rest.len().min(40)]
            );
        }
    }
    out
}

/// `CAST(agg(col) AS DOUBLE PRECISION) AS v0, …` over raw readings, one per metric. Every value
/// is a double on every engine (a count too), so rows decode one way.
pub fn aggregates(metrics: &[Metric], aggregate: Aggregate) -> String {
    metrics
        .iter()
        .enumerate()
        .map(|(i, m)| value(&format!("{}({})", aggregate.sql(), m.column()), i))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `col_sum, col_min, col_max, …`: the rollup columns of `metrics`.
pub fn rollup_partials(metrics: &[Metric]) -> String {
    metrics
        .iter()
        .map(|m| {
            let c = m.column();
            format!("{c}_sum, {c}_min, {c}_max")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `sum(col), min(col), max(col), …` over raw readings, in [`rollup_partials`] order.
pub fn raw_partials(metrics: &[Metric]) -> String {
    metrics
        .iter()
        .map(|m| {
            let c = m.column();
            format!("sum({c}), min({c}), max({c})")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `col, col, col, …`: one raw row as its own partial (sum = min = max = the value).
pub fn raw_rows(metrics: &[Metric]) -> String {
    metrics
        .iter()
        .map(|m| {
            let c = m.column();
            format!("{c}, {c}, {c}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `sum(col_sum), min(col_min), max(col_max), …`: a finer rollup folded into a coarser one.
pub fn rollup_folds(metrics: &[Metric]) -> String {
    metrics
        .iter()
        .map(|m| {
            let c = m.column();
            format!("sum({c}_sum), min({c}_min), max({c}_max)")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `col_sum = excluded.col_sum, …`: an upsert replacing a rollup bucket whole.
pub fn rollup_updates(metrics: &[Metric]) -> String {
    metrics
        .iter()
        .map(|m| {
            let c = m.column();
            format!(
                "{c}_sum = excluded.{c}_sum, {c}_min = excluded.{c}_min, {c}_max = excluded.{c}_max"
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The asked aggregate of each metric from partials (`samples`, `col_sum`, `col_min`,
/// `col_max`): exact for every [`Aggregate`].
pub fn combine(metrics: &[Metric], aggregate: Aggregate) -> String {
    metrics
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let c = m.column();
            let expr = match aggregate {
                Aggregate::Avg => format!("sum({c}_sum) / sum(samples)"),
                Aggregate::Max => format!("max({c}_max)"),
                Aggregate::Min => format!("min({c}_min)"),
                Aggregate::Sum => format!("sum({c}_sum)"),
                Aggregate::Count => "sum(samples)".to_owned(),
            };
            value(&expr, i)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `expr` as the double-precision value `v<i>`.
fn value(expr: &str, i: usize) -> String {
    format!("CAST({expr} AS DOUBLE PRECISION) AS v{i}")
}

/// Every column of `measurement`, comma-separated.
pub fn columns(measurement: Measurement) -> String {
    measurement.columns().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_fills_every_placeholder_and_refuses_leftovers() {
        assert_eq!(
            render("SELECT {a} FROM {b}", &[("a", "x"), ("b", "t")]),
            "SELECT x FROM t"
        );
        let leftover = std::panic::catch_unwind(|| render("SELECT {a}", &[]));
        assert!(leftover.is_err());
        // JSON paths and literal braces that are not placeholders pass.
        assert_eq!(render("SELECT '{1,2}'", &[]), "SELECT '{1,2}'");
        assert_eq!(
            render("-- {unfilled} in a comment\nSELECT 1", &[]),
            "SELECT 1"
        );
    }

    #[test]
    fn combining_partials_names_values_in_metric_order() {
        let metrics = [Metric::CpuUsageUser, Metric::CpuUsageIdle];
        assert_eq!(
            combine(&metrics, Aggregate::Avg),
            "CAST(sum(usage_user_sum) / sum(samples) AS DOUBLE PRECISION) AS v0, \
             CAST(sum(usage_idle_sum) / sum(samples) AS DOUBLE PRECISION) AS v1"
        );
        assert_eq!(
            aggregates(&metrics[..1], Aggregate::Max),
            "CAST(max(usage_user) AS DOUBLE PRECISION) AS v0"
        );
    }
}
