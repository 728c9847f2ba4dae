// Flag definitions, the strict parser and integer flags are @lego/cli-kit's, shared with
// create-lego-service; the seed's standard spellings (`--environment` for `--env`) are lego's.
import { type ArgDef, type ArgsDef, aliasesOf } from "@lego/cli-kit";

export type { ArgDef, ArgsDef, FlagDef, ParsedArgs, PositionalDef } from "@lego/cli-kit";
export { parseArgv, parseIntegerFlag, reservedFlagNames } from "@lego/cli-kit";

/**
 * One spelling per meaning across commands: a command that declares the first name also takes the
 * others (the seed's spellings). `--environment` is `--env` everywhere; the validation level is
 * `--validation` on `deploy` and `validate`, `--level` accepted on both.
 */
export const standardFlagAliases: Readonly<Record<string, readonly string[]>> = {
  env: ["environment"],
  validation: ["level"],
};

/**
 * `defs` with {@link standardFlagAliases} added to the flags that declare a standard name (unless the
 * alias is already a name of that command). Applied by `defineCommand`, so parsing and `--help` agree.
 */
export function withStandardAliases<A extends ArgsDef>(defs: A): A {
  const taken = new Set<string>();
  for (const [name, def] of Object.entries(defs)) {
    taken.add(name);
    if (def.type !== "positional") for (const a of aliasesOf(def)) taken.add(a);
  }
  let out: Record<string, ArgDef> | undefined;
  for (const [name, extra] of Object.entries(standardFlagAliases)) {
    const def = defs[name];
    if (!def || def.type === "positional") continue;
    const missing = extra.filter((a) => !taken.has(a));
    if (missing.length === 0) continue;
    out ??= { ...defs };
    out[name] = { ...def, alias: [...aliasesOf(def), ...missing] };
  }
  return (out ?? defs) as A;
}
