import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import pino, { type Logger } from "pino";
import "./channels/registry.js";
import { addressOf, deliveryChannels } from "./domain/channels.js";
import { type Config, ConfigError } from "./config.js";
import { type Clock, systemClock } from "./domain/clock.js";
import { deriveKeyring, generateSecret, hashApiKey } from "./domain/crypto.js";
import type { EventSink } from "./domain/events.js";
import { AccountSafeList } from "./domain/service/safelist.js";
import { TemplateDirectory } from "./domain/template/templates.js";
import { ServiceDirectory } from "./domain/service/directory.js";
import { DEFAULT_SERVICE_NAME } from "./domain/service/settings.js";
import { VerificationFlow } from "./domain/verification/flow.js";
import { PasskeyFlow } from "./domain/factor/passkeys.js";
import { FactorFlow } from "./domain/factor/factors.js";
import { VerifyError } from "./domain/errors.js";
import { parseEmail, parsePhone } from "./domain/verification/address.js";
import { PushNotifier, loadVapidKeys } from "./providers/push/notifier.js";
import { type WebPushPolicy, enrolmentRefusal } from "./providers/push/endpoints.js";
import { CallScript } from "./channels/call/script.js";
import type { DeliveryChannel } from "./domain/types.js";
import { buildTransports, transportVariables } from "./providers/registry.js";
import { sandboxCarrier } from "./channels/sna/carrier.js";
import { callbackRoutes } from "./server/callbacks.js";
import { demoRoutes } from "./server/demo/routes.js";
import { consoleRoutes } from "./server/console.js";
import { restApi } from "./rest/index.js";
import type { IncomingMessage, ServerResponse } from "node:http";
import { ReceiptRecorder } from "./workers/receipts.js";
import { EventBus, fanOut } from "./realtime/bus.js";
import { RedisLink, RedisRelay, redisLimiter } from "./realtime/redis.js";
import type { Gateway } from "./schema/context.js";
import { gatewaySchema } from "./schema/index.js";
import { Authenticator } from "./server/auth.js";
import { buildHttp } from "./server/http.js";
import { Metrics } from "./server/metrics.js";
import type { Store } from "./store/port.js";
import { openStore } from "./store/open.js";
import { OutboxRunner } from "./workers/outbox/runner.js";
import { deliveryJob } from "./workers/jobs/delivery.js";
import { webhookJob } from "./workers/jobs/webhook.js";
import { snaFallbackJob } from "./workers/jobs/sna-fallback.js";
import { pushNoticeJob } from "./workers/jobs/push-notice.js";
import { challengeFallbackJob } from "./workers/jobs/challenge-fallback.js";
import { RateLimits } from "./domain/policy/limits.js";
import { newSid } from "./domain/ids.js";
import { WebhookDirectory } from "./domain/webhook/directory.js";
import { Records } from "./domain/records.js";
import { httpCarrierLookup, noCarrierLookup } from "./domain/policy/lookup.js";
import { ExpirySweeper } from "./workers/sweeper.js";
import { OutboxThread } from "./outbox-thread.js";

export interface AppOverrides {
  clock?: Clock;
  logger?: Logger;
  /** Where start-up notices (the admin key line, the dev outbox notice) go; stdout by default. */
  announce?: (line: string) => void;
  /** The outbox thread's app: its store's events go here (to the request thread) instead of a bus. */
  eventsTo?: EventSink;
}

export type App = Awaited<ReturnType<typeof buildApp>>;

