import type { ZodType } from "zod";
import { rcsSandboxTransport } from "./dev-outbox/index.js";
import { httpTransport } from "./http/index.js";
import type { TransportEnv, TransportPlugin } from "./provider.js";
import { smppTransport } from "./smpp/index.js";
import { smtpTransport } from "./smtp/index.js";
import { whatsappTransport } from "./whatsapp/index.js";

/**
 * The transports, in order of preference: for each channel, the first one configured for it carries it.
 * Adding a transport: one folder (src/providers/<name>, declaring a TransportPlugin) and one line here.
 */
const transports: TransportPlugin[] = [smppTransport, httpTransport, whatsappTransport, smtpTransport, rcsSandboxTransport];

/** Adds a transport at run time (before the configuration is loaded, for its variables to be read). */
export function registerTransport(plugin: TransportPlugin): void {
  if (transports.some((t) => t.name === plugin.name)) throw new Error(`transport ${plugin.name} is registered twice`);
  transports.push(plugin);
}

export const transportPlugins = (): readonly TransportPlugin[] => transports;

/** Every transport's environment variables, for the configuration's schema. */
export const transportEnv = (): Record<string, ZodType> => Object.assign({}, ...transports.map((t) => t.env));

/** Every transport's problems with variables that only make sense together. */
export const transportProblems = (env: TransportEnv): string[] => transports.flatMap((t) => t.problems?.(env) ?? []);
