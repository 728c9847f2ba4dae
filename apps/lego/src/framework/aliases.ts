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
}

/**
 * The seed's binary names (package.json "bin": `dist/bins/<name>.js`, or a symlink to `dist/bin.js`
 * named so) and the lego commands they run.
 * One table; a target that does not exist in this build fails with exit 2 naming it.
 */
export const seedAliases: Readonly<Record<string, SeedAlias>> = {
  // lego-deploy deploy|deploy-multi|validate|test|rollback <service…>; bare `lego-deploy <service>` deploys.
  "lego-deploy": {
    prefix: [],
    verbs: {
      deploy: ["deploy"],
      "deploy-multi": ["deploy"],
      validate: ["validate"],
      test: ["test"],
      rollback: ["rollback"],
    },
    defaultVerb: ["deploy"],
  },
  // lego-master-deploy orchestrate --domains a,b | validate --portfolio | monitor
  "lego-master-deploy": {
    prefix: [],
    verbs: { orchestrate: ["deploy"], validate: ["validate"], monitor: ["runs", "list"] },
    defaultVerb: ["deploy"],
  },
  // lego-portfolio init|discover|deploy|health|analytics
  "lego-portfolio": {
    prefix: [],
    verbs: {
      init: ["init"],
      // The seed's portfolio verbs act on every service.
      discover: ["list"],
      deploy: ["deploy", "--all"],
      health: ["test", "--all"],
      analytics: ["audit"],
    },
  },
  // lego-db migrate|sync|backup …
  "lego-db": { prefix: ["db"] },
  // lego-secrets --domain x --environment production  ==  lego secrets generate …
  "lego-secrets": { prefix: ["secrets"], defaultVerb: ["generate"] },
  // lego-init my-service --type api-gateway
  "lego-init": { prefix: ["init"] },
};

/** The alias a binary name (basename of argv[1], with any .js/.cmd/.mjs suffix) selects, if any. */
export function seedAliasFor(binName: string | undefined): { name: string; alias: SeedAlias } | undefined {
  if (!binName) return undefined;
  const name = binName.replace(/\.(c|m)?js$|\.cmd$|\.ps1$|\.exe$/i, "");
  const alias = seedAliases[name];
  return alias ? { name, alias } : undefined;
}

/**
 * Rewrites a seed binary's argv into lego's.
 *
 * @example
 * expandSeedAlias(seedAliases["lego-db"]!, ["migrate", "api"]); // ["db", "migrate", "api"]
 */
export function expandSeedAlias(alias: SeedAlias, argv: readonly string[]): string[] {
  // The seed's verbs always come first (`lego-db migrate x`); a flag first means "no verb".
  const first = argv[0];
  const word = first !== undefined && !first.startsWith("-") ? first : undefined;
  const mapped = word !== undefined && alias.verbs ? alias.verbs[word] : undefined;
  if (mapped) return [...alias.prefix, ...mapped, ...argv.slice(1)];
  const useDefault = alias.defaultVerb && (word === undefined || alias.verbs !== undefined);
  return [...alias.prefix, ...(useDefault ? (alias.defaultVerb ?? []) : []), ...argv];
}
