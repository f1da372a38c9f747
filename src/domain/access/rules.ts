import { type Principal, forbidden, unauthenticated } from "./principal.js";

/**
 * Who may call each operation: the one home of that rule (API.md "Authentication", README "The API in
 * short"). The admin key may call every operation; a kind not listed is FORBIDDEN, and a caller without a
 * token is UNAUTHENTICATED unless `anonymous` is listed. A kind that is listed still reaches only its own
 * scope (its service, its verification or challenge, its factor): anything outside it is answered like an
 * unknown sid (see `inScope` and `canSee`). Every root field of the schema has a row here; the access
 * matrix test walks each one with every kind of token.
 */
export const accessRules = {
  // A service's settings, keys and history: admin and the service's own keys only.
  createService: [],
  deleteService: [],
  service: ["apiKey"],
  services: ["apiKey"],
  updateService: ["apiKey"],
  apiKeys: ["apiKey"],
  createApiKey: ["apiKey"],
  revokeApiKey: ["apiKey"],
  serviceEvents: ["apiKey"],
  events: ["apiKey"],
  verifications: ["apiKey"],
  verificationAttempts: ["apiKey"],
  verificationStats: ["apiKey"],
  fraudBlocks: ["apiKey"],
  liftFraudBlock: ["apiKey"],
  webhooks: ["apiKey"],
  webhookDeliveries: ["apiKey"],
  createWebhook: ["apiKey"],
  updateWebhook: ["apiKey"],
  deleteWebhook: ["apiKey"],
  testWebhook: ["apiKey"],
  retryWebhookDelivery: ["apiKey"],
  templates: ["apiKey"],
  createTemplate: ["apiKey"],
  updateTemplate: ["apiKey"],
  deleteTemplate: ["apiKey"],
  devOutbox: [],
  // Verifications: a backend starts them; a frontend holds the client token of one.
  startVerification: ["apiKey"],
  updateVerification: ["apiKey"],
  checkVerification: ["apiKey", "client"],
  verification: ["apiKey", "client"],
  verificationUpdated: ["apiKey", "client"],
  // Factors and challenges: an enrolling device app holds an access token, an enrolled one its device token.
  createAccessToken: ["apiKey"],
  createChallenge: ["apiKey"],
  createFactor: ["apiKey", "access"],
  factor: ["apiKey", "device"],
  challenges: ["apiKey", "device"],
  verifyFactor: ["apiKey", "device"],
  updateFactor: ["apiKey", "device"],
  deleteFactor: ["apiKey", "device"],
  challenge: ["apiKey", "client", "device"],
  updateChallenge: ["apiKey", "client", "device"],
  challengeUpdated: ["apiKey", "client", "device"],
  // Who a token is (the console shows it before asking for more).
  viewer: ["apiKey", "client", "access", "device"],
  // The VAPID key a browser subscribes with is public.
  webPushPublicKey: ["anonymous", "apiKey", "client", "access", "device"],
} as const satisfies Record<string, readonly Exclude<Principal["kind"], "admin">[]>;

export type Operation = keyof typeof accessRules;

/** The principals an operation admits: the admin and the kinds of its row. */
export type Granted<O extends Operation> = Extract<Principal, { kind: "admin" | (typeof accessRules)[O][number] }>;

/** Why a principal may not call an operation, or null when it may. */
export function refusal(principal: Principal, operation: Operation): "UNAUTHENTICATED" | "FORBIDDEN" | null {
  if (principal.kind === "admin" || (accessRules[operation] as readonly string[]).includes(principal.kind)) return null;
  return principal.kind === "anonymous" ? "UNAUTHENTICATED" : "FORBIDDEN";
}

/** The principal, narrowed to the kinds the operation admits; throws UNAUTHENTICATED or FORBIDDEN otherwise. */
export function authorize<O extends Operation>(principal: Principal, operation: O): Granted<O> {
  const refused = refusal(principal, operation);
  if (refused === "UNAUTHENTICATED") throw unauthenticated();
  if (refused === "FORBIDDEN") throw forbidden();
  return principal as Granted<O>;
}

/**
 * Account-wide settings no service owns (the account's safe list, Twilio's SafeList/Numbers): the admin
 * key only; any other caller is FORBIDDEN (a service key may not change what every service trusts).
 */
export function authorizeAccount(principal: Principal): Extract<Principal, { kind: "admin" }> {
  if (principal.kind === "anonymous") throw unauthenticated();
  if (principal.kind !== "admin") throw forbidden("Account-wide resources need the admin key.");
  return principal;
}

export const isOperation = (name: string): name is Operation => Object.hasOwn(accessRules, name);

/** Is this service inside the caller's scope? The admin's scope is every service; anyone else's, its own. */
export const inScope = (principal: Exclude<Principal, { kind: "anonymous" }>, serviceSid: string): boolean => principal.kind === "admin" || principal.serviceSid === serviceSid;

/** The service a caller is bound to (null: the admin, bound to none), to scope store lookups. */
export const serviceScope = (principal: Exclude<Principal, { kind: "anonymous" }>): string | null => (principal.kind === "admin" ? null : principal.serviceSid);

/** May this caller see this resource? Out of scope is answered exactly like unknown. */
export function canSee(principal: Principal, resource: { sid: string; serviceSid: string; factorSid?: string | null }): boolean {
  switch (principal.kind) {
    case "admin":
      return true;
    case "apiKey":
      return principal.serviceSid === resource.serviceSid;
    case "client":
      return principal.resourceSid === resource.sid && principal.serviceSid === resource.serviceSid;
    case "device":
      // Its own factor, and the challenges asked of it.
      return principal.serviceSid === resource.serviceSid && (principal.factorSid === resource.sid || principal.factorSid === resource.factorSid);
    default:
      return false;
  }
}
