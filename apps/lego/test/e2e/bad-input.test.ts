// The bad-input contract (DESIGN.md, "Errors, output, exit codes"), case by case against the built CLI:
// bad input exits 2 (3 for credentials), with one JSON document naming the file and the key (for a
// config), a hint, no stack trace, and nothing changed in the portfolio. Every case runs on its own
// temporary copy of examples/portfolio with its own LEGO_HOME; none needs the local cloud (commands
// that would reach it run with LEGO_TARGET=cloudflare and no token, so a case that slipped past the
// checks fails with exit 3 instead of deploying).
import { createHash } from "node:crypto";
import {
  cp,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  symlink,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, runBuilt } from "./built.ts";

// LEGO_E2E_BIN runs the suite against a copy of the built CLI (a build elsewhere empties dist/ meanwhile).
const SCRIPT = process.env.LEGO_E2E_BIN ? { script: process.env.LEGO_E2E_BIN } : {};
const EXAMPLE = fileURLToPath(new URL("../../../../examples/portfolio", import.meta.url));
const SERVICES = ["api-gateway", "auth-service", "data-service", "website"] as const;

type Json = Record<string, unknown>;
/** Edits a copy of the portfolio; `dir` is its root. */
type Mutate = (dir: string) => Promise<void>;

interface Case {
  name: string;
  /** What the case is about, for the count by kind. */
  kind: "wrangler" | "domain" | "cli" | "env" | "fs";
  mutate?: Mutate;
  /** The command, without --json and --root (added unless `root` is given). */
  args: string[];
  /** `--root` to pass instead of the copy (relative to the copy: `{dir}` is replaced). */
  root?: string;
  env?: (dir: string) => Record<string, string>;
  exit?: number;
  code?: string | RegExp;
  /** Must appear in the message or the hint: the file, relative to the root. */
  file?: string;
  /** Must appear in the message or the hint: the key path. */
  key?: string;
  /** Extra text the message must contain. */
  says?: RegExp;
  timeout?: number;
}

// ---------------------------------------------------------------------------------------------------
// Helpers to edit the copy.

const W = (service = "website") => `services/${service}/wrangler.jsonc`;
const D = (service = "website") => `services/${service}/src/config/domains.ts`;

async function readJsonc(path: string): Promise<Json> {
  const text = await readFile(path, "utf8");
  return JSON.parse(
    text
      .split("\n")
      .filter((l) => !l.trimStart().startsWith("//"))
      .join("\n"),
  ) as Json;
}

/** Rewrites a service's wrangler config (as .jsonc, .json or .toml) after `edit`. */
function wrangler(
  edit: (c: Json) => void,
  format: "jsonc" | "json" | "toml" = "jsonc",
  service = "website",
): Mutate {
  return async (dir) => {
    const path = join(dir, W(service));
    const config = await readJsonc(path);
    edit(config);
    await rm(path);
    const out = join(dir, `services/${service}/wrangler.${format}`);
    await writeFile(out, format === "toml" ? toToml(config) : `${JSON.stringify(config, null, 2)}\n`);
  };
}

function text(path: string, content: string | ((old: string) => string)): Mutate {
  return async (dir) => {
    const abs = join(dir, path);
    const next = typeof content === "string" ? content : content(await readFile(abs, "utf8").catch(() => ""));
    await mkdir(join(abs, ".."), { recursive: true });
    await writeFile(abs, next);
  };
}

/** The website domain config as .js (same ESM text), with `edit` applied. */
function domainsJs(edit: (old: string) => string = (s) => s): Mutate {
  return async (dir) => {
    const from = join(dir, D());
    const old = await readFile(from, "utf8");
    await rm(from);
    await writeFile(join(dir, "services/website/src/config/domains.js"), edit(old));
  };
}

const all =
  (...steps: Mutate[]): Mutate =>
  async (dir) => {
    for (const step of steps) await step(dir);
  };

// A small TOML writer for the shapes the example configs have (tables, arrays of tables, scalars).
function tomlValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `[${value.map(tomlValue).join(", ")}]`;
  if (value && typeof value === "object")
    return `{ ${Object.entries(value as Json)
      .map(([k, v]) => `${JSON.stringify(k)} = ${tomlValue(v)}`)
      .join(", ")} }`;
  return '""';
}
function toToml(config: Json): string {
  const lines: string[] = [];
  const { env, ...top } = config;
  for (const [k, v] of Object.entries(top))
    if (k !== "$schema") lines.push(`${JSON.stringify(k)} = ${tomlValue(v)}`);
  const sections = env && typeof env === "object" && !Array.isArray(env) ? Object.values(env) : [];
  // Tables when every section is one; otherwise inline, so a non-table section stays what it was.
  if (sections.length > 0 && sections.every((v) => v && typeof v === "object" && !Array.isArray(v))) {
    for (const [name, section] of Object.entries(env as Json)) {
      lines.push("", `[env.${JSON.stringify(name)}]`);
      if (section && typeof section === "object")
        for (const [k, v] of Object.entries(section as Json))
          lines.push(`${JSON.stringify(k)} = ${tomlValue(v)}`);
    }
  } else if (env !== undefined) lines.push(`env = ${tomlValue(env)}`);
  return `${lines.join("\n")}\n`;
}

// ---------------------------------------------------------------------------------------------------
// The cases.

const VALIDATE = ["validate", "website", "--level", "basic"];
const DRY_RUN = ["deploy", "website", "--env", "staging", "--dry-run"];
const LIST = ["list"];

