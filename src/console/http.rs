//! HTTP plumbing of the console: the response body type, JSON and error
//! responses (gRPC status codes, the project's one classification of
//! errors, mapped to HTTP once here), headers every response carries, and
//! reading a bounded request body.

use std::convert::Infallible;

use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};
use tonic::{Code, Status};

/// Every response's body: whole (JSON, assets) or streamed (events).
pub type Body = BoxBody<Bytes, Infallible>;

/// The content security policy of every response: this origin only, no
/// inline script or style, no framing.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// A whole body.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed()
}

/// A response with `status`, `content_type` and `body`, and the headers
/// every response carries.
pub fn response(status: StatusCode, content_type: &'static str, body: Body) -> Response<Body> {
    let mut r = Response::new(body);
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    r
}

/// A JSON response (never cached: it is live state).
pub fn json(status: StatusCode, value: &impl serde::Serialize) -> Response<Body> {
    let text = serde_json::to_vec(value).expect("console JSON always serializes");
    let mut r = response(status, "application/json", full(text));
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The HTTP status of a gRPC code (as gRPC gateways map them).
pub fn http_status(code: Code) -> StatusCode {
    match code {
        Code::Ok => StatusCode::OK,
        Code::InvalidArgument | Code::OutOfRange => StatusCode::BAD_REQUEST,
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists | Code::Aborted | Code::FailedPrecondition => StatusCode::CONFLICT,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Cancelled => StatusCode::REQUEST_TIMEOUT,
        Code::Unknown | Code::Internal | Code::DataLoss => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// An error as JSON: `{"error": "..."}` with the status of its code.
pub fn error(status: &Status) -> Response<Body> {
    json(
        http_status(status.code()),
        &serde_json::json!({"error": status.message()}),
    )
}

/// `{"error": "..."}` with an HTTP status of its own (no gRPC code fits).
pub fn plain_error(status: StatusCode, message: &str) -> Response<Body> {
    json(status, &serde_json::json!({"error": message}))
}

/// The body of a request as text, at most `limit` bytes.
pub async fn body_text(req: Request<Incoming>, limit: usize) -> Result<String, Status> {
    let bytes = Limited::new(req.into_body(), limit)
        .collect()
        .await
        .map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                Status::invalid_argument(format!("the body is over {limit} bytes"))
            } else {
                Status::invalid_argument(format!("cannot read the body: {e}"))
            }
        })?
        .to_bytes();
    String::from_utf8(bytes.to_vec())
        .map_err(|_| Status::invalid_argument("the body is not UTF-8 text"))
}

/// A header's value as text, if present and text.
pub fn header_text<B>(req: &Request<B>, name: header::HeaderName) -> Option<&str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_http() {
        assert_eq!(http_status(Code::Unauthenticated), StatusCode::UNAUTHORIZED);
        assert_eq!(http_status(Code::PermissionDenied), StatusCode::FORBIDDEN);
        assert_eq!(http_status(Code::NotFound), StatusCode::NOT_FOUND);
        assert_eq!(http_status(Code::AlreadyExists), StatusCode::CONFLICT);
        assert_eq!(
            http_status(Code::ResourceExhausted),
            StatusCode::TOO_MANY_REQUESTS
        );
    }
}
