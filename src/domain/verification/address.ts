import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import { invalidParameter } from "../errors.js";
import type { Lookup } from "../types.js";

export interface PhoneNumber {
  e164: string;
  country: string | null;
  /** libphonenumber's type: MOBILE, FIXED_LINE, FIXED_LINE_OR_MOBILE, VOIP, TOLL_FREE, PREMIUM_RATE… */
  lineType: string | null;
  /** The country calling code, digits only ("1", "44"). */
  callingCode: string;
}

/** Like Twilio, a phone `to` must be E.164 with its leading `+`; spaces, dashes and dots are tolerated. */
export function parsePhone(raw: string): PhoneNumber {
  const trimmed = raw.trim();
  if (!trimmed.startsWith("+")) throw invalidParameter("to", "Invalid parameter `to`: a phone number must be in E.164 form, starting with +.");
  if (trimmed.length > 32 || /[^\d+\s().-]/.test(trimmed)) throw invalidParameter("to", "Invalid parameter `to`: not a phone number.");
  const phone = parsePhoneNumberFromString(trimmed);
  if (!phone?.isValid()) throw invalidParameter("to", "Invalid parameter `to`: not a valid phone number.");
  return { e164: phone.number, country: phone.country ?? null, lineType: phone.getType() ?? null, callingCode: phone.countryCallingCode };
}

// RFC 5321/5322 addr-spec in its dot-atom form, which is what mail providers accept in practice.
const atext = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]";
const localPart = new RegExp(`^${atext}+(\\.${atext}+)*$`);
const domainLabel = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

/** An RFC-valid address; the domain is lower-cased (it is case-insensitive), the local part kept as given. */
export function parseEmail(raw: string, field = "to"): string {
  const value = raw.trim();
  const at = value.lastIndexOf("@");
  const fail = () => invalidParameter(field, `Invalid parameter \`${field}\`: not a valid email address.`);
  if (at < 1 || value.length > 254) throw fail();
  const local = value.slice(0, at);
  const domain = value.slice(at + 1).toLowerCase();
  const labels = domain.split(".");
  if (local.length > 64 || !localPart.test(local)) throw fail();
  if (labels.length < 2 || !labels.every((l) => domainLabel.test(l)) || (!/^[a-z]{2,63}$/.test(labels[labels.length - 1]) && !/^xn--/.test(labels[labels.length - 1]))) throw fail();
  return `${local}@${domain}`;
}

export const lookupOf = (phone: PhoneNumber): Lookup => ({
  countryCode: phone.country,
  lineType: phone.lineType ? phone.lineType.toLowerCase() : null,
  carrier: null,
});
