/** The outbox thread's entry (OUTBOX_RUNNER=thread, see outbox-thread.ts): an app that only delivers. */
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { buildApp } from "./app.js";
import type { Config } from "./config.js";

if (!isMainThread && parentPort) {
  const port = parentPort;
  const config = (workerData as { config: Config }).config;
  // Its events go to the request thread, which relays them (Redis included): no Redis link of its own.
  const app = await buildApp(
    { ...config, redisUrl: null, delivery: { ...config.delivery, runner: "inline" } },
    { announce: () => {}, eventsTo: { publish: (events) => port.postMessage({ events }) } },
  );
  app.dispatcher.start();
  port.on("message", (m) => {
    if (m === "wake") app.dispatcher.wake();
    else if (m?.heard) app.store.heard(m.heard);
    else if (m === "stop") app.stop().then(() => port.close());
  });
  port.postMessage({ ready: true });
}
