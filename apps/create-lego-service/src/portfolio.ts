// A new portfolio (the seed's `lego-portfolio init --portfolio-name x`): lego.config.json with its name
// and service globs, services/, a README, .gitignore for .lego/, and optionally a first service.
import { existsSync, readdirSync } from "node:fs";
import { appendFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { UsageError } from "@lego/core";
import type { ServiceType } from "./options.ts";
import { type ScaffoldResult, scaffoldService } from "./write.ts";

/** Options of {@link initPortfolio}. */
export interface InitPortfolioOptions {
  /** The portfolio folder (created when missing); relative paths resolve against `cwd`. */
  root: string;
  cwd: string;
  /** The portfolio's name, written into lego.config.json and the README. */
  name: string;
  /** Folder globs where services live (default `["services/*"]`). */
  services?: readonly string[] | undefined;
  /** A first service, scaffolded into `services/<name>` as `create-lego-service` does. */
  service?: { name: string; type: ServiceType; domain?: string | undefined } | undefined;
}

/** What {@link initPortfolio} wrote. */
export interface InitPortfolioResult {
  action: "portfolio";
  root: string;
  name: string;
  /** `lego.config.json`. */
  configFile: string;
  services: string[];
  /** Paths written, relative to the root (a first service's files under its folder). */
  written: string[];
  /** The first service, when one was asked for. */
  service?: { name: string; dir: string; files: string[] } | undefined;
  nextSteps: string[];
}

/**
 * Portfolio config files, as @lego/discovery's `LEGO_CONFIG_FILES` (an optional peer of this package,
 * so not imported; test/portfolio.test.ts checks the two lists agree).
 */
export const PORTFOLIO_CONFIG_FILES = [
  "lego.config.ts",
  "lego.config.mts",
  "lego.config.js",
  "lego.config.mjs",
  "lego.config.json",
] as const;

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const GITIGNORE_LINES = [".lego/", "node_modules/", ".wrangler/"];

/**
 * Creates a portfolio in `root`. Refuses (exit 2, nothing written) when the folder already holds one:
 * a `lego.config.*`, or a non-empty `services/`.
 *
 * @example
 * await initPortfolio({ root: "my-enterprise", cwd: process.cwd(), name: "my-enterprise" });
 */
export async function initPortfolio(options: InitPortfolioOptions): Promise<InitPortfolioResult> {
  const root = resolve(options.cwd, options.root);
  const name = options.name.trim();
  if (!NAME.test(name)) {
    throw new UsageError({
      code: "ERR_PORTFOLIO_NAME_INVALID",
      message: `--portfolio-name "${options.name}" is not a valid portfolio name`,
      hint: "Use letters, digits, -, _ and . (e.g. --portfolio-name my-enterprise).",
      details: { flag: "portfolio-name" },
    });
  }
  const existing = PORTFOLIO_CONFIG_FILES.find((file) => existsSync(join(root, file)));
  const servicesDir = join(root, "services");
  const servicesUsed = existsSync(servicesDir) && readdirSync(servicesDir).length > 0;
  if (existing || servicesUsed) {
    const what = existing ?? "services/";
    throw new UsageError({
      code: "ERR_PORTFOLIO_EXISTS",
      message: `${root} already holds a portfolio (${what}); nothing was written`,
      hint: existing
        ? `Edit ${join(root, existing)} to rename it, or pass --root with an empty folder for a new portfolio.`
        : "Pass --root with an empty folder for a new portfolio, or run `lego list` to see this one.",
      details: { root, file: what },
    });
  }
  const patterns = [...(options.services ?? ["services/*"])];
  const written: string[] = [];
  await mkdir(servicesDir, { recursive: true });
  const write = async (rel: string, text: string): Promise<void> => {
    await writeFile(join(root, rel), text, { flag: "wx" });
    written.push(rel);
  };
  await write("lego.config.json", `${JSON.stringify({ name, services: patterns }, null, 2)}\n`);
  await writeGitignore(root, written);
  await write("README.md", readme(name, patterns));

  let service: InitPortfolioResult["service"];
  if (options.service) {
    const dir = join(servicesDir, options.service.name);
    const result: ScaffoldResult = await scaffoldService(
      { name: options.service.name, type: options.service.type, dir, domain: options.service.domain },
      { cwd: root },
    );
    const rel = relative(root, dir);
    service = { name: options.service.name, dir: rel, files: result.files };
    written.push(...result.files.map((f) => `${rel}/${f}`));
  } else {
    await write("services/.gitkeep", "");
  }
  return {
    action: "portfolio",
    root,
    name,
    configFile: "lego.config.json",
    services: patterns,
    written,
    ...(service ? { service } : {}),
    nextSteps: [
      ...(root === resolve(options.cwd) ? [] : [`cd ${relative(options.cwd, root) || "."}`]),
      service
        ? `lego deploy ${service.name} --env staging   # on the local cloud: lego local up`
        : "lego init services/<name> --type api-gateway   # or: npx create-lego-service <name>",
      "lego list",
    ],
  };
}

async function writeGitignore(root: string, written: string[]): Promise<void> {
  const path = join(root, ".gitignore");
  if (!existsSync(path)) {
    await writeFile(path, `${GITIGNORE_LINES.join("\n")}\n`, { flag: "wx" });
    written.push(".gitignore");
    return;
  }
  // An existing .gitignore (a repository's own) keeps its lines; lego's state folder is added.
  const text = await readFile(path, "utf8");
  const have = new Set(text.split(/\r?\n/).map((l) => l.trim()));
  if (have.has(".lego/") || have.has(".lego") || have.has("/.lego/")) return;
  await appendFile(path, `${text.endsWith("\n") || text === "" ? "" : "\n"}.lego/\n`);
  written.push(".gitignore");
}

function readme(name: string, patterns: readonly string[]): string {
  return `# ${name}

A portfolio of Cloudflare Workers services, deployed with [lego](https://github.com/lego-workers/lego).

- \`lego.config.json\`: the portfolio's name and where its services live (${patterns.map((p) => `\`${p}\``).join(", ")}).
- \`services/<name>/\`: one folder per service, with its wrangler config and \`src/config/domains.*\`.
- \`.lego/\`: lego's local state (discovery cache, run journals, audit log); not committed.

## Use it

\`\`\`sh
lego init services/api --type api-gateway     # a new service (or: npx create-lego-service api)
lego list                                     # the services, their hostnames and Workers
lego local up                                 # the local cloud (no Cloudflare account needed)
lego deploy --all --env staging               # every service, in dependency order
\`\`\`
`;
}

