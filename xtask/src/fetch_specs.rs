//! `cargo xtask fetch-specs [VERSION]`: vendor the JSON task schemas of `@huggingface/tasks`.
//!
//! The command downloads one release of the npm package `@huggingface/tasks` (default: the
//! version recorded in `specs/tasks.lock`), checks the tarball against the registry's `sha512`
//! integrity, and copies, byte for byte:
//!
//! - every `package/src/tasks/<task>/spec/{input,output,stream_output}.json` to
//!   `specs/tasks/<task>/spec/<file>.json`;
//! - `package/src/tasks/common-definitions.json` to `specs/tasks/common-definitions.json`.
//!
//! It then records the version and the tarball's sha256 in `specs/tasks.lock`. Re-fetching the
//! locked version must reproduce the lock's sha256, otherwise the command fails: the registry
//! served different bytes for a published version.
//!
//! The new tree is built in `specs/.tasks.new/` and swapped in with renames only once everything
//! was downloaded, verified and written; on any earlier error `specs/` is left as it was.
//!
//! # Registry
//!
//! The registry defaults to `https://registry.npmjs.org`. Like npm, the command honours the
//! `NPM_CONFIG_REGISTRY` (or `npm_config_registry`) environment variable to use a mirror, e.g.
//! `NPM_CONFIG_REGISTRY=https://registry.npmmirror.com cargo xtask fetch-specs 0.21.54`.
//! TLS certificates are checked against the operating system's trust store (on Linux this
//! includes `SSL_CERT_FILE` / `SSL_CERT_DIR`), so private mirrors and corporate CAs work.

use std::collections::BTreeMap;
use std::fs;
use std::io::{ErrorKind, Read};
use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use sha2::{Digest, Sha256, Sha512};

/// The npm package whose schemas are vendored.
const PACKAGE: &str = "@huggingface/tasks";
/// The same name, escaped as the registry expects it in a URL path.
const PACKAGE_IN_URL: &str = "@huggingface%2ftasks";
/// Registry used when no `NPM_CONFIG_REGISTRY` is set.
const DEFAULT_REGISTRY: &str = "https://registry.npmjs.org";
/// Prefix, inside the tarball, of the folder holding the task folders.
const TASKS_PREFIX: &str = "package/src/tasks/";
/// The shared definitions file, directly under the tasks folder.
const COMMON_DEFINITIONS: &str = "common-definitions.json";
/// The only files a task's `spec/` folder may hold.
const SCHEMA_FILES: [&str; 3] = ["input.json", "output.json", "stream_output.json"];
/// Largest tarball accepted (the real one is about 0.5 MB).
const TARBALL_LIMIT: u64 = 64 * 1024 * 1024;
/// Header of `specs/tasks.lock`, rewritten verbatim.
const LOCK_HEADER: &str = "# Written by `cargo xtask fetch-specs`; do not edit by hand.\n\
# The @huggingface/tasks release whose JSON task schemas are vendored in specs/tasks/.\n";

/// Files of a schema tree: path relative to `specs/tasks/` (with `/` separators) to contents.
type Tree = BTreeMap<String, Vec<u8>>;

/// Runs the command: `root` is the workspace root, `version` the requested release (default:
/// the locked one).
pub fn run(root: &Path, version: Option<&str>) -> Result<(), String> {
    let specs = root.join("specs");
    let lock_path = specs.join("tasks.lock");
    let locked = match fs::read_to_string(&lock_path) {
        Ok(text) => Some(Lock::parse(&text).map_err(|e| format!("{}: {e}", lock_path.display()))?),
        Err(e) if e.kind() == ErrorKind::NotFound => None,
        Err(e) => return Err(format!("cannot read {}: {e}", lock_path.display())),
    };
    let requested = match (version, &locked) {
        (Some(version), _) => version,
        (None, Some(lock)) => lock.version.as_str(),
        (None, None) => {
            return Err(format!(
                "{} does not exist; pass the version to fetch",
                lock_path.display()
            ));
        }
    };
    check_version_syntax(requested)?;

    let registry = registry_base();
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::PlatformVerifier)
        .build();
    let agent = ureq::Agent::config_builder()
        .tls_config(tls)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .new_agent();
    let release = fetch_release(&agent, &registry, requested)?;
    let tarball = download(&agent, &registry, &release.tarball_url)?;
    verify_integrity(&tarball, &release.integrity)
        .map_err(|e| format!("tarball {}: {e}", release.tarball_url))?;
    let sha256 = hex(&Sha256::digest(&tarball));
    // A published version is immutable: different bytes mean a tampered registry or mirror.
    let tampered = |lock: &&Lock| lock.version == release.version && lock.tarball_sha256 != sha256;
    if let Some(lock) = locked.as_ref().filter(tampered) {
        return Err(format!(
            "{PACKAGE} {} is locked with tarball sha256 {} but the registry served {sha256}; \
             refusing to vendor different bytes for the same version",
            release.version, lock.tarball_sha256
        ));
    }
    let files = extract_schemas(&tarball)
        .map_err(|e| format!("tarball of {PACKAGE} {}: {e}", release.version))?;

    let before = read_tree(&specs.join("tasks"))?;
    let lock = Lock {
        version: release.version,
        tarball_sha256: sha256,
    };
    install(&specs, &files, &lock.render())?;
    print_summary(&lock, &before, &files);
    Ok(())
}

