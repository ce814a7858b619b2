//! A plain `lambda_runtime` function: greets the `name` in its event.
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
struct Request {
    name: Option<String>,
}

async fn handler(event: LambdaEvent<Request>) -> Result<Value, Error> {
    let name = event.payload.name.unwrap_or_else(|| "world".to_owned());
    Ok(json!({ "message": format!("hello, {name}"), "arch": std::env::consts::ARCH }))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(handler)).await
}
