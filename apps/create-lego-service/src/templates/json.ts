/**
 * JSON as biome formats it: objects expanded one key per line, arrays of primitives inline when they fit
 * (the line width is 110; 80 keeps a margin for indentation), everything else expanded.
 */
export function toJson(value: unknown, indent = ""): string {
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    const items = value.map((v) => toJson(v, inner));
    const inline = `[${items.join(", ")}]`;
    if (value.every((v) => typeof v !== "object" || v === null) && inline.length <= 80) return inline;
    return `[\n${items.map((i) => `${inner}${i}`).join(",\n")}\n${indent}]`;
  }
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return "{}";
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${toJson(v, inner)}`).join(",\n")}\n${indent}}`;
  }
  return JSON.stringify(value);
}
