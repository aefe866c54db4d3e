//! The error answers the API document adds to operations by what they are, not by hand: the
//! extractors that give them ([`super::extract::ApiJson`], [`super::extract::Caller`]) are
//! shared, so their answers are documented once, here, and a new endpoint gets them by
//! taking a body or a token.
//!
//! - An operation with a request body can answer 400 (malformed JSON), 413 (a body over its
//!   route's limit), 415 (not `application/json`) and 422 (JSON of the wrong shape).
//! - A secured operation can answer 401 (no token, or one refused), with `WWW-Authenticate`.
//! - Either kind can answer 503: the token check reads the token cutoffs from the database,
//!   and every operation with a body (the secured ones and sign-in, refresh and sign-out)
//!   writes to it.
//!
//! A handler that documents one of these statuses itself keeps its words, joined with these.
//! Statuses only some operations give (403 for a missing permission, 404, 409, 429) stay with
//! their handlers; a 429 gains its `Retry-After` here, since every one carries it.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Response};

/// The answers of an operation that takes a JSON request body.
pub const BODY_REJECTIONS: &[(u16, &str)] = &[
    (400, "the body is not well-formed JSON"),
    (413, "the body is larger than this endpoint accepts"),
    (415, "the body is not sent as application/json"),
    (422, "the body is JSON of the wrong shape"),
];

/// The answer of an operation that needs an access token, when it has none that passes.
pub const UNAUTHENTICATED: (u16, &str) = (
    401,
    "no Bearer access token, or one that is invalid, expired or ended early; see WWW-Authenticate",
);

/// The answer of an operation that reaches the database, when it cannot.
pub const UNAVAILABLE: (u16, &str) = (
    503,
    "the server cannot reach its database, or is too busy to check a password; try again shortly",
);

/// Adds the shared error answers to every operation of `doc` (see the module doc).
pub struct ErrorAnswers;

impl utoipa::Modify for ErrorAnswers {
    fn modify(&self, doc: &mut OpenApi) {
        for item in doc.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
            ];
            for operation in operations.into_iter().flatten() {
                add_answers(operation);
            }
        }
    }
}

fn add_answers(operation: &mut Operation) {
    let has_body = operation.request_body.is_some();
    let secured = operation
        .security
        .as_ref()
        .is_some_and(|requirements| !requirements.is_empty());
    if has_body {
        for &(status, description) in BODY_REJECTIONS {
            add(operation, status, error_answer(description));
        }
    }
    if secured {
        let (status, description) = UNAUTHENTICATED;
        let challenge = HeaderBuilder::new()
            .schema(ObjectBuilder::new().schema_type(Type::String))
            .description(Some(
                r#"Bearer realm="tillpoint", with error="invalid_token" when a token was refused"#,
            ))
            .build();
        let answer = ResponseBuilder::from(error_answer(description))
            .header("WWW-Authenticate", challenge)
            .build();
        add(operation, status, answer);
    }
    if has_body || secured {
        let (status, description) = UNAVAILABLE;
        add(operation, status, error_answer(description));
    }
    if let Some(RefOr::T(limited)) = operation.responses.responses.get_mut("429") {
        limited
            .headers
            .entry("Retry-After".into())
            .or_insert_with(|| {
                HeaderBuilder::new()
                    .schema(ObjectBuilder::new().schema_type(Type::Integer))
                    .description(Some("seconds to wait before trying again"))
                    .build()
            });
    }
}

/// Adds `answer` for `status`. Where the handler documents that status itself, its answer
/// keeps its own words, joined with the shared ones, and gains the shared body and headers.
fn add(operation: &mut Operation, status: u16, answer: Response) {
    let entry = operation.responses.responses.entry(status.to_string());
    match entry.or_insert_with(|| RefOr::T(answer.clone())) {
        RefOr::T(own) => {
            if own.description.is_empty() {
                own.description = answer.description;
            } else if !own.description.contains(&answer.description) {
                own.description = format!("{}; or {}", own.description, answer.description);
            }
            if own.content.is_empty() {
                own.content = answer.content;
            }
            for (name, header) in answer.headers {
                own.headers.entry(name).or_insert(header);
            }
        }
        RefOr::Ref(_) => {}
    }
}

/// An answer in the API's one error shape.
fn error_answer(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}
