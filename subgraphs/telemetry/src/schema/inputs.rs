//! Input objects, parsed into domain values at the edge.

use async_graphql::InputObject;
use chrono::{DateTime, Duration, Utc};

use super::parse_time;
use crate::domain::{
    BucketWidth, HostTags, Hostname, InvalidInput, NewHost, RawTags, TimeWindow, parse_span,
};

/// A time window: `last` (e.g. `"1h"`, ending at the next bucket boundary after now), or
/// `from` and `to` (RFC 3339, `to` excluded).
#[derive(InputObject, Clone, Debug, Default)]
pub struct WindowInput {
    pub last: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

impl WindowInput {
    /// The window at `now`; a `last` window ends at the end of `now`'s bucket of `align`.
    pub fn parse(
        &self,
        now: DateTime<Utc>,
        align: BucketWidth,
    ) -> Result<TimeWindow, InvalidInput> {
        match (&self.last, &self.from, &self.to) {
            (Some(last), None, None) => {
                let span = parse_span(last, "window.last")?;
                let end = align.floor(now) + Duration::seconds(align.secs());
                TimeWindow::new(end - span, end)
            }
            (None, Some(from), Some(to)) => TimeWindow::new(
                parse_time(from, "window.from")?,
                parse_time(to, "window.to")?,
            ),
            _ => Err(InvalidInput::new(
                "window",
                "give either `last` or both `from` and `to`",
            )),
        }
    }
}

/// A host to register (or update, by hostname).
#[derive(InputObject, Clone, Debug)]
pub struct HostInput {
    pub hostname: String,
    pub region: String,
    pub datacenter: String,
    pub rack: String,
    pub os: String,
    pub arch: String,
    /// The org department (its slug id) that owns the host, e.g. `platform`.
    pub team: String,
    pub service: String,
    pub service_version: String,
    pub environment: String,
}

impl HostInput {
    pub fn parse(&self) -> Result<NewHost, InvalidInput> {
        Ok(NewHost {
            hostname: Hostname::parse(&self.hostname)?,
            tags: HostTags::parse(&RawTags {
                region: &self.region,
                datacenter: &self.datacenter,
                rack: &self.rack,
                os: &self.os,
                arch: &self.arch,
                team: &self.team,
                service: &self.service,
                service_version: &self.service_version,
                environment: &self.environment,
            })?,
        })
    }
}

/// One host's readings at one time; give any of the four measurements, each as its values in
/// column order.
#[derive(InputObject, Clone, Debug)]
pub struct ReadingInput {
    pub hostname: String,
    /// RFC 3339.
    pub time: String,
    /// usage_user, usage_system, usage_idle, usage_nice, usage_iowait, usage_irq,
    /// usage_softirq, usage_steal, usage_guest, usage_guest_nice (percent).
    pub cpu: Option<Vec<f64>>,
    /// total, available, used, free, cached, buffered (bytes), used_percent,
    /// available_percent, buffered_percent.
    pub mem: Option<Vec<f64>>,
    /// total, free, used (bytes), used_percent, inodes_total, inodes_free, inodes_used.
    pub disk: Option<Vec<f64>>,
    /// bytes_sent, bytes_recv, packets_sent, packets_recv, err_in, err_out, drop_in, drop_out
    /// (counters).
    pub net: Option<Vec<f64>>,
}