/** Wrangler config edits that fail the scan: every command refuses, naming the file and key. */
const wranglerEdits: Array<[string, (c: Json) => void, string, RegExp?]> = [
  ["an upper-case name", (c) => (c.name = "WebSite"), "name", /lower-case/],
  ["a name with a space", (c) => (c.name = "web site"), "name"],
  ["a name with a dot", (c) => (c.name = "web.site"), "name"],
  ["a name of 64 characters", (c) => (c.name = "w".repeat(64)), "name", /at most 63/],
  ["an empty name", (c) => (c.name = ""), "name"],
  ["a number as name", (c) => (c.name = 42), "name"],
  ["no name", (c) => delete c.name, "name", /required/],
  [
    "an invalid env name",
    (c) => ((c.env as Json).staging = { ...((c.env as Json).staging as Json), name: "Staging!" }),
    "env.staging.name",
  ],
  ["compatibility_date month 13", (c) => (c.compatibility_date = "2025-13-01"), "compatibility_date"],
  ["compatibility_date Feb 30", (c) => (c.compatibility_date = "2025-02-30"), "compatibility_date"],
  ["compatibility_date a word", (c) => (c.compatibility_date = "yesterday"), "compatibility_date"],
  ["compatibility_date a number", (c) => (c.compatibility_date = 20250901), "compatibility_date"],
  ["compatibility_date with slashes", (c) => (c.compatibility_date = "2025/09/01"), "compatibility_date"],
  [
    "an env compatibility_date",
    (c) => (((c.env as Json).production as Json).compatibility_date = "01-09-2025"),
    "env.production.compatibility_date",
  ],
  ["main outside the folder", (c) => (c.main = "../../../../evil.js"), "main", /outside the service folder/],
  ["main absolute", (c) => (c.main = "/etc/passwd"), "main", /outside the service folder/],
  ["main escaping through src/..", (c) => (c.main = "src/../../x.js"), "main"],
  ["main empty", (c) => (c.main = ""), "main"],
  ["main a number", (c) => (c.main = 42), "main"],
  [
    "an env main outside the folder",
    (c) => (((c.env as Json).staging as Json).main = "../x.js"),
    "env.staging.main",
  ],
  ["routes a string", (c) => (c.routes = "www.example.com/*"), "routes"],
  ["a route a number", (c) => (c.routes = [42]), "routes[0]"],
  ["a route without pattern", (c) => (c.routes = [{}]), "routes[0].pattern"],
  [
    "a custom domain with a path",
    (c) =>
      (((c.env as Json).production as Json).routes = [{ pattern: "www.example.com/x", custom_domain: true }]),
    "env.production.routes[0].pattern",
  ],
  [
    "route and routes together",
    (c) => {
      c.route = "a.example.com/*";
      c.routes = ["b.example.com/*"];
    },
    "route",
  ],
  [
    "an empty route pattern",
    (c) => (((c.env as Json).staging as Json).routes = [{ pattern: "" }]),
    "env.staging.routes[0].pattern",
  ],
  ["workers_dev a string", (c) => (c.workers_dev = "yes"), "workers_dev"],
  [
    "env workers_dev a number",
    (c) => (((c.env as Json).staging as Json).workers_dev = 1),
    "env.staging.workers_dev",
  ],
  ["env a string", (c) => (c.env = "staging"), "env"],
  ["an env section a number", (c) => ((c.env as Json).staging = 5), "env.staging"],
  ["services a string", (c) => (c.services = "auth"), "services"],
  ["a service binding a string", (c) => (c.services = ["auth"]), "services[0]"],
  ["a service binding without service", (c) => (c.services = [{ binding: "A" }]), "services[0].service"],
  [
    "a service binding with environment",
    (c) => (c.services = [{ binding: "A", service: "auth-service", environment: "staging" }]),
    "services[0].environment",
  ],
  ["d1_databases a string", (c) => (c.d1_databases = "db"), "d1_databases"],
  [
    "a D1 binding without database_name",
    (c) => (c.d1_databases = [{ binding: "DB" }]),
    "d1_databases[0].database_name",
  ],
  [
    "a migrations_dir outside the folder",
    (c) => (c.d1_databases = [{ binding: "DB", database_name: "d", migrations_dir: "../shared" }]),
    "d1_databases[0].migrations_dir",
    /outside the service folder/,
  ],
  [
    "an absolute migrations_dir",
    (c) => (c.d1_databases = [{ binding: "DB", database_name: "d", migrations_dir: "/var/db" }]),
    "d1_databases[0].migrations_dir",
  ],
  ["secrets a string", (c) => (c.secrets = "JWT"), "secrets"],
  ["secrets.required a string", (c) => (c.secrets = { required: "JWT" }), "secrets.required"],
  ["a required secret a number", (c) => (c.secrets = { required: [1] }), "secrets.required[0]"],
  ["account_id a number", (c) => (c.account_id = 42), "account_id"],
];

/** Edits that only stop a deploy or validation of the service (wrangler would fail on them). */
const wranglerDeployEdits: Array<[string, (c: Json) => void, string]> = [
  ["no main", (c) => delete c.main, "main"],
  ["main a missing file", (c) => (c.main = "src/worker/missing.ts"), "main"],
  ["main a folder", (c) => (c.main = "src"), "main"],
  ["no compatibility_date", (c) => delete c.compatibility_date, "compatibility_date"],
  [
    "a declared migrations_dir that does not exist",
    (c) => (c.d1_databases = [{ binding: "DB", database_name: "d", migrations_dir: "db/missing" }]),
    "d1_databases[0].migrations_dir",
  ],
];

const cases: Case[] = [];

