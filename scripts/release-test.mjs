#!/usr/bin/env node
// The release test (run by `pnpm run check`, so by CI): publish to a real registry and install back as a
// user would.
//
// 1. Verdaccio on 127.0.0.1, port 0, storage in a temp folder (scripts/release/registry.mjs): @lego/* and
//    create-lego-service only from what is published to it; other names proxied read-only from npmjs
//    (a scaffolded service needs wrangler and vitest).
// 2. A temporary copy of this checkout (its files, a fresh git repository, `pnpm install --offline`), so
//    the repository's versions, changesets and dist/ are never touched. There, the release pipeline as
//    CONTRIBUTING.md describes it: `pnpm run version`, then `pnpm run release` with an .npmrc that
//    names only the local registry.
// 3. In a fresh folder: `npx create-lego-service inventory --type data-service`; `npm install` resolves
//    @lego/runtime from the registry; the service's own tests pass. `npm i -g --prefix <tmp> @lego/cli`;
//    that `lego` starts the local cloud (temp LEGO_HOME), deploys the service, and its URL answers.
//    The CLI's install is measured against `npm i wrangler` (at most 1.1x).
// 4. A second release whose only changeset is a patch of @lego/runtime publishes only @lego/runtime; a
//    service pinned to the first version still installs it.
//
// Prints each published package with its version and tarball size, and the install sizes.
// `--keep` keeps the temp folder. Exit 0 on success, 1 on a failed step.
import { spawn } from "node:child_process";
import { cp, lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { registryEnv, startLocalRegistry } from "./release/registry.mjs";
import { folderSize, mb } from "./release/sizes.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const started = Date.now();
const MAX_INSTALL_RATIO = 1.1;

const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
const log = (line) => process.stderr.write(`release-test [${seconds(Date.now() - started)}] ${line}\n`);
const kb = (bytes) => `${(bytes / 1e3).toFixed(1)} kB`;

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

/** Runs a command; resolves { stdout, stderr }; rejects with the command, its exit code and output. */
function run(cmd, args, { cwd, env, timeout = 600_000, quiet = true } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
      if (!quiet) process.stderr.write(d);
    });
    child.stderr.on("data", (d) => {
      stderr += d;
      if (!quiet) process.stderr.write(d);
    });
    const timer = setTimeout(() => child.kill("SIGTERM"), timeout);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve({ stdout, stderr });
      const tail = (s) => s.split("\n").slice(-60).join("\n");
      reject(
        new Error(
          `\`${cmd} ${args.join(" ")}\` (in ${cwd}) exited ${code ?? signal}\n--- stdout\n${tail(stdout)}\n--- stderr\n${tail(stderr)}`,
        ),
      );
    });
  });
}

async function step(name, fn) {
  const t = Date.now();
  log(`${name} …`);
  const result = await fn();
  log(`${name}: done in ${seconds(Date.now() - t)}`);
  return result;
}

