//! A Lambda extension that logs every lifecycle event it receives.
use lambda_extension::{service_fn, Error, LambdaEvent, NextEvent};

async fn on_event(event: LambdaEvent) -> Result<(), Error> {
    match event.next {
        NextEvent::Shutdown(shutdown) => eprintln!("echo-extension: shutdown {shutdown:?}"),
        NextEvent::Invoke(invoke) => eprintln!("echo-extension: invoke {}", invoke.request_id),
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_extension::run(service_fn(on_event)).await
}
