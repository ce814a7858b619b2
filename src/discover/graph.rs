//! The workspace's resolved dependency graph, and which crates a package's build links.
//!
//! A function often reaches `lambda_runtime` only through a shared crate of the workspace (an
//! API Gateway helper in `libs/`), so detection follows every chain of normal dependencies. It
//! resolves features itself, per package, as cargo would for that package built alone: a shared
//! crate whose runtime dependency sits behind a feature reaches the runtime from the functions
//! that turn the feature on, not from a CLI beside them that does not (cargo metadata's own
//! resolve unifies features over the whole workspace, which would count the CLI too). Only the
//! dependencies of Lambda's platforms (Linux on x86_64 and arm64) count.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::str::FromStr;

use cargo_metadata::cargo_platform::{Cfg, Platform};
use cargo_metadata::{DependencyKind, Metadata, Package};

/// The targets whose dependencies count: Lambda's two architectures, glibc and musl. A
/// dependency counts when its `[target.'cfg(...)'.dependencies]` table matches any of them.
pub const LAMBDA_TARGETS: [&str; 4] = [
    "x86_64-unknown-linux-gnu",
    "aarch64-unknown-linux-gnu",
    "x86_64-unknown-linux-musl",
    "aarch64-unknown-linux-musl",
];

/// What `rustc --print cfg` says of a Lambda target, for matching `cfg(...)` tables without
/// running rustc.
fn target_cfgs(triple: &str) -> Vec<Cfg> {
    let arch = triple.split('-').next().unwrap_or_default();
    let env = triple.rsplit('-').next().unwrap_or_default();
    [
        "unix".to_owned(),
        "target_family=\"unix\"".to_owned(),
        "target_os=\"linux\"".to_owned(),
        "target_vendor=\"unknown\"".to_owned(),
        "target_pointer_width=\"64\"".to_owned(),
        "target_endian=\"little\"".to_owned(),
        format!("target_arch=\"{arch}\""),
        format!("target_env=\"{env}\""),
        "panic=\"unwind\"".to_owned(),
        "target_has_atomic=\"64\"".to_owned(),
        "target_has_atomic=\"ptr\"".to_owned(),
    ]
    .iter()
    .filter_map(|cfg| Cfg::from_str(cfg).ok())
    .collect()
}

/// Whether a dependency declared for `platform` is part of a Lambda build.
fn on_lambda(platform: Option<&Platform>) -> bool {
    match platform {
        None => true,
        Some(platform) => LAMBDA_TARGETS
            .iter()
            .any(|triple| platform.matches(triple, &target_cfgs(triple))),
    }
}

/// One declared dependency of a package, as feature resolution needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edge {
    /// The name the package's features use for it: the rename, else the package name.
    pub key: String,
    /// The depended-on package's name.
    pub package: String,
    /// Normal or dev (build dependencies are never linked, so they are not kept).
    pub kind: DependencyKind,
    /// Only there when a feature turns it on.
    pub optional: bool,
    /// `default-features` is not false.
    pub default_features: bool,
    /// The features the declaration turns on.
    pub features: Vec<String>,
    /// The node it resolved to; `None` when the resolve does not hold it (an optional
    /// dependency nothing in the workspace turns on by default).
    pub to: Option<usize>,
}

/// One package of the graph.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Node {
    /// The package name.
    pub name: String,
    /// Its `[features]` table.
    pub features: BTreeMap<String, Vec<String>>,
    /// Its normal and dev dependencies on Lambda's platforms.
    pub edges: Vec<Edge>,
}

/// The packages of a workspace and their dependencies, as plain data.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Graph {
    /// Every package cargo resolved.
    pub nodes: Vec<Node>,
    ids: HashMap<String, usize>,
}

/// How the root package is built: the run's `--features`, `--all-features`,
/// `--no-default-features`, and whether dev-dependencies count (examples use them).
#[derive(Clone, Copy, Debug, Default)]
pub struct Request<'a> {
    /// `--features` (`name` or `package/name`).
    pub features: &'a [String],
    /// `--all-features`.
    pub all_features: bool,
    /// `--no-default-features`.
    pub no_default_features: bool,
    /// The root's dev-dependencies count too.
    pub dev: bool,
}

