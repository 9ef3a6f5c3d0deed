//! The batch loaders behind every entity list: each turns the keys of one batch into one store
//! call.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;

use crate::domain::{
    Host, HostId, HostSelection, Hostname, LastReading, Series, SeriesSpec, Team, assemble,
};
use crate::metrics::QueryType;
use crate::store::{StoreError, TelemetryStore};

/// Hosts by id: one `hosts_by_ids` call per batch.
pub struct HostLoader(pub Arc<dyn TelemetryStore>);

impl Loader<HostId> for HostLoader {
    type Value = Host;
    type Error = StoreError;

    async fn load(&self, keys: &[HostId]) -> Result<HashMap<HostId, Host>, StoreError> {
        let hosts = self.0.hosts_by_ids(keys).await?;
        Ok(hosts.into_iter().map(|h| (h.id, h)).collect())
    }
}

/// Hosts by hostname: one `hosts_by_hostnames` call per batch.
pub struct HostnameLoader(pub Arc<dyn TelemetryStore>);

impl Loader<Hostname> for HostnameLoader {
    type Value = Host;
    type Error = StoreError;

    async fn load(&self, keys: &[Hostname]) -> Result<HashMap<Hostname, Host>, StoreError> {
        let hosts = self.0.hosts_by_hostnames(keys).await?;
        Ok(hosts.into_iter().map(|h| (h.hostname.clone(), h)).collect())
    }
}

/// Every host of a team (an org department): one `hosts_by_teams` call per batch.
pub struct TeamLoader(pub Arc<dyn TelemetryStore>);

impl Loader<Team> for TeamLoader {
    type Value = Vec<Host>;
    type Error = StoreError;

    async fn load(&self, keys: &[Team]) -> Result<HashMap<Team, Vec<Host>>, StoreError> {
        let mut by_team: HashMap<Team, Vec<Host>> =
            keys.iter().map(|t| (t.clone(), Vec::new())).collect();
        for host in self.0.hosts_by_teams(keys).await? {
            if let Some(hosts) = by_team.get_mut(&host.tags.team) {
                hosts.push(host);
            }
        }
        Ok(by_team)
    }
}

/// The newest readings of hosts: one `last_readings` call per batch (TSBS lastpoint).
pub struct LastReadingsLoader(pub Arc<dyn TelemetryStore>);

impl Loader<HostId> for LastReadingsLoader {
    type Value = Vec<LastReading>;
    type Error = StoreError;

    async fn load(&self, keys: &[HostId]) -> Result<HashMap<HostId, Vec<LastReading>>, StoreError> {
        let selection = HostSelection::Only(keys.to_vec());
        let readings = QueryType::Lastpoint
            .time(self.0.last_readings(&selection))
            .await?;
        let mut by_host: HashMap<HostId, Vec<LastReading>> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for reading in readings {
            by_host.entry(reading.host).or_default().push(reading);
        }
        for readings in by_host.values_mut() {
            readings.sort_by_key(|r| r.measurement);
        }
        Ok(by_host)
    }
}

/// One host's series for a query: the spec (its `hosts` ignored) and the host.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostSeriesKey {
    pub spec: SeriesSpec,
    pub host: HostId,
}

/// Series per host: the keys of a batch are grouped by spec, one `series` call per spec (the
/// hosts of a list asking the same query share one).
pub struct HostSeriesLoader(pub Arc<dyn TelemetryStore>);

impl Loader<HostSeriesKey> for HostSeriesLoader {
    type Value = Vec<Series>;
    type Error = StoreError;

    async fn load(
        &self,
        keys: &[HostSeriesKey],
    ) -> Result<HashMap<HostSeriesKey, Vec<Series>>, StoreError> {
        let mut groups: Vec<(SeriesSpec, Vec<HostId>)> = Vec::new();
        for key in keys {
            match groups.iter_mut().find(|(spec, _)| *spec == key.spec) {
                Some((_, hosts)) => hosts.push(key.host),
                None => groups.push((key.spec.clone(), vec![key.host])),
            }
        }
        let mut out = HashMap::new();
        for (template, mut hosts) in groups {
            hosts.sort();
            hosts.dedup();
            let mut spec = template.clone();
            spec.hosts = HostSelection::Only(hosts.clone());
            spec.per_host = true;
            let rows = QueryType::HostSeries.time(self.0.series(&spec)).await?;
            let mut by_host: HashMap<HostId, Vec<Series>> = HashMap::new();
            for series in assemble(&spec, &rows) {
                if let Some(host) = series.host {
                    by_host.entry(host).or_default().push(series);
                }
            }
            for host in hosts {
                let key = HostSeriesKey {
                    spec: template.clone(),
                    host,
                };
                out.insert(key, by_host.remove(&host).unwrap_or_default());
            }
        }
        Ok(out)
    }
}
