import type { ChannelPlugin } from "../channel.js";

/** Silent Network Auth: no message, no transport; the carrier confirms the number (see carrier.ts). */
export const sna: ChannelPlugin = {
  name: "SNA",
  address: "phone",
  selectable: true,
  delivers: false,
  attempt: true,
  geo: false,
  psd2: false,
  // A mobile-data check of a handset's number, refused where SMS would be (it falls back to SMS).
  textOnly: true,
  geoAs: "SMS",
  describe: {
    channel: "Silent Network Auth: the device opens a URL over mobile data and the carrier confirms its number, no code",
    attempt: "A Silent Network Auth URL for the device to open over mobile data",
  },
};

/** AUTO is input only: SNA where the carrier reaches the device, SMS otherwise. */
export const auto: ChannelPlugin = {
  name: "AUTO",
  address: "phone",
  selectable: true,
  delivers: false,
  attempt: false,
  geo: false,
  psd2: true,
  appHash: true,
  describe: { channel: "Input only: SNA when the carrier can reach the device (deviceIp), SMS otherwise or when SNA fails" },
};
