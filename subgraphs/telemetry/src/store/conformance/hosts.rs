//! The host registry.

use super::fixtures::{new_host, register, unique_team};
use crate::domain::{HostFilter, HostId, Hostname, Team};
use crate::store::TelemetryStore;

pub async fn upserting_a_host_again_updates_its_tags_and_keeps_its_id(store: &dyn TelemetryStore) {
    let team = unique_team("upsert");
    let first = new_host("upsert", &team, "eu-central-1");
    let created = store
        .upsert_hosts(std::slice::from_ref(&first))
        .await
        .unwrap();
    let mut moved = first.clone();
    moved.tags.region = "us-west-2".into();
    let again = store.upsert_hosts(&[moved]).await.unwrap();
    assert_eq!(again[0].id, created[0].id, "the hostname keeps its id");
    assert_eq!(again[0].tags.region, "us-west-2");
    let found = store.hosts_by_ids(&[created[0].id]).await.unwrap();
    assert_eq!(found, again);
}

pub async fn hosts_are_found_by_id_hostname_and_team(store: &dyn TelemetryStore) {
    let hosts = register(store, "find", 3).await;
    let other = register(store, "findother", 1).await;
    let unknown = HostId::new(i32::MAX).unwrap();

    let mut by_id = store
        .hosts_by_ids(&[hosts[0].id, hosts[2].id, unknown])
        .await
        .unwrap();
    by_id.sort_by_key(|h| h.id);
    assert_eq!(by_id, vec![hosts[0].clone(), hosts[2].clone()]);

    let by_name = store
        .hosts_by_hostnames(&[
            hosts[1].hostname.clone(),
            Hostname::parse("no-such-host").unwrap(),
        ])
        .await
        .unwrap();
    assert_eq!(by_name, vec![hosts[1].clone()]);

    let teams: Vec<Team> = vec![hosts[0].tags.team.clone(), other[0].tags.team.clone()];
    let by_team = store.hosts_by_teams(&teams).await.unwrap();
    let mut expected = hosts.clone();
    expected.extend(other);
    expected.sort_by_key(|h| h.id);
    assert_eq!(by_team, expected, "every host of both teams, in id order");
}

pub async fn list_hosts_pages_in_id_order_and_filters(store: &dyn TelemetryStore) {
    let hosts = register(store, "page", 5).await;
    let filter = HostFilter {
        team: Some(hosts[0].tags.team.clone()),
        ..HostFilter::default()
    };
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store.list_hosts(&filter, 2, after).await.unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 2);
        after = page.last().map(|h| h.id);
        seen.extend(page);
    }
    assert_eq!(seen, hosts, "every host of the team once, in id order");

    let elsewhere = HostFilter {
        region: Some("nowhere-1".into()),
        ..filter
    };
    assert!(
        store
            .list_hosts(&elsewhere, 10, None)
            .await
            .unwrap()
            .is_empty()
    );
}
