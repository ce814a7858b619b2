//! A `lambda_http` function behind API Gateway (HTTP API, payload v2).
use lambda_http::{run, service_fn, Body, Error, Request, RequestExt, Response};

async fn handler(request: Request) -> Result<Response<Body>, Error> {
    let who = request
        .query_string_parameters_ref()
        .and_then(|params| params.first("name"))
        .unwrap_or("world")
        .to_owned();
    let body = format!("hello, {who} from {} on {}", request.uri().path(), std::env::consts::ARCH);
    Ok(Response::builder()
        .status(200)
        .header("content-type", "text/plain")
        .body(body.into())?)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(handler)).await
}
