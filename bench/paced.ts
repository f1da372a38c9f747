import { Agent, request } from "node:http";

export interface PacedResult {
  sent: number;
  rate: number;
  p50: number;
  p99: number;
  errors: number;
}

/**
 * Open-loop load at an even rate: request i is due at start + i / rate, whatever happened to the ones
 * before it, and its latency runs from when it was due (so a stalled server is not hidden by requests
 * that were never sent: no coordinated omission). autocannon's `overallRate` sends each second's quota
 * in one burst at the start of the second, which measures a queue of bursts, not latency at a rate.
 */
export async function paced(options: {
  url: string;
  rate: number;
  seconds: number;
  headers: Record<string, string>;
  body: (i: number) => string;
  /** Sockets to the server (keep-alive); a request waits for a free one. */
  connections?: number;
  /** Called as each request is sent. */
  onSend?: (i: number) => void;
  /** Called as each answer arrives. */
  onResponse?: (i: number, status: number, body: string) => void;
}): Promise<PacedResult> {
  const target = new URL(options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections ?? 64 });
  const total = Math.round(options.rate * options.seconds);
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const start = performance.now();
  const inFlight = new Set<Promise<void>>();

  const send = (i: number) => {
    const due = start + (i * 1000) / options.rate;
    const body = options.body(i);
    options.onSend?.(i);
    const done = new Promise<void>((resolve) => {
      const req = request(
        { hostname: target.hostname, port: target.port, path: target.pathname, method: "POST", agent, headers: { ...options.headers, "content-length": Buffer.byteLength(body) } },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => (text += chunk));
          res.on("end", () => {
            latencies.push(performance.now() - due);
            if (res.statusCode !== 200 || text.includes('"errors"')) {
              errors++;
              if (process.env.BENCH_DEBUG && errors < 4) process.stderr.write(`paced: ${text.slice(0, 300)}\n`);
            }
            options.onResponse?.(i, res.statusCode ?? 0, text);
            resolve();
          });
        },
      );
      req.on("error", () => {
        errors++;
        resolve();
      });
      req.end(body);
    });
    inFlight.add(done);
    void done.then(() => inFlight.delete(done));
  };

  await new Promise<void>((resolve) => {
    const tick = () => {
      const elapsed = performance.now() - start;
      const due = Math.min(total, Math.floor((elapsed * options.rate) / 1000) + 1);
      while (next < due) send(next++);
      if (next >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  await Promise.all(inFlight);
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? Number.NaN;
  return { sent: total, rate: total / seconds, p50: pct(50), p99: pct(99), errors };
}