/// One step of a chain: a package, and the features of the package before it that turned this
/// dependency on (empty when the dependency is not optional).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hop {
    /// The package reached.
    pub package: String,
    /// The features of the previous package that turned it on, outermost first (for a
    /// `default = ["tls"]`, `tls = ["dep:openssl"]` chain: `default`, `tls`).
    pub features: Vec<String>,
}

/// From a package to one it links, the packages in between and the crate itself, in order.
pub type Chain = Vec<Hop>;

/// `a → b (feature x) → c`, for messages.
pub fn describe(chain: &[Hop]) -> String {
    chain
        .iter()
        .map(|hop| match hop.features.as_slice() {
            [] => hop.package.clone(),
            features => format!("{} (feature {})", hop.package, features.join(" → ")),
        })
        .collect::<Vec<_>>()
        .join(" → ")
}

/// What one package's features turn on in it.
#[derive(Debug, Default)]
struct Expansion {
    /// Optional dependencies turned on, by key, with the features that did it.
    optional: BTreeMap<String, Vec<String>>,
    /// Features asked of dependencies (`dep/feature`), by key.
    dep_features: BTreeMap<String, BTreeSet<String>>,
    /// Features asked of dependencies only if something else turns them on (`dep?/feature`).
    weak: BTreeMap<String, BTreeSet<String>>,
}

