import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { randomHex32 } from "./ids.ts";
import type { TailEvent } from "./runtime/runner.ts";

const WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const TAIL_TTL_MS = 6 * 3600 * 1000;
/** How long a tail with no WebSocket attached stays open. */
const ORPHAN_GRACE_MS = 10_000;

/** One `wrangler tail` session: the script it follows and the WebSockets attached to it. */
interface TailSession {
  id: string;
  script: string;
  expires: number;
  sockets: Set<Socket>;
}

function frame(text: string): Buffer {
  const payload = Buffer.from(text, "utf8");
  const n = payload.length;
  const head = n < 126 ? Buffer.alloc(2) : n < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  head[0] = 0x81;
  if (n < 126) head[1] = n;
  else if (n < 65536) {
    head[1] = 126;
    head.writeUInt16BE(n, 2);
  } else {
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(n), 2);
  }
  return Buffer.concat([head, payload]);
}

function control(first: number, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([first, payload.length & 0x7f]), payload.subarray(0, 125)]);
}

/** One client frame (masked or not, as wrangler sends both), or undefined until it is complete. */
function readFrame(buf: Buffer): { opcode: number; payload: Buffer; length: number } | undefined {
  if (buf.length < 2) return undefined;
  const opcode = (buf[0] ?? 0) & 0x0f;
  const masked = ((buf[1] ?? 0) & 0x80) !== 0;
  let len = (buf[1] ?? 0) & 0x7f;
  let at = 2;
  if (len === 126) {
    if (buf.length < 4) return undefined;
    len = buf.readUInt16BE(2);
    at = 4;
  } else if (len === 127) {
    if (buf.length < 10) return undefined;
    len = Number(buf.readBigUInt64BE(2));
    at = 10;
  }
  const maskAt = at;
  if (masked) at += 4;
  if (buf.length < at + len) return undefined;
  const payload = Buffer.from(buf.subarray(at, at + len));
  if (masked)
    for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] ?? 0) ^ (buf[maskAt + (i % 4)] ?? 0);
  return { opcode, payload, length: at + len };
}

/**
 * The tails of `wrangler tail`: sessions created through the API, the WebSocket (`trace-v1`) each
 * attaches to, and the events of the tailed Workers, sent as the JSON messages wrangler prints. The
 * server side of RFC 6455 needed for that: the handshake, unfragmented text frames out, and a close.
 */
export class TailHub {
  readonly #sessions = new Map<string, TailSession>();
  readonly #onChange: (scripts: string[]) => void;

  constructor(onChange: (scripts: string[]) => void) {
    this.#onChange = onChange;
  }

  /** The scripts with an open session. */
  scripts(): string[] {
    this.#expire();
    return [...new Set([...this.#sessions.values()].map((s) => s.script))];
  }

  /** Opens a session for `script`. */
  open(script: string): { id: string; expires_at: string } {
    const id = randomHex32();
    const expires = Date.now() + TAIL_TTL_MS;
    const before = this.scripts().includes(script);
    this.#sessions.set(id, { id, script, expires, sockets: new Set() });
    if (!before) this.#onChange(this.scripts());
    return { id, expires_at: new Date(expires).toISOString() };
  }

  /** The open sessions of `script`. */
  list(script: string): Array<{ id: string; expires_at: string }> {
    this.#expire();
    return [...this.#sessions.values()]
      .filter((s) => s.script === script)
      .map((s) => ({ id: s.id, expires_at: new Date(s.expires).toISOString() }));
  }

  /** Closes a session and its sockets; false when there is none. */
  close(id: string): boolean {
    const session = this.#sessions.get(id);
    if (!session) return false;
    this.#sessions.delete(id);
    for (const socket of session.sockets) socket.end(Buffer.from([0x88, 0x00]));
    if (!this.scripts().includes(session.script)) this.#onChange(this.scripts());
    return true;
  }

  /** Closes every session (the server is stopping). */
  closeAll(): void {
    for (const id of [...this.#sessions.keys()]) this.close(id);
  }

  /** Completes the WebSocket handshake of session `id` on an upgraded socket. */
  attach(id: string, req: IncomingMessage, socket: Socket): void {
    const session = this.#sessions.get(id);
    const key = req.headers["sec-websocket-key"];
    if (!session || typeof key !== "string") {
      socket.end("HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n");
      return;
    }
    const accept = createHash("sha1")
      .update(key + WS_GUID)
      .digest("base64");
    const protocol = String(req.headers["sec-websocket-protocol"] ?? "").includes("trace-v1")
      ? "Sec-WebSocket-Protocol: trace-v1\r\n"
      : "";
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${protocol}\r\n`,
    );
    session.sockets.add(socket);
    let pending = Buffer.alloc(0);
    socket.on("data", (data: Buffer) => {
      pending = Buffer.concat([pending, data]);
      for (;;) {
        const parsed = readFrame(pending);
        if (!parsed) break;
        pending = pending.subarray(parsed.length);
        // wrangler pings to keep the tail alive and gives up without a pong; a close frame ends it.
        if (parsed.opcode === 0x9) socket.write(control(0x8a, parsed.payload));
        else if (parsed.opcode === 0x8) socket.end(control(0x88, Buffer.alloc(0)));
      }
    });
    const drop = () => {
      session.sockets.delete(socket);
      // A tail whose client went away without deleting it (killed, crashed) is closed after a grace
      // period that covers wrangler's reconnects, so the Worker stops paying for the tail consumer.
      if (session.sockets.size === 0) {
        setTimeout(() => {
          if (session.sockets.size === 0 && this.#sessions.get(session.id) === session)
            this.close(session.id);
        }, ORPHAN_GRACE_MS).unref();
      }
    };
    socket.on("close", drop);
    socket.on("error", drop);
  }

  /** Sends one event of `script` to every socket following it. */
  publish(script: string, event: TailEvent): void {
    const targets = [...this.#sessions.values()].filter((s) => s.script === script);
    if (targets.length === 0) return;
    const text = JSON.stringify({
      outcome: "ok",
      eventTimestamp: Date.now(),
      logs: [],
      exceptions: [],
      ...event,
      scriptName: script,
    });
    const bytes = frame(text);
    for (const s of targets) for (const socket of s.sockets) if (!socket.destroyed) socket.write(bytes);
  }

  #expire(): void {
    const now = Date.now();
    for (const s of this.#sessions.values()) if (s.expires < now) this.#sessions.delete(s.id);
  }
}
