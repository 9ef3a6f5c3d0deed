//! Hosts: the machines that report readings, with the TSBS devops tags (region, datacenter,
//! rack, os, arch, team, service, service version, environment).
//!
//! Non-obvious: a host has two keys, a numeric id (what the readings tables store, 4 bytes per
//! row) and its hostname (what agents know and what other subgraphs reference). `team` is an
//! org department's slug id, so it is checked as a slug here.

use std::fmt;
use std::str::FromStr;

use super::InvalidInput;

/// A host's numeric id (positive), the key of every readings row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostId(i32);

impl HostId {
    pub fn new(id: i32) -> Result<Self, InvalidInput> {
        if id > 0 {
            Ok(Self(id))
        } else {
            Err(InvalidInput::new("id", "a host id is a positive integer"))
        }
    }

    pub fn get(self) -> i32 {
        self.0
    }
}

impl fmt::Display for HostId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for HostId {
    type Err = InvalidInput;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let n = s
            .parse::<i32>()
            .map_err(|_| InvalidInput::new("id", "a host id is a positive integer"))?;
        HostId::new(n)
    }
}

/// Checks `value` against a character rule and a length bound, naming `field` on failure.
fn checked(
    field: &'static str,
    value: &str,
    max: usize,
    allowed: impl Fn(char) -> bool,
    rule: &str,
) -> Result<String, InvalidInput> {
    if value.is_empty() || value.len() > max || !value.chars().all(allowed) {
        return Err(InvalidInput::new(
            field,
            format!("must be 1 to {max} characters of {rule}"),
        ));
    }
    Ok(value.to_owned())
}

/// A hostname: lowercase letters, digits, `-`, `_` and `.`, at most 63 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hostname(String);

impl Hostname {
    pub fn parse(value: &str) -> Result<Self, InvalidInput> {
        checked(
            "hostname",
            value,
            63,
            |c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'),
            "a-z, 0-9, '-', '_' and '.'",
        )
        .map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A team: the slug id of an org `Department` (`platform`, `data`, …).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Team(String);

impl Team {
    pub fn parse(value: &str) -> Result<Self, InvalidInput> {
        checked(
            "team",
            value,
            64,
            |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-',
            "a-z, 0-9 and '-'",
        )
        .map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A free-form tag value (region, os, …): printable, no control characters, at most 64.
fn tag(field: &'static str, value: &str) -> Result<String, InvalidInput> {
    checked(
        field,
        value,
        64,
        |c| !c.is_control(),
        "printable characters",
    )
}

/// The descriptive tags of a host (TSBS devops).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostTags {
    pub region: String,
    pub datacenter: String,
    pub rack: String,
    pub os: String,
    pub arch: String,
    pub team: Team,
    pub service: String,
    pub service_version: String,
    pub environment: String,
}

/// The tags as given by a caller, before validation.
#[derive(Debug, Clone, Default)]
pub struct RawTags<'a> {
    pub region: &'a str,
    pub datacenter: &'a str,
    pub rack: &'a str,
    pub os: &'a str,
    pub arch: &'a str,
    pub team: &'a str,
    pub service: &'a str,
    pub service_version: &'a str,
    pub environment: &'a str,
}

impl HostTags {
    pub fn parse(raw: &RawTags<'_>) -> Result<Self, InvalidInput> {
        Ok(Self {
            region: tag("region", raw.region)?,
            datacenter: tag("datacenter", raw.datacenter)?,
            rack: tag("rack", raw.rack)?,
            os: tag("os", raw.os)?,
            arch: tag("arch", raw.arch)?,
            team: Team::parse(raw.team)?,
            service: tag("service", raw.service)?,
            service_version: tag("serviceVersion", raw.service_version)?,
            environment: tag("environment", raw.environment)?,
        })
    }
}

/// A host to register (or update, by hostname).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewHost {
    pub hostname: Hostname,
    pub tags: HostTags,
}

/// A registered host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    pub id: HostId,
    pub hostname: Hostname,
    pub tags: HostTags,
}

/// Which hosts a query reads: all of them, or the listed ones (at most [`MAX_HOSTS`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HostSelection {
    All,
    Only(Vec<HostId>),
}

/// Most hosts one query may name.
pub const MAX_HOSTS: usize = 1000;

impl HostSelection {
    /// The listed hosts, sorted and without repeats; `field` names the argument in errors.
    pub fn only(mut ids: Vec<HostId>, field: &'static str) -> Result<Self, InvalidInput> {
        ids.sort();
        ids.dedup();
        if ids.is_empty() || ids.len() > MAX_HOSTS {
            return Err(InvalidInput::new(
                field,
                format!("name 1 to {MAX_HOSTS} hosts (or leave it out for all)"),
            ));
        }
        Ok(Self::Only(ids))
    }

    /// The ids, or `None` for all hosts.
    pub fn ids(&self) -> Option<&[HostId]> {
        match self {
            HostSelection::All => None,
            HostSelection::Only(ids) => Some(ids),
        }
    }
}

/// Filters of the host list; every given tag must match exactly.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostFilter {
    pub team: Option<Team>,
    pub region: Option<String>,
    pub service: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames_are_lowercase_dns_like_labels() {
        assert!(Hostname::parse("host_0.eu-west-1").is_ok());
        for bad in ["", "Host", "a b", &"x".repeat(64)] {
            assert!(Hostname::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn teams_are_department_slugs() {
        assert!(Team::parse("platform").is_ok());
        assert!(Team::parse("Platform").is_err());
        assert!(Team::parse("data team").is_err());
    }

    #[test]
    fn host_ids_are_positive() {
        assert!("7".parse::<HostId>().is_ok());
        assert!("0".parse::<HostId>().is_err());
        assert!("x".parse::<HostId>().is_err());
    }

    #[test]
    fn a_selection_is_sorted_unique_and_bounded() {
        let ids = |v: &[i32]| v.iter().map(|&i| HostId::new(i).unwrap()).collect();
        assert_eq!(
            HostSelection::only(ids(&[3, 1, 3]), "hostIds").unwrap(),
            HostSelection::Only(ids(&[1, 3]))
        );
        assert!(HostSelection::only(Vec::new(), "hostIds").is_err());
        let many: Vec<i32> = (1..=MAX_HOSTS as i32 + 1).collect();
        assert!(HostSelection::only(ids(&many), "hostIds").is_err());
    }
}
