import pkg from "../package.json" with { type: "json" };

/** The name, one-line description and version `--help` and `--version` show. */
export const program = {
  name: "lego",
  description: "Deploy, test, roll back and audit a portfolio of Cloudflare Workers services",
  version: pkg.version,
} as const;