/** The composition root's heart: wires store, bus, domain, workers and HTTP from a Config. */
export async function buildApp(config: Config, overrides: AppOverrides = {}) {
  const clock = overrides.clock ?? systemClock;
  const logger = overrides.logger ?? pino({ level: config.logLevel });
  const announce = overrides.announce ?? ((line: string) => process.stdout.write(`${line}\n`));

  // Owner-only: it holds the generated secret and, by default, the database (the mode is the most a
  // umask can leave, so a permissive umask cannot widen it).
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const keys = deriveKeyring(config.secret ?? loadOrCreateSecret(config.dataDir));
  let metricsRef: Metrics | undefined;
  const store = await openStore(config.database, storeTroubleReporter(logger), (reason, attempt) => {
    logger.warn({ reason, attempt }, "a PostgreSQL write was rolled back as a deadlock or serialization victim; it ran again");
    metricsRef?.storeRetried(reason);
  });

  // Between instances, Redis carries the events and the rate-limit counters; while it is away, each
  // instance carries on alone (its own subscribers, the store's counters).
  const redis = config.redisUrl ? new RedisLink(config.redisUrl, { logger, onFallback: (what) => metrics.fallback(what) }) : null;
  const relay = redis ? new RedisRelay(redis) : undefined;
  // Other instances' events also tell the store which of its cached services changed there.
  const bus = new EventBus(
    relay && {
      publish: (events) => relay.publish(events),
      onRemoteEvents: (deliver) =>
        relay.onRemoteEvents((events) => {
          store.heard(events);
          deliver(events);
        }),
    },
  );
  const dependencies = async () => ({ store: await reachable(store), ...(redis ? { redis: redis.up } : {}) });
  const metrics = new Metrics(
    () => bus.listeners,
    () => store.pendingJobCount(),
    dependencies,
  );
  metricsRef = metrics;
  let dispatcher: OutboxRunner | undefined;
  // Any event may have queued webhook deliveries with it (and starts queue messages): wake the outbox.
  const wakeDispatcher: EventSink = { publish: () => dispatcher?.wake() };
  // A silent challenge's fallback verification, once approved, approves its challenge.
  let factorsRef: FactorFlow | undefined;
  const fallbackApprovals: EventSink = {
    publish: (events) => {
      for (const e of events) {
        if (e.type === "verification.approved") factorsRef?.fallbackApproved(e.resourceSid).catch((error) => logger.error({ err: error }, "could not settle a fallback challenge"));
      }
    },
  };
  // With OUTBOX_RUNNER=thread, the thread is woken with every commit and its events come back here.
  const outboxThread: OutboxThread | null =
    config.delivery.runner === "thread" && !overrides.eventsTo
      ? new OutboxThread(
          config,
          () => sink,
          (error) => logger.fatal({ err: error }, "the outbox thread stopped: no message will be delivered by this instance"),
        )
      : null;
  const sink: EventSink = overrides.eventsTo ? fanOut(overrides.eventsTo, wakeDispatcher) : fanOut(bus, metrics, outboxThread ?? wakeDispatcher, fallbackApprovals);
  // Every write's events are published by the store after its commit; nothing else publishes them.
  store.publishTo(sink);

  const receipts = new ReceiptRecorder({ store, clock, logger });
  const transports = buildTransports({ config: config.delivery, store, clock, logger, onReceipt: (r) => receipts.record(r) });
  const devOutbox = transports.devChannels.length > 0;

  let listeningUrl = "";
  const publicUrl = () => config.publicUrl?.replace(/\/$/, "") ?? listeningUrl;
  const services = new ServiceDirectory({ store, clock });
  const accountSafeList = new AccountSafeList({ store, clock });
  const d = config.delivery;
  const carrier = sandboxCarrier({ ranges: d.sna.ranges, coverage: d.sna.coverage, testHeader: config.env !== "production" });
  // Rate-limit counters live in Redis when there is one, else in the store's own table: either way they
  // hold across restarts and across instances.
  const rateLimits = new RateLimits(redis ? (options) => redisLimiter(redis, options, store.rateLimiter(options)) : (options) => store.rateLimiter(options), (error) =>
    logger.error({ err: error }, "rate-limit store unavailable; the request was let through"),
  );
  const carrierLookup = config.lookup.url ? httpCarrierLookup(config.lookup.url, config.lookup.timeoutMs, (error) => logger.warn({ err: error }, "carrier lookup failed")) : noCarrierLookup;
  const templates = new TemplateDirectory({ store, clock, services });
  const verifications = new VerificationFlow({
    store,
    clock,
    keys,
    services,
    accountSafeList,
    templates,
    rateLimits,
    carrierLookup,
    onBlocked: (reason) => metrics.blocked(reason),
    addressKind: addressOf,
    senderDomain: (channel) => transports.providers[channel]?.senderDomain ?? null,
    sna: { carrier, publicUrl, fallbackMs: d.sna.fallbackMs },
  });
  const passkeys = new PasskeyFlow({
    store,
    clock,
    log: logger,
    services,
    relyingParty: {
      rpId: () => config.webauthn.rpId ?? (config.publicUrl ? new URL(config.publicUrl).hostname : "localhost"),
      origins: () => {
        if (config.webauthn.origins.length > 0) return config.webauthn.origins;
        if (config.publicUrl) return [new URL(config.publicUrl).origin];
        // Browsers treat localhost as a secure context; the demo page is opened there.
        const port = listeningUrl ? new URL(listeningUrl).port : String(config.port);
        return [`http://localhost:${port}`, `http://127.0.0.1:${port}`];
      },
    },
  });
  const webPushPolicy: WebPushPolicy = { allowInternal: config.webhookPrivateNetworks, hosts: config.webPush.hosts };
  const factors = new FactorFlow({
    store,
    clock,
    keys,
    log: logger,
    services,
    passkeys,
    startVerification: (input) => verifications.start(input),
    webPushEndpointRefusal: (endpoint) => enrolmentRefusal(endpoint, webPushPolicy),
    validateFallback: (channel, to) => {
      try {
        if (addressOf(channel) === "email") parseEmail(to);
        else parsePhone(to);
      } catch (error) {
        if (error instanceof VerifyError) throw new VerifyError(error.code, error.message.replace("`to`", "`fallback.to`"), { field: "fallback.to" });
        throw error;
      }
    },
  });
  factorsRef = factors;
  const notifier = new PushNotifier({
    vapid: await loadVapidKeys({ configured: config.webPush, store, keys }),
    subject: config.webPush.subject,
    caFile: config.webPush.caFile,
    webPushPolicy,
    logger,
    fcm: config.fcm,
    apns: config.apns,
  });
  const webhooks = new WebhookDirectory({ store, clock, keys, services, allowInternal: config.webhookPrivateNetworks });
  const gateway: Gateway = { records: new Records(store), services, accountSafeList, verifications, passkeys, factors, notifier, webhooks, templates, bus, keys, clock };

  const adminKeyHash = await bootstrapAdminKey(config, store, announce);
  const accountSid = await bootstrapAccountSid(config, store, announce);
  // The first start of an empty store creates "Default"; instances starting together elect one creator.
  if ((await store.countServices()) === 0) {
    const ticket = randomBytes(16).toString("hex");
    if ((await store.initSetting("default_service_creator", ticket)) === ticket) await services.create({ friendlyName: DEFAULT_SERVICE_NAME });
  }
  if (config.env === "production") await refuseDevOutboxInProduction(store, transports.devChannels);

  const callScript = new CallScript(keys, publicUrl);
  const retries = { maxTries: d.maxTries };
  const routing = { rcs: transports.rcs, whatsappFallbackToSms: d.whatsappFallbackToSms };
  dispatcher = new OutboxRunner({
    store,
    clock,
    logger,
    leaseMs: d.leaseMs,
    // One line per job kind.
    jobs: {
      delivery: deliveryJob({
        store,
        clock,
        keys,
        logger,
        providers: transports.providers,
        routing,
        callScript,
        testProvider: transports.devOutbox,
        sendTimeoutMs: d.timeoutMs,
        onDelivered: (channel, ms) => metrics.delivered(channel, ms),
        ...retries,
      }),
      webhook: webhookJob({
        store,
        clock,
        keys,
        logger,
        maxTries: config.webhookMaxTries,
        timeoutMs: d.timeoutMs,
        allowInternal: config.webhookPrivateNetworks,
        accountSid: () => accountSid,
      }),
      sna_fallback: snaFallbackJob({ store, clock, ...retries }),
      push_notify: pushNoticeJob({ store, clock, notifier, ...retries }),
      challenge_fallback: challengeFallbackJob({ factors, ...retries }),
    },
  });
  const sweeper = new ExpirySweeper({ store, clock, logger, intervalMs: config.sweepIntervalMs });
  const auth = new Authenticator({ store, keys, clock, adminKeyHash: () => adminKeyHash, accountSid: () => accountSid, deviceKey: (sid) => factors.deviceKey(sid), log: logger });
  let ready = false;
  const callbacks = callbackRoutes({ store, keys, callScript, receipts, verifications, httpProviderSecret: (d.env.HTTP_PROVIDER_SECRET as string | undefined) ?? null });
  const rest = restApi({ gateway, auth, logger, accountSid: () => accountSid, publicUrl, maxBodyBytes: config.http.maxBodyBytes });
  const operatorConsole = consoleRoutes();
  const routes = async (req: IncomingMessage, res: ServerResponse, url: URL) =>
    (await rest(req, res, url)) || (await operatorConsole(req, res, url)) || (config.env !== "production" && (await demoRoutes(req, res, url))) || callbacks(req, res, url);
  const http = buildHttp({
    schema: gatewaySchema({ devOutbox }),
    gateway,
    auth,
    metrics,
    logger,
    graphiql: config.graphiql,
    http: config.http,
    isReady: () => ready,
    dependencies,
    routes,
    limits: config.subscriptionLimits,
  });

  return {
    gateway,
    bus,
    store,
    dispatcher,
    sweeper,
    receipts,
    callScript,
    metrics,
    devOutbox,
    /** The node:http server (its limits are read by tests and by an embedding program). */
    httpServer: http.server,
    get url(): string {
      const address = http.server.address() as AddressInfo;
      const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
      return `http://${host}:${address.port}`;
    },
    async start(): Promise<void> {
      await new Promise<void>((resolve, reject) => {
        http.server.once("error", reject);
        http.server.listen(config.port, config.host, () => resolve());
      });
      listeningUrl = this.url;
      if (outboxThread) await outboxThread.start();
      else if (d.runner !== "off" || overrides.eventsTo) dispatcher.start();
      sweeper.start();
      ready = true;
      logger.info({ url: `${this.url}/graphql` }, "verigate listening");
      if (transports.devChannels.length === deliveryChannels().length) {
        announce(`Every channel (${transports.devChannels.join(", ")}) delivers into the dev outbox: read messages with the devOutbox query. No message leaves this machine.`);
      } else if (devOutbox) {
        announce(
          `${transports.devChannels.join(", ")} deliver${transports.devChannels.length === 1 ? "s" : ""} into the dev outbox (read it with the devOutbox query); the other channels use real transports.`,
        );
      }
    },
    async stop(): Promise<void> {
      ready = false;
      await http.close();
      await dispatcher.stop();
      await outboxThread?.stop();
      await sweeper.stop();
      await receipts.idle();
      await transports.close();
      notifier.close();
      await store.close();
      redis?.close();
    },
  };
}

