/**
 * Replaces every registered secret value in text with `***`. Apps register the token and every
 * secret value they handle, and pass all output (logs, errors, child output) through it.
 */
export interface Redactor {
  add(secret: string | undefined): void;
  redact(text: string): string;
}

export function createRedactor(initial: Array<string | undefined> = []): Redactor {
  const secrets = new Set<string>();
  const add = (secret: string | undefined) => {
    // Very short values would mangle ordinary text; they are not secrets worth the name anyway.
    if (secret && secret.length >= 6) secrets.add(secret);
  };
  initial.forEach(add);
  return {
    add,
    redact(text) {
      let out = text;
      for (const s of secrets) out = out.split(s).join("***");
      return out;
    },
  };
}
