//! What the functions share: the runtime, re-exported, and the greeting itself.
pub use lambda_runtime;

/// The greeting for `name`, or for the world.
pub fn greeting(name: Option<&str>) -> String {
    format!("hello, {}", name.unwrap_or("world"))
}
