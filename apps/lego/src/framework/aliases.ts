/**
 * How one of the seed's binaries maps onto `lego` command words:
 * `lego <prefix…> <verbs[word] or word> <rest…>`, where `word` is the first argument, with
 * `defaultVerb` inserted when the first argument is a flag or absent (or, when `verbs` is given, is
 * not one of them: `lego-deploy my-service` is a deploy).
 */
export interface SeedAlias {
  /** Words put in front of everything (`["db"]` for `lego-db`). */
  prefix: readonly string[];
  /** The seed's verbs and the lego words each one becomes. */
  verbs?: Readonly<Record<string, readonly string[]>>;
  /** Words inserted when no known verb is given. */
  defaultVerb?: readonly string[];
  /**
   * The seed's flag spellings per verb (`""`: the alias's default form), rewritten to lego's: a flag
   * name (`--portfolio` → `--all`), or `""` to make the flag's value a positional (`--service x` → `x`).
   */
  flags?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** The seed README's command lines for this binary (without its name), shown by `--help`. */
  seedForms: readonly string[];
}

/**
 * The seed's binary names (package.json "bin": `dist/bins/<name>.js`, or a symlink to `dist/bin.js`
 * named so) and the lego commands they run.
 * One table; a target that does not exist in this build fails with exit 2 naming it.
 */
export const seedAliases: Readonly<Record<string, SeedAlias>> = {
  // lego-deploy deploy|deploy-multi|validate|test|rollback <service…>; bare `lego-deploy <service>` deploys.
  // Also the seed's `node bin/deployment/enterprise-deploy.js <verb>` (list, discover, deploy-portfolio).
  "lego-deploy": {
    prefix: [],
    verbs: {
      deploy: ["deploy"],
      "deploy-multi": ["deploy"],
      "deploy-portfolio": ["deploy", "--all"],
      validate: ["validate"],
      test: ["test"],
      rollback: ["rollback"],
      list: ["list"],
      discover: ["discover"],
    },
    defaultVerb: ["deploy"],
    // enterprise-deploy.js deploy --service my-service
    flags: { deploy: { "--service": "" } },
    seedForms: [
      "deploy my-domain --environment production",
      "deploy-multi api auth data --parallel",
      "validate my-domain",
      "test my-domain",
      "rollback my-domain",
      "my-service --env production",
    ],
  },
  // lego-deploy-multi api auth data --env staging
  "lego-deploy-multi": { prefix: ["deploy"], seedForms: ["api auth data --env staging"] },
  // lego-deploy-portfolio --env production
  "lego-deploy-portfolio": { prefix: ["deploy", "--all"], seedForms: ["--env production"] },
  // lego-master-deploy orchestrate --domains a,b | validate --portfolio | monitor
  "lego-master-deploy": {
    prefix: [],
    verbs: { orchestrate: ["deploy"], validate: ["validate"], monitor: ["monitor"] },
    defaultVerb: ["deploy"],
    flags: { validate: { "--portfolio": "--all" } },
    seedForms: ["orchestrate --domains api,auth,data", "validate --portfolio", "monitor"],
  },
  // lego-portfolio init|discover|deploy|health|analytics; bare `lego-portfolio` lists the portfolio.
  "lego-portfolio": {
    prefix: [],
    verbs: {
      init: ["init"],
      // The seed's portfolio-manager.js `create --name x`.
      create: ["init"],
      // The seed's portfolio verbs act on every service.
      discover: ["list"],
      deploy: ["deploy", "--all"],
      health: ["test", "--all"],
      analytics: ["analytics"],
    },
    defaultVerb: ["list"],
    flags: { create: { "--name": "--portfolio-name" } },
    seedForms: ["init --portfolio-name my-enterprise", "discover", "deploy", "health", "analytics"],
  },
  // lego-db migrate|sync|backup …
  "lego-db": {
    prefix: ["db"],
    // enterprise-db-manager.js migrate --service my-service, backup --database my-db
    flags: { migrate: { "--service": "" }, backup: { "--service": "", "--database": "" } },
    seedForms: ["migrate my-domain --environment production", "sync --portfolio", "backup my-domain"],
  },
  // lego-secrets --domain x --environment production  ==  lego secrets generate …
  "lego-secrets": {
    prefix: ["secrets"],
    defaultVerb: ["generate"],
    seedForms: ["--domain my-domain --environment production", "--types database,api-keys,jwt --persist"],
  },
  // lego-init my-service --type api-gateway
  "lego-init": {
    prefix: ["init"],
    seedForms: [
      "my-service --type api-gateway --env development",
      'my-service --type api-gateway --domains "api.example.com:account1:zone1,staging.example.com:account2:zone2"',
    ],
  },
};

