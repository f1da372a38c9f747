/**
 * The device kit: what a phone or browser app does for push and silent approval, in ~150 lines a
 * developer can read and port. It runs in browsers and Node alike (WebCrypto through `jose`):
 *
 *   const key = await generateDeviceKey();                       // P-256, kept on the device
 *   const device = await DeviceClient.enroll({ url, token, serviceSid, identity, friendlyName, key });
 *   for (const c of await device.pendingChallenges()) await device.answer(c, "approved");
 *
 * Signing rules (API.md "Push"): every JWS is compact ES256 with header {"alg":"ES256","typ":"JWT"};
 * device tokens carry { sub: factorSid, iat, exp } (≤ 10 min); an answer's claims are the challenge's
 * `signedFields` with the values the API returned for them, plus `status: "approved" | "denied"`.
 */
import { CompactSign, type CryptoKey, type JWK, SignJWT, exportJWK, exportSPKI, generateKeyPair, importJWK } from "jose";

export interface DeviceKey {
  privateKey: CryptoKey;
  /** What createFactor's push.publicKey takes: base64 DER SubjectPublicKeyInfo. */
  publicKey: string;
}

export async function generateDeviceKey(): Promise<DeviceKey> {
  const pair = await generateKeyPair("ES256", { extractable: true });
  return { privateKey: pair.privateKey, publicKey: await spkiBase64(pair.publicKey) };
}

/** For storage on the device (the CLI keeps it in a 0600 file; an app would use its keystore). */
export async function exportDeviceKey(key: DeviceKey): Promise<JWK> {
  return exportJWK(key.privateKey);
}

export async function importDeviceKey(jwk: JWK): Promise<DeviceKey> {
  const privateKey = (await importJWK(jwk, "ES256", { extractable: true })) as CryptoKey;
  const { d: _d, ...publicJwk } = jwk;
  const publicKey = (await importJWK(publicJwk, "ES256", { extractable: true })) as CryptoKey;
  return { privateKey, publicKey: await spkiBase64(publicKey) };
}

async function spkiBase64(publicKey: CryptoKey): Promise<string> {
  return (await exportSPKI(publicKey)).replace(/-----(BEGIN|END) PUBLIC KEY-----|\s/g, "");
}

const header = { alg: "ES256", typ: "JWT" } as const;

/** A device token (also verifyFactor's proof of possession): { sub: factorSid, iat, exp }. */
export async function deviceToken(factorSid: string, key: DeviceKey, o: { ttlSeconds?: number; now?: number } = {}): Promise<string> {
  const iat = Math.floor((o.now ?? Date.now()) / 1000);
  return new SignJWT({})
    .setProtectedHeader(header)
    .setSubject(factorSid)
    .setIssuedAt(iat)
    .setExpirationTime(iat + (o.ttlSeconds ?? 300))
    .sign(key.privateKey);
}

/** The challenge as the API returned it: at least its signedFields and their values. */
export type ChallengeView = { sid: string; signedFields: string[] } & Record<string, unknown>;

/** An answer: the signed fields' values exactly as returned, plus the decision. */
export async function signAnswer(challenge: ChallengeView, status: "approved" | "denied", key: DeviceKey): Promise<string> {
  const claims: Record<string, unknown> = {};
  for (const field of challenge.signedFields) claims[field] = challenge[field] ?? null;
  claims.status = status;
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims))).setProtectedHeader(header).sign(key.privateKey);
}

/** Every field a device shows or signs; ask for all of them, or the signature will not match. */
export const CHALLENGE_FIELDS = "sid factorSid serviceSid status silent details { message fields { label value } } hiddenDetails dateCreated expiresAt signedFields";

export class DeviceError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