// Each format through another command: the scan refuses for all of them alike.
for (const [format, args] of [
  ["jsonc", VALIDATE],
  ["json", LIST],
  ["toml", DRY_RUN],
] as const) {
  const file = `services/website/wrangler.${format}`;
  // Every edit in JSONC; half of them each in JSON and TOML (the same checker reads all three).
  for (const [index, [what, edit, key, says]] of wranglerEdits.entries()) {
    if ((format === "json" && index % 2 === 1) || (format === "toml" && index % 2 === 0)) continue;
    cases.push({
      name: `wrangler.${format}: ${what} (${args[0]})`,
      kind: "wrangler",
      mutate: wrangler(edit, format),
      args,
      file,
      key,
      ...(says ? { says } : {}),
    });
  }
  for (const [what, edit, key] of wranglerDeployEdits)
    for (const args of format === "jsonc" ? [VALIDATE, DRY_RUN] : format === "json" ? [VALIDATE] : [DRY_RUN])
      cases.push({
        name: `wrangler.${format}: ${what} (${args[0]})`,
        kind: "wrangler",
        mutate: wrangler(edit, format),
        args,
        file,
        key,
      });
}

cases.push(
  {
    name: "wrangler.jsonc: a syntax error",
    kind: "wrangler",
    mutate: text(W(), (s) => s.replace('"main":', '"main" ')),
    args: LIST,
    file: W(),
    code: "ERR_CONFIG_PARSE",
    says: /:\d+:\d+: invalid JSONC/,
  },
  {
    name: "wrangler.jsonc: truncated",
    kind: "wrangler",
    mutate: text(W(), (s) => s.slice(0, s.length / 2)),
    args: VALIDATE,
    file: W(),
    code: "ERR_CONFIG_PARSE",
  },
  {
    name: "wrangler.jsonc: an array at the top",
    kind: "wrangler",
    mutate: text(W(), "[]\n"),
    args: LIST,
    file: W(),
    code: "ERR_CONFIG_PARSE",
    says: /object at the top level/,
  },
  { name: "wrangler.jsonc: empty", kind: "wrangler", mutate: text(W(), ""), args: LIST, file: W() },
  {
    name: "wrangler.toml: a syntax error",
    kind: "wrangler",
    mutate: all(
      wrangler(() => {}, "toml"),
      text("services/website/wrangler.toml", (s) => s.replace(" = ", " = = ")),
    ),
    args: LIST,
    file: "services/website/wrangler.toml",
    code: "ERR_CONFIG_PARSE",
    says: /invalid TOML/,
  },
  {
    name: "wrangler.jsonc: over 1 MiB",
    kind: "wrangler",
    mutate: wrangler((c) => (c.vars = { BLOB: "x".repeat(1_100_000) })),
    args: LIST,
    file: W(),
    key: "(file)",
    says: /MiB/,
  },
  {
    name: "wrangler.json: 5 MB of vars",
    kind: "wrangler",
    mutate: wrangler((c) => (c.vars = { BLOB: "x".repeat(5_000_000) }), "json"),
    args: DRY_RUN,
    file: "services/website/wrangler.json",
    key: "(file)",
  },
  {
    name: "a service binding with the removed environment key",
    kind: "wrangler",
    mutate: wrangler(
      (c) => (c.services = [{ binding: "X", service: "auth-service", environment: "production" }]),
      "jsonc",
      "api-gateway",
    ),
    args: LIST,
    file: W("api-gateway"),
    key: "services[0].environment",
  },
  {
    name: "a dependency cycle through service bindings names both files",
    kind: "wrangler",
    mutate: wrangler(
      (c) =>
        (((c.env as Json).staging as Json).services = [{ binding: "API", service: "api-gateway-staging" }]),
      "jsonc",
      "auth-service",
    ),
    args: ["validate", "auth-service", "--env", "staging", "--level", "basic"],
    file: W("auth-service"),
    key: "env.staging.services[0]",
    says: /Dependency cycle/,
  },
  {
    name: "a hostname claimed by two services names the file",
    kind: "wrangler",
    mutate: wrangler(
      (c) =>
        (((c.env as Json).production as Json).routes = [{ pattern: "api.example.com", custom_domain: true }]),
    ),
    args: VALIDATE,
    file: W(),
    says: /claimed by both/,
  },
);

