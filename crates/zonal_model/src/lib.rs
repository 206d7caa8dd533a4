//! The Zonal policy model: resolution of the syntax tree into a canonical
//! IR ([`ir::Policy`]), address and service sets, and the reference
//! decision function [`ir::Policy::decide`] that every backend must enforce.

pub mod addr;
pub mod ir;
pub mod listen;
pub mod service;
pub mod sets;
pub mod vocab;

pub use addr::{AddrSet, Family, Prefix};
pub use ir::*;
pub use service::ServiceSet;
pub mod load;
mod packet;
mod resolve;

pub use load::{Loaded, MemoryLoader, Options, SourceLoader, load, load_str};
pub use packet::Packet;
