// The built-in channels are registered before any enum below is built (a test may register more first).
import "../channels/registry.js";
import { type ChannelTraits, allChannels } from "../domain/channels.js";

/** An enum's values from the channel catalogue: the channels `keep` selects, each with its description there. */
export const catalogueValues = (use: keyof ChannelTraits["describe"], keep: (c: ChannelTraits) => boolean) =>
  Object.fromEntries(
    allChannels()
      .filter(keep)
      .map((c) => [c.name, { description: c.describe[use] ?? c.name }]),
  ) as Record<string, { description: string }>;
