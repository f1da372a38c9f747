import { request } from "node:http";
import { type Socket, connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { ADMIN_KEY, START, type TestGateway, startGateway } from "./support/gateway.js";

// Small values, so that a cut is seen within the test's time.
const limits = { HTTP_HEADERS_TIMEOUT_MS: "500", HTTP_REQUEST_TIMEOUT_MS: "5000", HTTP_KEEP_ALIVE_TIMEOUT_MS: "1500" };

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway({ env: limits });
});
afterAll(async () => gw.close());

/** A startVerification request padded to `size` bytes with an ignored extension (still valid JSON). */
function startBody(to: string, size: number): string {
  const body = { query: START, variables: { input: { serviceSid: gw.defaultServiceSid, channel: "SMS", to } }, extensions: { pad: "" } };
  const base = JSON.stringify(body).length;
  body.extensions.pad = "x".repeat(Math.max(0, size - base));
  return JSON.stringify(body);
}

/** POSTs over a raw node:http request: with content-length, or chunked (no length declared up front). */
function post(path: string, body: string, chunked: boolean, to: TestGateway = gw): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  const url = new URL(path, to.url);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { "content-type": "application/json", authorization: `Bearer ${ADMIN_KEY}` };
    if (!chunked) headers["content-length"] = Buffer.byteLength(body);
    const req = request(url, { method: "POST", headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      res.on("error", reject);
    });
    // The server may answer (and close) before the whole body is sent: what it said is the result.
    req.on("error", reject);
    if (chunked) {
      for (let i = 0; i < body.length; i += 16 * 1024) req.write(body.slice(i, i + 16 * 1024));
      req.end();
    } else req.end(body);
  });
}

