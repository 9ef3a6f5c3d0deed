//! Text collections to load: the Debian package descriptions apt keeps on this machine (the
//! bench's large corpus, written by thousands of Debian maintainers, not by us), and a folder of
//! text files (`ingest`).

pub mod debian;
pub mod folder;
pub mod progress;
