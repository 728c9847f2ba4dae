import type { Logger } from "@lego/core";

/** First record of every run: which wrangler ran which command. */
export interface WranglerSessionRecord {
  type: "wrangler-session";
  version: number;
  wrangler_version: string;
  command_line_args: string[];
  log_file_path?: string | undefined;
  timestamp?: string | undefined;
}

/** Written by `wrangler deploy` (also on `--dry-run`, without a version id). */
export interface WranglerDeployRecord {
  type: "deploy";
  version: number;
  worker_name: string | null;
  worker_tag?: string | null | undefined;
  version_id?: string | null | undefined;
  /** e.g. `["staging-api.example.com (custom domain)", "https://api.acme.workers.dev"]` */
  targets?: string[] | undefined;
  wrangler_environment?: string | undefined;
  worker_name_overridden?: boolean | undefined;
  bundle_size?: { raw_bytes: number; gzip_bytes: number } | undefined;
  timestamp?: string | undefined;
}

/** Written by `wrangler versions upload`. */
export interface WranglerVersionUploadRecord {
  type: "version-upload";
  version: number;
  worker_name: string | null;
  worker_tag?: string | null | undefined;
  version_id?: string | null | undefined;
  preview_url?: string | undefined;
  preview_alias_url?: string | undefined;
  wrangler_environment?: string | undefined;
  timestamp?: string | undefined;
}

/** Written by `wrangler versions deploy`. */
export interface WranglerVersionDeployRecord {
  type: "version-deploy";
  version: number;
  worker_name: string;
  worker_tag?: string | null | undefined;
  deployment_id: string;
  version_traffic: Record<string, number>;
  timestamp?: string | undefined;
}

/** Written when a command fails; `code` is the Cloudflare error code of an API failure. */
export interface WranglerCommandFailedRecord {
  type: "command-failed";
  version: number;
  code?: number | string | undefined;
  message: string;
  retry_after_ms?: number | undefined;
  timestamp?: string | undefined;
}

/** A record type Lego does not model (wrangler adds new ones over time). */
export interface WranglerOtherRecord {
  type: string;
  [key: string]: unknown;
}

/** One line of `WRANGLER_OUTPUT_FILE_PATH`. */
export type WranglerOutputRecord =
  | WranglerSessionRecord
  | WranglerDeployRecord
  | WranglerVersionUploadRecord
  | WranglerVersionDeployRecord
  | WranglerCommandFailedRecord
  | WranglerOtherRecord;

/**
 * Parses wrangler's ND-JSON output file. Lines that are not JSON objects with a string `type` are
 * skipped (logged at debug), so a truncated last line after a crash does not hide the others.
 */
export function parseWranglerOutput(text: string, logger?: Logger): WranglerOutputRecord[] {
  const records: WranglerOutputRecord[] = [];
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    if (!trimmed) continue;
    try {
      const value = JSON.parse(trimmed) as unknown;
      if (
        typeof value === "object" &&
        value !== null &&
        typeof (value as { type?: unknown }).type === "string"
      )
        records.push(value as WranglerOutputRecord);
      else logger?.debug("wrangler output: skipped a line without a type");
    } catch {
      logger?.debug("wrangler output: skipped a line that is not JSON");
    }
  }
  return records;
}

/** The last record of a given type, typed. */
export function findRecord<T extends WranglerOutputRecord["type"]>(
  records: readonly WranglerOutputRecord[],
  type: T,
): Extract<WranglerOutputRecord, { type: T }> | undefined {
  for (let i = records.length - 1; i >= 0; i--) {
    const record = records[i];
    if (record?.type === type) return record as Extract<WranglerOutputRecord, { type: T }>;
  }
  return undefined;
}
