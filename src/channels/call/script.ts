import { createHmac } from "node:crypto";
import type { Keyring } from "../../domain/crypto.js";
import { safeEqual } from "../../domain/crypto.js";
import { fill, type Wording } from "../../i18n/catalogue.js";
import { spokenCode } from "./index.js";
import type { MessageInput } from "../channel.js";

/** What the call script needs about one send attempt. */
export interface CallContext {
  attemptSid: string;
  code: string;
  friendlyName: string;
  locale: string;
  wording: Wording;
  dtmfRequired: boolean;
  /** The service template's text (the code read digit by digit); none: the built-in words. */
  template?: MessageInput["template"];
  /** Digits dialled as soon as the call is answered (an extension, `w`: half a second's pause). */
  sendDigits?: string | null;
}

const MAX_ROUNDS = 3;
const xml = (text: string) => text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The voice call as TwiML (so Twilio-style voice platforms can drive it) and as SSML. With the keypad
 * challenge, the callee must press a random digit before the code is read, proving a person (not a
 * voicemail box) took the call; a wrong digit re-prompts with a new one, and three wrong ones hang up.
 * The digit is derived from the attempt sid and the round, so no call state is kept; URLs are signed.
 */
export class CallScript {
  constructor(
    private readonly keys: Keyring,
    private readonly publicUrl: () => string,
  ) {}

  private sign(pathAndQuery: string): string {
    return createHmac("sha256", this.keys.tokenKey).update(`voice:${pathAndQuery}`).digest("base64url");
  }

  private url(path: string, query: Record<string, string> = {}): string {
    const qs = new URLSearchParams(query).toString();
    const pathAndQuery = qs ? `${path}?${qs}` : path;
    return `${this.publicUrl()}${pathAndQuery}${qs ? "&" : "?"}sig=${this.sign(pathAndQuery)}`;
  }

  /** Checks a request URL's signature (path and every parameter but `sig`). */
  verify(url: URL): boolean {
    const params = new URLSearchParams(url.searchParams);
    const sig = params.get("sig") ?? "";
    params.delete("sig");
    const qs = params.toString();
    return safeEqual(this.sign(qs ? `${url.pathname}?${qs}` : url.pathname), sig);
  }

  urls(attemptSid: string) {
    return { answerUrl: this.url(`/voice/${attemptSid}/answer`), ssmlUrl: this.url(`/voice/${attemptSid}/ssml`) };
  }

  /** 1–9: 0 is where some phones put the operator. */
  digit(attemptSid: string, round: number): number {
    return (createHmac("sha256", this.keys.tokenKey).update(`digit:${attemptSid}:${round}`).digest()[0] % 9) + 1;
  }

  /** The call was answered: its digits first (reaching the callee behind an extension), then the script. */
  answer(call: CallContext): string {
    const dial = call.sendDigits ? `<Play digits="${xml(call.sendDigits)}"/>` : "";
    return this.response(dial + (call.dtmfRequired ? this.prompt(call, 1, null) : this.readCode(call)));
  }

  /** The callee pressed `digits` in `round`. */
  gather(call: CallContext, round: number, digits: string): string {
    if (digits === String(this.digit(call.attemptSid, round))) return this.response(this.readCode(call));
    if (round >= MAX_ROUNDS) return this.response(`${this.say(call, `${call.wording.wrongKey} ${call.wording.goodbye}`)}<Hangup/>`);
    return this.response(this.prompt(call, round + 1, call.wording.wrongKey));
  }

  /** Nothing to say: the verification is over or unknown. */
  hangup(): string {
    return this.response("<Hangup/>");
  }

  /**
   * SSML is speech only: it has no element that sends DTMF tones, so a verification's `sendDigits` are
   * not in it (only the TwiML plays them); reading them out would only confuse the extension's switch.
   */
  ssml(call: CallContext): string {
    const sentence = fill(call.wording.code, { name: call.friendlyName, code: `<say-as interpret-as="digits">${xml(call.code)}</say-as>` });
    const once = `<p>${sentence
      .split(/(<say-as[^>]*>.*<\/say-as>)/)
      .map((part) => (part.startsWith("<say-as") ? part : xml(part)))
      .join("")}</p>`;
    return `<?xml version="1.0" encoding="UTF-8"?>\n<speak version="1.1" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="${xml(call.locale)}">${once}<break time="1s"/>${once}<break time="1s"/>${once}</speak>`;
  }

  private prompt(call: CallContext, round: number, before: string | null): string {
    const ask = fill(call.wording.press, { digit: String(this.digit(call.attemptSid, round)) });
    const action = xml(this.url(`/voice/${call.attemptSid}/gather`, { round: String(round) }));
    const say = this.say(call, before ? `${before} ${ask}` : ask);
    // No key within the timeout counts as a wrong key.
    return `<Gather numDigits="1" timeout="8" action="${action}" method="POST">${say}</Gather><Redirect method="POST">${action}</Redirect>`;
  }

  private readCode(call: CallContext): string {
    const sentence = this.say(call, spokenCode(call));
    return `${sentence}<Pause length="1"/>${sentence}<Pause length="1"/>${sentence}${this.say(call, call.wording.goodbye)}<Hangup/>`;
  }

  private say(call: CallContext, text: string): string {
    return `<Say language="${xml(call.locale)}">${xml(text)}</Say>`;
  }

  private response(body: string): string {
    return `<?xml version="1.0" encoding="UTF-8"?>\n<Response>${body}</Response>`;
  }
}
