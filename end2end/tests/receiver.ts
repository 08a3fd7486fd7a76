import { createServer, IncomingHttpHeaders, Server } from "node:http";
import { AddressInfo } from "node:net";
import { createHmac } from "node:crypto";

/** What a webhook receiver got. */
export type Received = { path: string; headers: IncomingHttpHeaders; body: string };

/** A webhook receiver on loopback: records every request, answers 200. */
export async function startReceiver(): Promise<{ url: (path: string) => string; got: Received[]; close: () => Promise<void> }> {
  const got: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      got.push({ path: req.url ?? "", headers: req.headers, body });
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}/${path}`,
    got,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Whether a request carries the HMAC-SHA256 of "timestamp.body" with `key`. */
export function signedWith(key: string, r: Received): boolean {
  const timestamp = String(r.headers["x-connector-timestamp"] ?? "");
  const expected = "sha256=" + createHmac("sha256", key).update(`${timestamp}.${r.body}`).digest("hex");
  return r.headers["x-connector-signature"] === expected;
}
