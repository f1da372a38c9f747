/**
 * The store as the domain sees it: narrow ports owned by the domain, one per consumer (as Ory Kratos'
 * persisters), implemented once in src/store/shared and run by each dialect's adapter. A domain module
 * asks for the ports it uses, never for the whole store.
 */
export type * from "./factors.js";
export type * from "./fraud.js";
export type * from "./insights.js";
export type * from "./outbox.js";
export type * from "./page.js";
export type * from "./services.js";
export type * from "./templates.js";
export type * from "./verifications.js";
export type * from "./webhooks.js";

import type { FactorStore } from "./factors.js";
import type { FraudStore } from "./fraud.js";
import type { InsightStore } from "./insights.js";
import type { OutboxStore } from "./outbox.js";
import type { ServiceStore } from "./services.js";
import type { TemplateStore } from "./templates.js";
import type { VerificationStore } from "./verifications.js";
import type { WebhookStore } from "./webhooks.js";

/** Every port at once: what an adapter implements. */
export type DomainStore = ServiceStore & VerificationStore & OutboxStore & FactorStore & WebhookStore & FraudStore & InsightStore & TemplateStore;
