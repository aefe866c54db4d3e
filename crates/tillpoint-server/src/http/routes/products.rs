//! `/api/v1/products`: the caller's organisation's catalog, read-only, paged by id.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use tillpoint_protocol::{ErrorBody, ProductId};
use utoipa::{IntoParams, ToSchema};

use crate::catalog::{self, Product, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::http::extract::permissions::ViewProducts;
use crate::http::extract::Require;
use crate::http::path::PathId;
use crate::http::ApiError;
use crate::startup::AppState;
use crate::store::DbError;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProductPageQuery {
    /// How many products, 1 to 500 (default 100).
    pub limit: Option<u32>,
    /// Start after this product id: the `next_after` of the previous page.
    #[param(value_type = Option<String>, format = Uuid)]
    pub after: Option<ProductId>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductPage {
    /// In id order.
    pub products: Vec<Product>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_after: Option<ProductId>,
}

/// A page of the caller's organisation's products.
#[utoipa::path(get, path = "/api/v1/products", tag = "catalog",
    security(("bearer" = [])),
    params(ProductPageQuery),
    responses(
        (status = 200, body = ProductPage),
        (status = 401, body = ErrorBody),
        (status = 403, description = "needs stock:products:view", body = ErrorBody),
        (status = 422, description = "a bad limit or after", body = ErrorBody),
    ))]
pub async fn list_products(
    require: Require<ViewProducts>,
    State(state): State<AppState>,
    query: Result<Query<ProductPageQuery>, QueryRejection>,
) -> Result<Json<ProductPage>, ApiError> {
    let Query(query) = query.map_err(|rejection| ApiError::unprocessable(rejection.body_text()))?;
    let limit = query.limit.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&limit) {
        return Err(ApiError::unprocessable(format!(
            "limit must be between 1 and {MAX_PAGE_SIZE}"
        )));
    }
    let tenant = require.tenant();
    let products = state
        .db
        .call_in(&tenant, move |conn| -> Result<_, DbError> {
            Ok(catalog::products_page(conn, &tenant, query.after, limit)?)
        })
        .await?;
    let next_after = (products.len() == limit as usize)
        .then(|| products.last().map(|p| p.id))
        .flatten();
    Ok(Json(ProductPage {
        products,
        next_after,
    }))
}

/// One product of the caller's organisation.
#[utoipa::path(get, path = "/api/v1/products/{id}", tag = "catalog",
    security(("bearer" = [])),
    params(("id" = ProductId, Path, description = "the product")),
    responses(
        (status = 200, body = Product),
        (status = 401, body = ErrorBody),
        (status = 403, description = "needs stock:products:view", body = ErrorBody),
        (status = 404, description = "no such product in this organisation", body = ErrorBody),
    ))]
pub async fn get_product(
    require: Require<ViewProducts>,
    State(state): State<AppState>,
    PathId(id): PathId<ProductId>,
) -> Result<Json<Product>, ApiError> {
    let tenant = require.tenant();
    let product = state
        .db
        .call_in(&tenant, move |conn| -> Result<_, DbError> {
            Ok(catalog::product(conn, &tenant, id)?)
        })
        .await?
        .ok_or_else(|| ApiError::not_found("product"))?;
    Ok(Json(product))
}
