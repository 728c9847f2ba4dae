import { UsageError } from "@lego/core";
import { closest } from "./suggest.ts";

/**
 * A flag (`--port 8787`, `--yes`, `--zone a --zone b`). The shape is citty's `ArgDef` (so citty's usage
 * renderer prints it) plus `multiple`. Declare names in kebab-case; handlers read them in camelCase.
 */
export interface FlagDef {
  type: "string" | "boolean" | "enum";
  /** One line, shown by `--help`. */
  description: string;
  /** Other names: one letter for `-p`, or a longer `--name`. */
  alias?: string | readonly string[];
  default?: string | boolean;
  required?: boolean;
  /** Allowed values of an `enum` flag. */
  options?: readonly string[];
  /** Shown in help as `--port=<port>`. */
  valueHint?: string;
  /** Repeatable (`--zone a --zone b`); the value is an array. Comma-separated values are not split. */
  multiple?: boolean;
}

/** A positional argument. Required unless `required: false` or a default is given (citty's rule). */
export interface PositionalDef {
  type: "positional";
  description: string;
  required?: boolean;
  default?: string;
  valueHint?: string;
  /** Takes every remaining positional (`lego deploy api auth data`); must be the last positional. */
  multiple?: boolean;
}

/** One argument of a command. */
export type ArgDef = FlagDef | PositionalDef;
/** A command's arguments, by kebab-case name. */
export type ArgsDef = Record<string, ArgDef>;

type Camel<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;
type Value<D> = D extends { type: "boolean" }
  ? boolean
  : D extends { type: "enum"; options: readonly (infer U)[] }
    ? D extends { multiple: true }
      ? U[]
      : U
    : D extends { multiple: true }
      ? string[]
      : string;
type Present<D> = D extends { type: "boolean" }
  ? true
  : D extends { multiple: true }
    ? true
    : D extends { default: string | boolean }
      ? true
      : D extends { type: "positional" }
        ? D extends { required: false }
          ? false
          : true
        : D extends { required: true }
          ? true
          : false;

/**
 * What a handler receives: each argument under its camelCase name (`--dry-run` is `dryRun`), typed
 * from its definition; booleans default to false, repeatable ones to [].
 */
export type ParsedArgs<A extends ArgsDef> = {
  [K in keyof A as Camel<K & string>]: Present<A[K]> extends true ? Value<A[K]> : Value<A[K]> | undefined;
};

/** Names the framework owns on every command; a command may not declare them. */
export const reservedFlagNames: readonly string[] = ["json", "debug", "help", "h", "version"];

const camel = (name: string): string => name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** The names a flag answers to besides its own (`-p`, `--environment`). */
export function aliasesOf(def: FlagDef): string[] {
  return def.alias === undefined ? [] : typeof def.alias === "string" ? [def.alias] : [...def.alias];
}

function flagLabel(name: string, def: FlagDef): string {
  return def.type === "boolean" ? `--${name}` : `--${name} <${def.valueHint ?? name}>`;
}

/**
 * Parses `argv` (the tokens after the command's name) against `defs`, strictly: an unknown flag, a
 * missing value, a value outside an enum, an extra or missing positional is a UsageError (exit 2)
 * naming the flag and saying what to type instead. citty's own parser is lenient (unknown flags are
 * silently kept), which would let a typo such as `--dry-rn` deploy for real; hence this parser.
 */