describe("request bodies are capped before parsing", () => {
  it.each([
    ["with content-length", false],
    ["chunked, with no length declared", true],
  ])("a body over 256 kB (%s) → 413 with a JSON error, and nothing is parsed or written", async (_label, chunked) => {
    const before = await gw.counts();
    const response = await post("/graphql", startBody("+14155550123", 300 * 1024), chunked);
    expect(response.status).toBe(413);
    expect(response.headers["content-type"]).toContain("application/json");
    expect(JSON.parse(response.text)).toEqual({ errors: [{ message: expect.stringMatching(/262144 bytes/), extensions: { code: "PAYLOAD_TOO_LARGE" } }] });
    await gw.app.dispatcher.idle();
    expect(await gw.counts()).toEqual(before);
  });

  it("a body just under the cap is served, chunked or not", async () => {
    for (const [to, chunked] of [["+14155550124", false], ["+14155550125", true]] as const) {
      const response = await post("/graphql", startBody(to, 250 * 1024), chunked);
      expect(response.status).toBe(200);
      expect(JSON.parse(response.text).data.startVerification.verification.to).toBe(to);
    }
  });

  it("a graphql-ws message over the cap closes the socket (1009) before it is parsed", async () => {
    const socket = new WebSocket(`${gw.url.replace("http", "ws")}/graphql`, "graphql-transport-ws");
    await new Promise((resolve, reject) => {
      socket.once("open", resolve);
      socket.once("error", reject);
    });
    const closed = new Promise<number>((resolve) => socket.once("close", (code) => resolve(code)));
    socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${ADMIN_KEY}`, pad: "x".repeat(300 * 1024) } }));
    expect(await closed).toBe(1009);
  });

  it("MAX_BODY_BYTES sets the cap, on every route", async () => {
    const small = await startGateway({ env: { MAX_BODY_BYTES: "2048" } });
    try {
      const body = JSON.stringify({ query: "{ __typename }", extensions: { pad: "x".repeat(3000) } });
      for (const path of ["/graphql", "/providers/http/status"]) {
        const response = await fetch(`${small.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body });
        expect(response.status).toBe(413);
        expect((await response.json()).errors[0].extensions.code).toBe("PAYLOAD_TOO_LARGE");
      }
      const fine = await fetch(`${small.url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query: "{ __typename }" }) });
      expect(await fine.json()).toEqual({ data: { __typename: "Query" } });
    } finally {
      await small.close();
    }
  });
});

describe("provider callbacks", () => {
  it("a chunked callback body over the callbacks' own 64 kB cap → 413 PAYLOAD_TOO_LARGE (was a bare 400)", async () => {
    // Delivery receipts are read only where an HTTP provider is configured (its secret signs them).
    const vendor = await startGateway({ env: { HTTP_SMS_URL: "http://127.0.0.1:9/sms", HTTP_PROVIDER_SECRET: `whsec_${Buffer.from("verigate-test-provider-secret-32b!").toString("base64")}` } });
    try {
      const response = await post("/providers/http/status", JSON.stringify({ messageId: "x", status: "delivered", pad: "x".repeat(80 * 1024) }), true, vendor);
      expect(response.status).toBe(413);
      expect(JSON.parse(response.text).errors[0]).toEqual({ message: expect.stringMatching(/65536 bytes/), extensions: { code: "PAYLOAD_TOO_LARGE" } });
    } finally {
      await vendor.close();
    }
  });
});

/** Opens a raw TCP connection and reports when the server closes it, and what it said before. */
function rawConnection(to: TestGateway = gw): Promise<{ socket: Socket; closed: Promise<{ afterMs: number; received: string }> }> {
  const url = new URL(to.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    let received = "";
    socket.setEncoding("utf8");
    socket.on("data", (d) => (received += d));
    const opened = Date.now();
    const closed = new Promise<{ afterMs: number; received: string }>((done) => socket.on("close", () => done({ afterMs: Date.now() - opened, received })));
    socket.once("connect", () => resolve({ socket, closed }));
    socket.once("error", reject);
  });
}

describe("connection hygiene", () => {
  it("the timeouts and the connection cap come from the configuration, set on the running server", () => {
    const server = gw.app.httpServer;
    expect(server.headersTimeout).toBe(500);
    expect(server.requestTimeout).toBe(5000);
    expect(server.keepAliveTimeout).toBe(1500);
  });

  it("the defaults are deliberate: 10 s for headers, 30 s for a request, 5 s keep-alive, 10,000 connections", async () => {
    const plain = await startGateway();
    try {
      const server = plain.app.httpServer;
      expect([server.headersTimeout, server.requestTimeout, server.keepAliveTimeout, server.maxConnections]).toEqual([10_000, 30_000, 5_000, 10_000]);
    } finally {
      await plain.close();
    }
  });

  it("a slow-loris client that never finishes its headers is cut after headersTimeout", async () => {
    const { socket, closed } = await rawConnection();
    socket.write("GET /health HTTP/1.1\r\nHost: gateway\r\nX-Slow: ");
    const { afterMs, received } = await closed;
    expect(afterMs).toBeGreaterThanOrEqual(400);
    expect(afterMs).toBeLessThan(5_000);
    expect(received).toMatch(/^HTTP\/1\.1 408/);
  });

  it("a connection past MAX_CONNECTIONS is closed at once; the ones inside the cap are served", async () => {
    // A gateway of its own: the suite's fetches keep connections of their own open to the shared one.
    const capped = await startGateway({ env: { MAX_CONNECTIONS: "4" } });
    try {
      expect(capped.app.httpServer.maxConnections).toBe(4);
      const held = await Promise.all(Array.from({ length: 4 }, () => rawConnection(capped)));
      // Each held connection is alive: it gets an answer and stays open (keep-alive).
      for (const { socket } of held) socket.write("GET /health HTTP/1.1\r\nHost: gateway\r\n\r\n");
      await new Promise((r) => setTimeout(r, 200));
      const extra = await rawConnection(capped);
      extra.socket.write("GET /health HTTP/1.1\r\nHost: gateway\r\n\r\n");
      const { received, afterMs } = await extra.closed;
      expect(received).toBe("");
      expect(afterMs).toBeLessThan(1_000);
      for (const { socket } of held) socket.destroy();
      // Once they are gone, new connections are served again.
      await new Promise((r) => setTimeout(r, 200));
      const again = await rawConnection(capped);
      again.socket.write("GET /health HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n\r\n");
      expect((await again.closed).received).toMatch(/^HTTP\/1\.1 200/);
    } finally {
      await capped.close();
    }
  });
});
