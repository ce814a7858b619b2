//! A plain `lambda_runtime` function, through the workspace's shared crate: greets the `name`
//! in its event.
use greeting::lambda_runtime::{self, service_fn, Error, LambdaEvent};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
struct Request {
    name: Option<String>,
}

async fn handler(event: LambdaEvent<Request>) -> Result<Value, Error> {
    let message = greeting::greeting(event.payload.name.as_deref());
    Ok(json!({ "message": message, "arch": std::env::consts::ARCH }))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(handler)).await
}
