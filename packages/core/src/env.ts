import { accessSync, constants, statfsSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
// zod/mini: the same validation, tree-shakable. Every command reads the environment first, and the
// classic `zod` API (one object with every schema and locale) costs ~40 ms to load; this is ~4 ms.
import * as z from "zod/mini";
import { ExitCode, LegoError } from "./errors.ts";

const flagWords = z.enum(["", "0", "1", "true", "false", "yes", "no"]);
const flag = z.pipe(
  z.pipe(
    z.pipe(
      z.string(),
      z.transform((v: string) => v.trim().toLowerCase()),
    ),
    flagWords,
  ),
  z.transform((v: z.output<typeof flagWords>) => v === "1" || v === "true" || v === "yes"),
);
// Digits only: `z.coerce.number()` would take " ", "0x10" and "1e3" as 0, 16 and 1000.
const port = z.pipe(
  z.pipe(z.string().check(z.trim(), z.regex(/^\d{1,5}$/)), z.transform(Number)),
  z.number().check(z.maximum(65535)),
);
// A token or passphrase pasted with a trailing newline still works; one of only spaces is no value.
const secretString = z.string().check(z.trim(), z.minLength(1));
const url = z.url({ protocol: /^https?$/ });
const nonEmpty = () => z.string().check(z.minLength(1));
const hex32 = () => z.string().check(z.regex(/^[0-9a-f]{32}$/));

interface EnvSpec<T extends z.ZodMiniType> {
  /** One line: what it does. */
  doc: string;
  schema: T;
  /** Values that must never be printed. */
  secret?: true;
  /** Allowed values, for the error message. */
  allowed?: string;
}
const spec = <T extends z.ZodMiniType>(s: EnvSpec<T>): EnvSpec<T> => s;

/**
 * Every environment variable Lego reads, with a line of doc and a strict parser. Nothing else in
 * Lego reads `process.env`: apps call `readEnv(process.env)` once and pass values down.
 */
export const envRegistry = {
  LEGO_HOME: spec({
    doc: "User state folder (token vault, local cloud). Default: $XDG_CONFIG_HOME/lego or ~/.config/lego.",
    schema: nonEmpty(),
  }),
  LEGO_TARGET: spec({
    doc: "Where runs act: `local` (the local cloud) or `cloudflare`. Default: cloudflare when a token is configured, else local.",
    schema: z.enum(["local", "cloudflare"]),
    allowed: "local, cloudflare",
  }),
  LEGO_VAULT_PASSPHRASE: spec({
    doc: "Passphrase of the encrypted token vault, for runs without a terminal.",
    schema: z.string().check(z.minLength(1), z.regex(/\S/)),
    secret: true,
  }),
  LEGO_DEBUG: spec({
    doc: "Print stack traces and debug logs.",
    schema: flag,
    allowed: "1, 0, true, false, yes, no",
  }),
  LEGO_LOCAL_PORT: spec({
    doc: "Port of the local cloud started by `lego local up` (0 picks a free one).",
    schema: port,
    allowed: "an integer from 0 to 65535",
  }),
  LEGO_WRANGLER_BIN: spec({
    doc: "Path to the wrangler CLI's JS entry, to override the pinned one.",
    schema: nonEmpty(),
  }),
  LEGO_WRANGLER_REUSE: spec({
    doc: "Run wrangler commands in long-lived processes that skip Node's boot and wrangler's load after their first command (default on; 0 runs one process per command).",
    schema: flag,
    allowed: "1, 0, true, false, yes, no",
  }),
  CLOUDFLARE_API_TOKEN: spec({
    doc: "Cloudflare API token; selects the `cloudflare` target.",
    schema: secretString,
    secret: true,
  }),
  CLOUDFLARE_ACCOUNT_ID: spec({
    doc: "Cloudflare account id (32 hex characters).",
    schema: hex32(),
    allowed: "32 lowercase hex characters",
  }),
  CLOUDFLARE_ZONE_ID: spec({
    doc: "Default zone id, as in the seed (optional).",
    schema: hex32(),
    allowed: "32 lowercase hex characters",
  }),
  CLOUDFLARE_API_BASE_URL: spec({
    doc: "Base URL of the Cloudflare v4 API (wrangler's name for it).",
    schema: url,
    allowed: "an http(s) URL",
  }),
  XDG_CONFIG_HOME: spec({
    doc: "Platform config folder; LEGO_HOME defaults below it.",
    schema: nonEmpty(),
  }),
  NO_COLOR: spec({ doc: "Disable colour (any non-empty value).", schema: z.string() }),
  // Shared with Node and every other tool (CI systems set it), so any value is accepted, as Node does.
  FORCE_COLOR: spec({ doc: "Force colour on (1, 2, 3) or off (0, false).", schema: z.string() }),
  CI: spec({ doc: "Set by CI systems: never prompt.", schema: z.string() }),
} as const;

export type EnvName = keyof typeof envRegistry;
/** The parsed environment: every variable optional, each with its parsed type. */
export type LegoEnv = { [K in EnvName]?: z.output<(typeof envRegistry)[K]["schema"]> };

/** Names of variables whose values must never be printed. */
export const secretEnvNames: readonly EnvName[] = (Object.keys(envRegistry) as EnvName[]).filter(
  (k) => (envRegistry[k] as EnvSpec<z.ZodMiniType>).secret,
);

/**
 * Parses the variables Lego knows from `source` (usually `process.env`). Unset and empty values are
 * absent; an invalid value is exit 2 naming the variable and the allowed values (never the value of a
 * secret).
 */
export function readEnv(source: Record<string, string | undefined>): LegoEnv {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(envRegistry) as EnvName[]) {
    const raw = source[name];
    if (raw === undefined || (raw === "" && name !== "NO_COLOR")) continue;
    const entry = envRegistry[name] as EnvSpec<z.ZodMiniType>;
    const parsed = entry.schema.safeParse(raw);
    if (!parsed.success) {
      const shown = entry.secret ? "" : ` (got "${raw}")`;
      throw new LegoError({
        code: "ERR_ENV_INVALID",
        message: `Environment variable ${name} is invalid${shown}`,
        hint: entry.allowed ? `Allowed values: ${entry.allowed}. ${entry.doc}` : entry.doc,
        exitCode: ExitCode.Usage,
        details: { variable: name },
      });
    }
    out[name] = parsed.data;
  }
  return out as LegoEnv;
}

