//! Behaviour every [`TelemetryStore`] adapter must show, as plain async checks that panic on
//! failure. Each adapter's integration tests run every check against a fresh database, and all
//! of them one after another on one database ([`run_all`]).
//!
//! Non-obvious: queries are checked against a reference computed in memory from the very rows
//! written ([`reference`]), never against hand-written numbers, so one suite covers raw
//! readings, rollups and their split at the watermark on every engine. Checks may share a
//! database: each registers its own hosts and writes on a day of its own (queries over all
//! hosts see only that day), and the retention check, which drops everything before its cutoff,
//! runs last.

mod fixtures;
mod hosts;
mod queries;
mod readings;
mod reference;
mod rollups;

use super::TelemetryStore;

pub use hosts::{
    hosts_are_found_by_id_hostname_and_team, list_hosts_pages_in_id_order_and_filters,
    upserting_a_host_again_updates_its_tags_and_keeps_its_id,
};
pub use queries::{
    latest_buckets_are_the_newest_before_the_moment, readings_above_a_threshold_come_by_time,
    series_aggregate_buckets_over_the_selected_hosts, series_per_host_give_one_series_per_host,
};
pub use readings::{
    a_batch_naming_an_unknown_host_writes_nothing,
    a_retried_batch_writes_nothing_twice_and_counts_duplicates,
    last_readings_are_the_newest_row_of_each_host_and_measurement, ping_succeeds,
};
pub use rollups::{
    late_readings_behind_the_watermark_update_the_rollups,
    retention_drops_expired_readings_and_keeps_the_rollups,
    series_answer_the_same_from_rollups_as_from_raw_readings,
};

/// Calls `$callback!` with the name of every check, so each adapter's test file turns the same
/// list into one test per check and none can be forgotten:
/// `polygate_telemetry::telemetry_store_checks!(on_my_engine);`
#[macro_export]
macro_rules! telemetry_store_checks {
    ($callback:ident) => {
        $callback!(
            upserting_a_host_again_updates_its_tags_and_keeps_its_id,
            hosts_are_found_by_id_hostname_and_team,
            list_hosts_pages_in_id_order_and_filters,
            a_retried_batch_writes_nothing_twice_and_counts_duplicates,
            a_batch_naming_an_unknown_host_writes_nothing,
            last_readings_are_the_newest_row_of_each_host_and_measurement,
            series_aggregate_buckets_over_the_selected_hosts,
            series_per_host_give_one_series_per_host,
            readings_above_a_threshold_come_by_time,
            latest_buckets_are_the_newest_before_the_moment,
            series_answer_the_same_from_rollups_as_from_raw_readings,
            late_readings_behind_the_watermark_update_the_rollups,
            retention_drops_expired_readings_and_keeps_the_rollups,
            ping_succeeds,
        );
    };
}

/// Every check, one after another, on the same store (retention last: it drops the past).
pub async fn run_all(store: &dyn TelemetryStore) {
    upserting_a_host_again_updates_its_tags_and_keeps_its_id(store).await;
    hosts_are_found_by_id_hostname_and_team(store).await;
    list_hosts_pages_in_id_order_and_filters(store).await;
    a_retried_batch_writes_nothing_twice_and_counts_duplicates(store).await;
    a_batch_naming_an_unknown_host_writes_nothing(store).await;
    last_readings_are_the_newest_row_of_each_host_and_measurement(store).await;
    series_aggregate_buckets_over_the_selected_hosts(store).await;
    series_per_host_give_one_series_per_host(store).await;
    readings_above_a_threshold_come_by_time(store).await;
    latest_buckets_are_the_newest_before_the_moment(store).await;
    series_answer_the_same_from_rollups_as_from_raw_readings(store).await;
    late_readings_behind_the_watermark_update_the_rollups(store).await;
    ping_succeeds(store).await;
    retention_drops_expired_readings_and_keeps_the_rollups(store).await;
}
