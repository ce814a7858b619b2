//! `--print-config`: the resolved configuration as JSON, every value with its source, plus the
//! binaries found and the plan, so a CI log shows exactly what a run would do and why.

use serde_json::{Map, Value, json};

use crate::cli::EnvVars;
use crate::prepare::{self, Resolved};
use crate::toolchain;

/// The `--print-config` document.
pub fn json(resolved: &Resolved, env: &EnvVars) -> Value {
    let mut top = object(&resolved.run);
    let defaults = object(&resolved.defaults);
    top.extend(defaults.clone());
    // Per package: only what differs from the run-wide view, to keep the output readable.
    let packages: Map<String, Value> = resolved
        .packages
        .iter()
        .filter_map(|(name, settings)| {
            let own: Map<String, Value> = object(settings)
                .into_iter()
                .filter(|(k, v)| defaults.get(k) != Some(v))
                .collect();
            (!own.is_empty()).then(|| (name.clone(), Value::Object(own)))
        })
        .collect();
    top.insert("packages".into(), Value::Object(packages));
    // Per binary (`package/bin`): only what its own per-binary tables change from its package's.
    let bins: Map<String, Value> = resolved
        .binaries
        .iter()
        .zip(&resolved.settings)
        .filter_map(|(binary, settings)| {
            let package = resolved.packages.get(&binary.package).map(object).unwrap_or_default();
            let own: Map<String, Value> = object(settings)
                .into_iter()
                .filter(|(k, v)| package.get(k) != Some(v))
                .collect();
            (!own.is_empty()).then(|| (format!("{}/{}", binary.package, binary.name), Value::Object(own)))
        })
        .collect();
    top.insert("bins".into(), Value::Object(bins));
    top.insert(
        "binaries".into(),
        serde_json::to_value(&resolved.binaries).unwrap_or(Value::Null),
    );
    top.insert(
        "plan".into(),
        serde_json::to_value(&resolved.plan).unwrap_or(Value::Null),
    );
    top.insert("toolchain".into(), toolchain_json(resolved, env));
    top.insert("warnings".into(), json!(resolved.warnings));
    Value::Object(top)
}

/// The rustc and Zig a build would use and where each was found; nothing is installed.
fn toolchain_json(resolved: &Resolved, env: &EnvVars) -> Value {
    let rustc = toolchain::Rustc::from_env(env);
    let dir = resolved
        .plan
        .manifest_path
        .parent()
        .unwrap_or(std::path::Path::new("."));
    let rustc_version = rustc.version(dir).unwrap_or_else(|why| why);
    let zig = if prepare::needs_zig(&resolved.plan) {
        toolchain::describe_zig(env, &prepare::zig_wanted(&resolved.run))
    } else {
        json!({"value": null, "source": "not needed: no binary is built with cargo-zigbuild"})
    };
    json!({
        "rustc": { "value": rustc.program, "version": rustc_version, "source": rustc.found },
        "zig": zig,
    })
}

fn object<T: serde::Serialize>(value: &T) -> Map<String, Value> {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}
