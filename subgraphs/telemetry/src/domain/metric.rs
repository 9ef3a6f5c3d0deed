//! The measurements and metrics of TSBS's devops use case (cpu, mem, disk, net): which table
//! holds a metric and in which column.
//!
//! Non-obvious: this list is the only place column names come from. Query text is assembled from
//! it (never from client strings), and a unit test checks that every migration of every engine
//! creates exactly these columns, so a metric cannot exist in the API without its column.

use async_graphql::Enum;

macro_rules! measurements {
    ($($measurement:ident $table:literal { $($metric:ident $column:literal),+ $(,)? })+) => {
        /// A wide readings table: one row per host per reading time.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Enum)]
        pub enum Measurement { $($measurement),+ }

        /// One column of one measurement (GraphQL `CPU_USAGE_USER`, `MEM_USED_PERCENT`, …).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Enum)]
        pub enum Metric { $($($metric),+),+ }

        impl Measurement {
            pub const ALL: &'static [Measurement] = &[$(Measurement::$measurement),+];

            /// The raw table's name (rollups are `<table>_1m` and `<table>_1h`).
            pub fn table(self) -> &'static str {
                match self { $(Measurement::$measurement => $table),+ }
            }

            /// The value columns, in storage order.
            pub fn columns(self) -> &'static [&'static str] {
                match self { $(Measurement::$measurement => &[$($column),+]),+ }
            }

            /// The metrics, in column order.
            pub fn metrics(self) -> &'static [Metric] {
                match self { $(Measurement::$measurement => &[$(Metric::$metric),+]),+ }
            }
        }

        impl Metric {
            pub fn measurement(self) -> Measurement {
                match self { $($(Metric::$metric)|+ => Measurement::$measurement),+ }
            }

            pub fn column(self) -> &'static str {
                match self { $($(Metric::$metric => $column),+),+ }
            }
        }
    };
}

measurements! {
    Cpu "cpu" {
        CpuUsageUser "usage_user",
        CpuUsageSystem "usage_system",
        CpuUsageIdle "usage_idle",
        CpuUsageNice "usage_nice",
        CpuUsageIowait "usage_iowait",
        CpuUsageIrq "usage_irq",
        CpuUsageSoftirq "usage_softirq",
        CpuUsageSteal "usage_steal",
        CpuUsageGuest "usage_guest",
        CpuUsageGuestNice "usage_guest_nice",
    }
    Mem "mem" {
        MemTotal "total",
        MemAvailable "available",
        MemUsed "used",
        MemFree "free",
        MemCached "cached",
        MemBuffered "buffered",
        MemUsedPercent "used_percent",
        MemAvailablePercent "available_percent",
        MemBufferedPercent "buffered_percent",
    }
    Disk "disk" {
        DiskTotal "total",
        DiskFree "free",
        DiskUsed "used",
        DiskUsedPercent "used_percent",
        DiskInodesTotal "inodes_total",
        DiskInodesFree "inodes_free",
        DiskInodesUsed "inodes_used",
    }
    Net "net" {
        NetBytesSent "bytes_sent",
        NetBytesRecv "bytes_recv",
        NetPacketsSent "packets_sent",
        NetPacketsRecv "packets_recv",
        NetErrIn "err_in",
        NetErrOut "err_out",
        NetDropIn "drop_in",
        NetDropOut "drop_out",
    }
}

impl Metric {
    /// The position of this metric's column among its measurement's columns.
    pub fn index(self) -> usize {
        self.measurement()
            .metrics()
            .iter()
            .position(|m| *m == self)
            .expect("a metric is listed under its measurement")
    }
}

impl std::fmt::Display for Measurement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.table())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_sits_at_its_column_in_its_measurement() {
        let mut count = 0;
        for &measurement in Measurement::ALL {
            assert_eq!(measurement.columns().len(), measurement.metrics().len());
            for (i, metric) in measurement.metrics().iter().enumerate() {
                assert_eq!(metric.measurement(), measurement);
                assert_eq!(metric.index(), i);
                assert_eq!(metric.column(), measurement.columns()[i]);
                count += 1;
            }
        }
        assert_eq!(count, 10 + 9 + 7 + 8, "TSBS devops: cpu, mem, disk, net");
    }

    #[test]
    fn column_names_are_plain_identifiers() {
        for &measurement in Measurement::ALL {
            for column in measurement.columns() {
                assert!(
                    column.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                    "{column}"
                );
            }
        }
    }
}