// Domain configs (ts, and the same text as js).
const GOOD_DOMAINS = (s: string) => s;
const domainEdits: Array<[string, (old: string) => string, string | undefined, RegExp?, number?]> = [
  ["an empty file", () => "", "domains", /declares no service/],
  ["only a comment", () => "// nothing here\n", "domains", /declares no service/],
  ["module.exports = {}", () => "module.exports = {};\n", "domains", /declares no service/],
  ["export {}", () => "export {};\n", "domains"],
  ["an empty domains object", () => "export const domains = {};\n", "domains", /declares no service/],
  ["domains a number", () => "export const domains = 42;\n", "domains"],
  ["a default export of a string", () => 'export default "website";\n', "domains"],
  ["a throw", (s) => `throw new Error("boom");\n${s}`, undefined, /failed to load: boom/],
  ["process.exit(0)", (s) => `process.exit(0);\n${s}`, undefined, /process\.exit\(0\)/],
  [
    "process.exit(1) in a function it calls",
    (s) => `(() => process.exit(1))();\n${s}`,
    undefined,
    /process\.exit\(1\)/,
  ],
  [
    "a top-level await that never settles",
    (s) => `await new Promise(() => {});\n${s}`,
    undefined,
    /never settles|did not finish/,
  ],
  ["a syntax error", (s) => s.replace("defineDomains({", "defineDomains({{"), undefined],
  ["an import that does not exist", (s) => `import "./nope.js";\n${s}`, undefined, /failed to load/],
  ["name a number", (s) => s.replace('name: "website"', "name: 42"), "domains"],
  [
    "domains a string",
    (s) =>
      s.replace(
        /domains: \{\n\s+staging: "staging-www.example.com",\n\s+production: "www.example.com",\n\s+\}/,
        'domains: "www.example.com"',
      ),
    "domains",
  ],
  [
    "a hostname that is not one",
    (s) => s.replace('production: "www.example.com"', 'production: "not a host!"'),
    "domains",
  ],
  [
    "features a string",
    (s) => s.replace(/features: \{\n\s+betaPreview: false,\n\s+\}/, 'features: "beta"'),
    "domains",
  ],
  ["dependsOn a string", (s) => s.replace("dependsOn: []", 'dependsOn: "api-gateway"'), "domains"],
  ["a health path a number", (s) => s.replace('path: "/health"', "path: 42"), "domains"],
  ["secrets.required a string", (s) => s.replace("required: []", 'required: "JWT"'), "domains"],
  [
    "two services, neither named like the Worker",
    (s) =>
      s.replace(
        '  website: {\n    name: "website"',
        '  other: { name: "other", domains: { production: "o.example.com" } },\n  web: {\n    name: "web"',
      ),
    "domains",
    /none is named "website"/,
  ],
  [
    "dependsOn a service that does not exist",
    (s) => s.replace("dependsOn: []", 'dependsOn: ["nosuch"]'),
    undefined,
    /dependsOn "nosuch"/,
  ],
];
for (const [what, edit, key, says] of domainEdits) {
  for (const lang of ["ts", "js"] as const) {
    const file = lang === "ts" ? D() : "services/website/src/config/domains.js";
    const mutate = lang === "ts" ? text(D(), edit) : domainsJs(edit);
    cases.push({
      name: `domains.${lang}: ${what}`,
      kind: "domain",
      mutate,
      args: VALIDATE,
      file,
      ...(key ? { key } : {}),
      ...(says ? { says } : {}),
    });
  }
}
cases.push(
  {
    name: "domains.ts: a loop that never ends (time limit)",
    kind: "domain",
    mutate: text(D(), (s) => `while (Date.now() > 0) {}\n${s}`),
    args: LIST,
    file: D(),
    says: /did not finish within 5 s/,
    timeout: 60_000,
  },
  {
    name: "domains.ts: waits on a timer (time limit)",
    kind: "domain",
    mutate: text(D(), (s) => `await new Promise((r) => setTimeout(r, 600_000));\n${s}`),
    args: LIST,
    file: D(),
    says: /did not finish within 5 s/,
    timeout: 60_000,
  },
  {
    name: "domains.ts: over 1 MiB",
    kind: "domain",
    mutate: text(D(), (s) => `${s}\n// ${"x".repeat(1_100_000)}\n`),
    args: LIST,
    file: D(),
    key: "(file)",
  },
  {
    name: "domains.ts: a dependency cycle through dependsOn names both files",
    kind: "domain",
    mutate: all(
      text(D(), (s) => s.replace("dependsOn: []", 'dependsOn: ["api-gateway"]')),
      text(D("api-gateway"), (s) => s.replace("dependsOn: [", 'dependsOn: ["website", ')),
    ),
    args: VALIDATE,
    file: D(),
    key: "dependsOn",
    says: /Dependency cycle/,
  },
  {
    name: "domains.ts: a hostname claimed by two services",
    kind: "domain",
    mutate: text(D(), (s) => s.replace('production: "www.example.com"', 'production: "api.example.com"')),
    args: VALIDATE,
    says: /api\.example\.com/,
  },
  {
    name: "domains.ts: GOOD text still loads (control: website with a js config lists)",
    kind: "domain",
    mutate: domainsJs(GOOD_DOMAINS),
    args: ["validate", "nosuch", "--level", "basic"],
    code: "ERR_SERVICE_NOT_FOUND",
  },
);

// A cycle stops a deploy (dry run or not) before the cloud, naming the files that make it.
const CYCLE = all(
  text(D(), (s) => s.replace("dependsOn: []", 'dependsOn: ["api-gateway"]')),
  text(D("api-gateway"), (s) => s.replace("dependsOn: [", 'dependsOn: ["website", ')),
);
for (const args of [DRY_RUN, ["deploy", "--all", "--env", "staging", "--no-tests"]])
  cases.push({
    name: `a dependsOn cycle stops ${args.join(" ")}`,
    kind: "domain",
    mutate: CYCLE,
    args,
    file: D("api-gateway"),
    key: "dependsOn",
    code: "ERR_DEPENDENCY_CYCLE",
  });

