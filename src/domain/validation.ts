import type { z } from "zod";
import { type VerifyError, invalidParameter } from "./errors.js";

/** Parses with a zod schema and turns the first problem into INVALID_PARAMETER naming the input field. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue.path.map(String).join(".") || "input";
  return raise(invalidParameter(field, `Invalid parameter \`${field}\`: ${issue.message}`));
}

const raise = (error: VerifyError): never => {
  throw error;
};
