//! The HTTP surface: one router, one error type. Routes live one file per resource under
//! `routes/`; handlers read like the endpoint's contract and leave policy to extractors.

pub mod admin;
pub mod error;
pub mod error_answers;
pub mod extract;
pub mod path;
pub mod routes;

pub use error::ApiError;
