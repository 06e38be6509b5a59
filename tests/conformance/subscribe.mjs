// One subscription through the reference npm clients: `graphql-ws` (graphql-transport-ws over
// the `ws` WebSocket) or `graphql-sse` (distinct connections mode).
//
//   node subscribe.mjs ws|sse <url> <query> <count>
//
// The token is CROSSDOCK_TOKEN. Prints "listening" on stderr once the client is connected,
// then one JSON line per event on stdout; after <count> events it disposes the client and
// exits 0. An error from the server prints {"error": ...} on stdout and exits 0 too: the
// test reads what the client saw.
import { createClient as createWsClient } from "graphql-ws";
import { createClient as createSseClient } from "graphql-sse";
import WebSocket from "ws";

const [mode, url, query, countText] = process.argv.slice(2);
const count = Number(countText);
const authorization = `Bearer ${process.env.CROSSDOCK_TOKEN}`;

function wsClient() {
  return createWsClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: { authorization },
    retryAttempts: 0,
    lazy: false,
    on: { connected: () => process.stderr.write("listening\n") },
  });
}

function sseClient() {
  return createSseClient({
    url,
    headers: { authorization },
    retryAttempts: 0,
    singleConnection: false,
  });
}

const client = mode === "ws" ? wsClient() : sseClient();
let seen = 0;
await new Promise((resolve) => {
  const stop = client.subscribe(
    { query },
    {
      next: (event) => {
        process.stdout.write(JSON.stringify(event) + "\n");
        seen += 1;
        if (seen >= count) {
          stop();
          resolve();
        }
      },
      error: (error) => {
        const detail = Array.isArray(error) ? error : String(error?.reason ?? error);
        process.stdout.write(JSON.stringify({ error: detail }) + "\n");
        resolve();
      },
      complete: resolve,
    },
  );
  if (mode === "sse") process.stderr.write("listening\n");
});
client.dispose();
process.exit(0);