impl Graph {
    /// The graph of a `cargo metadata` that has its resolve (no `--no-deps`); without one, the
    /// graph of the workspace members alone (their dependencies unresolved).
    pub fn new(metadata: &Metadata) -> Graph {
        let packages: Vec<&Package> = metadata.packages.iter().collect();
        let ids: HashMap<String, usize> = packages
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.repr.clone(), i))
            .collect();
        let resolved: HashMap<&str, &cargo_metadata::Node> = metadata
            .resolve
            .iter()
            .flat_map(|r| &r.nodes)
            .map(|n| (n.id.repr.as_str(), n))
            .collect();
        let nodes = packages
            .iter()
            .map(|package| {
                let node = resolved.get(package.id.repr.as_str());
                let edges = package
                    .dependencies
                    .iter()
                    .filter(|d| matches!(d.kind, DependencyKind::Normal | DependencyKind::Development))
                    .filter(|d| on_lambda(d.target.as_ref()))
                    .map(|d| {
                        let to = node.and_then(|node| {
                            node.deps
                                .iter()
                                .filter(|nd| nd.dep_kinds.iter().any(|k| k.kind == d.kind))
                                .filter_map(|nd| ids.get(&nd.pkg.repr).copied())
                                .find(|&i| packages[i].name.as_str() == d.name && d.req.matches(&packages[i].version))
                        });
                        Edge {
                            key: d.rename.clone().unwrap_or_else(|| d.name.clone()),
                            package: d.name.clone(),
                            kind: d.kind,
                            optional: d.optional,
                            default_features: d.uses_default_features,
                            features: d.features.clone(),
                            to,
                        }
                    })
                    .collect();
                Node {
                    name: package.name.to_string(),
                    features: package.features.clone(),
                    edges,
                }
            })
            .collect();
        Graph { nodes, ids }
    }

    /// The node of a package, by cargo's package id.
    pub fn node(&self, id: &str) -> Option<usize> {
        self.ids.get(id).copied()
    }

    /// Which of the `wanted` crates the `root` package's build links, each with the shortest
    /// chain that reaches it.
    pub fn reach(&self, root: usize, request: &Request<'_>, wanted: &[&str]) -> BTreeMap<String, Chain> {
        let mut asked: Vec<BTreeSet<String>> = vec![BTreeSet::new(); self.nodes.len()];
        let mut parent: Vec<Option<(usize, Vec<String>)>> = vec![None; self.nodes.len()];
        let mut active = vec![false; self.nodes.len()];
        let mut found: BTreeMap<String, Chain> = BTreeMap::new();
        asked[root] = self.root_features(root, request);
        active[root] = true;
        let mut queue = VecDeque::from([root]);
        while let Some(at) = queue.pop_front() {
            let node = &self.nodes[at];
            let expansion = expand(node, &asked[at]);
            let dev = at == root && request.dev;
            for edge in &node.edges {
                if edge.kind == DependencyKind::Development && !dev {
                    continue;
                }
                let by = match (edge.optional, expansion.optional.get(&edge.key)) {
                    (false, _) => Vec::new(),
                    (true, Some(features)) => features.clone(),
                    (true, None) => continue,
                };
                let Some(to) = edge.to else {
                    // Not in the resolve, so nothing beyond it is known; the crate itself still counts.
                    if wanted.contains(&edge.package.as_str()) && !found.contains_key(&edge.package) {
                        let mut chain = self.chain(&parent, at);
                        chain.push(Hop {
                            package: edge.package.clone(),
                            features: by,
                        });
                        found.insert(edge.package.clone(), chain);
                    }
                    continue;
                };
                let mut features: BTreeSet<String> = edge.features.iter().cloned().collect();
                features.extend(expansion.dep_features.get(&edge.key).into_iter().flatten().cloned());
                features.extend(expansion.weak.get(&edge.key).into_iter().flatten().cloned());
                if edge.default_features {
                    features.insert("default".to_owned());
                }
                let mut changed = !active[to];
                if !active[to] {
                    active[to] = true;
                    parent[to] = Some((at, by));
                }
                for feature in features {
                    changed |= asked[to].insert(feature);
                }
                if changed {
                    queue.push_back(to);
                }
            }
        }
        for (i, node) in self.nodes.iter().enumerate() {
            if i != root && active[i] && wanted.contains(&node.name.as_str()) {
                let chain = self.chain(&parent, i);
                let shorter = found.get(&node.name).is_none_or(|c| chain.len() < c.len());
                if shorter {
                    found.insert(node.name.clone(), chain);
                }
            }
        }
        found
    }

    /// The root's features as the run asks for them.
    fn root_features(&self, root: usize, request: &Request<'_>) -> BTreeSet<String> {
        let node = &self.nodes[root];
        let mut features = BTreeSet::new();
        if !request.no_default_features {
            features.insert("default".to_owned());
        }
        if request.all_features {
            features.extend(node.features.keys().cloned());
            features.extend(node.edges.iter().filter(|e| e.optional).map(|e| e.key.clone()));
        }
        for feature in request.features.iter().flat_map(|f| f.split([',', ' '])) {
            let own = feature
                .split_once('/')
                .filter(|(package, _)| *package == node.name)
                .map_or(feature, |(_, name)| name);
            if !own.is_empty() {
                features.insert(own.to_owned());
            }
        }
        features
    }

    /// The chain from the root to node `at`, by the parents recorded on the way.
    fn chain(&self, parent: &[Option<(usize, Vec<String>)>], mut at: usize) -> Chain {
        let mut chain = Vec::new();
        while let Some((from, features)) = &parent[at] {
            chain.push(Hop {
                package: self.nodes[at].name.clone(),
                features: features.clone(),
            });
            at = *from;
        }
        chain.reverse();
        chain
    }
}

