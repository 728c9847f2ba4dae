import { type ResolvedScaffoldOptions, SERVICE_TYPE_DESCRIPTIONS } from "../options.ts";
import { flagsOf } from "./config.ts";
import { requiredSecrets } from "./project.ts";
import { databaseName, scriptName, usesD1 } from "./wrangler.ts";

/** A markdown table, padded the way biome formats it. */
export function markdownTable(header: string[], rows: string[][]): string[] {
  const width = (s: string) => [...s].length;
  const widths = header.map((h, i) => Math.max(3, width(h), ...rows.map((r) => width(r[i] ?? ""))));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => c + " ".repeat(widths[i]! - width(c))).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)];
}

/** The one-flag override var of a flag, as @lego/runtime reads it: `notesWrite` -> `FEATURE_NOTESWRITE`. */
function featureVar(flag: string): string {
  return `FEATURE_${flag.replace(/[^A-Za-z0-9]/g, "").toUpperCase()}`;
}

function routesOf(o: ResolvedScaffoldOptions): string[][] {
  const health = ["GET", "`/health`", "`{ ok, service, environment, version, versionId }`"];
  switch (o.type) {
    case "api-gateway":
      return [
        ["GET", "`/`", "the gateway's upstreams"],
        health,
        ...o.upstreams.map((u) => [
          `any`,
          `\`${u.prefix}/*\``,
          `forwarded to \`${u.service}\` (binding \`${u.binding}\`) without the prefix; flag \`${u.binding === "AUTH" ? "authProxy" : "dataProxy"}\``,
        ]),
      ];
    case "data-service":
      return [
        health,
        ["GET", "`/notes?limit=50`", "newest notes first"],
        ["POST", "`/notes`", "`{ title, body? }` → 201; flag `notesWrite`"],
        ["GET", "`/notes/:id`", "one note or 404"],
        ["PUT, PATCH", "`/notes/:id`", "`{ title?, body? }`; flag `notesWrite`"],
        ["DELETE", "`/notes/:id`", "204; flag `notesWrite`"],
      ];
    case "auth-service":
      return [
        health,
        [
          "POST",
          "`/token`",
          "`{ subject, ttlSeconds? }` → `{ token, tokenType, expiresIn }`; flag `tokenIssuing`",
        ],
        ["GET", "`/me`", "needs `Authorization: Bearer <token>`: the token's claims, else 401"],
      ];
    case "static-site":
      return [
        ["GET", "`/`", "the home page (HTML)"],
        health,
        ["GET", "`/beta`", "a preview page; flag `betaPreview` (on in development and staging)"],
      ];
  }
}

/** `README.md` of the generated service. */
export function renderReadme(o: ResolvedScaffoldOptions): string {
  const secrets = requiredSecrets(o);
  const d1 = usesD1(o.type);
  const envTable = markdownTable(
    ["environment", "hostname", "Worker", ...(d1 ? ["D1 database"] : [])],
    o.environments.map((env) => [
      env,
      `\`${o.hostnames[env]}\``,
      `\`${scriptName(o.name, env)}\``,
      ...(d1 ? [`\`${databaseName(o.name, env)}\``] : []),
    ]),
  );
  const flags = flagsOf(o.type).map((f) => `- \`${f.flag}\` (default ${f.default}): ${f.doc}`);
  const sections: string[] = [
    `# ${o.displayName}`,
    "",
    `A Lego ${o.type} on Cloudflare Workers: ${SERVICE_TYPE_DESCRIPTIONS[o.type]}.`,
    "Scaffolded with `create-lego-service`; it depends on `@lego/runtime` only.",
    "",
    "## Environments",
    "",
    ...envTable,
    "",
    "The top level of `wrangler.jsonc` is `development`: what `wrangler dev` and the tests run.",
    "",
    "## Routes",
    "",
    ...markdownTable(["method", "path", "what"], routesOf(o)),
    "",
    "`/health` reports `SERVICE_VERSION` (a var in `wrangler.jsonc`): deploy with",
    "`--var SERVICE_VERSION:<version>` (or bump it in the file) and the new version is visible as soon as it serves.",
    "`versionId` is the id Cloudflare gives each upload (the `CF_VERSION_METADATA` binding, in every section of",
    "`wrangler.jsonc`): after a deploy, `lego` waits until `/health` reports the version it just uploaded.",
    "",
    "## Configuration",
    "",
    "- `wrangler.jsonc`: the Worker, its vars and bindings, one `env.<name>` per deployed environment with its custom domain.",
    "- `src/config/domains.ts`: the domain config (`defineDomains` from `@lego/runtime`): hostnames, feature flags,",
    "  dependencies, the production tests every deploy runs, required secrets. `lego` validates it before deploying.",
    "- `src/config/features.ts`: the flag names.",
    "",
    "Flags:",
    "",
    ...flags,
    "",
    `Override a flag per environment in \`domains.ts\`, or at deploy time with a var such as \`${featureVar(flagsOf(o.type)[0]!.flag)}=false\`.`,
    "",
  ];
  if (secrets.length > 0) {
    sections.push(
      "## Secrets",
      "",
      ...secrets.map(
        (s) =>
          `- \`${s}\` (at least 32 characters): \`wrangler secret put ${s} --env <env>\` (value on stdin) or \`lego secrets\`. For \`wrangler dev\`, copy \`.dev.vars.example\` to \`.dev.vars\`.`,
      ),
      "",
    );
  }
  if (o.type === "auth-service") {
    sections.push(
      "> The template issues a token to any caller for the subject it names. Put your credential check in",
      "> `checkTokenRequest` in `src/worker/index.ts` before this serves real users.",
      "",
    );
  }
  if (o.type === "api-gateway") {
    sections.push(
      "## Service bindings",
      "",
      ...o.upstreams.map(
        (u) =>
          `- \`${u.binding}\` → \`${u.service}\` (\`${u.service}-<env>\` in each environment). Deploy it first: \`dependsOn\` in the domain config says so.`,
      ),
      "",
    );
  }
  sections.push(
    "## Develop, test, deploy",
    "",
    "```sh",
    "pnpm install",
    "pnpm test                 # vitest inside workerd (@cloudflare/vitest-plugin)",
    "pnpm run typecheck        # wrangler types, then tsc",
    "pnpm run build:check      # wrangler deploy --dry-run: bundles without uploading",
    ...(usesD1(o.type)
      ? [`pnpm run db:migrate:${o.environments[0]}   # apply migrations/ to the remote D1`]
      : []),
    `lego deploy ${o.name} --env ${o.environments[0]}`,
    "```",
    "",
    "Plain `wrangler deploy --env <env>` works too: nothing here needs Lego at deploy time.",
    "",
  );
  return sections.join("\n");
}