/** One environment's entry of the seed's `--domains "host:account:zone,…"`. */
export interface SeedDomain {
  environment: string;
  hostname: string;
  accountId?: string | undefined;
  zoneId?: string | undefined;
}

const ENV_WORDS = new Set(["staging", "stage", "dev", "development", "preview", "test", "qa", "uat"]);

/**
 * Parses the seed's `--domains "api.example.com:account1:zone1,staging.example.com:account2:zone2"`:
 * a hostname whose first label is an environment word (`staging.`, `dev.`…) belongs to that
 * environment, the other one to production.
 *
 * @example
 * parseSeedDomains("api.example.com:acc:zone,staging.example.com");
 * // [{ environment: "production", hostname: "api.example.com", accountId: "acc", zoneId: "zone" },
 * //  { environment: "staging", hostname: "staging.example.com" }]
 */
export function parseSeedDomains(value: string): SeedDomain[] {
  const entries = value
    .split(",")
    .map((e) => e.trim())
    .filter(Boolean);
  const out: SeedDomain[] = [];
  const bad = (message: string): never => {
    throw new UsageError({
      code: "ERR_INIT_DOMAINS_INVALID",
      message: `--domains: ${message}`,
      hint: 'Write --domains "api.example.com:<account-id>:<zone-id>,staging.example.com:<account-id>:<zone-id>" (account and zone optional).',
      details: { flag: "domains" },
    });
  };
  if (entries.length === 0) bad("no hostname given");
  for (const entry of entries) {
    const [hostname = "", accountId, zoneId, ...extra] = entry.split(":").map((p) => p.trim());
    if (extra.length > 0 || hostname === "") bad(`"${entry}" is not host[:account[:zone]]`);
    const first = hostname.toLowerCase().split(/[.-]/)[0] ?? "";
    const environment = ENV_WORDS.has(first) ? (first === "stage" ? "staging" : first) : "production";
    if (out.some((d) => d.environment === environment)) {
      bad(
        `two hostnames for ${environment} ("${out.find((d) => d.environment === environment)?.hostname}" and "${hostname}")`,
      );
    }
    out.push({
      environment,
      hostname: hostname.toLowerCase(),
      ...(accountId ? { accountId } : {}),
      ...(zoneId ? { zoneId } : {}),
    });
  }
  return out;
}
