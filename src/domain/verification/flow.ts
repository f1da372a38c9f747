import { z } from "zod";
import { randomBytes } from "node:crypto";
import { type SnaCarrier, type SnaRequest, snaErrors } from "./sna.js";
import type { CheckOutcome, CheckSubject, SnaPlan, VerificationStore, FraudStore } from "../ports/index.js";
import { allowsPsd2, carriesAppHash, choosesSender, dialsDigits, fraudGuarded, geoChannelOf, isTextOnly } from "../channels.js";
import type { Clock } from "../clock.js";
import { codeMatches, generateNumericCode, hashApiKey, hashCode, type Keyring, limitValueHash, safeEqual, seal } from "../crypto.js";
import { VerifyError, invalidParameter, notFound } from "../errors.js";
import { isSid, newSid } from "../ids.js";
import { friendlyName, localeTag, rateLimitName } from "../service/settings.js";
import type { ChannelName, DeliveryChannel, DeliveryOptions, FraudBlock, Service, Verification, VerificationStatus } from "../types.js";
import { parseInput } from "../validation.js";
import { lookupOf, parseEmail, parsePhone, type PhoneNumber } from "./address.js";
import { blockStanding, destinationPrefix, fraudWindows, judgeTraffic } from "../policy/fraud.js";
import type { LimitCheck, RateLimits } from "../policy/limits.js";
import type { CarrierLookup } from "../policy/lookup.js";
import type { TemplateChoice } from "../template/templates.js";

export interface VerificationFlowDeps {
  store: VerificationStore & FraudStore;
  clock: Clock;
  keys: Keyring;
  /** Which channels this gateway can deliver, and to which kind of address. */
  addressKind: (channel: DeliveryChannel) => "phone" | "email";
  /**
   * The domain of the address a channel's transport sends from (SMTP: EMAIL_FROM's); null when it has
   * none (the dev outbox). A start may choose another From address at that domain only.
   */
  senderDomain: (channel: DeliveryChannel) => string | null;
  services: { require(sid: string): Promise<Service> };
  /** The account's safe list (Twilio's SafeList/Numbers), beside each service's own. */
  accountSafeList: { has(e164: string): Promise<boolean> };
  /** The service's message templates: which one a start uses (src/domain/template). */
  templates: { choose(service: Service, channel: string, templateSid: string | null, substitutions: unknown): Promise<TemplateChoice | null> };
  /** Counters for per-to / per-IP / per-service and programmable rate limits. */
  rateLimits: RateLimits;
  /** Carrier names for `lookup` (none by default). */
  carrierLookup: CarrierLookup;
  /** A start refused by a protection (metrics: blocks by reason). */
  onBlocked?: (reason: BlockReason) => void;
  sna: {
    carrier: SnaCarrier;
    /** Where SNA URLs point: PUBLIC_URL, else the listening address. */
    publicUrl: () => string;
    /** AUTO: how long SNA may take before SMS takes over. */
    fallbackMs: number;
  };
}

const optionalText = (max: number) => z.string().trim().min(1).max(max).nullish();

