import type { IncomingMessage, ServerResponse } from "node:http";

/** A body past its route's cap (provider callbacks read theirs themselves): answered 413, not 400. */
export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`The request body is larger than ${limit} bytes.`);
  }
}

export const payloadTooLarge = (res: ServerResponse, limit: number) => {
  // The rest of the body is not read: the connection closes after the answer.
  res.writeHead(413, { "content-type": "application/json; charset=utf-8", connection: "close" });
  res.end(JSON.stringify({ errors: [{ message: `The request body is larger than ${limit} bytes.`, extensions: { code: "PAYLOAD_TOO_LARGE" } }] }));
};

/**
 * The whole body, or null once it grows past `limit` bytes, whether a length was declared or not (chunked):
 * nothing parses a body before it is known to fit.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  if (Number(req.headers["content-length"] ?? 0) > limit) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.off("data", onData);
      req.pause();
      resolve(null);
    };
    req.on("data", onData);
    req.once("end", () => resolve(Buffer.concat(chunks, size)));
    req.once("error", reject);
  });
}
