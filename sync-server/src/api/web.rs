//! The web dashboard and the admin console: one page each, with its script and its style
//! sheet, built into the binary so the server needs nothing beside itself and the browser
//! needs no outside host (sites on a closed network have none). The content security policy
//! lets a page talk to this server only, and the dashboard load images from the base-map
//! tile server when one is configured (`web.tile_url`); both pages sign in through the
//! browser sign-in API and read JSON: the dashboards', and the admin API (the console,
//! refused to anyone but an admin by the API itself, not by the page).
use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::config::WebConfig;
use crate::state::AppState;

const PAGE: &str = include_str!("../../web/dashboard.html");
const SCRIPT: &str = include_str!("../../web/dashboard.js");
const STYLE: &str = include_str!("../../web/dashboard.css");
const ADMIN_PAGE: &str = include_str!("../../web/admin.html");
const ADMIN_SCRIPT: &str = include_str!("../../web/admin.js");
const ADMIN_STYLE: &str = include_str!("../../web/admin.css");

/// Where the page says which tile server to use (a `<meta>` the script reads: no inline
/// script is needed, and none is allowed).
const TILE_META: &str = "<meta name=\"fieldsales-tiles\" content=\"\">";

/// Everything from this server, nothing inline, nothing from elsewhere but the configured
/// tile server's images.
fn policy(tiles: Option<&str>) -> String {
    let images = match tiles {
        Some(origin) => format!("img-src 'self' data: {origin}"),
        None => "img-src 'self' data:".to_owned(),
    };
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
         {images}; font-src 'self'; form-action 'none'; base-uri 'none'; \
         frame-ancestors 'none'"
    )
}

/// The page and its policy, made once from the configuration.
struct Assets {
    page: String,
    policy: HeaderValue,
}

fn asset(body: String, content_type: &'static str, policy: &HeaderValue) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CONTENT_SECURITY_POLICY, policy.clone());
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// `GET /dashboard` and its assets, with the tile server of `web` if any; `GET /admin`, the
/// admin console, and its assets.
pub fn routes(web: &WebConfig) -> Router<AppState> {
    let tiles = web.tile_url.as_ref();
    // The template holds no quote or angle bracket (checked with the configuration); `&` is
    // the one character an attribute needs escaped.
    let template = tiles.map_or(String::new(), |t| t.template().replace('&', "&amp;"));
    let page = PAGE.replacen(
        TILE_META,
        &format!("<meta name=\"fieldsales-tiles\" content=\"{template}\">"),
        1,
    );
    // The console shows no map: nothing but this server.
    let admin = HeaderValue::from_str(&policy(None))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"));
    let policy = HeaderValue::from_str(&policy(tiles.map(|t| t.origin())))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"));
    let assets = Arc::new(Assets { page, policy });
    let (a, b, c) = (assets.clone(), assets.clone(), assets);
    let (d, e, f) = (admin.clone(), admin.clone(), admin);
    Router::new()
        .route(
            "/admin",
            get(move || async move { asset(ADMIN_PAGE.to_owned(), "text/html; charset=utf-8", &d) }),
        )
        .route(
            "/admin/admin.js",
            get(move || async move {
                asset(ADMIN_SCRIPT.to_owned(), "text/javascript; charset=utf-8", &e)
            }),
        )
        .route(
            "/admin/admin.css",
            get(move || async move { asset(ADMIN_STYLE.to_owned(), "text/css; charset=utf-8", &f) }),
        )
        .route(
            "/dashboard",
            get(move || async move { asset(a.page.clone(), "text/html; charset=utf-8", &a.policy) }),
        )
        .route(
            "/dashboard/dashboard.js",
            get(move || async move {
                asset(SCRIPT.to_owned(), "text/javascript; charset=utf-8", &b.policy)
            }),
        )
        .route(
            "/dashboard/dashboard.css",
            get(move || async move { asset(STYLE.to_owned(), "text/css; charset=utf-8", &c.policy) }),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_has_a_tile_meta_to_fill_and_the_policy_names_only_the_tile_origin() {
        assert_eq!(PAGE.matches(TILE_META).count(), 1);
        assert!(!policy(None).contains("http"));
        let with = policy(Some("https://tiles.example.com"));
        assert!(with.contains("img-src 'self' data: https://tiles.example.com;"));
        assert!(with.contains("connect-src 'self';"), "{with}");
    }
}