/// Everything a package's asked-for features turn on in it, following its `[features]` table
/// (`dep:x`, `x/feature`, `x?/feature`, other features, and an optional dependency's implicit
/// feature of the same name).
fn expand(node: &Node, asked: &BTreeSet<String>) -> Expansion {
    let mut expansion = Expansion::default();
    let mut seen = BTreeSet::new();
    let mut stack: Vec<(String, Vec<String>)> = asked.iter().map(|f| (f.clone(), Vec::new())).collect();
    let is_optional = |key: &str| node.edges.iter().any(|e| e.optional && e.key == key);
    while let Some((value, mut path)) = stack.pop() {
        if let Some(key) = value.strip_prefix("dep:") {
            expansion.optional.entry(key.to_owned()).or_insert(path);
            continue;
        }
        if let Some((key, feature)) = value.split_once('/') {
            match key.strip_suffix('?') {
                Some(key) => {
                    expansion
                        .weak
                        .entry(key.to_owned())
                        .or_default()
                        .insert(feature.to_owned());
                }
                None => {
                    if is_optional(key) {
                        expansion.optional.entry(key.to_owned()).or_insert_with(|| path.clone());
                    }
                    expansion
                        .dep_features
                        .entry(key.to_owned())
                        .or_default()
                        .insert(feature.to_owned());
                }
            }
            continue;
        }
        if !seen.insert(value.clone()) {
            continue;
        }
        path.push(value.clone());
        match node.features.get(&value) {
            Some(values) => stack.extend(values.iter().map(|v| (v.clone(), path.clone()))),
            None if is_optional(&value) => {
                expansion.optional.entry(value).or_insert(path);
            }
            None => {}
        }
    }
    expansion
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(key: &str, to: Option<usize>) -> Edge {
        Edge {
            key: key.to_owned(),
            package: key.to_owned(),
            kind: DependencyKind::Normal,
            optional: false,
            default_features: true,
            features: Vec::new(),
            to,
        }
    }

    fn node(name: &str, edges: Vec<Edge>) -> Node {
        Node {
            name: name.to_owned(),
            features: BTreeMap::new(),
            edges,
        }
    }

    fn graph(nodes: Vec<Node>) -> Graph {
        let ids = nodes.iter().enumerate().map(|(i, n)| (n.name.clone(), i)).collect();
        Graph { nodes, ids }
    }

    fn names(found: &BTreeMap<String, Chain>, krate: &str) -> Option<Vec<String>> {
        found
            .get(krate)
            .map(|chain| chain.iter().map(|h| h.package.clone()).collect())
    }

    const RUNTIME: &[&str] = &["lambda_runtime"];

    #[test]
    fn a_chain_through_shared_crates_is_followed_and_shortest_wins() {
        // fn → api → events → lambda_runtime, and fn → helpers → lambda_runtime.
        let g = graph(vec![
            node("fn", vec![edge("api", Some(1)), edge("helpers", Some(3))]),
            node("api", vec![edge("events", Some(2))]),
            node("events", vec![edge("lambda_runtime", Some(4))]),
            node("helpers", vec![edge("lambda_runtime", Some(4))]),
            node("lambda_runtime", vec![]),
        ]);
        let found = g.reach(0, &Request::default(), RUNTIME);
        assert_eq!(names(&found, "lambda_runtime").unwrap(), ["helpers", "lambda_runtime"]);
        assert_eq!(describe(&found["lambda_runtime"]), "helpers → lambda_runtime");
    }

    fn optional_runtime_lib() -> Node {
        let mut lib = node(
            "common",
            vec![Edge {
                optional: true,
                ..edge("lambda_runtime", Some(2))
            }],
        );
        lib.features.insert("runtime".into(), vec!["dep:lambda_runtime".into()]);
        lib
    }

    #[test]
    fn an_optional_runtime_counts_only_where_a_feature_turns_it_on() {
        let with = Edge {
            features: vec!["runtime".into()],
            ..edge("common", Some(1))
        };
        let g = graph(vec![
            node("worker", vec![with]),
            optional_runtime_lib(),
            node("lambda_runtime", vec![]),
            node("cli", vec![edge("common", Some(1))]),
        ]);
        let found = g.reach(0, &Request::default(), RUNTIME);
        let chain = &found["lambda_runtime"];
        assert_eq!(describe(chain), "common → lambda_runtime (feature runtime)");
        assert!(
            g.reach(3, &Request::default(), RUNTIME).is_empty(),
            "the CLI does not turn it on"
        );
        let asked = ["common/runtime".to_owned()];
        let request = Request {
            features: &asked,
            ..Request::default()
        };
        let chain = &g.reach(3, &request, RUNTIME)["lambda_runtime"];
        assert_eq!(
            describe(chain),
            "common → lambda_runtime (feature runtime)",
            "as cargo -p cli --features common/runtime"
        );
    }

    #[test]
    fn default_features_implicit_features_and_no_default_features() {
        let mut root = node(
            "fn",
            vec![Edge {
                optional: true,
                ..edge("lambda_runtime", Some(1))
            }],
        );
        root.features.insert("default".into(), vec!["lambda".into()]);
        root.features.insert("lambda".into(), vec!["lambda_runtime".into()]);
        let g = graph(vec![root, node("lambda_runtime", vec![])]);
        let found = g.reach(0, &Request::default(), RUNTIME);
        assert_eq!(
            found["lambda_runtime"][0].features,
            ["default", "lambda", "lambda_runtime"]
        );
        let off = Request {
            no_default_features: true,
            ..Request::default()
        };
        assert!(g.reach(0, &off, RUNTIME).is_empty());
        let asked = ["fn/lambda".to_owned()];
        let named = Request {
            features: &asked,
            ..off
        };
        assert_eq!(
            names(&g.reach(0, &named, RUNTIME), "lambda_runtime").unwrap(),
            ["lambda_runtime"]
        );
        let all = Request {
            all_features: true,
            ..off
        };
        assert!(g.reach(0, &all, RUNTIME).contains_key("lambda_runtime"));
    }

    #[test]
    fn a_dependency_feature_turns_on_the_optional_dependency_of_a_dependency() {
        // fn → common with "common/runtime" asked through fn's own feature table.
        let mut root = node("fn", vec![edge("common", Some(1))]);
        root.features.insert("default".into(), vec!["common/runtime".into()]);
        let g = graph(vec![root, optional_runtime_lib(), node("lambda_runtime", vec![])]);
        assert!(g.reach(0, &Request::default(), RUNTIME).contains_key("lambda_runtime"));
        // A weak `common?/runtime` asks nothing when common itself is optional and off.
        let mut weak = node(
            "fn",
            vec![Edge {
                optional: true,
                ..edge("common", Some(1))
            }],
        );
        weak.features.insert("default".into(), vec!["common?/runtime".into()]);
        let g = graph(vec![weak, optional_runtime_lib(), node("lambda_runtime", vec![])]);
        assert!(g.reach(0, &Request::default(), RUNTIME).is_empty());
    }

    #[test]
    fn dev_dependencies_count_only_when_asked_and_only_for_the_root() {
        let dev = Edge {
            kind: DependencyKind::Development,
            ..edge("lambda_runtime", Some(1))
        };
        let g = graph(vec![node("lib", vec![dev]), node("lambda_runtime", vec![])]);
        assert!(g.reach(0, &Request::default(), RUNTIME).is_empty());
        let examples = Request {
            dev: true,
            ..Request::default()
        };
        assert!(g.reach(0, &examples, RUNTIME).contains_key("lambda_runtime"));
    }

    #[test]
    fn an_unresolved_direct_dependency_still_counts() {
        let g = graph(vec![node("fn", vec![edge("lambda_runtime", None)])]);
        assert_eq!(
            names(&g.reach(0, &Request::default(), RUNTIME), "lambda_runtime").unwrap(),
            ["lambda_runtime"]
        );
    }

    #[test]
    fn cycles_end() {
        let g = graph(vec![
            node("a", vec![edge("b", Some(1))]),
            node("b", vec![edge("a", Some(0))]),
        ]);
        assert!(g.reach(0, &Request::default(), RUNTIME).is_empty());
    }

    #[test]
    fn only_lambda_platforms_count() {
        let windows: Platform = "cfg(windows)".parse().unwrap();
        let linux_arm: Platform = "cfg(all(target_os = \"linux\", target_arch = \"aarch64\"))"
            .parse()
            .unwrap();
        let mac: Platform = "x86_64-apple-darwin".parse().unwrap();
        let musl: Platform = "cfg(target_env = \"musl\")".parse().unwrap();
        assert!(!on_lambda(Some(&windows)));
        assert!(!on_lambda(Some(&mac)));
        assert!(on_lambda(Some(&linux_arm)));
        assert!(on_lambda(Some(&musl)));
        assert!(on_lambda(Some(&"cfg(unix)".parse().unwrap())));
        assert!(on_lambda(None));
    }
}
