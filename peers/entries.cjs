// Run by `cargo xtask peers` with the Node 22 binary after `npm ci` into PREFIX:
//
//   node entries.cjs PREFIX
//
// Checks that every dependency of PREFIX/package.json is installed at exactly its pinned
// version and finds the entry files the tests run, from each package's own `bin` field.
// Prints tab-separated lines for xtask to parse:
//
//   version<TAB>PACKAGE<TAB>VERSION     one per dependency
//   env<TAB>KEY<TAB>ABSOLUTE_PATH       one per peers.env key it knows
//
// Exits 1, naming every problem on stderr, if a version differs or an entry file is missing.
"use strict";

const fs = require("node:fs");
const path = require("node:path");

const prefix = path.resolve(process.argv[2] ?? ".");
const modules = path.join(prefix, "node_modules");
const problems = [];

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, "utf8"));
}

function installed(name) {
  return readJson(path.join(modules, name, "package.json"));
}

// The file a package's `bin` field names for `command`.
function bin(name, command) {
  const manifest = installed(name);
  const rel = typeof manifest.bin === "string" ? manifest.bin : manifest.bin?.[command];
  if (!rel) {
    problems.push(`${name} has no bin named ${command}`);
    return path.join(modules, name);
  }
  return path.join(modules, name, rel);
}

const pins = readJson(path.join(prefix, "package.json")).dependencies ?? {};
for (const [name, pin] of Object.entries(pins)) {
  let version;
  try {
    version = installed(name).version;
  } catch (error) {
    problems.push(`${name} is not installed: ${error.message}`);
    continue;
  }
  if (version !== pin) {
    problems.push(`${name}: pinned ${pin}, installed ${version}`);
  }
  console.log(`version\t${name}\t${version}`);
}

const inspector = "@modelcontextprotocol/inspector";
const entries = {
  NPM_MODULES: modules,
  // The package's bin (`mcp-inspector`) is a launcher; `mcp-inspector --cli ...` imports this
  // file, the CLI client itself, which also runs on its own with the same arguments minus --cli.
  INSPECTOR_CLI: path.join(
    path.dirname(bin(inspector, "mcp-inspector")),
    "..",
    "..",
    "cli",
    "build",
    "index.js",
  ),
  CONFORMANCE: bin("@modelcontextprotocol/conformance", "conformance"),
  SERVER_EVERYTHING: bin("@modelcontextprotocol/server-everything", "mcp-server-everything"),
  SERVER_FILESYSTEM: bin("@modelcontextprotocol/server-filesystem", "mcp-server-filesystem"),
  SERVER_MEMORY: bin("@modelcontextprotocol/server-memory", "mcp-server-memory"),
};
for (const [key, file] of Object.entries(entries)) {
  const resolved = path.resolve(file);
  if (!fs.existsSync(resolved)) {
    problems.push(`${key}: ${resolved} does not exist`);
  }
  console.log(`env\t${key}\t${resolved}`);
}

if (problems.length > 0) {
  console.error(problems.join("\n"));
  process.exit(1);
}
