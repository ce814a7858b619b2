# lambda-build for any CI system:
#   docker run --rm -v "$PWD:/src" -w /src -e LAMBDA_BUILD_ARM64=true IMAGE
# Build stage: lambda-build itself, from this checkout, with the committed Cargo.lock, in the
# profile for published binaries (Cargo.toml's `dist`: thin LTO, one codegen unit).
FROM rust:1-slim-bookworm AS build
WORKDIR /build
COPY . .
RUN cargo build --profile dist --locked --bin lambda-build \
    && install -m 0755 target/dist/lambda-build /usr/local/bin/lambda-build

# Runtime: a Rust toolchain with both Lambda targets, Zig, and lambda-build as the entrypoint.
FROM rust:1-slim-bookworm
ARG ZIG_VERSION=0.17.1
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-pip ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && pip3 install --no-cache-dir --break-system-packages "ziglang==${ZIG_VERSION}" \
    && rustup target add x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu
COPY --from=build /usr/local/bin/lambda-build /usr/local/bin/lambda-build
# `cargo lambda build` in the image is lambda-build too (its cargo-lambda entry point), for
# scripts, SAM and cargo-lambda-cdk that run cargo-lambda: docker run --entrypoint cargo IMAGE lambda build
RUN lambda-build install-cargo-lambda /usr/local/bin
# Caches in /tmp so the image runs as any user (docker run --user "$(id -u):$(id -g)").
ENV CARGO_HOME=/tmp/cargo-home \
    XDG_CACHE_HOME=/tmp/cache \
    ZIG_GLOBAL_CACHE_DIR=/tmp/cache/zig \
    LAMBDA_BUILD_CACHE=/tmp/cache/lambda-build \
    PATH=/usr/local/cargo/bin:$PATH
WORKDIR /src
ENTRYPOINT ["lambda-build"]