/// The registry base URL, without trailing slash.
fn registry_base() -> String {
    ["NPM_CONFIG_REGISTRY", "npm_config_registry"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .map(|value| value.trim().trim_end_matches('/').to_owned())
        .find(|value| !value.is_empty())
        .unwrap_or_else(|| DEFAULT_REGISTRY.to_owned())
}

/// Rejects versions that cannot be a semver version or dist-tag (they end up in a URL path).
fn check_version_syntax(version: &str) -> Result<(), String> {
    let valid = !version.is_empty()
        && version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '_'));
    if valid {
        Ok(())
    } else {
        Err(format!("`{version}` is not a valid version of {PACKAGE}"))
    }
}

/// What the registry says about one release.
#[derive(Debug)]
struct Release {
    /// The exact version (resolved if a dist-tag such as `latest` was requested).
    version: String,
    /// `dist.tarball`.
    tarball_url: String,
    /// `dist.integrity`, a Subresource Integrity string such as `sha512-<base64>`.
    integrity: String,
}

/// Fetches the registry's metadata for `version` of the package.
fn fetch_release(agent: &ureq::Agent, registry: &str, version: &str) -> Result<Release, String> {
    let url = format!("{registry}/{PACKAGE_IN_URL}/{version}");
    let body = http_get(agent, &url, 10 * 1024 * 1024).map_err(|e| match e {
        ureq::Error::StatusCode(404) => {
            format!("{PACKAGE} has no version {version} on the registry ({url} answered 404)")
        }
        ureq::Error::StatusCode(code) => {
            format!("the npm registry at {registry} answered HTTP {code} for {url}")
        }
        e => format!("cannot reach the npm registry at {registry}: {e}"),
    })?;
    let json: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| format!("{url} did not return JSON metadata: {e}"))?;
    let field = |pointer: &str| {
        json.pointer(pointer)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("the metadata at {url} has no string `{pointer}`"))
    };
    Ok(Release {
        version: field("/version")?,
        tarball_url: field("/dist/tarball")?,
        integrity: field("/dist/integrity")?,
    })
}

/// Downloads the tarball.
fn download(agent: &ureq::Agent, registry: &str, url: &str) -> Result<Vec<u8>, String> {
    http_get(agent, url, TARBALL_LIMIT).map_err(|e| match e {
        ureq::Error::StatusCode(code) => format!("downloading {url} failed: HTTP {code}"),
        e => format!("cannot reach the npm registry at {registry} to download {url}: {e}"),
    })
}

/// GETs `url` and reads at most `limit` bytes of its body; non-2xx statuses are errors.
fn http_get(agent: &ureq::Agent, url: &str, limit: u64) -> Result<Vec<u8>, ureq::Error> {
    let mut response = agent.get(url).call()?;
    response.body_mut().with_config().limit(limit).read_to_vec()
}