/** Does the store answer within 2 s? (A database that hangs must not hang /health with it.) */
async function reachable(store: Store): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("no answer")), 2000);
  });
  try {
    await Promise.race([store.ping(), timeout]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * PostgreSQL connections lost or refused, said at warn at most every 5 s with how many there were: an
 * outage of a minute under load is a few lines, not thousands. The pool reconnects by itself.
 */
function storeTroubleReporter(logger: Logger): (error: unknown) => void {
  let last = 0;
  let unreported = 0;
  return (error) => {
    unreported++;
    const now = Date.now();
    if (now - last < 5000) return;
    logger.warn({ err: error, failures: unreported }, "PostgreSQL connection lost or refused; requests that need it answer SERVICE_UNAVAILABLE until it is back");
    last = now;
    unreported = 0;
  };
}

/** In production every channel a service enables must reach a real transport. */
async function refuseDevOutboxInProduction(store: Store, devChannels: DeliveryChannel[]): Promise<void> {
  const enabled = new Set<string>();
  for (let page = await store.listServices({ first: 100, after: null }); ; page = await store.listServices({ first: 100, after: page.endCursor })) {
    for (const { node } of page.edges) for (const c of node.channels) enabled.add(c);
    if (!page.hasNextPage) break;
  }
  const missing = devChannels.filter((c) => enabled.has(c));
  if (missing.length === 0) return;
  await store.close();
  throw new ConfigError(missing.map((c) => `NODE_ENV=production needs a real provider for ${c} (set ${transportVariables(c)}, or disable ${c} on every service)`));
}

/** VERIGATE_SECRET, or a secret generated once into DATA_DIR (readable by the owner only). */
function loadOrCreateSecret(dataDir: string): string {
  const file = join(dataDir, "secret");
  if (!existsSync(file)) writeFileSync(file, generateSecret(), { mode: 0o600, flag: "wx" });
  return readFileSync(file, "utf8").trim();
}

/** The account sid of the Twilio-compatible REST API: VERIGATE_ACCOUNT_SID, or made on the first start and printed once. */
async function bootstrapAccountSid(config: Config, store: Store, announce: (line: string) => void): Promise<string> {
  if (config.accountSid) return config.accountSid;
  const existing = await store.getSetting("account_sid");
  if (existing) return existing;
  const made = newSid("AC");
  const stored = await store.initSetting("account_sid", made);
  if (stored === made) announce(`Account sid: ${made}`);
  return stored;
}

/** The admin key: from VERIGATE_ADMIN_KEY, or generated on the first start and printed exactly once. */
async function bootstrapAdminKey(config: Config, store: Store, announce: (line: string) => void): Promise<string> {
  if (config.adminKey) return hashApiKey(config.adminKey);
  const existing = await store.getSetting("admin_key_hash");
  if (existing) return existing;
  const key = `vga_${randomBytes(32).toString("base64url")}`;
  const stored = await store.initSetting("admin_key_hash", hashApiKey(key));
  if (stored === hashApiKey(key)) announce(`Admin key: ${key}`);
  return stored;
}