// Filesystem: migrations, lego.config, folders.
const MIG = "services/data-service/migrations";
for (const name of [
  "bad name!.sql",
  "0002 add index.sql",
  "0002_x;rm -rf.sql",
  "0002_über.sql",
  "-0002.sql",
  "0002_$(id).sql",
]) {
  for (const args of [
    LIST,
    ["validate", "data-service", "--level", "basic"],
    ["db", "migrate", "data-service", "--env", "staging", "--dry-run"],
  ])
    cases.push({
      name: `migration "${name}" (${args.slice(0, 2).join(" ")})`,
      kind: "fs",
      mutate: text(`${MIG}/${name}`, "select 1;\n"),
      args,
      file: W("data-service"),
      key: "d1_databases[0].migrations_dir",
      says: /migration "/,
    });
}
cases.push(
  {
    name: "migrations_dir is a file",
    kind: "fs",
    mutate: all(async (dir) => rm(join(dir, MIG), { recursive: true }), text(MIG, "not a folder\n")),
    args: ["validate", "data-service", "--level", "basic"],
    file: W("data-service"),
    key: "migrations_dir",
    says: /not a folder/,
  },
  {
    name: "lego.config.json invalid JSON",
    kind: "fs",
    mutate: text("lego.config.json", "{ services: [\n"),
    args: LIST,
    file: "lego.config.json",
    code: "ERR_CONFIG_PARSE",
  },
  {
    name: "lego.config.json services a string",
    kind: "fs",
    mutate: text("lego.config.json", '{ "services": "services/*" }\n'),
    args: LIST,
    file: "lego.config.json",
    key: "services",
  },
  {
    name: "lego.config.json services with an empty glob",
    kind: "fs",
    mutate: text("lego.config.json", '{ "services": [""] }\n'),
    args: LIST,
    file: "lego.config.json",
    key: "services",
  },
  {
    name: "lego.config.json services matching nothing",
    kind: "fs",
    mutate: text("lego.config.json", '{ "services": ["nope/*"] }\n'),
    args: LIST,
    code: "ERR_NO_SERVICES",
  },
  {
    name: "lego.config.ts throws",
    kind: "fs",
    mutate: text("lego.config.ts", 'throw new Error("bad config");\n'),
    args: LIST,
    file: "lego.config.ts",
    says: /bad config/,
  },
  {
    name: "lego.config.ts calls process.exit(0)",
    kind: "fs",
    mutate: text("lego.config.ts", "process.exit(0);\nexport default {};\n"),
    args: LIST,
    file: "lego.config.ts",
    says: /process\.exit/,
  },
  {
    name: "two services with one name",
    kind: "fs",
    mutate: async (dir) =>
      cp(join(dir, "services/website"), join(dir, "services/website-copy"), {
        recursive: true,
        verbatimSymlinks: true,
      }),
    args: LIST,
    code: "ERR_SERVICE_DUPLICATE",
    says: /services\/website-copy/,
  },
  {
    name: "--root a file",
    kind: "fs",
    args: LIST,
    root: "{dir}/services/website/wrangler.jsonc",
    code: "ERR_ROOT_NOT_FOUND",
  },
  { name: "--root a missing folder", kind: "fs", args: LIST, root: "{dir}/nope", code: "ERR_ROOT_NOT_FOUND" },
  {
    name: "--root an empty folder",
    kind: "fs",
    args: LIST,
    root: "{dir}/services/website/src/config",
    code: "ERR_NO_SERVICES",
  },
);

// CLI arguments.
const cli: Array<[string, string[], (string | RegExp)?]> = [
  ["list --env nosuch", ["list", "--env", "nosuch"], "ERR_ENVIRONMENT_NOT_FOUND"],
  ["list --env ''", ["list", "--env", ""]],
  ["list --root ''", ["list", "--root", ""], "ERR_BAD_FLAG"],
  ["audit --service nosuch", ["audit", "--service", "nosuch"], "ERR_SERVICE_NOT_FOUND"],
  ["audit --since not-a-date", ["audit", "--since", "someday"], "ERR_BAD_FLAG"],
  ["audit --root ''", ["audit", "--root", ""], "ERR_BAD_FLAG"],
  ["deploy website --all", ["deploy", "website", "--all", "--dry-run"], "ERR_BAD_FLAG"],
  ["deploy nosuch", ["deploy", "nosuch", "--dry-run"], "ERR_SERVICE_NOT_FOUND"],
  ["deploy a near miss", ["deploy", "websit", "--dry-run"], "ERR_SERVICE_NOT_FOUND"],
  [
    "deploy a hostname with a contradicting --env",
    ["deploy", "staging-www.example.com", "--env", "production", "--dry-run"],
    /ERR_ENVIRONMENT_CONFLICT/,
  ],
  [
    "deploy two hostnames of two environments",
    ["deploy", "staging-www.example.com", "api.example.com", "--dry-run"],
    "ERR_ENVIRONMENT_CONFLICT",
  ],
  [
    "deploy --live-timeout abc",
    ["deploy", "website", "--env", "staging", "--live-timeout", "abc", "--dry-run"],
  ],
  ["deploy --live-timeout 0", ["deploy", "website", "--env", "staging", "--live-timeout", "0", "--dry-run"]],
  ["deploy --validation nope", ["deploy", "website", "--validation", "nope", "--dry-run"]],
  ["deploy without a service, no terminal", ["deploy", "--dry-run"]],
  ["deploy --root ''", ["deploy", "website", "--root", "", "--dry-run"], "ERR_BAD_FLAG"],
  ["validate nosuch", ["validate", "nosuch", "--level", "basic"], "ERR_SERVICE_NOT_FOUND"],
  ["validate --level nope", ["validate", "website", "--level", "nope"]],
  ["validate --env nosuch", ["validate", "website", "--env", "nosuch", "--level", "basic"]],
  ["validate --all with a name", ["validate", "website", "--all", "--level", "basic"], "ERR_BAD_FLAG"],
  ["test nosuch", ["test", "nosuch"], "ERR_SERVICE_NOT_FOUND"],
  ["rollback nosuch", ["rollback", "nosuch"], "ERR_SERVICE_NOT_FOUND"],
  ["an unknown command", ["nope"], "ERR_UNKNOWN_COMMAND"],
  ["an unknown flag", ["list", "--nope"]],
  ["a flag without its value", ["list", "--env"]],
  ["discover nosuch", ["discover", "nosuch"]],
  ["runs show nosuch", ["runs", "show", "nosuch"]],
];
// An environment no service of the portfolio has: refused before the cloud (the suite's target has no
// token, so reaching it would be exit 3), naming the domain config and the key.
cases.push(
  {
    name: "cli: deploy --env qa, an environment of no service, --dry-run",
    kind: "cli",
    args: ["deploy", "website", "--env", "qa", "--dry-run"],
    code: "ERR_DEPLOY_UNKNOWN_ENVIRONMENT",
    file: D(),
    key: "website.domains.qa",
    says: /--env staging/,
  },
  {
    name: "cli: deploy --all --env qa",
    kind: "cli",
    args: ["deploy", "--all", "--env", "qa", "--no-tests"],
    code: "ERR_DEPLOY_UNKNOWN_ENVIRONMENT",
    says: /services\/[a-z-]+\/src\/config\/domains\.ts has no [a-z-]+\.domains\.qa/,
  },
);
for (const [what, args, code] of cli) {
  const hasRoot = args.includes("--root");
  cases.push({
    name: `cli: ${what}`,
    kind: "cli",
    args,
    ...(hasRoot ? { root: "" } : {}),
    ...(code ? { code } : {}),
  });
}

