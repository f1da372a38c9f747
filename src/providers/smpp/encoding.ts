// GSM 03.38: the basic set (one septet each) and the extension table (escape + one septet).
const basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const extension = "^{}\\[~]|€\f";
const basicSet = new Set(basic);
const extensionSet = new Set(extension);

export type SmsEncoding = "GSM7" | "UCS2";

/** GSM-7 when every character is in the GSM alphabet, else UCS-2. */
export const chooseEncoding = (text: string): SmsEncoding => ([...text].every((c) => basicSet.has(c) || extensionSet.has(c)) ? "GSM7" : "UCS2");

/** SMPP data_coding: 0 = SMSC default alphabet (GSM 03.38), 8 = UCS-2. */
export const dataCoding = (encoding: SmsEncoding): number => (encoding === "GSM7" ? 0x00 : 0x08);

/**
 * Splits a message into SMS segments: one of 160 septets / 70 UCS-2 units, or concatenated parts of
 * 153 / 67 (the UDH takes the rest). An escape pair or a surrogate pair is never cut in two.
 */
export function segments(text: string, encoding: SmsEncoding): string[] {
  const width = (c: string) => (encoding === "GSM7" ? (extensionSet.has(c) ? 2 : 1) : c.length);
  const chars = [...text];
  const total = chars.reduce((n, c) => n + width(c), 0);
  const single = encoding === "GSM7" ? 160 : 70;
  if (total <= single) return [text];
  const limit = encoding === "GSM7" ? 153 : 67;
  const parts: string[] = [];
  let current = "";
  let used = 0;
  for (const c of chars) {
    if (used + width(c) > limit) {
      parts.push(current);
      current = "";
      used = 0;
    }
    current += c;
    used += width(c);
  }
  parts.push(current);
  return parts;
}

/** The concatenation UDH (8-bit reference): 05 00 03 ref total seq. */
export const concatUdh = (reference: number, total: number, sequence: number): Buffer => Buffer.from([0x05, 0x00, 0x03, reference & 0xff, total, sequence]);
