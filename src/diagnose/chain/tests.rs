use super::*;

/// A package's JSON: `deps` are `(name, optional, rename)`.
fn package(
    name: &str,
    version: &str,
    deps: &[(&str, bool, Option<&str>)],
    features: serde_json::Value,
) -> serde_json::Value {
    let dependencies: Vec<_> = deps
        .iter()
        .map(|(dep, optional, rename)| {
            serde_json::json!({"name": dep, "source": null, "req": "*", "kind": null, "optional": optional,
                "uses_default_features": true, "features": [], "target": null, "rename": rename,
                "registry": null, "path": null})
        })
        .collect();
    serde_json::json!({"name": name, "version": version, "id": format!("{name} {version}"),
        "source": null, "dependencies": dependencies, "targets": [], "features": features,
        "manifest_path": format!("/ws/{name}/Cargo.toml")})
}

fn node(
    name: &str,
    version: &str,
    deps: &[&str],
    features: &[&str],
    versions: &HashMap<&str, &str>,
) -> serde_json::Value {
    let deps: Vec<_> = deps
        .iter()
        .map(|d| {
            serde_json::json!({"name": d.replace('-', "_"), "pkg": format!("{d} {}", versions[d]),
            "dep_kinds": [{"kind": null, "target": null}]})
        })
        .collect();
    serde_json::json!({"id": format!("{name} {version}"), "deps": deps, "dependencies": [], "features": features})
}

/// fn-a → reqwest 0.12 (its default-tls feature, on by default, turns on the renamed optional
/// native-tls) → native-tls → openssl-sys, as `cargo metadata` reports it.
pub(crate) fn reqwest_workspace() -> Metadata {
    let versions: HashMap<&str, &str> = [
        ("fn-a", "0.1.0"),
        ("reqwest", "0.12.9"),
        ("native-tls", "0.2.12"),
        ("openssl-sys", "0.9.104"),
    ]
    .into_iter()
    .collect();
    let reqwest_features = serde_json::json!({
        "default": ["default-tls", "charset"],
        "default-tls": ["dep:hyper-tls", "dep:native-tls-crate", "__tls"],
        "native-tls": ["default-tls"],
        "rustls-tls": ["__tls"],
        "__tls": [],
        "charset": []
    });
    let json = serde_json::json!({
        "packages": [
            package("fn-a", "0.1.0", &[("reqwest", false, None)], serde_json::json!({})),
            package("reqwest", "0.12.9", &[("native-tls", true, Some("native-tls-crate"))], reqwest_features),
            package("native-tls", "0.2.12", &[("openssl-sys", false, None)], serde_json::json!({"vendored": []})),
            package("openssl-sys", "0.9.104", &[], serde_json::json!({"vendored": ["dep:openssl-src"]})),
        ],
        "workspace_members": ["fn-a 0.1.0"],
        "workspace_default_members": ["fn-a 0.1.0"],
        "resolve": {"nodes": [
            node("fn-a", "0.1.0", &["reqwest"], &[], &versions),
            node("reqwest", "0.12.9", &["native-tls"], &["default", "default-tls", "charset", "__tls"], &versions),
            node("native-tls", "0.2.12", &["openssl-sys"], &[], &versions),
            node("openssl-sys", "0.9.104", &[], &[], &versions),
        ], "root": null},
        "target_directory": "/ws/target",
        "build_directory": "/ws/target",
        "version": 1,
        "workspace_root": "/ws",
        "metadata": null
    });
    serde_json::from_value(json).unwrap()
}

#[test]
fn the_chain_names_the_feature_that_pulls_in_the_sys_crate() {
    let chain = find(&reqwest_workspace(), &["fn-a".to_owned()], "openssl-sys").unwrap();
    assert_eq!(
        chain.to_string(),
        "fn-a → reqwest (default feature default-tls) → native-tls → openssl-sys"
    );
    assert_eq!(chain.manifest, PathBuf::from("/ws/fn-a/Cargo.toml"));
    assert_eq!(find(&reqwest_workspace(), &["fn-a".to_owned()], "libz-sys"), None);
    assert_eq!(bundling_features(&reqwest_workspace(), "openssl-sys"), ["vendored"]);
}

#[test]
fn the_declaration_line_is_found_in_every_form_cargo_accepts() {
    let toml = r#"[package]
name = "fn-a"
reqwest = "not a dependency"

[dependencies]
serde = "1"
reqwest = { version = "0.12", features = ["json"] }
http.workspace = true
tls = { package = "native-tls", version = "0.2" }

[dev-dependencies]
tokio = "1"

[target.'cfg(unix)'.dependencies.openssl]
version = "0.10"
"#;
    assert_eq!(declaration_line(toml, "reqwest"), Some(7));
    assert_eq!(declaration_line(toml, "http"), Some(8));
    assert_eq!(declaration_line(toml, "native-tls"), Some(9));
    assert_eq!(declaration_line(toml, "openssl"), Some(14));
    assert_eq!(declaration_line(toml, "tokio"), None);
    assert_eq!(declaration_line(toml, "fn-a"), None);
}