// Environment variables.
const envCases: Array<[string, (dir: string) => Record<string, string>, string | RegExp]> = [
  ["LEGO_HOME a file", (dir) => ({ LEGO_HOME: join(dir, "services/website/wrangler.jsonc") }), /is a file/],
  [
    "LEGO_HOME below a file",
    (dir) => ({ LEGO_HOME: join(dir, "services/website/wrangler.jsonc/home") }),
    /which is a file/,
  ],
  ["LEGO_HOME in /proc", () => ({ LEGO_HOME: "/proc/1/x" }), /procfs/],
  ["LEGO_HOME in /sys", () => ({ LEGO_HOME: "/sys/lego" }), /sysfs/],
  ["LEGO_TARGET unknown", () => ({ LEGO_TARGET: "mars" }), /LEGO_TARGET/],
  ["LEGO_LOCAL_PORT a word", () => ({ LEGO_LOCAL_PORT: "abc" }), /LEGO_LOCAL_PORT/],
  ["LEGO_LOCAL_PORT too big", () => ({ LEGO_LOCAL_PORT: "70000" }), /LEGO_LOCAL_PORT/],
  ["LEGO_LOCAL_PORT negative", () => ({ LEGO_LOCAL_PORT: "-1" }), /LEGO_LOCAL_PORT/],
  ["LEGO_DEBUG maybe", () => ({ LEGO_DEBUG: "maybe" }), /LEGO_DEBUG/],
  ["CLOUDFLARE_ACCOUNT_ID short", () => ({ CLOUDFLARE_ACCOUNT_ID: "abc" }), /CLOUDFLARE_ACCOUNT_ID/],
  ["CLOUDFLARE_ZONE_ID upper-case", () => ({ CLOUDFLARE_ZONE_ID: "A".repeat(32) }), /CLOUDFLARE_ZONE_ID/],
  [
    "CLOUDFLARE_API_BASE_URL ftp",
    () => ({ CLOUDFLARE_API_BASE_URL: "ftp://example.com" }),
    /CLOUDFLARE_API_BASE_URL/,
  ],
  [
    "CLOUDFLARE_API_BASE_URL not a URL",
    () => ({ CLOUDFLARE_API_BASE_URL: "localhost" }),
    /CLOUDFLARE_API_BASE_URL/,
  ],
  ["CLOUDFLARE_API_TOKEN only spaces", () => ({ CLOUDFLARE_API_TOKEN: "   " }), /CLOUDFLARE_API_TOKEN/],
  ["LEGO_VAULT_PASSPHRASE only spaces", () => ({ LEGO_VAULT_PASSPHRASE: "   " }), /LEGO_VAULT_PASSPHRASE/],
];
for (const [what, env, says] of envCases)
  cases.push({
    name: `env: ${what}`,
    kind: "env",
    args: LIST,
    env,
    code: "ERR_ENV_INVALID",
    says: says as RegExp,
  });

// ---------------------------------------------------------------------------------------------------
// The runner.

let base: string;
let pristine: string;

/** Copies the example portfolio without its node_modules (linked back, so wrangler could still bundle). */
async function copyExample(to: string): Promise<void> {
  await cp(EXAMPLE, to, {
    recursive: true,
    filter: (src) => !/[/\\](node_modules|\.lego|\.wrangler)$/.test(src),
  });
  for (const s of SERVICES)
    await symlink(join(EXAMPLE, "services", s, "node_modules"), join(to, "services", s, "node_modules"));
}

/** Every path under `dir` (but .lego, Lego's own state) with a hash of its content. */
async function snapshot(dir: string, rel = ""): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(join(dir, rel))) {
    const path = rel ? `${rel}/${entry}` : entry;
    if (path === ".lego") continue;
    const abs = join(dir, path);
    const stat = await lstat(abs);
    if (stat.isSymbolicLink()) out[path] = `link:${await readlink(abs)}`;
    else if (stat.isDirectory()) Object.assign(out, { [path]: "dir" }, await snapshot(dir, path));
    else
      out[path] = createHash("sha1")
        .update(await readFile(abs))
        .digest("hex");
  }
  return out;
}

const STACK = /^\s+at .+(\(|\s)\S+:\d+:\d+\)?$/m;