/** GET a Worker on the local cloud by its hostname: *.localhost is not resolvable everywhere. */
function getWorker(url) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port: u.port, path: u.pathname + u.search, headers: { host: u.host } },
      (res) => {
        let body = "";
        res.on("data", (d) => {
          body += d;
        });
        res.on("end", () => resolve({ status: res.statusCode, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

const readJson = async (path) => JSON.parse(await readFile(path, "utf8"));

/** The publishable packages of a checkout: folder, name, version. */
async function publicPackages(repo) {
  const out = [];
  for (const group of ["packages", "apps"]) {
    for (const dir of (await readdir(join(repo, group))).sort()) {
      const manifest = await readJson(join(repo, group, dir, "package.json")).catch(() => undefined);
      if (manifest && !manifest.private)
        out.push({ dir: `${group}/${dir}`, name: manifest.name, version: manifest.version });
    }
  }
  return out;
}

/** What the registry holds for a package: versions, and per version its tarball URL and size. */
async function packument(registryUrl, name) {
  const res = await fetch(`${registryUrl}${name.replace("/", "%2f")}`);
  if (res.status === 404) return undefined;
  assert(res.ok, `registry: GET ${name} answered ${res.status}`);
  return res.json();
}

/** A tarball's size, and the files and bytes it unpacks to (read from its tar headers). */
async function tarballSize(url) {
  const res = await fetch(url);
  assert(res.ok, `registry: GET ${url} answered ${res.status}`);
  const gz = Buffer.from(await res.arrayBuffer());
  const tar = gunzipSync(gz);
  let files = 0;
  let unpacked = 0;
  for (let at = 0; at + 512 <= tar.length && tar[at] !== 0; ) {
    const size = Number.parseInt(
      tar
        .subarray(at + 124, at + 136)
        .toString()
        .replace(/\0.*$/, "")
        .trim() || "0",
      8,
    );
    if (tar[at + 156] === 48 || tar[at + 156] === 0) {
      files += 1;
      unpacked += size;
    }
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return { tarball: gz.byteLength, files, unpacked };
}

async function printPublished(registryUrl, packages, title) {
  const rows = [];
  for (const p of packages) {
    const doc = await packument(registryUrl, p.name);
    assert(doc?.versions?.[p.version], `${p.name}@${p.version} is not in the registry after the release`);
    const dist = doc.versions[p.version].dist;
    rows.push({ name: p.name, version: p.version, ...(await tarballSize(dist.tarball)) });
  }
  const width = Math.max(...rows.map((r) => r.name.length));
  process.stdout.write(`\n${title}\n`);
  process.stdout.write(
    `  ${"package".padEnd(width)}  ${"version".padEnd(10)}  ${"tarball".padStart(10)}  ${"unpacked".padStart(10)}  files\n`,
  );
  for (const r of rows)
    process.stdout.write(
      `  ${r.name.padEnd(width)}  ${r.version.padEnd(10)}  ${kb(r.tarball).padStart(10)}  ${kb(r.unpacked).padStart(10)}  ${r.files}\n`,
    );
  return rows;
}

/** A copy of this checkout's files (tracked and new, minus .gitignore), as its own git repository. */
async function copyCheckout(dest, env) {
  const { stdout } = await run("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: root,
  });
  const files = stdout.split("\0").filter(Boolean);
  for (const file of files) {
    const from = join(root, file);
    const stat = await lstat(from).catch(() => undefined);
    if (!stat || stat.isDirectory()) continue; // deleted in the working tree, or a submodule
    await mkdir(dirname(join(dest, file)), { recursive: true });
    await cp(from, join(dest, file), { verbatimSymlinks: true });
  }
  const git = (args) => run("git", args, { cwd: dest, env });
  await git(["init", "-q", "-b", "main"]);
  await git(["add", "-A"]);
  await git(["commit", "-q", "-m", "release test: a copy of the checkout"]);
  return files.length;
}

async function main() {
  const work = await mkdtemp(join(tmpdir(), "lego-release-test-"));
  const cleanups = [];
  log(`working in ${work}`);
  try {
    // Third-party packages come from the registry this machine uses (npmjs in CI); @lego/* never do.
    const { stdout: configuredRegistry } = await run("npm", ["config", "get", "registry"], { cwd: work });
    const publicRegistry = configuredRegistry.trim() || "https://registry.npmjs.org/";
    const registry = await step("start Verdaccio on 127.0.0.1:0", () =>
      startLocalRegistry({ dir: join(work, "registry"), uplink: publicRegistry }),
    );
    cleanups.push(() => registry.stop());
    log(`registry ${registry.url} (uplink for other names: ${publicRegistry})`);
    assert(/^http:\/\/127\.0\.0\.1:\d+\/$/.test(registry.url), "the registry must be on 127.0.0.1");
    const gitIdentity = {
      GIT_AUTHOR_NAME: "release test",
      GIT_AUTHOR_EMAIL: "release-test@example.com",
      GIT_COMMITTER_NAME: "release test",
      GIT_COMMITTER_EMAIL: "release-test@example.com",
    };
    // Publishing, and the unscoped create-lego-service: everything from the local registry.
    const env = {
      ...(await registryEnv({ npmrcPath: join(work, "npmrc"), npmrc: registry.npmrc })),
      ...gitIdentity,
      TURBO_TELEMETRY_DISABLED: "1",
      DO_NOT_TRACK: "1",
    };
    // Installs, as a team with a private scope configures npm: @lego/* from the local registry alone,
    // the rest (wrangler, vitest, workerd: hundreds of MB) from the public registry and npm's cache.
    const userEnv = await registryEnv({
      npmrcPath: join(work, "npmrc-scoped"),
      npmrc: `registry=${publicRegistry}\n@lego:registry=${registry.url}\n${registry.npmrc.split("\n")[1]}\n`,
    });

    // --- 1. the first release, from a copy of this checkout ---
    const repo = join(work, "repo");
    await step("copy the checkout", async () => log(`${await copyCheckout(repo, env)} files`));
    await step("pnpm install (offline, from the store)", () =>
      run("pnpm", ["install", "--offline", "--frozen-lockfile", "--reporter=append-only"], {
        cwd: repo,
        env,
      }),
    );
    const { stdout: configured } = await run("pnpm", ["config", "get", "registry"], { cwd: repo, env });
    assert(
      configured.trim().replace(/\/?$/, "/") === registry.url,
      `pnpm in the copy would publish to ${configured.trim()}, not ${registry.url}`,
    );
    const before = await publicPackages(repo);
    await step("pnpm run version", () => run("pnpm", ["run", "version"], { cwd: repo, env }));
    const first = await publicPackages(repo);
    for (const p of first)
      log(`  ${p.name} ${before.find((b) => b.name === p.name)?.version} -> ${p.version}`);
    await step("pnpm run release (build, check, changeset publish)", () =>
      run("pnpm", ["run", "release"], { cwd: repo, env }),
    );
    const firstRows = await printPublished(registry.url, first, "Release 1: published to the local registry");
    const runtime1 = first.find((p) => p.name === "@lego/runtime").version;
    const cliVersion = first.find((p) => p.name === "@lego/cli").version;
    assert(runtime1 !== "0.0.0", "@lego/runtime was released as 0.0.0: no changeset bumps it");

    // --- 2. the second release is versioned now and built while the user's steps run (its build is CPU,
    //        theirs mostly network); it is published after the user installed the first one ---
    await writeFile(
      join(repo, ".changeset", "release-test-runtime-patch.md"),
      '---\n"@lego/runtime": patch\n---\n\nRelease test: a patch of @lego/runtime alone.\n',
    );
    const runtimeReadme = join(repo, "packages/runtime/README.md");
    await writeFile(runtimeReadme, `${await readFile(runtimeReadme, "utf8")}\n<!-- release test -->\n`);
    await run("git", ["add", "-A"], { cwd: repo, env });
    await run("git", ["commit", "-q", "-m", "release test: patch @lego/runtime"], { cwd: repo, env });
    await step("pnpm run version (second release)", () =>
      run("pnpm", ["run", "version"], { cwd: repo, env }),
    );
    const second = await publicPackages(repo);
    const bumped = second.filter((p) => p.version !== first.find((f) => f.name === p.name).version);
    assert(
      bumped.length === 1 && bumped[0].name === "@lego/runtime",
      `the second release bumps ${bumped.map((p) => p.name).join(", ") || "nothing"}, not @lego/runtime alone`,
    );
    const runtime2 = bumped[0].version;
    log(`second release: @lego/runtime ${runtime1} -> ${runtime2}; building it in the background`);
    const secondBuild = run("pnpm", ["run", "check:packages"], { cwd: repo, env });
    secondBuild.catch(() => {});

    // --- 3. a user: scaffold, install, test ---
    // A user's portfolio folder: lego finds services under services/* (a service folder alone is not
    // found as its own root yet).
    const user = join(work, "user");
    await mkdir(join(user, "services"), { recursive: true });
    const { version: wranglerVersion } = await readJson(
      join(repo, "apps/lego/node_modules/wrangler/package.json"),
    );
    const wranglerPrefix = join(work, "wrangler-only");
    const globalPrefix = join(work, "global");
    const wranglerInstall = run(
      "npm",
      ["install", "--prefix", wranglerPrefix, `wrangler@${wranglerVersion}`],
      {
        cwd: work,
        env: userEnv,
      },
    );
    wranglerInstall.catch(() => {});
    const cliInstall = run(
      "npm",
      ["install", "--global", "--prefix", globalPrefix, `@lego/cli@${cliVersion}`],
      {
        cwd: work,
        env: userEnv,
      },
    );
    cliInstall.catch(() => {});

    await step("npx create-lego-service inventory --type data-service", () =>
      run("npx", ["--yes", "create-lego-service", "inventory", "--type", "data-service"], {
        cwd: join(user, "services"),
        env,
      }),
    );
    const service = join(user, "services", "inventory");
    const servicePkg = await readJson(join(service, "package.json"));
    assert(
      servicePkg.dependencies["@lego/runtime"] === `^${runtime1}`,
      `the scaffolded service asks for @lego/runtime ${servicePkg.dependencies["@lego/runtime"]}, not ^${runtime1}`,
    );
    await step("npm install (the service)", () => run("npm", ["install"], { cwd: service, env: userEnv }));
    const installedRuntime = await readJson(join(service, "node_modules/@lego/runtime/package.json"));
    const lock = await readJson(join(service, "package-lock.json"));
    const resolved = lock.packages["node_modules/@lego/runtime"].resolved;
    assert(installedRuntime.version === runtime1, `installed @lego/runtime ${installedRuntime.version}`);
    assert(resolved.startsWith(registry.url), `@lego/runtime came from ${resolved}`);
    log(`@lego/runtime ${installedRuntime.version} from ${resolved}`);
    await step("npm test (the service's own tests, in workerd)", () =>
      run("npm", ["test"], { cwd: service, env: userEnv }),
    );

    // --- 4. the CLI from the registry deploys it to the local cloud ---
    await step("npm i -g --prefix <tmp> @lego/cli", () => cliInstall);
    const lego = join(globalPrefix, "bin", "lego");
    const legoEnv = { ...userEnv, LEGO_HOME: join(work, "lego-home"), HOME: join(work, "home"), CI: "1" };
    await mkdir(legoEnv.HOME, { recursive: true });
    const { stdout: version } = await run(lego, ["--version"], { cwd: user, env: legoEnv });
    assert(version.includes(cliVersion), `lego --version printed ${version.trim()}, not ${cliVersion}`);
    await step("lego local up", () =>
      run(lego, ["local", "up", "--port", "0", "--zone", "example.com", "--json"], {
        cwd: user,
        env: legoEnv,
      }),
    );
    cleanups.push(() => run(lego, ["local", "down"], { cwd: user, env: legoEnv }).catch(() => {}));
    const deployed = await step("lego deploy inventory --env staging", () =>
      run(lego, ["deploy", "inventory", "--env", "staging", "--root", user, "--json"], {
        cwd: service,
        env: legoEnv,
      }),
    );
    const doc = JSON.parse(deployed.stdout);
    assert(doc.ok === true, `lego deploy: ${deployed.stdout}`);
    const url = doc.data.services[0].url;
    const health = await getWorker(new URL("health", url).href);
    assert(health.status === 200, `GET ${url}health answered ${health.status}: ${health.body}`);
    const notes = await getWorker(new URL("notes", url).href);
    assert(notes.status === 200, `GET ${url}notes answered ${notes.status}: ${notes.body}`);
    log(`${url}health answers ${health.body.trim()}`);
    await step("lego local down", () => run(lego, ["local", "down"], { cwd: user, env: legoEnv }));

    await step("npm install wrangler (the size baseline)", () => wranglerInstall);
    const cliSize = await folderSize(join(globalPrefix, "lib", "node_modules", "@lego", "cli"));
    const wranglerSize = await folderSize(join(wranglerPrefix, "node_modules"));
    const ratio = cliSize.bytes / wranglerSize.bytes;
    process.stdout.write(
      "\nInstall size (apparent bytes of every installed file)\n" +
        `  npm i -g @lego/cli@${cliVersion}   ${mb(cliSize.bytes).padStart(9)}  ${cliSize.files} files\n` +
        `  npm i wrangler@${wranglerVersion}    ${mb(wranglerSize.bytes).padStart(9)}  ${wranglerSize.files} files\n` +
        `  ratio ${ratio.toFixed(3)}x (at most ${MAX_INSTALL_RATIO}x)\n`,
    );
    assert(ratio <= MAX_INSTALL_RATIO, `@lego/cli installs ${ratio.toFixed(3)}x wrangler's size`);

    // --- 5. publish the second release: only @lego/runtime ---
    await step("the second release's build and checks (started in the background)", () => secondBuild);
    const published = await step("pnpm run release (second release)", () =>
      run("pnpm", ["run", "release"], { cwd: repo, env }),
    );
    await printPublished(registry.url, bumped, "Release 2: published");
    for (const p of second) {
      const versions = Object.keys((await packument(registry.url, p.name)).versions).sort();
      const want = (p.name === "@lego/runtime" ? [runtime1, p.version] : [p.version]).sort();
      assert(
        JSON.stringify(versions) === JSON.stringify(want),
        `${p.name}: the registry holds ${versions.join(", ")}, expected ${want.join(", ")}\n${published.stdout}`,
      );
    }
    log(`only @lego/runtime was published again: ${runtime1} -> ${runtime2}`);

    // --- 6. a service pinned to the first version still installs it; a caret range takes the patch ---
    const pinned = join(user, "pinned");
    await mkdir(pinned);
    await writeFile(
      join(pinned, "package.json"),
      JSON.stringify({ name: "pinned", private: true, dependencies: { "@lego/runtime": runtime1 } }, null, 2),
    );
    await step(`npm install @lego/runtime@${runtime1} (pinned)`, () =>
      run("npm", ["install"], { cwd: pinned, env: userEnv }),
    );
    const pinnedVersion = (await readJson(join(pinned, "node_modules/@lego/runtime/package.json"))).version;
    assert(pinnedVersion === runtime1, `the pinned service installed @lego/runtime ${pinnedVersion}`);
    const { stdout: latest } = await run("npm", ["view", `@lego/runtime@^${runtime1}`, "version", "--json"], {
      cwd: pinned,
      env: userEnv,
    });
    assert(
      [JSON.parse(latest)].flat().includes(runtime2),
      `^${runtime1} does not reach ${runtime2}: ${latest}`,
    );
    log(`pinned ${runtime1} installs; ^${runtime1} now resolves to ${runtime2}`);

    process.stdout.write(
      `\nrelease test: ok in ${seconds(Date.now() - started)} (${firstRows.length} packages released, then @lego/runtime alone)\n`,
    );
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    if (process.argv.includes("--keep")) log(`kept ${work}`);
    else await rm(work, { recursive: true, force: true }).catch(() => {});
  }
}

main().catch((error) => {
  process.stderr.write(`\nrelease test FAILED: ${error.stack ?? error}\n`);
  process.exit(1);
});