export function parseArgv<A extends ArgsDef>(
  argv: readonly string[],
  defs: A,
  commandPath: string,
): ParsedArgs<A> {
  const helpHint = `Run \`${commandPath} --help\` to see its options.`;
  const flags = new Map<string, { name: string; def: FlagDef }>();
  const positionals: Array<{ name: string; def: PositionalDef }> = [];
  for (const [name, def] of Object.entries(defs)) {
    if (def.type === "positional") {
      positionals.push({ name, def });
      continue;
    }
    flags.set(name, { name, def });
    for (const alias of aliasesOf(def)) flags.set(alias, { name, def });
  }
  const out: Record<string, unknown> = {};
  const seen = new Set<string>();
  const rest: string[] = [];

  const unknown = (token: string, name: string): never => {
    const longNames = [...flags.keys()].filter((k) => k.length > 1);
    const guess = closest(name, longNames);
    throw new UsageError({
      code: "ERR_UNKNOWN_FLAG",
      message: `Unknown flag ${token} for \`${commandPath}\``,
      hint: guess ? `Did you mean --${guess}? ${helpHint}` : helpHint,
      details: { flag: token },
    });
  };
  const assign = (name: string, def: FlagDef, value: string | boolean, token: string): void => {
    if (def.type === "enum" && typeof value === "string" && def.options && !def.options.includes(value)) {
      throw new UsageError({
        code: "ERR_FLAG_VALUE",
        message: `Invalid value "${value}" for ${token} of \`${commandPath}\``,
        hint: `Use one of: ${def.options.join(", ")}.`,
        details: { flag: name },
      });
    }
    if (def.multiple) {
      const list = (out[name] as unknown[] | undefined) ?? [];
      list.push(value);
      out[name] = list;
    } else {
      if (seen.has(name) && def.type !== "boolean") {
        throw new UsageError({
          code: "ERR_FLAG_VALUE",
          message: `--${name} was given more than once to \`${commandPath}\``,
          hint: `Pass --${name} once.`,
          details: { flag: name },
        });
      }
      out[name] = value;
    }
    seen.add(name);
  };

  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    if (token === "--") {
      rest.push(...argv.slice(i + 1));
      break;
    }
    const isLong = token.startsWith("--");
    const isShort = !isLong && token.startsWith("-") && token.length > 1 && !/^-\d/.test(token);
    if (!isLong && !isShort) {
      rest.push(token);
      continue;
    }
    const body = isLong ? token.slice(2) : token.slice(1);
    const eq = body.indexOf("=");
    const rawName = eq === -1 ? body : body.slice(0, eq);
    const inline = eq === -1 ? undefined : body.slice(eq + 1);
    if (isShort && rawName.length > 1 && inline === undefined) {
      // `-abc`: a group of one-letter booleans.
      for (const letter of rawName) {
        const found = flags.get(letter);
        if (!found) unknown(`-${letter}`, letter);
        else if (found.def.type !== "boolean") {
          throw new UsageError({
            code: "ERR_FLAG_VALUE",
            message: `-${letter} of \`${commandPath}\` takes a value and cannot be grouped`,
            hint: `Write it on its own: ${flagLabel(found.name, found.def)}.`,
            details: { flag: found.name },
          });
        } else assign(found.name, found.def, true, `-${letter}`);
      }
      continue;
    }
    let found = flags.get(rawName);
    if (!found && isLong && rawName.startsWith("no-")) {
      const negated = flags.get(rawName.slice(3));
      if (negated && negated.def.type === "boolean" && inline === undefined) {
        assign(negated.name, negated.def, false, token);
        continue;
      }
    }
    if (!found) found = unknown(token, rawName);
    const { name, def } = found;
    if (def.type === "boolean") {
      if (inline === undefined) assign(name, def, true, token);
      else if (/^(true|1|yes)$/i.test(inline)) assign(name, def, true, token);
      else if (/^(false|0|no)$/i.test(inline)) assign(name, def, false, token);
      else {
        throw new UsageError({
          code: "ERR_FLAG_VALUE",
          message: `--${name} of \`${commandPath}\` is a switch and takes no value (got "${inline}")`,
          hint: `Pass --${name} or --no-${name}.`,
          details: { flag: name },
        });
      }
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || next === "--") {
        throw new UsageError({
          code: "ERR_FLAG_VALUE",
          message: `${token} of \`${commandPath}\` needs a value`,
          hint: `Pass ${flagLabel(name, def)}.`,
          details: { flag: name },
        });
      }
      value = next;
      i++;
    }
    assign(name, def, value, token);
  }

  for (const { name, def } of positionals) {
    if (def.multiple) {
      const values = rest.splice(0, rest.length);
      if (values.length === 0 && def.required !== false && def.default === undefined) {
        throw missingPositional(name, commandPath, helpHint);
      }
      out[name] = values.length === 0 && def.default !== undefined ? [def.default] : values;
      continue;
    }
    const value = rest.shift();
    if (value !== undefined) out[name] = value;
    else if (def.default !== undefined) out[name] = def.default;
    else if (def.required !== false) throw missingPositional(name, commandPath, helpHint);
  }
  if (rest.length > 0) {
    throw new UsageError({
      code: "ERR_UNEXPECTED_ARGUMENT",
      message: `Unexpected argument "${rest[0]}" for \`${commandPath}\``,
      hint: helpHint,
      details: { argument: rest[0] },
    });
  }

  for (const [name, def] of Object.entries(defs)) {
    if (def.type === "positional") continue;
    if (out[name] !== undefined) continue;
    if (def.required) {
      throw new UsageError({
        code: "ERR_MISSING_ARGUMENT",
        message: `\`${commandPath}\` needs --${name}`,
        hint: `Pass ${flagLabel(name, def)}.`,
        details: { flag: name },
      });
    }
    if (def.default !== undefined) out[name] = def.default;
    else if (def.multiple) out[name] = [];
    else if (def.type === "boolean") out[name] = false;
  }

  const parsed: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(out)) parsed[camel(name)] = value;
  return parsed as ParsedArgs<A>;
}

function missingPositional(name: string, commandPath: string, helpHint: string): UsageError {
  return new UsageError({
    code: "ERR_MISSING_ARGUMENT",
    message: `\`${commandPath}\` needs <${name}>`,
    hint: helpHint,
    details: { argument: name },
  });
}

/**
 * Parses an integer flag value, for flags citty types as strings (`--port 8787`).
 *
 * @example
 * const port = parseIntegerFlag(args.port, "--port", { min: 0, max: 65535 });
 */
export function parseIntegerFlag(
  value: string | undefined,
  flag: string,
  range: { min?: number; max?: number } = {},
): number | undefined {
  if (value === undefined) return undefined;
  const n = /^-?\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  const min = range.min ?? Number.MIN_SAFE_INTEGER;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError({
      code: "ERR_FLAG_VALUE",
      message: `${flag} must be an integer from ${min} to ${max} (got "${value}")`,
      hint: `Pass ${flag} <integer>.`,
      details: { flag },
    });
  }
  return n;
}
