/**
 * The channel catalogue: the one list every channel list, enum and rule is derived from (the schema's
 * Channel, AttemptChannel, GeoChannel and FallbackChannel enums, the settings a service may enable, the
 * channels a transport may carry, geo and PSD2 rules). Each channel folder (src/channels/<name>) declares
 * its traits and src/channels/registry.ts registers it here; the domain reads the catalogue, never the folders.
 */
export interface ChannelTraits {
  /** The name clients and events use (upper case). */
  readonly name: string;
  /** What `to` is: an E.164 number or an email address. */
  readonly address: "phone" | "email";
  /** A client may name it: startVerification's channel, a service's channels. */
  readonly selectable: boolean;
  /** A transport carries its messages (the outbox sends it; a silent challenge may fall back to it). */
  readonly delivers: boolean;
  /** A send attempt may record it. */
  readonly attempt: boolean;
  /** Geo permissions restrict its destinations. */
  readonly geo: boolean;
  /** A PSD2 verification may use it (the payer must see the amount and the payee). */
  readonly psd2: boolean;
  /** Fraud Guard judges its destinations (SMS pumping). */
  readonly fraudGuard?: boolean;
  /** It cannot reach a fixed line: a service's skipSmsToLandlines refuses one. */
  readonly textOnly?: boolean;
  /** It carries an Android SMS Retriever app hash. */
  readonly appHash?: boolean;
  /** A start may give digits it dials once the callee answers (Twilio's SendDigits: an extension). */
  readonly sendDigits?: boolean;
  /** A start may choose its sender (From address at the configured sender's domain, display name). */
  readonly chosenSender?: boolean;
  /** The channel whose geo permissions apply to it (SNA: SMS's); default itself. */
  readonly geoAs?: string;
  /** The schema's descriptions, per enum it appears in. */
  readonly describe: { channel?: string; attempt?: string; fallback?: string; geo?: string };
}

const catalogue = new Map<string, ChannelTraits>();

/** Adds a channel (a throwaway one in a test, too); registering a name twice is a mistake. */
export function registerChannel(traits: ChannelTraits): void {
  if (!/^[A-Z][A-Z0-9_]*$/.test(traits.name)) throw new Error(`channel name ${traits.name} must be upper case (an enum value)`);
  const existing = catalogue.get(traits.name);
  if (existing && existing !== traits) throw new Error(`channel ${traits.name} is registered twice`);
  catalogue.set(traits.name, traits);
}

/** Every channel, in registration order. */
export const allChannels = (): ChannelTraits[] => [...catalogue.values()];
export const channelTraits = (name: string): ChannelTraits | undefined => catalogue.get(name);
const names = (keep: (c: ChannelTraits) => boolean): string[] =>
  allChannels()
    .filter(keep)
    .map((c) => c.name);

/** What a client may name (the schema's Channel), and so what a service may enable. */
export const selectableChannels = (): string[] => names((c) => c.selectable);
/** What a transport carries. */
export const deliveryChannels = (): string[] => names((c) => c.delivers);
/** What a send attempt may record. */
export const attemptChannels = (): string[] => names((c) => c.attempt);
/** What geo permissions restrict. */
export const geoChannels = (): string[] => names((c) => c.geo);
/** What a silent challenge may fall back to: the channels a client may pick that a transport carries. */
export const fallbackChannels = (): string[] => names((c) => c.selectable && c.delivers);

export const isSelectableChannel = (name: string): boolean => catalogue.get(name)?.selectable === true;
export const isDeliveryChannel = (name: string): boolean => catalogue.get(name)?.delivers === true;
export const isGeoChannel = (name: string): boolean => catalogue.get(name)?.geo === true;
export const allowsPsd2 = (name: string): boolean => catalogue.get(name)?.psd2 !== false;
export const fraudGuarded = (name: string): boolean => catalogue.get(name)?.fraudGuard === true;
export const isTextOnly = (name: string): boolean => catalogue.get(name)?.textOnly === true;
export const carriesAppHash = (name: string): boolean => catalogue.get(name)?.appHash === true;
export const dialsDigits = (name: string): boolean => catalogue.get(name)?.sendDigits === true;
export const choosesSender = (name: string): boolean => catalogue.get(name)?.chosenSender === true;
/** The channel whose geo permissions apply to this one. */
export const geoChannelOf = (name: string): string => catalogue.get(name)?.geoAs ?? name;
/** The address kind of a channel; an unknown name is a phone channel (the API's enum refuses it first). */
export const addressOf = (name: string): "phone" | "email" => catalogue.get(name)?.address ?? "phone";
