// A real npm registry for tests and benchmarks: Verdaccio on 127.0.0.1, port 0, storage in a folder
// the caller owns. `@lego/*` and `create-lego-service` are served only from what was published to it
// (no uplink: a name missing here is a 404, never a package from npmjs). Every other name is proxied,
// read-only, from the public npm registry, so a scaffolded service can install wrangler and vitest.
// Nothing but @lego/* and create-lego-service can be published to it.
import { spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const serverScript = fileURLToPath(new URL("./verdaccio.mjs", import.meta.url));

/** The packages this project publishes: served from local storage only. */
export const LOCAL_ONLY = ["@lego/*", "create-lego-service"];

/**
 * Starts Verdaccio. Returns its URL (with a trailing slash), a publish token for a fresh user, the
 * text of an .npmrc that points npm and pnpm at it, and stop().
 *
 * @example
 * const registry = await startLocalRegistry({ dir: await mkdtemp(join(tmpdir(), "registry-")) });
 * // ... npm publish --registry registry.url ...
 * await registry.stop();
 */
export async function startLocalRegistry({ dir, uplink = "https://registry.npmjs.org/" }) {
  await mkdir(join(dir, "storage"), { recursive: true });
  const configPath = join(dir, "config.yaml");
  const local = LOCAL_ONLY.map(
    (name) => `  '${name}':\n    access: $all\n    publish: $authenticated\n    unpublish: $authenticated\n`,
  ).join("");
  await writeFile(
    configPath,
    `storage: ${JSON.stringify(join(dir, "storage"))}
auth:
  htpasswd:
    file: ${JSON.stringify(join(dir, "htpasswd"))}
    max_users: 10
uplinks:
  npmjs:
    url: ${JSON.stringify(uplink)}
    timeout: 60s
    max_fails: 5
    maxage: 60m
packages:
${local}  '**':
    access: $all
    publish: nobody-publishes-here
    proxy: npmjs
web:
  enable: false
max_body_size: 200mb
log: { type: stdout, format: pretty, level: error }
`,
  );
  const child = spawn(process.execPath, [serverScript, configPath], { stdio: ["pipe", "pipe", "pipe"] });
  let output = "";
  child.stderr.on("data", (d) => {
    output += d;
  });
  const port = await new Promise((resolve, reject) => {
    let buffered = "";
    const onData = (d) => {
      buffered += d;
      output += d;
      const line = buffered.split("\n").find((l) => l.startsWith('{"port"'));
      if (line) {
        child.stdout.off("data", onData);
        child.stdout.resume();
        resolve(JSON.parse(line).port);
      }
    };
    child.stdout.on("data", onData);
    child.once("exit", (code) =>
      reject(new Error(`verdaccio exited (${code}) before listening:\n${output}`)),
    );
    setTimeout(() => reject(new Error(`verdaccio did not listen within 60 s:\n${output}`)), 60_000).unref();
  });
  const url = `http://127.0.0.1:${port}/`;
  const res = await fetch(`${url}-/user/org.couchdb.user:lego`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "lego", password: "lego-release-test", email: "lego@example.com" }),
  });
  if (!res.ok) throw new Error(`verdaccio: could not add a user (${res.status} ${await res.text()})`);
  const { token } = await res.json();
  const npmrc = `registry=${url}\n//127.0.0.1:${port}/:_authToken=${token}\n`;
  return {
    url,
    port,
    token,
    npmrc,
    /** The logs Verdaccio wrote (errors only). */
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/**
 * An environment for npm and pnpm child processes that uses only `npmrc` (written to `npmrcPath`):
 * inherited npm_config_* variables (pnpm sets some when it runs a script) are dropped, so nothing
 * reaches a registry but the one named there.
 */
export async function registryEnv({ npmrcPath, npmrc, base = process.env }) {
  await writeFile(npmrcPath, npmrc);
  const globalconfig = `${npmrcPath}.global`;
  await writeFile(globalconfig, "");
  const env = Object.fromEntries(Object.entries(base).filter(([k]) => !/^npm_config_/i.test(k)));
  const registry = /^registry=(.*)$/m.exec(npmrc)?.[1];
  return {
    ...env,
    NPM_CONFIG_USERCONFIG: npmrcPath,
    NPM_CONFIG_GLOBALCONFIG: globalconfig,
    NPM_CONFIG_REGISTRY: registry,
    NPM_CONFIG_AUDIT: "false",
    NPM_CONFIG_FUND: "false",
    NPM_CONFIG_UPDATE_NOTIFIER: "false",
    NPM_CONFIG_LOGLEVEL: "error",
  };
}