/// Checks `data` against an SRI `integrity` string: at least one `sha512-<base64>` entry must
/// be present and all of them must match (other algorithms are ignored).
fn verify_integrity(data: &[u8], integrity: &str) -> Result<(), String> {
    let actual = Sha512::digest(data);
    let mut checked = false;
    for expected in integrity
        .split_whitespace()
        .filter_map(|entry| entry.strip_prefix("sha512-"))
    {
        // An SRI hash may carry options after `?`.
        let expected = expected.split('?').next().unwrap_or_default();
        let expected = base64::engine::general_purpose::STANDARD
            .decode(expected)
            .map_err(|e| format!("malformed integrity `{integrity}`: {e}"))?;
        if expected.as_slice() != actual.as_slice() {
            return Err(format!(
                "integrity mismatch: expected {integrity}, got sha512-{}",
                base64::engine::general_purpose::STANDARD.encode(actual)
            ));
        }
        checked = true;
    }
    if checked {
        Ok(())
    } else {
        Err(format!(
            "no sha512 integrity to check against (got `{integrity}`)"
        ))
    }
}

/// Lowercase hexadecimal of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Extracts the task schemas and the common definitions from a gzipped npm tarball.
///
/// Fails on files other than [`SCHEMA_FILES`] inside a task's `spec/` folder, on duplicate
/// entries, when `common-definitions.json` is missing, and when no schema is found at all.
fn extract_schemas(tgz: &[u8]) -> Result<Tree, String> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tgz));
    let mut files = Tree::new();
    let entries = archive
        .entries()
        .map_err(|e| format!("unreadable tarball: {e}"))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("unreadable tarball: {e}"))?;
        let path = entry
            .path()
            .map_err(|e| format!("unreadable tarball entry: {e}"))?
            .to_string_lossy()
            .replace('\\', "/");
        let path = path.strip_prefix("./").unwrap_or(&path);
        let Some(relative) = path.strip_prefix(TASKS_PREFIX) else {
            continue;
        };
        let kind = entry.header().entry_type();
        let destination = if relative == COMMON_DEFINITIONS {
            relative.to_owned()
        } else {
            let Some((task, in_spec)) = relative
                .split_once('/')
                .and_then(|(task, rest)| Some((task, rest.strip_prefix("spec/")?)))
            else {
                continue;
            };
            if kind.is_dir() && in_spec.trim_end_matches('/').is_empty() {
                continue;
            }
            let task_ok = task
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                && !task.is_empty();
            if !task_ok || !SCHEMA_FILES.contains(&in_spec) {
                return Err(format!(
                    "unexpected `{path}`: a task's spec/ folder may only hold {}",
                    SCHEMA_FILES.join(", ")
                ));
            }
            format!("{task}/spec/{in_spec}")
        };
        if !kind.is_file() {
            return Err(format!("`{path}` is not a regular file"));
        }
        let mut contents = Vec::new();
        entry
            .read_to_end(&mut contents)
            .map_err(|e| format!("cannot read `{path}`: {e}"))?;
        if files.insert(destination, contents).is_some() {
            return Err(format!("`{path}` appears twice"));
        }
    }
    if files.len() <= usize::from(files.contains_key(COMMON_DEFINITIONS)) {
        return Err(format!(
            "no task schemas ({TASKS_PREFIX}<task>/spec/*.json) in the tarball"
        ));
    }
    if !files.contains_key(COMMON_DEFINITIONS) {
        return Err(format!(
            "no {TASKS_PREFIX}{COMMON_DEFINITIONS} in the tarball"
        ));
    }
    Ok(files)
}

/// The contents of `specs/tasks.lock`.
#[derive(Debug, PartialEq, Eq)]
struct Lock {
    /// The vendored version.
    version: String,
    /// Hexadecimal sha256 of its tarball.
    tarball_sha256: String,
}

impl Lock {
    /// Parses the small TOML subset [`Lock::render`] writes: comments and `key = "value"` lines.
    fn parse(text: &str) -> Result<Self, String> {
        let mut fields = BTreeMap::new();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let value = line.split_once('=').and_then(|(key, value)| {
                let value = value.trim().strip_prefix('"')?.strip_suffix('"')?;
                Some((key.trim(), value))
            });
            let Some((key, value)) = value else {
                return Err(format!("cannot parse line `{line}`"));
            };
            fields.insert(key, value);
        }
        let mut take = |key: &str| {
            fields
                .remove(key)
                .map(str::to_owned)
                .ok_or_else(|| format!("missing `{key}`"))
        };
        let package = take("package")?;
        if package != PACKAGE {
            return Err(format!("locks package `{package}`, expected `{PACKAGE}`"));
        }
        let lock = Lock {
            version: take("version")?,
            tarball_sha256: take("tarball_sha256")?,
        };
        match fields.keys().next() {
            Some(key) => Err(format!("unknown key `{key}`")),
            None => Ok(lock),
        }
    }

    /// The file's text, in its canonical format.
    fn render(&self) -> String {
        format!(
            "{LOCK_HEADER}package = \"{PACKAGE}\"\nversion = \"{}\"\ntarball_sha256 = \"{}\"\n",
            self.version, self.tarball_sha256
        )
    }
}

