import twilio from "twilio";
import type RequestClient from "twilio/lib/base/RequestClient.js";
import { ADMIN_KEY, type TestGateway, startGateway } from "../support/gateway.js";
import { validateResponse } from "./openapi.js";

/** The account sid the test gateways answer with (VERIGATE_ACCOUNT_SID). */
export const ACCOUNT_SID = `AC${"0123456789abcdef".repeat(2)}`;
const TWILIO = "https://verify.twilio.com";

/**
 * The SDK's documented custom HTTP client: a RequestClient that sends Twilio's requests to Verigate
 * instead, and checks every answer against Twilio's OpenAPI description before the SDK sees it.
 */
export class VerigateRequestClient extends twilio.RequestClient {
  constructor(private readonly base: () => string) {
    super();
  }

  override async request<TData>(opts: RequestClient.RequestOptions<TData>) {
    const uri = opts.uri.startsWith(TWILIO) ? this.base() + opts.uri.slice(TWILIO.length) : opts.uri;
    const response = await super.request<TData>({ ...opts, uri });
    const url = new URL(uri);
    validateResponse(opts.method.toUpperCase(), url.pathname, response.statusCode, response.body);
    return response;
  }
}

export interface TwilioGateway {
  gw: TestGateway;
  /** The SDK as the account: account sid + admin key. */
  admin: twilio.Twilio;
  /** The SDK with an API key (SK… + secret) of one service. */
  withKey(keySid: string, secret: string): twilio.Twilio;
  /** A service key made over GraphQL (how an operator makes one). */
  apiKey(serviceSid: string): Promise<{ sid: string; key: string }>;
  close(): Promise<void>;
}

export async function twilioGateway(options: { env?: Record<string, string> } = {}): Promise<TwilioGateway> {
  const gw = await startGateway({ env: { VERIGATE_ACCOUNT_SID: ACCOUNT_SID, ...options.env } });
  const httpClient = new VerigateRequestClient(() => gw.url);
  return {
    gw,
    admin: twilio(ACCOUNT_SID, ADMIN_KEY, { httpClient }),
    withKey: (keySid, secret) => twilio(keySid, secret, { accountSid: ACCOUNT_SID, httpClient }),
    async apiKey(serviceSid) {
      const r = await gw.gql<{ createApiKey: { key: string; apiKey: { sid: string } } }>(
        "mutation($s: ID!) { createApiKey(input: { serviceSid: $s, name: \"sdk\" }) { key apiKey { sid } } }",
        { s: serviceSid },
      );
      if (!r.data) throw new Error(JSON.stringify(r.errors));
      return { sid: r.data.createApiKey.apiKey.sid, key: r.data.createApiKey.key };
    },
    close: () => gw.close(),
  };
}

/** The newest dev-outbox message to `to`, with its code. */
export async function lastCode(gw: TestGateway, to: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const r = await gw.gql<{ devOutbox: { code: string | null }[] }>("query($to: String) { devOutbox(to: $to, first: 1) { code } }", { to });
    const code = r.data?.devOutbox[0]?.code;
    if (code) return code;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no message to ${to} in the dev outbox`);
}
