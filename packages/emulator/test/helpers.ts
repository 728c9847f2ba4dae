import { cp, mkdtemp, readFile } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import type { LocalCloud } from "../src/index.ts";

const here = dirname(fileURLToPath(import.meta.url));
/** The pinned wrangler's JS entry. */
export const WRANGLER = join(here, "..", "node_modules", "wrangler", "bin", "wrangler.js");
/** The preload that refuses non-loopback connections. */
export const LOOPBACK_GUARD = join(here, "fixtures", "loopback-guard.cjs");

/** Copies a fixture folder into a fresh temp dir (wrangler writes into its project). */
export async function copyFixture(name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `lego-emu-${name}-`));
  await cp(join(here, "fixtures", name), dir, { recursive: true });
  return dir;
}

/** The environment the traffic record uses to point the real wrangler at a local cloud. */
export function wranglerEnv(
  cloud: LocalCloud,
  xdg: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    HOME: xdg,
    CLOUDFLARE_API_BASE_URL: cloud.apiBaseUrl,
    CLOUDFLARE_API_TOKEN: cloud.token,
    CLOUDFLARE_ACCOUNT_ID: cloud.accountId,
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_HIDE_BANNER: "true",
    WRANGLER_SEND_ERROR_REPORTS: "false",
    CI: "true",
    XDG_CONFIG_HOME: xdg,
    ...extra,
  };
}

/** One wrangler run: exit code, output, and the ND-JSON records of WRANGLER_OUTPUT_FILE_PATH. */
export interface WranglerRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  records: Array<Record<string, unknown>>;
}

let outputSeq = 0;
/** Runs the pinned wrangler with the Node running the tests, never through a shell. */
export async function runWrangler(
  cwd: string,
  args: string[],
  env: Record<string, string>,
  input?: string,
): Promise<WranglerRun> {
  const outFile = join(env.XDG_CONFIG_HOME ?? cwd, `out-${process.pid}-${++outputSeq}.ndjson`);
  const result = await execa(process.execPath, [WRANGLER, ...args], {
    cwd,
    env: { ...env, WRANGLER_OUTPUT_FILE_PATH: outFile },
    extendEnv: false,
    reject: false,
    input: input ?? "",
    timeout: 60_000,
  });
  const text = await readFile(outFile, "utf8").catch(() => "");
  const records = text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    exitCode: result.exitCode ?? -1,
    stdout: String(result.stdout),
    stderr: String(result.stderr),
    records,
  };
}

/** A plain HTTP request to the cloud's port with a chosen Host header. */
export function request(
  port: number,
  host: string,
  path = "/",
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: init.method ?? "GET",
        headers: { host, ...init.headers },
        agent: false,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          body += c;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on("error", reject);
    req.end(init.body);
  });
}

/** GETs JSON from a Worker hostname through the cloud's port. */
export async function getJson<T = Record<string, unknown>>(
  port: number,
  host: string,
  path = "/",
): Promise<T> {
  const res = await request(port, host, path);
  if (res.status !== 200) throw new Error(`GET ${host}${path} -> ${res.status}: ${res.body}`);
  return JSON.parse(res.body) as T;
}

/** Calls the API with the cloud's token. */
export async function api<T = unknown>(
  cloud: LocalCloud,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{
  status: number;
  json: {
    success: boolean;
    errors: Array<{ code: number; message: string }>;
    result: T;
    result_info?: Record<string, number>;
  };
}> {
  const init: RequestInit = {
    method,
    headers: { authorization: `Bearer ${cloud.token}`, ...headers },
  };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)["content-type"] = "application/json";
  }
  const res = await fetch(`${cloud.apiBaseUrl}${path}`, init);
  return { status: res.status, json: (await res.json()) as never };
}

/** A Worker upload form as wrangler builds it: a `metadata` field and one ES module part. */
export function uploadForm(code: string, metadata: Record<string, unknown> = {}): FormData {
  const form = new FormData();
  form.set(
    "metadata",
    JSON.stringify({ main_module: "index.js", compatibility_date: "2025-09-01", bindings: [], ...metadata }),
  );
  form.set("index.js", new File([code], "index.js", { type: "application/javascript+module" }));
  return form;
}

/** Writes a wrangler project (path → contents) into a fresh temp dir and returns the dir. */
export async function writeProject(name: string, files: Record<string, string>): Promise<string> {
  const { mkdir, writeFile } = await import("node:fs/promises");
  const dir = await mkdtemp(join(tmpdir(), `lego-emu-${name}-`));
  for (const [path, contents] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), contents);
  }
  return dir;
}
