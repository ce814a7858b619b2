//! The two ways a run fails, which decide the exit code.

/// A failed run. Callers branch on the variant to choose the exit code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad flags, env values or metadata, or nothing to build: exit 2.
    #[error("{0}")]
    Usage(String),
    /// A build, toolchain, packaging or upload failure: exit 1.
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

impl Error {
    /// The process exit code the contract gives this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => 2,
            Error::Failed(_) => 1,
        }
    }

    /// Shorthand for a usage error.
    pub fn usage(message: impl Into<String>) -> Self {
        Error::Usage(message.into())
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
