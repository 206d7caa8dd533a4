//! Observed traffic against a policy.
//!
//! - [`read`]: flow-record readers over lines of text (Zeek `conn.log` as
//!   TSV and JSON, `conntrack -L` and `/proc/net/nf_conntrack`, and
//!   Zonal's CSV), with format detection. Only the initiator side of a
//!   connection is kept.
//! - [`replay`]: judges each observed flow with the policy's own decision
//!   function ([`zonal_model::Policy::decide`]) and aggregates what would
//!   be denied (with a suggested `allow` line), what each rule allows and
//!   which rules no traffic uses; renders the report as text, Markdown,
//!   JSON or CSV.
//! - [`traffic`]: a seeded generator of realistic flow records for a
//!   policy's workflows, plus noise (test data and benchmarks).
//!
//! No file I/O: the CLI opens files and streams their lines in, so memory
//! stays constant in the number of records.

pub mod drift;
pub mod drift_iptables;
pub mod flow;
pub mod learn;
pub mod read;
pub mod replay;
pub mod report;
pub mod suggest;
pub mod traffic;

pub use flow::{Flow, Timestamp};
pub use read::{Feed, FlowReader, Format};
pub use replay::{Replay, ReplayReport};
