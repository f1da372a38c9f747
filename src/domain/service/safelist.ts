import type { Clock } from "../clock.js";
import { VerifyError } from "../errors.js";
import { newSid } from "../ids.js";
import type { ServiceStore } from "../ports/index.js";
import { parsePhone } from "../verification/address.js";

/** A number on the account's safe list (Twilio's SafeList/Numbers). */
export interface SafeListedNumber {
  /** GN… */
  sid: string;
  /** E.164 */
  phoneNumber: string;
  dateCreated: number;
}

export interface AccountSafeListDeps {
  store: Pick<ServiceStore, "getSetting" | "addSetting" | "deleteSetting">;
  clock: Clock;
}

const keyOf = (e164: string) => `safelist:${e164}`;

/** The number as E.164, or null when it is not a phone number (unknown and malformed look the same). */
const e164 = (raw: string): string | null => {
  try {
    return parsePhone(raw).e164;
  } catch {
    return null;
  }
};

/**
 * The account's safe list, beside each service's own `safeList`: a number on either skips geo permissions
 * and Fraud Guard (VerificationFlow's one rule). One settings row per number, so adding and removing are
 * single-row writes and a start reads one key.
 */
export class AccountSafeList {
  constructor(private readonly deps: AccountSafeListDeps) {}

  async add(phoneNumber: string): Promise<SafeListedNumber> {
    const number = e164(phoneNumber);
    if (!number) throw new VerifyError("INVALID_PARAMETER", "Invalid parameter `phoneNumber`: must be an E.164 phone number.", { field: "phoneNumber" });
    const entry: SafeListedNumber = { sid: newSid("GN"), phoneNumber: number, dateCreated: this.deps.clock.now() };
    if (!(await this.deps.store.addSetting(keyOf(number), JSON.stringify(entry)))) {
      throw new VerifyError("INVALID_PARAMETER", `${number} is already on the safe list.`, { field: "phoneNumber", twilioCode: 60411 });
    }
    return entry;
  }

  async get(phoneNumber: string): Promise<SafeListedNumber | null> {
    const number = e164(phoneNumber);
    const stored = number ? await this.deps.store.getSetting(keyOf(number)) : null;
    return stored ? (JSON.parse(stored) as SafeListedNumber) : null;
  }

  /** true when the number was on the list. */
  async remove(phoneNumber: string): Promise<boolean> {
    const number = e164(phoneNumber);
    return number ? this.deps.store.deleteSetting(keyOf(number)) : false;
  }

  /** Is this E.164 number on the account's list? */
  async has(number: string): Promise<boolean> {
    return (await this.deps.store.getSetting(keyOf(number))) !== null;
  }
}
