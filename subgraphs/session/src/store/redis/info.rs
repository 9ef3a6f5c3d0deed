//! What Redis says about itself, parsed: `INFO` and `CLUSTER INFO` (`name:value` lines under
//! `# Section` headings) and `CLUSTER NODES` (one node per line).
//!
//! Non-obvious decision: values stay text until asked for, and a field Redis does not send is
//! `None`, never 0: versions and managed services (ElastiCache hides some fields) differ, and a
//! missing figure must not read as a healthy one.

use std::collections::HashMap;

/// The fields of one `INFO` (or `CLUSTER INFO`) reply.
#[derive(Debug, Clone, Default)]
pub struct Info(HashMap<String, String>);

impl Info {
    pub fn parse(text: &str) -> Self {
        Self(
            text.lines()
                .map(str::trim)
                .filter(|line| !line.is_empty() && !line.starts_with('#'))
                .filter_map(|line| line.split_once(':'))
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A numeric field.
    pub fn num(&self, name: &str) -> Option<f64> {
        self.get(name)?.parse().ok()
    }

    /// The `k=v,k=v` fields of every line named `<prefix><digits>` (`slave0`, `db0`, …), by name.
    pub fn numbered(&self, prefix: &str) -> Vec<(&str, HashMap<&str, &str>)> {
        let mut out: Vec<(&str, HashMap<&str, &str>)> = self
            .0
            .iter()
            .filter(|(name, _)| {
                name.strip_prefix(prefix)
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            })
            .map(|(name, value)| {
                let fields = value
                    .split(',')
                    .filter_map(|kv| kv.split_once('='))
                    .collect();
                (name.as_str(), fields)
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(b.0));
        out
    }

    /// `keyspace_hits / (hits + misses)` since the node started; `None` before any look-up.
    pub fn hit_ratio(&self) -> Option<f64> {
        let hits = self.num("keyspace_hits")?;
        let total = hits + self.num("keyspace_misses")?;
        (total > 0.0).then(|| hits / total)
    }

    /// Keys and keys with a TTL, summed over every database of the `# Keyspace` section.
    pub fn keys(&self) -> (f64, f64) {
        self.numbered("db")
            .iter()
            .fold((0.0, 0.0), |(keys, expires), (_, f)| {
                let num = |name| {
                    f.get(name)
                        .and_then(|v| v.parse::<f64>().ok())
                        .unwrap_or(0.0)
                };
                (keys + num("keys"), expires + num("expires"))
            })
    }

    /// On a master: each replica's address with how far it is behind, in bytes of the
    /// replication stream and in seconds since it last acknowledged.
    pub fn replicas(&self) -> Vec<ReplicaLag> {
        let master_offset = self.num("master_repl_offset").unwrap_or(0.0);
        self.numbered("slave")
            .into_iter()
            .filter_map(|(_, f)| {
                let addr = format!("{}:{}", f.get("ip")?, f.get("port")?);
                let offset: f64 = f.get("offset")?.parse().ok()?;
                Some(ReplicaLag {
                    addr,
                    online: f.get("state") == Some(&"online"),
                    lag_bytes: (master_offset - offset).max(0.0),
                    lag_seconds: f.get("lag").and_then(|v| v.parse().ok()),
                })
            })
            .collect()
    }
}

/// One replica as its master reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaLag {
    pub addr: String,
    pub online: bool,
    pub lag_bytes: f64,
    pub lag_seconds: Option<f64>,
}

/// One line of `CLUSTER NODES`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterNode {
    /// `host:port` clients use (without the `@bus-port`).
    pub addr: String,
    pub master: bool,
    /// Flagged `fail` or `fail?` by the cluster.
    pub failing: bool,
}

/// The nodes of a `CLUSTER NODES` reply that have an address (a node still in handshake or
/// without an address is left out).
pub fn cluster_nodes(text: &str) -> Vec<ClusterNode> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let addr = fields.get(1)?.split('@').next()?;
            let flags: Vec<&str> = fields.get(2)?.split(',').collect();
            if addr.starts_with(':') || flags.iter().any(|f| matches!(*f, "noaddr" | "handshake")) {
                return None;
            }
            Some(ClusterNode {
                addr: addr.to_owned(),
                master: flags.contains(&"master"),
                failing: flags.iter().any(|f| matches!(*f, "fail" | "fail?")),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Trimmed from `INFO` of this repository's test cluster (`e2e/servers/redis-cluster.sh`).
    const MASTER_INFO: &str = "# Clients\r\nconnected_clients:3\r\n\r\n# Memory\r\n\
        used_memory:2635576\r\nmaxmemory:0\r\nmaxmemory_policy:volatile-ttl\r\n\r\n# Stats\r\n\
        total_commands_processed:4324\r\ninstantaneous_ops_per_sec:12\r\nexpired_keys:18\r\n\
        evicted_keys:0\r\nkeyspace_hits:852\r\nkeyspace_misses:148\r\n\r\n# Replication\r\n\
        role:master\r\nconnected_slaves:1\r\n\
        slave0:ip=127.0.0.1,port=57103,state=online,offset=102075,lag=1\r\n\
        master_repl_offset:102175\r\n\r\n# Keyspace\r\n\
        db0:keys=98,expires=97,avg_ttl=1673230\r\ndb3:keys=2,expires=0,avg_ttl=0\r\n";

    #[test]
    fn info_fields_are_read_by_name_and_missing_ones_are_none() {
        let info = Info::parse(MASTER_INFO);
        assert_eq!(info.get("role"), Some("master"));
        assert_eq!(info.get("maxmemory_policy"), Some("volatile-ttl"));
        assert_eq!(info.num("used_memory"), Some(2_635_576.0));
        assert_eq!(info.num("instantaneous_ops_per_sec"), Some(12.0));
        assert_eq!(info.num("mem_not_sent"), None);
        assert_eq!(info.hit_ratio(), Some(0.852));
        assert_eq!(info.keys(), (100.0, 97.0));
    }

    #[test]
    fn a_master_reports_each_replicas_lag() {
        let replicas = Info::parse(MASTER_INFO).replicas();
        assert_eq!(
            replicas,
            [ReplicaLag {
                addr: "127.0.0.1:57103".to_owned(),
                online: true,
                lag_bytes: 100.0,
                lag_seconds: Some(1.0),
            }]
        );
        assert!(Info::parse("role:slave\r\n").replicas().is_empty());
    }

    #[test]
    fn no_look_ups_yet_is_no_hit_ratio() {
        let info = Info::parse("keyspace_hits:0\r\nkeyspace_misses:0\r\n");
        assert_eq!(info.hit_ratio(), None);
    }

    #[test]
    fn cluster_nodes_are_read_without_their_bus_port() {
        let text = "\
db11 127.0.0.1:57100@57200 myself,master - 0 1 1 connected 0-5460
4621 127.0.0.1:57103@57203 slave db11 0 1 1 connected
ea77 127.0.0.1:57102@57202 master,fail - 0 1 3 disconnected 10923-16383
b62e :0@0 noaddr - 0 0 0 disconnected
";
        let nodes = cluster_nodes(text);
        let addrs: Vec<(&str, bool, bool)> = nodes
            .iter()
            .map(|n| (n.addr.as_str(), n.master, n.failing))
            .collect();
        assert_eq!(
            addrs,
            [
                ("127.0.0.1:57100", true, false),
                ("127.0.0.1:57103", false, false),
                ("127.0.0.1:57102", true, true),
            ]
        );
    }
}
