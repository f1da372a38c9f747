import { invalidParameter } from "../../errors.js";
import { passkey } from "./passkey.js";
import { push } from "./push.js";
import type { FactorStrategy } from "./strategy.js";
import { totp } from "./totp.js";

export type { FactorStrategy } from "./strategy.js";

const strategies = new Map<string, FactorStrategy>();

/** Adds a factor type; before the schema is built, its FactorType enum includes it. */
export function registerFactorType(strategy: FactorStrategy): void {
  if (strategies.has(strategy.type)) throw new Error(`factor type ${strategy.type} is registered twice`);
  strategies.set(strategy.type, strategy);
}

/** Adding a factor type: one file in this folder and one line here. */
for (const strategy of [push, totp, passkey]) registerFactorType(strategy);

export const factorTypes = (): FactorStrategy[] => [...strategies.values()];
export const isFactorType = (type: string): boolean => strategies.has(type);

/** The Challenge fields an answer to this challenge signs (push), none for the others. */
export const signedFieldsOf = (challenge: { factorType: string }): string[] => [...(strategies.get(challenge.factorType)?.signedFields ?? [])];

/** The strategy of a known type (the input schemas refuse unknown ones first). */
export function strategyOf(type: string): FactorStrategy {
  const strategy = strategies.get(type);
  if (!strategy) throw invalidParameter("factorType", `Invalid parameter \`factorType\`: unknown factor type ${type}.`);
  return strategy;
}
