/** A path into a parsed config: object keys and array indexes. */
export type KeyPath = ReadonlyArray<string | number>;

const IDENTIFIER = /^[A-Za-z_$][\w$-]*$/;

/**
 * Renders a key path the way users read it: `env.staging.routes[0]`, `domains["my-api"].name`.
 * An empty path renders as `(root)`.
 */
export function formatKeyPath(path: KeyPath): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) out += out === "" ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out === "" ? "(root)" : out;
}

/** Line and column (both 1-based) of a character offset in a text. */
export function lineColumnAt(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}
