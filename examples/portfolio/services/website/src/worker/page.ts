const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** What a page shows about the deployment it came from. */
export interface PageContext {
  title: string;
  service: string;
  environment: string;
  version: string;
}

/** An HTML response. */
export function html(body: string, status = 200): Response {
  return new Response(body, { status, headers: { "content-type": "text/html; charset=utf-8" } });
}

function layout(ctx: PageContext, heading: string, content: string): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(heading)} · ${escapeHtml(ctx.title)}</title>
  <style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}footer{color:#666;font-size:.85rem}</style>
</head>
<body>
  <h1>${escapeHtml(heading)}</h1>
  ${content}
  <footer>${escapeHtml(ctx.service)} · ${escapeHtml(ctx.environment)} · v${escapeHtml(ctx.version)}</footer>
</body>
</html>
`;
}

/** The home page. */
export function homePage(ctx: PageContext): string {
  return layout(ctx, ctx.title, "<p>Served by a Cloudflare Worker, scaffolded with Lego.</p>");
}

/** The page behind the `betaPreview` flag. */
export function betaPage(ctx: PageContext): string {
  return layout(ctx, "Beta preview", "<p>This page is only served where the betaPreview flag is on.</p>");
}

/** The 404 page. */
export function notFoundPage(ctx: PageContext, path: string): string {
  return layout(ctx, "Not found", `<p>Nothing at <code>${escapeHtml(path)}</code>.</p>`);
}