async function graphql<T>(url: string, token: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch(`${url.replace(/\/$/, "")}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
  if (body.errors?.length) throw new DeviceError(body.errors[0].message, body.errors[0].extensions?.code);
  return body.data as T;
}

/** A push device talking to a gateway with its own key (no service key on the device). */
export class DeviceClient {
  constructor(
    readonly url: string,
    readonly factorSid: string,
    readonly key: DeviceKey,
  ) {}

  /**
   * Enrols this device: createFactor with an access token (createAccessToken, made by your backend) or
   * a service key, then verifyFactor with a proof signed by the new key.
   */
  static async enroll(o: {
    url: string;
    token: string;
    serviceSid: string;
    identity: string;
    friendlyName: string;
    key?: DeviceKey;
    silentApproval?: boolean;
    /** A browser's PushSubscription.toJSON() (Web Push), or an FCM / APN registration token. */
    webPushSubscription?: unknown;
    notificationPlatform?: "WEBPUSH" | "FCM" | "APN" | "NONE";
    notificationToken?: string;
  }): Promise<DeviceClient> {
    const key = o.key ?? (await generateDeviceKey());
    const push = {
      publicKey: key.publicKey,
      silentApproval: o.silentApproval ?? false,
      ...(o.webPushSubscription ? { webPushSubscription: o.webPushSubscription } : {}),
      ...(o.notificationPlatform ? { notificationPlatform: o.notificationPlatform } : {}),
      ...(o.notificationToken ? { notificationToken: o.notificationToken } : {}),
    };
    const created = await graphql<{ createFactor: { factor: { sid: string } } }>(o.url, o.token, `mutation($input: CreateFactorInput!) { createFactor(input: $input) { factor { sid } } }`, {
      input: { serviceSid: o.serviceSid, identity: o.identity, friendlyName: o.friendlyName, factorType: "PUSH", push },
    });
    const device = new DeviceClient(o.url, created.createFactor.factor.sid, key);
    await device.request(`mutation($input: VerifyFactorInput!) { verifyFactor(input: $input) { status } }`, {
      input: { sid: device.factorSid, authPayload: await deviceToken(device.factorSid, key) },
    });
    return device;
  }

  /** A GraphQL request authenticated by a fresh device token. */
  async request<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    return graphql<T>(this.url, await deviceToken(this.factorSid, this.key, { ttlSeconds: 120 }), query, variables);
  }

  async pendingChallenges(): Promise<ChallengeView[]> {
    const data = await this.request<{ challenges: { nodes: ChallengeView[] } }>(`query($f: ID!) { challenges(factorSid: $f, status: PENDING, first: 100) { nodes { ${CHALLENGE_FIELDS} } } }`, {
      f: this.factorSid,
    });
    return data.challenges.nodes;
  }

  async challenge(sid: string): Promise<ChallengeView | null> {
    return (await this.request<{ challenge: ChallengeView | null }>(`query($sid: ID!) { challenge(sid: $sid) { ${CHALLENGE_FIELDS} } }`, { sid })).challenge;
  }

  async answer(challenge: ChallengeView, status: "approved" | "denied"): Promise<string> {
    const data = await this.request<{ updateChallenge: { status: string } }>(`mutation($input: UpdateChallengeInput!) { updateChallenge(input: $input) { status } }`, {
      input: { sid: challenge.sid, authPayload: await signAnswer(challenge, status, this.key) },
    });
    return data.updateChallenge.status;
  }

  /**
   * Watches for new challenges (a NONE device polls; a Web Push device would call `pendingChallenges` when
   * a notice arrives). Silent challenges are answered at once when `silent` says so; others go to `ask`.
   */
  listen(o: {
    intervalMs?: number;
    silent?: "approve" | "ignore";
    ask: (challenge: ChallengeView) => Promise<"approved" | "denied" | null>;
    onAnswered?: (challenge: ChallengeView, status: string) => void;
    onError?: (error: unknown) => void;
  }): () => void {
    const seen = new Set<string>();
    let stopped = false;
    const tick = async () => {
      for (const challenge of await this.pendingChallenges()) {
        if (seen.has(challenge.sid)) continue;
        seen.add(challenge.sid);
        const decision = challenge.silent && o.silent !== "ignore" ? "approved" : await o.ask(challenge);
        if (decision) o.onAnswered?.(challenge, await this.answer(challenge, decision));
      }
    };
    const loop = async () => {
      while (!stopped) {
        await tick().catch((error) => o.onError?.(error));
        await new Promise((r) => setTimeout(r, o.intervalMs ?? 1000));
      }
    };
    void loop();
    return () => {
      stopped = true;
    };
  }
}
