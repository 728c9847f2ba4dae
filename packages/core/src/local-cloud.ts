import { join } from "node:path";
import * as z from "zod/mini";

/**
 * The contract between the local cloud (`@lego/emulator`, which writes it) and everything that
 * targets it (`@lego/cloudflare`, which reads it): `$LEGO_HOME/local/server.json`.
 */
export const localCloudInfoSchema = z.object({
  /** Process id of the background local cloud. */
  pid: z.int(),
  port: z.int(),
  /** e.g. http://127.0.0.1:8787/client/v4 */
  apiBaseUrl: z.string(),
  /** The bearer token the local cloud accepts. Local only, still never printed. */
  token: z.string(),
  accountId: z.string(),
  /** workers.dev subdomain of the local account. */
  accountSubdomain: z.string(),
  /** How a hostname is reached: replace `{host}`, e.g. http://{host}.localhost:8787 */
  workersUrlPattern: z.string(),
  stateDir: z.string(),
  startedAt: z.string(),
  version: z.string(),
});
export type LocalCloudInfo = z.infer<typeof localCloudInfoSchema>;

/** The local cloud's folder under the user state folder. */
export function localCloudDir(legoHome: string): string {
  return join(legoHome, "local");
}

/** Where the running local cloud records its pid, port and token. */
export function localCloudInfoPath(legoHome: string): string {
  return join(localCloudDir(legoHome), "server.json");
}
