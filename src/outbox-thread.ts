import { Worker } from "node:worker_threads";
import type { Config } from "./config.js";
import type { EventSink } from "./domain/events.js";
import type { VerifyEvent } from "./domain/types.js";

/**
 * OUTBOX_RUNNER=thread: the outbox runs in a worker thread with its own app (its own store connection,
 * transports and job kinds; no HTTP), off the request thread. The request thread wakes it after every
 * commit (coalesced per turn of the event loop); the events its deliveries commit come back and are
 * published here (subscribers, metrics, webhooks' wake-up).
 */
export class OutboxThread implements EventSink {
  private worker: Worker | null = null;
  private waking = false;

  constructor(
    private readonly config: Config,
    private readonly sink: () => EventSink,
    private readonly onExit: (error: unknown) => void,
  ) {}

  async start(): Promise<void> {
    // Run from TypeScript (tsx), the thread registers tsx before it loads this file.
    const entry = new URL(`./outbox-thread-main${import.meta.url.slice(import.meta.url.lastIndexOf("."))}`, import.meta.url).href;
    const self = JSON.stringify(entry);
    const code = entry.endsWith(".ts") ? `import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))}).then((m) => { m.register(); return import(${self}); })` : `import(${self})`;
    const worker = new Worker(code, { eval: true, workerData: { config: this.config } });
    this.worker = worker;
    await new Promise<void>((resolve, reject) => {
      worker.once("error", reject);
      worker.once("exit", (code) => reject(new Error(`the outbox thread exited (${code})`)));
      worker.on("message", (m: { ready?: true; events?: VerifyEvent[] }) => {
        if (m.ready) resolve();
        else if (m.events) this.sink().publish(m.events);
      });
    });
    // A thread that dies after start-up stops every delivery: said loudly, never silently.
    worker.on("error", (error) => this.onExit(error));
    worker.on("exit", (code) => {
      if (this.worker === worker) this.onExit(new Error(`the outbox thread exited (${code})`));
    });
  }

  publish(events: readonly VerifyEvent[]): void {
    // The thread's store caches services too: a change made here reaches it before its next delivery.
    const changed = events.filter((e) => e.type === "service.updated" || e.type === "service.deleted");
    if (changed.length > 0) this.worker?.postMessage({ heard: changed });
    if (this.waking || !this.worker) return;
    this.waking = true;
    setImmediate(() => {
      this.waking = false;
      this.worker?.postMessage("wake");
    });
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = null;
    const exited = new Promise((resolve) => worker.once("exit", resolve));
    worker.postMessage("stop");
    await exited;
  }
}