/** Runs one case on a fresh copy of the portfolio and checks the contract. */
async function runCase(c: Case, env: Record<string, string>): Promise<void> {
  const dir = join(base, `case-${cases.indexOf(c)}`);
  await cp(pristine, dir, { recursive: true, verbatimSymlinks: true });
  await c.mutate?.(dir);
  const before = await snapshot(dir);
  const root =
    c.root === undefined ? ["--root", dir] : c.root === "" ? [] : ["--root", c.root.replace("{dir}", dir)];
  const r = await runBuilt([...c.args, ...root, "--json"], {
    ...SCRIPT,
    env: { ...env, ...c.env?.(dir) },
    timeout: c.timeout ?? 90_000,
  });
  const context = `${c.name}\nexit ${r.exitCode}\nstdout: ${r.stdout.slice(0, 800)}\nstderr: ${r.stderr.slice(0, 800)}`;
  expect(r.timedOut, context).toBe(false);
  expect(r.exitCode, context).toBe(c.exit ?? 2);
  const doc = JSON.parse(r.stdout) as {
    ok: boolean;
    error: { code: string; message: string; hint?: string };
  };
  expect(doc.ok, context).toBe(false);
  const said = `${doc.error.message}\n${doc.error.hint ?? ""}`;
  if (c.code)
    expect(doc.error.code, context).toMatch(c.code instanceof RegExp ? c.code : new RegExp(`^${c.code}$`));
  expect(doc.error.hint?.trim(), `${context}\n(no hint)`).toBeTruthy();
  if (c.file) expect(said, `${context}\n(file not named)`).toContain(c.file);
  if (c.key) expect(said, `${context}\n(key not named)`).toContain(c.key);
  if (c.says) expect(said, context).toMatch(c.says);
  expect(r.stderr, `${context}\n(stack trace)`).not.toMatch(STACK);
  expect(r.stdout, `${context}\n(stack trace)`).not.toMatch(STACK);
  expect(await snapshot(dir), `${c.name}: the portfolio changed`).toEqual(before);
  await rm(dir, { recursive: true, force: true });
}

beforeAll(async () => {
  if (!SCRIPT.script) assertBuilt();
  base = await mkdtemp(join(tmpdir(), "lego-bad-input-"));
  pristine = join(base, "pristine");
  await copyExample(pristine);
}, 60_000);

afterAll(async () => {
  const kinds: Record<string, number> = {};
  for (const c of cases) kinds[c.kind] = (kinds[c.kind] ?? 0) + 1;
  console.log(
    `bad-input suite: ${cases.length} cases (${Object.entries(kinds)
      .map(([k, n]) => `${k} ${n}`)
      .join(", ")})`,
  );
  if (base) await rm(base, { recursive: true, force: true });
});

// Cases that reach the local cloud (a deploy that validates against the account, a secret rotation):
// one cloud for all of them, and what it holds (scripts and their versions, D1 databases, secrets)
// compared before and after each.
const cloudCases: Case[] = [
  {
    name: "deploy: a binding to a Worker that exists nowhere",
    kind: "wrangler",
    mutate: wrangler(
      (c) => {
        (((c.env as Json).staging as Json).services as Json[])[0]!.service = "nosuch-worker";
      },
      "jsonc",
      "api-gateway",
    ),
    args: ["deploy", "api-gateway", "--env", "staging", "--no-tests"],
    file: W("api-gateway"),
    key: "env.staging.services[0].service",
    says: /nosuch-worker/,
  },
  {
    name: "validate --level standard: a binding to a Worker that exists nowhere",
    kind: "wrangler",
    mutate: wrangler(
      (c) => {
        (((c.env as Json).staging as Json).services as Json[])[0]!.service = "gone";
      },
      "jsonc",
      "api-gateway",
    ),
    args: ["validate", "api-gateway", "--env", "staging", "--level", "standard"],
    file: W("api-gateway"),
    key: "env.staging.services[0].service",
  },
  {
    name: "deploy: an environment only the wrangler config has",
    kind: "wrangler",
    mutate: wrangler((c) => {
      (c.env as Json).qa = {
        ...((c.env as Json).staging as Json),
        routes: [{ pattern: "qa-www.example.com", custom_domain: true }],
      };
    }),
    args: ["deploy", "website", "--env", "qa", "--no-tests"],
    file: D(),
    says: /env\.qa/,
  },
  {
    name: "deploy: main a missing file",
    kind: "wrangler",
    mutate: wrangler((c) => {
      c.main = "src/worker/gone.ts";
    }),
    args: ["deploy", "website", "--env", "staging", "--no-tests"],
    file: W(),
    key: "main",
  },
  {
    name: "deploy: main outside the folder",
    kind: "wrangler",
    mutate: wrangler((c) => {
      c.main = "../../../../evil.js";
    }),
    args: ["deploy", "website", "--env", "staging", "--no-tests"],
    file: W(),
    key: "main",
  },
  {
    name: "deploy: an upper-case Worker name",
    kind: "wrangler",
    mutate: wrangler((c) => {
      c.name = "WebSite";
    }),
    args: ["deploy", "website", "--env", "staging", "--no-tests"],
    file: W(),
    key: "name",
  },
  {
    name: "deploy: a service and --all",
    kind: "cli",
    args: ["deploy", "website", "--all", "--env", "staging", "--no-tests"],
    code: "ERR_BAD_FLAG",
  },
  {
    name: "deploy: a domains file that calls process.exit(0)",
    kind: "domain",
    mutate: text(D(), (s) => `process.exit(0);\n${s}`),
    args: ["deploy", "website", "--env", "staging", "--no-tests"],
    file: D(),
  },
  {
    name: "db migrate: a migration named bad name!.sql",
    kind: "fs",
    mutate: text(`${MIG}/0002 bad name!.sql`, "drop table notes;\n"),
    args: ["db", "migrate", "data-service", "--env", "staging", "--yes"],
    file: W("data-service"),
    says: /bad name!\.sql/,
  },
  {
    name: "secrets rotate: a secret the service does not declare",
    kind: "cli",
    args: ["secrets", "rotate", "website", "NOPE", "--env", "staging"],
    code: "ERR_SECRET_UNDECLARED",
  },
];
cases.push(...cloudCases);

