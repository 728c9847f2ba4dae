// The bindings of website, as wrangler.jsonc declares them: keep the two in step when you add one.
interface Env {
  /** The environment this Worker runs as: `development` locally, else its wrangler `--env`. */
  ENVIRONMENT: string;
  /** The deployed version, reported by /health. */
  SERVICE_VERSION: string;
  /** The Worker version serving (`version_metadata` binding): /health reports its id. */
  CF_VERSION_METADATA: WorkerVersionMetadata;
}

declare namespace Cloudflare {
  // What `cloudflare:test` and `cloudflare:workers` type `env` and `exports` with.
  interface Env extends globalThis.Env {}
  interface GlobalProps {
    mainModule: typeof import("./index");
  }
}
