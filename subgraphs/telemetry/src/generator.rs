//! TSBS-shaped data: a fleet of hosts with the devops tags and their cpu, mem, disk and net
//! readings every 10 seconds, for the demo seed, `polygate-telemetry generate` and the bench.
//!
//! Non-obvious: a reading is a pure function of (seed, host, time), not a random walk, so any
//! time range can be generated on its own, in any order or in parallel, and generating a range
//! twice yields the same rows (the store then keeps the first: a re-run adds nothing). The
//! shapes follow TSBS: daily cycles with noise, rare cpu spikes above 90 % (what high-cpu
//! finds), disks that fill slowly, and network counters that only grow.

use chrono::{DateTime, Duration, Utc};

use crate::domain::{HostId, HostTags, Hostname, Measurement, NewHost, RawReading, RawTags, Row};

/// Seconds between two readings of a host, as in TSBS.
pub const INTERVAL_SECS: i64 = 10;

const REGIONS: [(&str, &[&str]); 4] = [
    ("eu-central-1", &["eu-central-1a", "eu-central-1b"]),
    ("eu-west-1", &["eu-west-1a", "eu-west-1b", "eu-west-1c"]),
    (
        "us-east-1",
        &["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1e"],
    ),
    ("us-west-2", &["us-west-2a", "us-west-2b", "us-west-2c"]),
];
const OSES: [&str; 3] = ["Ubuntu16.10", "Ubuntu16.04LTS", "Ubuntu15.10"];
const ARCHES: [&str; 2] = ["x64", "x86"];
/// Org departments (their slug ids) that own demo hosts.
pub const TEAMS: [&str; 3] = ["platform", "data", "engineering"];
const ENVIRONMENTS: [&str; 3] = ["production", "staging", "test"];

/// A deterministic fleet of `count` hosts named `host_0` … .
#[derive(Debug, Clone)]
pub struct Fleet {
    pub seed: u64,
    pub hosts: Vec<NewHost>,
}

/// splitmix64: a fast, well-mixed hash of one word.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A uniform number in [0, 1) from the given words.
fn unit(words: &[u64]) -> f64 {
    let h = words.iter().fold(0u64, |acc, w| mix(acc ^ w));
    (h >> 11) as f64 / (1u64 << 53) as f64
}

impl Fleet {
    pub fn new(count: usize, seed: u64) -> Self {
        let pick =
            |i: usize, salt: u64, n: usize| (mix(seed ^ salt ^ i as u64) % n as u64) as usize;
        let hosts = (0..count)
            .map(|i| {
                let (region, zones) = REGIONS[pick(i, 1, REGIONS.len())];
                let rack = pick(i, 3, 100).to_string();
                let service = pick(i, 7, 20).to_string();
                let version = pick(i, 8, 2).to_string();
                NewHost {
                    hostname: Hostname::parse(&format!("host_{i}")).expect("valid hostname"),
                    tags: HostTags::parse(&RawTags {
                        region,
                        datacenter: zones[pick(i, 2, zones.len())],
                        rack: &rack,
                        os: OSES[pick(i, 4, OSES.len())],
                        arch: ARCHES[pick(i, 5, ARCHES.len())],
                        team: TEAMS[i % TEAMS.len()],
                        service: &service,
                        service_version: &version,
                        environment: ENVIRONMENTS[pick(i, 9, ENVIRONMENTS.len())],
                    })
                    .expect("valid tags"),
                }
            })
            .collect();
        Self { seed, hosts }
    }

