/**
 * Escapes text for HTML element content and double-quoted attribute values (the run report and the
 * delivery page build their HTML by hand, without a template engine). `null`/`undefined` are "".
 */
export function escapeHtml(value: unknown): string {
  return String(value ?? "")
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}
