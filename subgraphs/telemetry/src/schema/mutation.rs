//! Mutations: registering hosts and reporting metrics (small batches; agents with much to send
//! use the bulk COPY path). Both need a signed-in staff member (an agent signs in with a staff
//! service account).

use async_graphql::{Context, Object, Result, SimpleObject};
use polygate_kit::{ErrorCode, Viewer, api_error};

use super::host::HostNode;
use super::inputs::{HostInput, ReadingInput};
use super::{bad_batch, bad_input, context, parse_time, store_failed};
use crate::domain::{
    Hostname, InvalidBatch, MAX_HOSTS, MAX_MUTATION_ROWS, Measurement, NewHost, RawReading, Row,
};
use crate::ingest::{self, IngestError};

pub struct Mutation;

/// What `reportMetrics` wrote.
#[derive(SimpleObject, Debug)]
pub struct ReportPayload {
    /// Rows newly stored.
    pub inserted: u64,
    /// Rows already stored with the same host and time (a retried batch): left as they were.
    pub duplicates: u64,
}

fn staff_only(ctx: &Context<'_>, action: &str) -> Result<()> {
    if Viewer::require(ctx)?.staff {
        Ok(())
    } else {
        Err(api_error(
            ErrorCode::Forbidden,
            format!("only staff may {action}"),
        ))
    }
}

#[Object]
impl Mutation {
    /// Registers hosts (at most 1000), updating the tags of hostnames already registered.
    async fn register_hosts(
        &self,
        ctx: &Context<'_>,
        hosts: Vec<HostInput>,
    ) -> Result<Vec<HostNode>> {
        staff_only(ctx, "register hosts")?;
        if hosts.is_empty() || hosts.len() > MAX_HOSTS {
            return Err(api_error(
                ErrorCode::BadUserInput,
                format!("hosts: register 1 to {MAX_HOSTS} at a time"),
            ));
        }
        let new = hosts
            .iter()
            .map(HostInput::parse)
            .collect::<Result<Vec<NewHost>, _>>()
            .map_err(bad_input)?;
        let hosts = context(ctx)
            .store
            .upsert_hosts(&new)
            .await
            .map_err(store_failed)?;
        Ok(hosts.into_iter().map(HostNode).collect())
    }

    /// Writes readings of registered hosts: at most 1000 rows (a measurement of a host at a
    /// time is a row). **A batch with any bad row is refused whole** (`BAD_USER_INPUT` naming
    /// the bad rows; nothing written): an unknown hostname, a time more than 5 minutes ahead of
    /// the clock or older than the raw retention, a wrong number of values. A row whose host
    /// and time are stored already is left as it is, so a retried batch writes nothing twice.
    async fn report_metrics(
        &self,
        ctx: &Context<'_>,
        readings: Vec<ReadingInput>,
    ) -> Result<ReportPayload> {
        staff_only(ctx, "report metrics")?;
        let c = context(ctx);
        if readings.len() > MAX_MUTATION_ROWS {
            ingest::reject("too_large", readings.len());
            return Err(api_error(
                ErrorCode::BadUserInput,
                format!(
                    "a batch carries at most {MAX_MUTATION_ROWS} readings; nothing was written"
                ),
            ));
        }
        let mut names = readings
            .iter()
            .map(|r| Hostname::parse(&r.hostname))
            .collect::<Result<Vec<_>, _>>()
            .map_err(bad_input)?;
        names.sort();
        names.dedup();
        let hosts = c
            .store
            .hosts_by_hostnames(&names)
            .await
            .map_err(store_failed)?;
        let mut raw = Vec::new();
        let mut problems = Vec::new();
        for (i, reading) in readings.into_iter().enumerate() {
            let Some(host) = hosts
                .iter()
                .find(|h| h.hostname.as_str() == reading.hostname)
            else {
                problems.push((i, format!("host {:?} is not registered", reading.hostname)));
                continue;
            };
            let time = match parse_time(&reading.time, "time") {
                Ok(time) => crate::domain::to_millis(time),
                Err(e) => {
                    problems.push((i, e.to_string()));
                    continue;
                }
            };
            let parts = [
                (Measurement::Cpu, reading.cpu),
                (Measurement::Mem, reading.mem),
                (Measurement::Disk, reading.disk),
                (Measurement::Net, reading.net),
            ];
            for (measurement, values) in parts {
                if let Some(values) = values {
                    raw.push(RawReading {
                        measurement,
                        row: Row {
                            host: host.id,
                            time,
                            values,
                        },
                    });
                }
            }
        }
        if !problems.is_empty() {
            ingest::reject("invalid", raw.len().max(problems.len()));
            return Err(bad_batch(InvalidBatch::from_problems(problems)));
        }
        let limits = ingest::limits(c.clock.now(), c.raw_retention, MAX_MUTATION_ROWS);
        match ingest::write(c.store.as_ref(), raw, &limits).await {
            Ok(report) => Ok(ReportPayload {
                inserted: report.inserted,
                duplicates: report.duplicates,
            }),
            Err(IngestError::Invalid(e)) => Err(bad_batch(e)),
            Err(IngestError::Store(e)) => Err(store_failed(e)),
        }
    }
}