    /// The values of `measurement` for the host at `index` at `time`.
    pub fn values(&self, index: usize, measurement: Measurement, time: DateTime<Utc>) -> Vec<f64> {
        let t = time.timestamp();
        let h = index as u64;
        let noise = |col: u64| unit(&[self.seed, h, t as u64, col, measurement as u64]);
        let host_unit = |salt: u64| unit(&[self.seed, h, salt]);
        // One slow daily cycle per host, shifted by a per-host phase.
        let phase = host_unit(11) * std::f64::consts::TAU;
        let day = (t as f64 / 86_400.0) * std::f64::consts::TAU + phase;
        let cycle = day.sin();
        match measurement {
            Measurement::Cpu => {
                let spike = if noise(99) < 0.01 { 55.0 } else { 0.0 };
                let user = (30.0 + 20.0 * cycle + 15.0 * noise(0) + spike).clamp(0.0, 100.0);
                let system = (5.0 + 5.0 * noise(1)).min(100.0 - user);
                let iowait = 3.0 * noise(4);
                let rest = [noise(3), noise(5), noise(6), noise(7), noise(8), noise(9)];
                let idle = (100.0 - user - system - iowait).max(0.0);
                vec![
                    user, system, idle, rest[0], iowait, rest[1], rest[2], rest[3], rest[4],
                    rest[5],
                ]
            }
            Measurement::Mem => {
                let total = [8.0, 16.0, 32.0][(mix(self.seed ^ h) % 3) as usize] * 1_073_741_824.0;
                let used_percent = (45.0 + 20.0 * cycle + 10.0 * noise(0)).clamp(1.0, 99.0);
                let used = total * used_percent / 100.0;
                let available = total - used;
                let free = available * 0.6;
                let cached = available * 0.3;
                let buffered = available * 0.1;
                vec![
                    total,
                    available,
                    used,
                    free,
                    cached,
                    buffered,
                    used_percent,
                    100.0 - used_percent,
                    buffered / total * 100.0,
                ]
            }
            Measurement::Disk => {
                let total = 500.0 * 1_073_741_824.0;
                // Fills by 0.5 % a day from a per-host start, wrapping at 90 %.
                let used_percent = (20.0 + 40.0 * host_unit(21) + t as f64 / 86_400.0 * 0.5) % 90.0;
                let used = total * used_percent / 100.0;
                let inodes_total = 32_768_000.0;
                let inodes_used = (inodes_total * used_percent / 150.0).round();
                vec![
                    total,
                    total - used,
                    used,
                    used_percent,
                    inodes_total,
                    inodes_total - inodes_used,
                    inodes_used,
                ]
            }
            Measurement::Net => {
                // Counters since 2020-01-01 at a per-host rate: they only grow.
                let since = (t - 1_577_836_800).max(0) as f64;
                let rate = 50_000.0 + 200_000.0 * host_unit(31);
                let bytes_sent = (since * rate).floor();
                let bytes_recv = (since * rate * 1.7).floor();
                vec![
                    bytes_sent,
                    bytes_recv,
                    (bytes_sent / 900.0).floor(),
                    (bytes_recv / 1_200.0).floor(),
                    (since / 86_400.0).floor(),
                    (since / 172_800.0).floor(),
                    (since / 43_200.0).floor(),
                    (since / 259_200.0).floor(),
                ]
            }
        }
    }

    /// Every reading of every measurement for `hosts` (their ids, in fleet order) at the
    /// 10-second ticks in `[from, to)`, tick by tick.
    pub fn readings(
        &self,
        hosts: &[HostId],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Vec<RawReading> {
        let mut out = Vec::new();
        let mut time = tick_at_or_after(from);
        while time < to {
            for (index, &host) in hosts.iter().enumerate() {
                for &measurement in Measurement::ALL {
                    out.push(RawReading {
                        measurement,
                        row: Row {
                            host,
                            time,
                            values: self.values(index, measurement, time),
                        },
                    });
                }
            }
            time += Duration::seconds(INTERVAL_SECS);
        }
        out
    }
}

/// The first 10-second tick at or after `time`.
pub fn tick_at_or_after(time: DateTime<Utc>) -> DateTime<Utc> {
    let t = time.timestamp();
    let rem = t.rem_euclid(INTERVAL_SECS);
    let whole = DateTime::from_timestamp(t - rem, 0).unwrap_or(time);
    if whole < time {
        whole + Duration::seconds(INTERVAL_SECS)
    } else {
        whole
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_same_host_and_time_give_the_same_values() {
        let fleet = Fleet::new(3, 7);
        let t = Utc.with_ymd_and_hms(2024, 3, 1, 12, 0, 0).unwrap();
        for &m in Measurement::ALL {
            assert_eq!(fleet.values(1, m, t), fleet.values(1, m, t));
            assert_eq!(fleet.values(1, m, t).len(), m.columns().len());
            assert!(fleet.values(1, m, t).iter().all(|v| v.is_finite()));
        }
        assert_ne!(
            fleet.values(0, Measurement::Cpu, t),
            fleet.values(1, Measurement::Cpu, t)
        );
    }

    #[test]
    fn cpu_stays_a_percentage_and_sometimes_spikes_above_ninety() {
        let fleet = Fleet::new(5, 1);
        let start = Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap();
        let mut above = 0;
        for step in 0..8_640 {
            let t = start + Duration::seconds(step * 10);
            let cpu = fleet.values(step as usize % 5, Measurement::Cpu, t);
            assert!(cpu.iter().all(|v| (0.0..=100.0).contains(v)), "{cpu:?}");
            above += usize::from(cpu[0] > 90.0);
        }
        assert!(above > 10 && above < 1_000, "{above} readings above 90 %");
    }

    #[test]
    fn network_counters_only_grow() {
        let fleet = Fleet::new(1, 1);
        let t = Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap();
        let a = fleet.values(0, Measurement::Net, t);
        let b = fleet.values(0, Measurement::Net, t + Duration::seconds(10));
        assert!(a.iter().zip(&b).all(|(x, y)| y >= x));
    }

    #[test]
    fn ticks_fall_on_ten_second_boundaries() {
        let t = Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 3).unwrap();
        assert_eq!(tick_at_or_after(t).timestamp() % 10, 0);
        assert!(tick_at_or_after(t) >= t);
        let whole = Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 10).unwrap();
        assert_eq!(tick_at_or_after(whole), whole);
    }

    #[test]
    fn the_fleet_spreads_over_the_demo_teams() {
        let fleet = Fleet::new(20, 1);
        for team in TEAMS {
            assert!(fleet.hosts.iter().any(|h| h.tags.team.as_str() == team));
        }
        assert_eq!(fleet.hosts[19].hostname.as_str(), "host_19");
    }
}