const startInput = z.object({
  serviceSid: z.string(),
  to: z.string().max(320),
  channel: z.string(),
  locale: localeTag.nullish(),
  customFriendlyName: friendlyName.nullish(),
  customCode: z
    .string()
    .regex(/^[0-9A-Za-z]{4,10}$/, "must be 4 to 10 letters or digits")
    .nullish(),
  amount: optionalText(32),
  payee: optionalText(64),
  appHash: z
    .string()
    .regex(/^[A-Za-z0-9+/]{11}$/, "must be the 11-character SMS Retriever hash")
    .nullish(),
  deviceIp: z.union([z.ipv4(), z.ipv6()], { error: "must be an IPv4 or IPv6 address" }).nullish(),
  enableSnaClientToken: z.boolean().nullish(),
  tags: z
    .record(z.string().max(128), z.string().max(128))
    .refine((tags) => Object.keys(tags).length <= 10, "at most 10 tags")
    .nullish(),
  riskCheck: z.enum(["ENABLE", "DISABLE"]).nullish(),
  templateSid: z.string().max(64).nullish(),
  templateCustomSubstitutions: z.unknown().optional(),
  rateLimits: z
    .record(z.string().regex(rateLimitName, "names are 1 to 64 letters, digits, -, _ or ."), z.union([z.string().min(1).max(256), z.number().finite()]).transform(String))
    .refine((limits) => Object.keys(limits).length <= 20, "at most 20 rate limits")
    .nullish(),
  sendDigits: z
    .string()
    .regex(/^[0-9wW#*]{1,32}$/, "up to 32 of 0-9, #, * and w (a half-second pause)")
    .nullish(),
  emailFrom: z.string().max(254).nullish(),
  // A display name only: no line breaks or control characters (header injection), and nothing that makes
  // it read as an address (`<`, `>`, `@`, `"`): "Chase <alerts@chase.com>" would spoof the sender in many clients.
  emailFromName: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .refine((name) => ![...name].some((ch) => ch < " " || ch === "\u007f" || '<>@"'.includes(ch)), 'must be a display name: no line breaks, and none of < > @ "')
    .nullish(),
});

export type BlockReason = "rate_limit" | "geo" | "fraud_guard" | "landline" | "premium_number";
const blockReasons: Partial<Record<string, BlockReason>> = {
  RATE_LIMITED: "rate_limit",
  GEO_BLOCKED: "geo",
  FRAUD_BLOCKED: "fraud_guard",
  LANDLINE_NOT_SUPPORTED: "landline",
};

const checkInput = z.object({
  serviceSid: z.string(),
  to: z.string().max(320).nullish(),
  verificationSid: z.string().nullish(),
  code: z
    .string()
    .regex(/^[0-9A-Za-z]{4,10}$/, "must be 4 to 10 letters or digits")
    .nullish(),
  amount: optionalText(32),
  payee: optionalText(64),
  snaClientToken: z.string().max(128).nullish(),
});

/** Why a verification cannot be checked or changed, as the error clients see. */
function refusal(reason: "NOT_FOUND" | VerificationStatus): VerifyError {
  switch (reason) {
    case "APPROVED":
      return new VerifyError("VERIFICATION_ALREADY_APPROVED", "The verification is already approved.");
    case "CANCELED":
      return new VerifyError("VERIFICATION_CANCELED", "The verification was canceled.");
    case "EXPIRED":
      return new VerifyError("VERIFICATION_EXPIRED", "The verification has expired; start a new one.");
    case "MAX_ATTEMPTS_REACHED":
      return new VerifyError("MAX_CHECK_ATTEMPTS_REACHED", "Max check attempts reached; start a new verification once this one expires.");
    default:
      return notFound("Verification");
  }
}

/** Start, check, approve or cancel an OTP verification (DESIGN.md "The way a verification travels"). */
export class VerificationFlow {
  constructor(private readonly deps: VerificationFlowDeps) {}

  async start(raw: unknown): Promise<Verification> {
    try {
      return await this.startChecked(raw);
    } catch (error) {
      if (error instanceof VerifyError) {
        const reason = error.details.blockReason ?? blockReasons[error.code];
        if (reason) this.deps.onBlocked?.(reason);
      }
      throw error;
    }
  }

  private async startChecked(raw: unknown): Promise<Verification> {
    const input = parseInput(startInput, raw);
    const service = await this.deps.services.require(input.serviceSid);
    const requested = input.channel as ChannelName;
    if (!service.channels.includes(requested)) throw new VerifyError("CHANNEL_DISABLED", `Channel ${requested} is disabled for this service.`);
    if (input.enableSnaClientToken && requested !== "SNA" && requested !== "AUTO") {
      throw invalidParameter("enableSnaClientToken", "Invalid parameter `enableSnaClientToken`: only SNA and AUTO verifications use it.");
    }
    // AUTO: SNA when the carrier can reach the device's IP, SMS at once otherwise (or for PSD2).
    const sna = requested === "SNA" || (requested === "AUTO" && service.channels.includes("SNA") && !service.psd2Enabled && !!input.deviceIp && (await this.deps.sna.carrier.covers(input.deviceIp)));
    const channel: DeliveryChannel | "SNA" = sna ? "SNA" : requested === "AUTO" ? "SMS" : (requested as DeliveryChannel);
    if (requested === "AUTO" && !sna && !service.channels.includes("SMS"))
      throw new VerifyError("CHANNEL_DISABLED", "AUTO needs SMS for devices SNA cannot reach, and SMS is disabled for this service.");
    if (channel === "SNA" && service.psd2Enabled) throw invalidParameter("channel", "Invalid parameter `channel`: PSD2 verifications cannot use SNA.");
    const { to, phone } = this.address(channel, input.to);
    // Test numbers: the fixed code, the dev outbox, and none of the protections below.
    const testNumber = service.testNumbers.find((n) => n.to === to) ?? null;
    if (isTextOnly(channel) && service.skipSmsToLandlines && phone?.lineType === "FIXED_LINE" && !testNumber) {
      throw new VerifyError("LANDLINE_NOT_SUPPORTED", "SMS cannot reach a landline; use CALL for this number.");
    }
    if (input.customCode && !service.customCodeEnabled) {
      throw invalidParameter("customCode", "Invalid parameter `customCode`: custom codes are not enabled for this service.");
    }
    if (input.appHash && !carriesAppHash(requested)) throw invalidParameter("appHash", "Invalid parameter `appHash`: only SMS carries an app hash.");
    const deliveryOptions = this.deliveryOptions(channel, input);
    const psd2 = this.psd2(service, channel, input.amount ?? null, input.payee ?? null);
    const template = await this.deps.templates.choose(service, channel, input.templateSid ?? null, input.templateCustomSubstitutions ?? null);
    const named = this.namedLimits(service, input.rateLimits ?? null);

    const now = this.deps.clock.now();
    if (!testNumber) {
      const skipRiskChecks = this.skipsRiskChecks(service, input.riskCheck ?? null, to, phone);
      // The account's safe list is read only when a protection would refuse (off the hot path), and once.
      let accountSafe: Promise<boolean> | null = null;
      const accountSafeListed = () => (accountSafe ??= this.deps.accountSafeList.has(to));
      if (phone && service.blockPremiumNumbers && (phone.lineType === "PREMIUM_RATE" || phone.lineType === "SHARED_COST")) {
        throw new VerifyError("INVALID_PARAMETER", "Invalid parameter `to`: premium-rate and shared-cost numbers are refused (blockPremiumNumbers).", { field: "to", blockReason: "premium_number" });
      }
      if (phone && !skipRiskChecks) await this.geo(service, channel, phone, accountSafeListed);
      if (phone && fraudGuarded(channel) && !skipRiskChecks && service.fraudGuard !== "OFF") await this.fraudGuard(service, phone, now, accountSafeListed);
      await this.deps.rateLimits.enforce([
        { scope: `${service.sid}:to`, valueHash: limitValueHash(this.deps.keys, to), buckets: service.rateLimits.perTo },
        // One counter for the whole service: nothing to hide in its key.
        { scope: `${service.sid}:service`, valueHash: "all", buckets: service.rateLimits.perService },
        ...(input.deviceIp ? [{ scope: `${service.sid}:ip`, valueHash: limitValueHash(this.deps.keys, input.deviceIp), buckets: service.rateLimits.perIp }] : []),
        ...named,
      ]);
    }
    const lookup = phone ? { ...lookupOf(phone), carrier: service.lookupEnabled && !testNumber ? await this.deps.carrierLookup.carrier(to) : null } : null;

    const snaLink = sna ? this.snaLink(input.enableSnaClientToken === true, requested === "AUTO" ? now + this.deps.sna.fallbackMs : null) : null;
    const sid = newSid("VE");
    const code = testNumber?.code ?? input.customCode ?? generateNumericCode(service.codeLength);
    const outcome = await this.deps.store.startVerification({
      serviceSid: service.sid,
      to,
      channel,
      attemptChannel: channel,
      attemptSid: newSid("VL"),
      sna: snaLink?.plan ?? null,
      // PSD2: a code authorises one transaction; another amount or payee is a new verification (Twilio
      // resends the first transaction's code, which then authorises what the payer did not see).
      resends: (pending) => pending.amount === psd2.amount && pending.payee === psd2.payee,
      now,
      sendWindowStart: now - service.ttlSeconds * 1000,
      // End-to-end suites start test numbers as often as they run.
      maxSendAttempts: testNumber ? Number.MAX_SAFE_INTEGER : service.maxSendAttempts,
      fresh: {
        sid,
        codeHash: hashCode(this.deps.keys, sid, code),
        codeSealed: seal(this.deps.keys, JSON.stringify({ code, appHash: input.appHash ?? null }), sid),
        codeLength: code.length,
        maxCheckAttempts: service.maxCheckAttempts,
        amount: psd2.amount,
        payee: psd2.payee,
        locale: input.locale ?? null,
        customFriendlyName: input.customFriendlyName ?? null,
        template,
        deliveryOptions,
        lookup: service.lookupEnabled ? lookup : null,
        tags: input.tags ?? null,
        expiresAt: now + service.ttlSeconds * 1000,
        country: phone?.country ?? null,
        prefix: phone ? destinationPrefix(phone.e164, phone.callingCode) : null,
        testMode: testNumber !== null,
      },
    });
    if (!outcome.ok) {
      throw new VerifyError("MAX_SEND_ATTEMPTS_REACHED", `Max send attempts reached: at most ${service.maxSendAttempts} sends to this recipient per ${service.ttlSeconds} seconds.`);
    }
    // The URL goes to the caller only, after the events (subscribers, webhooks) were made without it.
    return snaLink ? { ...outcome.verification, sna: { url: snaLink.url } } : outcome.verification;
  }

  async check(raw: unknown): Promise<Verification> {
    const input = parseInput(checkInput, raw);
    if (!isSid(input.serviceSid, "VA")) throw notFound("Service");
    if (!input.to && !input.verificationSid) throw invalidParameter("to", "Invalid parameter `to`: give `to` or `verificationSid`.");
    if (input.verificationSid && !isSid(input.verificationSid, "VE")) throw notFound("Verification");
    const code = input.code ?? null;
    const to = input.verificationSid ? null : this.anyAddress(input.to as string);
    const keys = this.deps.keys;
    const outcome: CheckOutcome = await this.deps.store.checkVerification(
      { serviceSid: input.serviceSid, sid: input.verificationSid ?? null, to, now: this.deps.clock.now(), acceptApprovedSna: code === null },
      (subject) => {
        if (subject.channel === "SNA") return this.judgeSna(subject, code, input.snaClientToken ?? null);
        if (code === null) throw invalidParameter("code", "Invalid parameter `code`: a code is required.");
        if (code.length !== subject.codeLength) {
          throw invalidParameter("code", `Invalid parameter \`code\`: this verification's code has ${subject.codeLength} characters.`);
        }
        if (subject.amount !== null && (input.amount == null || input.payee == null)) {
          throw invalidParameter(input.amount == null ? "amount" : "payee", "Invalid parameter: this PSD2 verification needs `amount` and `payee`.");
        }
        const psd2Matches = subject.amount === null || (subject.amount === input.amount && subject.payee === input.payee);
        // Compare the code even when PSD2 fails, so both paths take the same time.
        return codeMatches(keys, subject.sid, code, subject.codeHash) && psd2Matches;
      },
    );
    if (!outcome.ok) throw refusal(outcome.reason);
    return outcome.verification;
  }

  /**
   * The carrier has no code to compare: a check learns the SNA result. Before the URL was opened the
   * result is pending (60519, no attempt counted); with enableSnaClientToken the check must echo the token.
   */
  private judgeSna(subject: CheckSubject, code: string | null, clientToken: string | null): boolean | { notYet: number | null } {
    if (code !== null) throw invalidParameter("code", "Invalid parameter `code`: an SNA verification is approved by the carrier, not by a code.");
    if (subject.snaState === "confirmed" && subject.snaClientTokenRequired) {
      if (!clientToken) throw invalidParameter("snaClientToken", "Invalid parameter `snaClientToken`: this verification needs the token its SNA URL returned.");
      return safeEqual(hashApiKey(clientToken), subject.snaClientTokenHash ?? "");
    }
    // Polling before the URL is opened records "pending" once, not once per poll.
    const codes: number[] = subject.snaErrorCodes ? JSON.parse(subject.snaErrorCodes) : [];
    const alreadyPending = codes.at(-1) === snaErrors.RESULT_PENDING;
    return { notYet: subject.snaState === "failed" || alreadyPending ? null : snaErrors.RESULT_PENDING };
  }

  /** A new single-use SNA URL, answered once to the caller; only its token's hash is stored. */
  private snaLink(clientTokenRequired: boolean, fallbackAt: number | null): { plan: SnaPlan; url: string } {
    const token = randomBytes(24).toString("base64url");
    return { plan: { tokenHash: hashApiKey(token), clientTokenRequired, fallbackAt }, url: `${this.deps.sna.publicUrl()}/sna/${token}` };
  }

  /**
   * The device opened its SNA URL: the carrier says which number owns that data session. A match
   * approves at once (subscribers see it, no polling), or, with a client token, hands the token to the
   * device for the check. A failure is recorded; AUTO falls back to SMS, except when the carrier calls
   * the number invalid (60540: suspected fraud).
   */
  async openSna(token: string, request: SnaRequest): Promise<{ status: number; body: Record<string, unknown> }> {
    const session = await this.deps.store.openSnaSession(hashApiKey(token), this.deps.clock.now());
    if (session === null) return { status: 404, body: { error: "unknown SNA URL" } };
    if (session === "gone") return { status: 410, body: { error: "this SNA URL was already used or has expired" } };
    const identified = await this.deps.sna.carrier.identify(request);
    const errorCode = "errorCode" in identified ? identified.errorCode : identified.msisdn === session.to ? null : snaErrors.NUMBER_MISMATCH;
    const clientToken = errorCode === null && session.clientTokenRequired ? randomBytes(24).toString("base64url") : null;
    const fallback = errorCode !== null && session.autoFallback && errorCode !== snaErrors.NUMBER_INVALID;
    await this.deps.store.recordSnaResult({
      verificationSid: session.verificationSid,
      attemptSid: session.attemptSid,
      errorCode,
      clientTokenHash: clientToken ? hashApiKey(clientToken) : null,
      fallbackAttemptSid: fallback ? newSid("VL") : null,
      now: this.deps.clock.now(),
    });
    if (errorCode !== null) return { status: 200, body: { status: "failed", errorCode } };
    return { status: 200, body: clientToken ? { status: "verified", clientToken } : { status: "verified" } };
  }

  async setStatus(sid: string, status: "APPROVED" | "CANCELED", serviceScope: string | null): Promise<Verification> {
    if (!isSid(sid, "VE")) throw notFound("Verification");
    const outcome = await this.deps.store.setVerificationStatus({ sid, serviceSid: serviceScope, status, now: this.deps.clock.now() });
    if (!outcome.ok) throw refusal(outcome.reason);
    return outcome.verification;
  }

  /** Ends a Fraud Guard block now (a false positive); null when unknown or out of scope. */
  async liftFraudBlock(sid: string, serviceScope: string | null): Promise<FraudBlock | null> {
    if (!isSid(sid, "FB")) return null;
    const lifted = await this.deps.store.liftFraudBlock(sid, serviceScope, this.deps.clock.now());
    return lifted?.block ?? null;
  }

  async get(sid: string): Promise<Verification | null> {
    return isSid(sid, "VE") ? this.deps.store.getVerification(sid) : null;
  }

  /**
   * Digits a call dials and an email's sender, for the channels that take them. A From address must be
   * at the configured sender's domain: the gateway sends only as its operator's domain (SPF, DKIM and
   * DMARC pass for it) and is no relay for spoofing anyone else's.
   */
  private deliveryOptions(channel: DeliveryChannel | "SNA", input: Pick<z.output<typeof startInput>, "sendDigits" | "emailFrom" | "emailFromName">): DeliveryOptions | null {
    const { sendDigits, emailFromName } = input;
    if (sendDigits && !dialsDigits(channel)) throw invalidParameter("sendDigits", "Invalid parameter `sendDigits`: only a voice call dials digits.");
    for (const field of ["emailFrom", "emailFromName"] as const) {
      if (input[field] && !choosesSender(channel)) throw invalidParameter(field, `Invalid parameter \`${field}\`: only an email has a sender to choose.`);
    }
    let emailFrom: string | null = null;
    if (input.emailFrom) {
      emailFrom = parseEmail(input.emailFrom, "emailFrom");
      const domain = channel === "SNA" ? null : this.deps.senderDomain(channel);
      if (domain === null) throw invalidParameter("emailFrom", "Invalid parameter `emailFrom`: this gateway has no configured sender (EMAIL_FROM) whose domain it could share.");
      if (emailFrom.slice(emailFrom.lastIndexOf("@") + 1) !== domain.toLowerCase()) {
        throw invalidParameter("emailFrom", `Invalid parameter \`emailFrom\`: the sender must be an address at ${domain}, the configured sender's domain.`);
      }
    }
    const options: DeliveryOptions = {
      ...(sendDigits ? { sendDigits } : {}),
      ...(emailFrom ? { emailFrom } : {}),
      ...(emailFromName ? { emailFromName } : {}),
    };
    return Object.keys(options).length > 0 ? options : null;
  }

  private address(channel: DeliveryChannel, raw: string): { to: string; phone: PhoneNumber | null } {
    if (this.deps.addressKind(channel) === "email") return { to: parseEmail(raw), phone: null };
    const phone = parsePhone(raw);
    return { to: phone.e164, phone };
  }

  /**
   * RiskCheck=disable, or the number is on the service's safe list: geo permissions and Fraud Guard are
   * skipped. (A number on the account's safe list is let through by them where they would refuse.)
   */
  private skipsRiskChecks(service: Service, riskCheck: "ENABLE" | "DISABLE" | null, to: string, phone: PhoneNumber | null): boolean {
    if (riskCheck === "DISABLE") return true;
    return phone !== null && service.safeList.includes(to);
  }

  /** The service's geo permissions for this channel, by the number's country. */
  private async geo(service: Service, channel: DeliveryChannel | "SNA", phone: PhoneNumber, accountSafeListed: () => Promise<boolean>): Promise<void> {
    const geoChannel = geoChannelOf(channel);
    const rule = service.geoPermissions.find((g) => g.channel === geoChannel);
    if (!rule || (phone.country !== null && rule.allowedCountries.includes(phone.country))) return;
    if (await accountSafeListed()) return;
    throw new VerifyError("GEO_BLOCKED", `Delivery to ${phone.country ?? "this destination"} over ${geoChannel} is not permitted by the service's geo permissions.`);
  }

  /**
   * Fraud Guard (SMS): an active block of the destination prefix refuses at once; otherwise the prefix's
   * recent traffic is judged, and a verdict writes a block (and its event) before refusing.
   */
  private async fraudGuard(service: Service, phone: PhoneNumber, now: number, accountSafeListed: () => Promise<boolean>): Promise<void> {
    const prefix = destinationPrefix(phone.e164, phone.callingCode);
    const w = fraudWindows;
    const standing = blockStanding(await this.deps.store.fraudBlocks(service.sid, prefix, now - w.priorBlocksMs), now);
    let block = standing.active;
    if (!block) {
      const counts = await this.deps.store.prefixTraffic({
        serviceSid: service.sid,
        prefix,
        recentStart: standing.recentStart,
        maturedBefore: now - w.graceMs,
        historyStart: now - w.windowMs - w.historyMs,
        historyEnd: now - w.windowMs,
      });
      const traffic = { ...counts, priorBlocks: standing.priorBlocks };
      const verdict = judgeTraffic(service.fraudGuard, traffic);
      // A number on the account's safe list is never blocked, nor does it start a block.
      if (!verdict || (await accountSafeListed())) return;
      const recorded = await this.deps.store.recordFraudBlock(
        {
          sid: newSid("FB"),
          serviceSid: service.sid,
          prefix,
          reason: verdict.reason,
          severity: verdict.severity,
          level: service.fraudGuard,
          blockedUntil: now + verdict.durationMs,
          dateCreated: now,
          liftedAt: null,
        },
        { detail: verdict.detail, traffic },
      );
      block = recorded.block;
    }
    if (standing.active && (await accountSafeListed())) return;
    const retryAfterSeconds = Math.max(1, Math.ceil((block.blockedUntil - now) / 1000));
    throw new VerifyError("FRAUD_BLOCKED", `Fraud Guard blocked SMS to ${prefix}… (${block.reason}); retry later, use another channel, or safe-list the number.`, { retryAfterSeconds });
  }

  /** `rateLimits: { name: value }` against the service's programmable limits; an unknown name is an input error. */
  private namedLimits(service: Service, given: Record<string, string> | null): LimitCheck[] {
    if (!given) return [];
    return Object.entries(given).map(([name, value]) => {
      const limit = service.rateLimits.named.find((l) => l.uniqueName === name);
      if (!limit) throw invalidParameter("rateLimits", `Invalid parameter \`rateLimits\`: the service has no rate limit named ${name}.`);
      return { scope: `${service.sid}:named:${name}`, valueHash: limitValueHash(this.deps.keys, value), buckets: limit.buckets };
    });
  }

  /** A check names only `to`: an address with @ is an email, anything else must be a phone number. */
  private anyAddress(raw: string): string {
    return raw.includes("@") ? parseEmail(raw) : parsePhone(raw).e164;
  }

  private psd2(service: Service, channel: DeliveryChannel | "SNA", amount: string | null, payee: string | null) {
    if (!service.psd2Enabled) {
      if (amount !== null || payee !== null) {
        throw invalidParameter(amount !== null ? "amount" : "payee", "Invalid parameter: `amount` and `payee` need psd2Enabled on the service.");
      }
      return { amount: null, payee: null };
    }
    if (!allowsPsd2(channel)) throw invalidParameter("channel", `Invalid parameter \`channel\`: PSD2 verifications cannot be sent by ${channel === "CALL" ? "voice call" : channel}.`);
    if (amount === null) throw invalidParameter("amount", "Invalid parameter `amount`: required when PSD2 is enabled.");
    if (payee === null) throw invalidParameter("payee", "Invalid parameter `payee`: required when PSD2 is enabled.");
    return { amount, payee };
  }
}