/// Reads every file under `dir` (empty if `dir` does not exist).
fn read_tree(dir: &Path) -> Result<Tree, String> {
    /// Adds the files under `dir` to `tree`, keyed by `prefix` + their relative path.
    fn walk(dir: &Path, prefix: &str, tree: &mut Tree) -> Result<(), String> {
        let error = |e: std::io::Error| format!("cannot read {}: {e}", dir.display());
        for entry in fs::read_dir(dir).map_err(error)? {
            let entry = entry.map_err(error)?;
            let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
            if entry.file_type().map_err(error)?.is_dir() {
                walk(&entry.path(), &format!("{name}/"), tree)?;
            } else {
                let contents = fs::read(entry.path())
                    .map_err(|e| format!("cannot read {}: {e}", entry.path().display()))?;
                tree.insert(name, contents);
            }
        }
        Ok(())
    }
    let mut tree = Tree::new();
    if dir.exists() {
        walk(dir, "", &mut tree)?;
    }
    Ok(tree)
}

/// Writes `files` under `dir`, creating parent folders.
fn write_tree(dir: &Path, files: &Tree) -> Result<(), String> {
    for (relative, contents) in files {
        let path = dir.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        fs::write(&path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

/// Replaces `specs/tasks/` by `files` and `specs/tasks.lock` by `lock`.
///
/// Everything is first written to `specs/.tasks.new/{tasks/,tasks.lock}`; only then is the old
/// tree renamed to `specs/.tasks.old`, the new one renamed in, the lock renamed over the old
/// one, and the old tree deleted. An error before the swap removes the staging folder and
/// leaves `specs/` untouched.
fn install(specs: &Path, files: &Tree, lock: &str) -> Result<(), String> {
    let target = specs.join("tasks");
    let lock_path = specs.join("tasks.lock");
    let staging = specs.join(".tasks.new");
    let old = specs.join(".tasks.old");
    if old.exists() {
        return Err(format!(
            "{} is left over from an interrupted run; restore or delete it first",
            old.display()
        ));
    }
    // A staging folder left by an interrupted run is ours to discard.
    remove_dir_if_exists(&staging)?;
    let staged = write_tree(&staging.join("tasks"), files).and_then(|()| {
        let path = staging.join("tasks.lock");
        fs::write(&path, lock).map_err(|e| format!("cannot write {}: {e}", path.display()))
    });
    let swapped = staged.and_then(|()| {
        if target.exists() {
            fs::rename(&target, &old).map_err(|e| {
                format!("cannot move {} to {}: {e}", target.display(), old.display())
            })?;
        }
        fs::rename(staging.join("tasks"), &target).map_err(|e| {
            // Put the previous tree back so that specs/ stays as it was.
            let _ = fs::rename(&old, &target);
            format!("cannot move the new tree to {}: {e}", target.display())
        })
    });
    if let Err(e) = swapped {
        let _ = fs::remove_dir_all(&staging);
        return Err(e);
    }
    fs::rename(staging.join("tasks.lock"), &lock_path).map_err(|e| {
        format!(
            "{} was replaced but {} could not be updated ({e}); the new lock is in {}",
            target.display(),
            lock_path.display(),
            staging.display()
        )
    })?;
    remove_dir_if_exists(&old)?;
    remove_dir_if_exists(&staging)
}

/// Deletes `dir` recursively if it exists.
fn remove_dir_if_exists(dir: &Path) -> Result<(), String> {
    match fs::remove_dir_all(dir) {
        Err(e) if e.kind() != ErrorKind::NotFound => {
            Err(format!("cannot remove {}: {e}", dir.display()))
        }
        _ => Ok(()),
    }
}

/// Top-level entries (task folders, `common-definitions.json`) that differ between two trees.
#[derive(Debug, Default, PartialEq, Eq)]
struct Changes {
    /// Entries only in the new tree.
    added: Vec<String>,
    /// Entries only in the old tree.
    removed: Vec<String>,
    /// Entries in both whose files differ (in name or bytes).
    changed: Vec<String>,
}

/// Compares `before` and `after` per top-level entry.
fn compare(before: &Tree, after: &Tree) -> Changes {
    let group = |tree: &Tree| {
        let mut groups: BTreeMap<String, Tree> = BTreeMap::new();
        for (path, contents) in tree {
            let top = path.split('/').next().unwrap_or(path);
            groups
                .entry(top.to_owned())
                .or_default()
                .insert(path.clone(), contents.clone());
        }
        groups
    };
    let (before, after) = (group(before), group(after));
    let mut changes = Changes::default();
    for (name, files) in &after {
        match before.get(name) {
            None => changes.added.push(name.clone()),
            Some(old) if old != files => changes.changed.push(name.clone()),
            Some(_) => {}
        }
    }
    changes.removed = before
        .keys()
        .filter(|name| !after.contains_key(*name))
        .cloned()
        .collect();
    changes
}

/// Prints what was vendored and how it differs from the previous tree.
fn print_summary(lock: &Lock, before: &Tree, after: &Tree) {
    let tasks = after
        .keys()
        .filter_map(|path| path.split_once('/').map(|(task, _)| task))
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    println!("vendored {PACKAGE} {} into specs/tasks/", lock.version);
    println!("  tarball sha256: {}", lock.tarball_sha256);
    println!(
        "  {tasks} tasks, {} files (including {COMMON_DEFINITIONS})",
        after.len()
    );
    let changes = compare(before, after);
    if changes == Changes::default() {
        println!("  no change compared to the previous specs/tasks/");
    } else {
        for (label, names) in [
            ("added", &changes.added),
            ("removed", &changes.removed),
            ("changed", &changes.changed),
        ] {
            if !names.is_empty() {
                println!("  {label}: {}", names.join(", "));
            }
        }
    }
    println!("next: run `cargo xtask regen` to regenerate the SDK from the new schemas");
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// Builds a gzipped tarball holding `files` (path, contents).
    fn tgz(files: &[(&str, &str)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::default(),
        ));
        for (path, contents) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(contents.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder
                .append_data(&mut header, path, contents.as_bytes())
                .unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    /// A fresh, empty directory for one test.
    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("xtask-fetch-specs-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn tree(files: &[(&str, &str)]) -> Tree {
        files
            .iter()
            .map(|(path, contents)| (path.to_string(), contents.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn extracts_only_the_schemas() {
        let archive = tgz(&[
            ("package/package.json", "{}"),
            ("package/src/tasks/common-definitions.json", "common"),
            ("package/src/tasks/index.ts", "ts"),
            ("package/src/tasks/fill-mask/about.md", "md"),
            ("package/src/tasks/fill-mask/spec/input.json", "in"),
            ("package/src/tasks/fill-mask/spec/output.json", "out"),
            ("package/src/tasks/chat/spec/stream_output.json", "stream"),
            ("package/dist/src/tasks/x/spec/input.json", "elsewhere"),
        ]);
        let expected = tree(&[
            ("common-definitions.json", "common"),
            ("fill-mask/spec/input.json", "in"),
            ("fill-mask/spec/output.json", "out"),
            ("chat/spec/stream_output.json", "stream"),
        ]);
        assert_eq!(extract_schemas(&archive), Ok(expected));
    }

    #[test]
    fn rejects_unexpected_spec_files() {
        let archive = tgz(&[
            ("package/src/tasks/common-definitions.json", "common"),
            ("package/src/tasks/fill-mask/spec/input.json", "in"),
            ("package/src/tasks/fill-mask/spec/extra.json", "?"),
        ]);
        let error = extract_schemas(&archive).unwrap_err();
        assert!(error.contains("fill-mask/spec/extra.json"), "{error}");
    }

    #[test]
    fn rejects_tarballs_without_schemas() {
        let archive = tgz(&[
            ("package/package.json", "{}"),
            ("package/src/tasks/common-definitions.json", "common"),
        ]);
        let error = extract_schemas(&archive).unwrap_err();
        assert!(error.contains("no task schemas"), "{error}");
        let archive = tgz(&[("package/src/tasks/a/spec/input.json", "in")]);
        let error = extract_schemas(&archive).unwrap_err();
        assert!(error.contains(COMMON_DEFINITIONS), "{error}");
        assert!(extract_schemas(b"not gzip").is_err());
    }

    #[test]
    fn checks_sha512_integrity() {
        let data = b"tarball bytes";
        let good = format!(
            "sha512-{}",
            base64::engine::general_purpose::STANDARD.encode(Sha512::digest(data))
        );
        assert_eq!(verify_integrity(data, &good), Ok(()));
        assert_eq!(verify_integrity(data, &format!("sha1-xyz {good}")), Ok(()));
        let error = verify_integrity(b"other bytes", &good).unwrap_err();
        assert!(error.contains("integrity mismatch"), "{error}");
        assert!(verify_integrity(data, "sha512-!!!").is_err());
        assert!(verify_integrity(data, "sha1-abc").is_err());
        assert!(verify_integrity(data, "").is_err());
    }

    #[test]
    fn lock_round_trips() {
        let text = include_str!("../../specs/tasks.lock");
        let lock = Lock::parse(text).unwrap();
        assert_eq!(lock.render(), text);
        let lock = Lock {
            version: "1.2.3".into(),
            tarball_sha256: "ab".into(),
        };
        assert_eq!(Lock::parse(&lock.render()), Ok(lock));
        assert!(
            Lock::parse("package = \"other\"\nversion = \"1\"\ntarball_sha256 = \"a\"").is_err()
        );
        assert!(Lock::parse("package = \"@huggingface/tasks\"\n").is_err());
    }

    #[test]
    fn install_replaces_the_tree_and_lock() {
        let specs = scratch("replace");
        write_tree(
            &specs,
            &tree(&[
                ("tasks/a/spec/input.json", "old"),
                ("tasks.lock", "old lock"),
            ]),
        )
        .unwrap();
        let new = tree(&[("b/spec/input.json", "new")]);
        install(&specs, &new, "new lock").unwrap();
        assert_eq!(read_tree(&specs.join("tasks")), Ok(new));
        assert_eq!(
            fs::read_to_string(specs.join("tasks.lock")).unwrap(),
            "new lock"
        );
        assert!(!specs.join(".tasks.new").exists() && !specs.join(".tasks.old").exists());
        fs::remove_dir_all(&specs).unwrap();
    }

    #[test]
    fn failed_install_leaves_specs_untouched() {
        let specs = scratch("untouched");
        let before = tree(&[
            ("tasks/a/spec/input.json", "old"),
            ("tasks.lock", "old lock"),
        ]);
        write_tree(&specs, &before).unwrap();
        // `x` cannot be both a file and a folder: writing the staging tree fails.
        let broken = tree(&[("x", "file"), ("x/spec/input.json", "in")]);
        assert!(install(&specs, &broken, "new lock").is_err());
        assert_eq!(read_tree(&specs), Ok(before));
        fs::remove_dir_all(&specs).unwrap();
    }

    #[test]
    fn compares_per_task_folder() {
        let before = tree(&[
            ("common-definitions.json", "c"),
            ("a/spec/input.json", "1"),
            ("b/spec/input.json", "1"),
            ("c/spec/input.json", "1"),
        ]);
        let after = tree(&[
            ("common-definitions.json", "c"),
            ("a/spec/input.json", "1"),
            ("b/spec/input.json", "2"),
            ("d/spec/input.json", "1"),
        ]);
        let changes = compare(&before, &after);
        assert_eq!(
            changes,
            Changes {
                added: vec!["d".into()],
                removed: vec!["c".into()],
                changed: vec!["b".into()],
            }
        );
        assert_eq!(compare(&after, &after), Changes::default());
    }

    #[test]
    fn validates_version_syntax() {
        assert!(check_version_syntax("0.21.54").is_ok());
        assert!(check_version_syntax("0.0.0-nope").is_ok());
        assert!(check_version_syntax("../x").is_err());
        assert!(check_version_syntax("").is_err());
    }
}
