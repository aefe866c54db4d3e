//! The Tillpoint server: the online half of Tillpoint. It owns organisations, their users,
//! roles and permissions, the tokens and offline grants tills sign in with, the master data
//! tills sell from, and (as that work lands) the ingest of what tills sold offline.
//!
//! Layout: `cli` and `config` turn arguments into a [`config::ServerConfig`]; `startup`
//! builds the HTTP application from it; `http` holds the routes and the one error type
//! every answer uses; `store` is the database; `identity` and `catalog` are the domain;
//! `demo` seeds a realistic organisation for trying Tillpoint out; `testing` (behind the
//! `testing` feature, which only tests turn on) starts it in-process for tests.
//!
//! It must never trust an organisation named in a request body: the organisation comes from
//! the caller's token.

pub mod catalog;
pub mod cli;
pub mod clock;
pub mod config;
pub mod demo;
pub mod http;
pub mod identity;
pub mod logging;
pub mod startup;
pub mod store;
pub mod sync;
pub mod tenancy;
#[cfg(feature = "testing")]
pub mod testing;

pub use config::ServerConfig;
pub use startup::Application;