describe("bad input against the local cloud changes nothing there", () => {
  let cloudHome: string;
  let cloud: { apiBaseUrl: string; token: string; accountId: string };
  const env = () => ({ HOME: cloudHome, LEGO_HOME: cloudHome });

  /** What the local cloud holds: scripts with their versions, D1 databases, and secret names. */
  async function cloudState(): Promise<unknown> {
    const get = async (path: string) => {
      const res = await fetch(`${cloud.apiBaseUrl}/accounts/${cloud.accountId}${path}`, {
        headers: { authorization: `Bearer ${cloud.token}` },
      });
      return ((await res.json()) as { result?: unknown }).result;
    };
    const scripts = ((await get("/workers/scripts")) ?? []) as Array<{ id: string }>;
    const perScript = await Promise.all(
      scripts.map(async (s) => ({
        id: s.id,
        versions: await get(`/workers/scripts/${s.id}/versions`),
        secrets: await get(`/workers/scripts/${s.id}/secrets`),
      })),
    );
    return { scripts: perScript, d1: await get("/d1/database") };
  }

  beforeAll(async () => {
    if (!SCRIPT.script) assertBuilt();
    cloudHome = await mkdtemp(join(tmpdir(), "lego-bad-input-cloud-"));
    const up = await runBuilt(["local", "up", "--port", "0", "--zone", "example.com", "--json"], {
      ...SCRIPT,
      env: env(),
      timeout: 90_000,
    });
    expect(up.exitCode, up.stderr).toBe(0);
    cloud = JSON.parse(await readFile(join(cloudHome, "local", "server.json"), "utf8"));
  }, 120_000);

  afterAll(async () => {
    if (cloudHome) {
      await runBuilt(["local", "down"], { ...SCRIPT, env: env() });
      await rm(cloudHome, { recursive: true, force: true });
    }
  });

  it("deploy without --env says which environment runs before anything, and --json names it", async () => {
    const dir = join(base, "default-env");
    await cp(pristine, dir, { recursive: true, verbatimSymlinks: true });
    const before = await cloudState();
    const dry = await runBuilt(["deploy", "website", "--dry-run", "--root", dir, "--json"], {
      ...SCRIPT,
      env: env(),
      timeout: 120_000,
    });
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stderr.split("\n")[0]).toBe("Environment: production (the default: no --env given)");
    expect(JSON.parse(dry.stdout).data).toMatchObject({
      environment: "production",
      environmentFrom: "the default",
    });
    const named = await runBuilt(
      ["deploy", "website", "--env", "staging", "--dry-run", "--root", dir, "--json"],
      {
        ...SCRIPT,
        env: env(),
        timeout: 120_000,
      },
    );
    expect(named.stderr).toContain("Environment: staging (from --env)");
    expect(JSON.parse(named.stdout).data).toMatchObject({ environment: "staging", environmentFrom: "--env" });
    // A real deploy without a terminal stops at the production question, after the line.
    const real = await runBuilt(["deploy", "website", "--root", dir, "--json"], {
      ...SCRIPT,
      env: env(),
      timeout: 120_000,
    });
    expect(real.exitCode).toBe(2);
    expect(real.stderr.split("\n")[0]).toBe("Environment: production (the default: no --env given)");
    expect(await cloudState()).toEqual(before);
  }, 240_000);

  it.each(cloudCases.map((c) => [c.name, c] as const))(
    "%s",
    async (_, c) => {
      const before = await cloudState();
      await runCase(c, env());
      expect(await cloudState(), `${c.name}: the local cloud changed`).toEqual(before);
    },
    120_000,
  );
});

describe("a damaged audit log is reported, not printed", () => {
  it("a garbage line is counted and left out; no event prints as undefined", async () => {
    const dir = join(base, "audit-garbage");
    await cp(pristine, dir, { recursive: true, verbatimSymlinks: true });
    await mkdir(join(dir, ".lego"), { recursive: true });
    const event = {
      at: "2026-11-25T10:00:00.000Z",
      runId: "r1",
      who: "ann",
      action: "deploy",
      service: "website",
      environment: "staging",
      result: "ok",
    };
    await writeFile(
      join(dir, ".lego", "audit.jsonl"),
      `${JSON.stringify(event)}\nnot json at all\n42\n{"half":\n`,
    );
    const home = join(base, "home-audit");
    const env = { HOME: home, LEGO_HOME: home };
    const json = await runBuilt(["audit", "--root", dir, "--json"], { ...SCRIPT, env });
    expect(json.exitCode, json.stderr).toBe(0);
    const doc = JSON.parse(json.stdout);
    expect(doc.data.events).toHaveLength(1);
    expect(doc.data.unreadable).toBeGreaterThanOrEqual(2);
    expect(json.stderr).toMatch(/could not be read/);
    const human = await runBuilt(["audit", "--root", dir], { ...SCRIPT, env });
    expect(human.stdout).toContain("ann  deploy website (staging)");
    expect(`${human.stdout}${human.stderr}`).not.toContain("undefined");
  });
});

describe.concurrent("bad input keeps the contract", () => {
  it("has at least 150 cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(150);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  it.each(cases.filter((c) => !cloudCases.includes(c)).map((c) => [c.name, c] as const))("%s", async (_, c) =>
    runCase(c, {
      HOME: join(base, `home-${cases.indexOf(c)}`),
      LEGO_HOME: join(base, `home-${cases.indexOf(c)}`),
      LEGO_TARGET: "cloudflare",
    }),
  );
});
