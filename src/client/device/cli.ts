import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { createInterface } from "node:readline/promises";
import { parseArgs } from "node:util";
import type { JWK } from "jose";
import { type ChallengeView, DeviceClient, exportDeviceKey, importDeviceKey } from "./kit.js";

const USAGE = `verigate device — a simulated push device (README "Push approval")

  verigate device enroll --url URL --token TOKEN --service VA… --identity ID [--name NAME] [--silent] [--state FILE]
      TOKEN: an access token from createAccessToken (or a service key). --silent allows silent approval.
  verigate device listen [--auto approve|deny|ask] [--state FILE]
      Waits for challenges; silent ones are approved at once, others as --auto says (ask: prompt).
  verigate device list [--state FILE]
  verigate device approve|deny CHALLENGE_SID [--state FILE]

  The device's key and factor sid are kept in --state (default ./.verigate-device.json, mode 0600).
`;

interface State {
  url: string;
  factorSid: string;
  identity: string;
  privateKey: JWK;
}

const print = (line: string) => process.stdout.write(`${line}\n`);

function describe(c: ChallengeView): string {
  const details = c.details as { message: string; fields: { label: string; value: string }[] } | null;
  const fields = details?.fields.map((f) => `${f.label}: ${f.value}`).join(", ");
  return `${c.sid}${c.silent ? " (silent)" : ""} — ${details?.message ?? "(no message)"}${fields ? ` [${fields}]` : ""} — expires ${c.expiresAt}`;
}

async function load(file: string): Promise<DeviceClient> {
  let state: State;
  try {
    state = JSON.parse(readFileSync(file, "utf8")) as State;
  } catch {
    throw new Error(`no device state in ${file}: run \`verigate device enroll\` first`);
  }
  return new DeviceClient(state.url, state.factorSid, await importDeviceKey(state.privateKey));
}

export async function deviceCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: "string", default: "http://127.0.0.1:4000" },
      token: { type: "string" },
      service: { type: "string" },
      identity: { type: "string" },
      name: { type: "string" },
      silent: { type: "boolean", default: false },
      auto: { type: "string", default: "ask" },
      state: { type: "string", default: ".verigate-device.json" },
      interval: { type: "string", default: "1000" },
    },
  });
  const file = resolve(values.state);
  const [action, sid] = positionals;
  switch (action) {
    case "enroll": {
      if (!values.token || !values.service || !values.identity) throw new Error(`enroll needs --token, --service and --identity\n\n${USAGE}`);
      const device = await DeviceClient.enroll({
        url: values.url,
        token: values.token,
        serviceSid: values.service,
        identity: values.identity,
        friendlyName: values.name ?? `${values.identity}'s simulated device`,
        silentApproval: values.silent,
      });
      const state: State = { url: values.url, factorSid: device.factorSid, identity: values.identity, privateKey: await exportDeviceKey(device.key) };
      writeFileSync(file, JSON.stringify(state, null, 2), { mode: 0o600 });
      print(`Enrolled factor ${device.factorSid} for ${values.identity} (verified${values.silent ? ", silent approval allowed" : ""}); state in ${file}`);
      return;
    }
    case "list": {
      const device = await load(file);
      const pending = await device.pendingChallenges();
      print(pending.length === 0 ? "No pending challenges." : pending.map(describe).join("\n"));
      return;
    }
    case "approve":
    case "deny": {
      if (!sid) throw new Error(`${action} needs a challenge sid`);
      const device = await load(file);
      const challenge = await device.challenge(sid);
      if (!challenge) throw new Error(`challenge ${sid} not found for this device`);
      print(`${sid}: ${await device.answer(challenge, action === "approve" ? "approved" : "denied")}`);
      return;
    }
    case "listen": {
      const device = await load(file);
      const auto = values.auto;
      if (!["approve", "deny", "ask"].includes(auto)) throw new Error("--auto must be approve, deny or ask");
      const rl = auto === "ask" ? createInterface({ input: process.stdin, output: process.stdout }) : null;
      print(`Listening for challenges of ${device.factorSid} (Ctrl-C to stop)`);
      const stop = device.listen({
        intervalMs: Number(values.interval),
        ask: async (c) => {
          print(`Challenge ${describe(c)}`);
          if (auto === "approve") return "approved";
          if (auto === "deny") return "denied";
          const reply = (await rl?.question("Approve? [y/N] "))?.trim().toLowerCase();
          return reply === "y" || reply === "yes" ? "approved" : "denied";
        },
        onAnswered: (c, status) => print(`${c.sid}: ${status.toUpperCase()}${c.silent ? " (silently)" : ""}`),
        onError: (error) => process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`),
      });
      await new Promise<void>((done) => {
        const quit = () => {
          stop();
          rl?.close();
          done();
        };
        process.once("SIGINT", quit);
        process.once("SIGTERM", quit);
      });
      return;
    }
    default:
      process.stdout.write(USAGE);
      if (action && action !== "help") throw new Error(`unknown device command "${action}"`);
  }
}