/**
 * The user state folder: LEGO_HOME, else $XDG_CONFIG_HOME/lego, else ~/.config/lego. A LEGO_HOME that
 * cannot be a writable folder is refused here, before any command uses it (see {@link checkLegoHome}).
 */
export function resolveLegoHome(env: LegoEnv, home: string = homedir()): string {
  if (env.LEGO_HOME) return checkLegoHome(env.LEGO_HOME);
  return join(env.XDG_CONFIG_HOME ?? join(home, ".config"), "lego");
}

// statfs magic numbers of kernel filesystems where a folder cannot be made (writes fail or block).
const PSEUDO_FILESYSTEMS = new Map<number, string>([
  [0x9fa0, "procfs"],
  [0x62656572, "sysfs"],
  [0x64626720, "debugfs"],
  [0x27e0eb, "cgroup"],
  [0x63677270, "cgroup2"],
]);

/**
 * Checks that `path` (the LEGO_HOME given) is, or can become, a folder Lego writes to: not a file,
 * not under a file, not on a read-only filesystem or a kernel one (`/proc`, `/sys`), absolute or
 * resolved. A few stats, no write. Returns `path`; otherwise throws `ERR_ENV_INVALID`
 * (exit 2) saying why, instead of a raw ENOTDIR or EROFS (or a hang) later.
 */
export function checkLegoHome(path: string): string {
  const abs = isAbsolute(path) ? path : resolve(path);
  const invalid = (why: string) =>
    new LegoError({
      code: "ERR_ENV_INVALID",
      message: `Environment variable LEGO_HOME is invalid: ${abs} ${why}`,
      hint: "Point LEGO_HOME at a folder Lego can write (it is created when missing), or unset it to use ~/.config/lego.",
      exitCode: ExitCode.Usage,
      details: { variable: "LEGO_HOME" },
    });
  let existing = abs;
  let stat = statSync(existing, { throwIfNoEntry: false });
  while (!stat) {
    const parent = dirname(existing);
    if (parent === existing) break;
    existing = parent;
    stat = statSync(existing, { throwIfNoEntry: false });
  }
  if (stat && !stat.isDirectory()) {
    throw invalid(existing === abs ? "is a file, not a folder" : `is below ${existing}, which is a file`);
  }
  let type: number | undefined;
  try {
    type = statfsSync(existing).type;
  } catch {
    type = undefined;
  }
  const pseudo = type === undefined ? undefined : PSEUDO_FILESYSTEMS.get(type);
  if (pseudo) throw invalid(`is on ${pseudo} (${existing}), where Lego cannot keep files`);
  try {
    accessSync(existing, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw invalid(
      code === "EROFS"
        ? `is on a read-only filesystem (${existing})`
        : `cannot be written: ${existing} is not writable (${code ?? "access denied"})`,
    );
  }
  return path;
}
