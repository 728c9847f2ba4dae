// A child process that serves Verdaccio from the config file named in argv[2] on 127.0.0.1, a port the
// OS picks, and prints {"port":N} on stdout once it listens. SIGTERM closes it. Started by
// ./registry.mjs; separate so that Verdaccio's logger and sockets never share the test's process.
import { runServer } from "verdaccio";

const server = await runServer(process.argv[2]);
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
const stop = () => {
  server.closeAllConnections?.();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
// The parent's end of stdin closes when it dies without stopping us: never outlive it.
process.stdin.on("end", stop);
process.stdin.resume();