/** The alias a binary name (basename of argv[1], with any .js/.cmd/.mjs suffix) selects, if any. */
export function seedAliasFor(binName: string | undefined): { name: string; alias: SeedAlias } | undefined {
  if (!binName) return undefined;
  const name = binName.replace(/\.(c|m)?js$|\.cmd$|\.ps1$|\.exe$/i, "");
  const alias = seedAliases[name];
  return alias ? { name, alias } : undefined;
}

/** Rewrites the seed's flag spellings (`SeedAlias.flags`) before `--`. */
function renameFlags(
  argv: readonly string[],
  renames: Readonly<Record<string, string>> | undefined,
): string[] {
  if (!renames) return [...argv];
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    if (token === "--") {
      out.push(...argv.slice(i));
      break;
    }
    const eq = token.indexOf("=");
    const name = eq === -1 ? token : token.slice(0, eq);
    const to = Object.hasOwn(renames, name) ? renames[name] : undefined;
    if (to === undefined) out.push(token);
    else if (to !== "") out.push(eq === -1 ? to : `${to}${token.slice(eq)}`);
    else if (eq !== -1) out.push(token.slice(eq + 1));
    else if (i + 1 < argv.length) out.push(argv[++i] as string);
  }
  return out;
}

/**
 * Rewrites a seed binary's argv into lego's.
 *
 * @example
 * expandSeedAlias(seedAliases["lego-db"]!, ["migrate", "api"]); // ["db", "migrate", "api"]
 */
export function expandSeedAlias(alias: SeedAlias, argv: readonly string[]): string[] {
  // `--root X` may come first (`lego-portfolio --root X init`): it is not a verb.
  const hoisted = hoistRoot(argv);
  // The seed's verbs always come first (`lego-db migrate x`); a flag first means "no verb".
  const first = hoisted[0];
  const word = first !== undefined && !first.startsWith("-") ? first : undefined;
  const mapped = word !== undefined && alias.verbs ? alias.verbs[word] : undefined;
  if (mapped) {
    return [...alias.prefix, ...mapped, ...renameFlags(hoisted.slice(1), alias.flags?.[word as string])];
  }
  const useDefault = alias.defaultVerb && (word === undefined || alias.verbs !== undefined);
  const renames = alias.verbs ? alias.flags?.[""] : alias.flags?.[word ?? ""];
  return [
    ...alias.prefix,
    ...(useDefault ? (alias.defaultVerb ?? []) : []),
    ...renameFlags(hoisted, renames),
  ];
}

/**
 * Moves `--root <dir>` (and `--root=<dir>`) after the command words, so the folder is never read as a
 * command (`lego --root X deploy`, `lego-portfolio --root X`). Tokens after `--` are left alone.
 */
export function hoistRoot(argv: readonly string[]): string[] {
  const kept: string[] = [];
  const root: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    if (token === "--") {
      return [...kept, ...root, ...argv.slice(i)];
    }
    if (token === "--root" && i + 1 < argv.length && argv[i + 1] !== "--")
      root.push(token, argv[++i] as string);
    else if (token.startsWith("--root=")) root.push(token);
    else kept.push(token);
  }
  return [...kept, ...root];
}

/**
 * The `SEED FORMS` section `--help` of an alias starts with: each of the seed's command lines for the
 * binary and the lego command it runs.
 */
export function renderSeedForms(name: string, alias: SeedAlias): string {
  const lines = alias.seedForms.map((form) => {
    const seed = `${name} ${form}`;
    const lego = `lego ${expandSeedAlias(alias, splitForm(form)).join(" ")}`;
    return { seed, lego };
  });
  const width = Math.max(...lines.map((l) => l.seed.length));
  return [
    "SEED FORMS",
    "",
    ...lines.map((l) => `  ${l.seed.padEnd(width)}  = ${l.lego}`),
    "",
    `${name} takes every option of the lego command it runs (below), and --root <dir> anywhere.`,
  ].join("\n");
}

/** Splits a seed form on spaces, keeping "double-quoted" words whole. */
function splitForm(form: string): string[] {
  return [...form.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? (m[2] as string));
}
