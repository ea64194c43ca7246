//! The console's static files, compiled into the binary: one page, its
//! style, its scripts (ES modules, one per concern, no build step) and its
//! icon. Nothing is fetched from anywhere else.

use hyper::header::{self, HeaderValue};
use hyper::{Response, StatusCode};

use super::http::{Body, full, plain_error, response};

/// Every asset: name, content type, text.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("assets/style.css"),
    ),
    ("icon.svg", "image/svg+xml", include_str!("assets/icon.svg")),
    ("app.js", JS, include_str!("assets/app.js")),
    ("api.js", JS, include_str!("assets/api.js")),
    ("layout.js", JS, include_str!("assets/layout.js")),
    ("map.js", JS, include_str!("assets/map.js")),
    ("policies.js", JS, include_str!("assets/policies.js")),
    ("whatif.js", JS, include_str!("assets/whatif.js")),
];

const JS: &str = "text/javascript; charset=utf-8";

/// The page.
const PAGE: &str = include_str!("assets/index.html");

fn asset(content_type: &'static str, text: &'static str) -> Response<Body> {
    let mut r = response(StatusCode::OK, content_type, full(text));
    // Compiled in: a new binary may change them, so browsers revalidate.
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

/// `GET /`.
pub fn page() -> Response<Body> {
    asset("text/html; charset=utf-8", PAGE)
}

/// `GET /favicon.ico` (browsers ask for it whatever the page says).
pub fn icon() -> Response<Body> {
    get("icon.svg")
}

/// `GET /assets/NAME`.
pub fn get(name: &str) -> Response<Body> {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, text)) => asset(content_type, text),
        None => plain_error(StatusCode::NOT_FOUND, "no such asset"),
    }
}

/// The names of every asset (for tests).
pub fn names() -> impl Iterator<Item = &'static str> {
    ASSETS.iter().map(|(n, _, _)| *n)
}
