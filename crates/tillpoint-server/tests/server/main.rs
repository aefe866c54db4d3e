//! The server from the outside: the `tillpoint-server` binary as an operator runs it, and
//! the real server (started in-process by `tillpoint_server::testing`) spoken to over HTTP.
//! One test binary with a module per behaviour, so the suite links once.

mod api_contract;
mod cli;
mod device_transactions;
mod identity;
mod tenancy;
