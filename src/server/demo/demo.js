// The Verigate demo page: passkeys with @simplewebauthn/browser (served by the gateway, no CDN) and a
// live SMS verification over graphql-ws. Plain browser JavaScript, no build step.
import { browserSupportsWebAuthnAutofill, startAuthentication, startRegistration } from "/demo/vendor/simplewebauthn/index.js";

const $ = (id) => document.getElementById(id);
const log = (line) => {
  $("log").textContent += `${new Date().toISOString().slice(11, 19)} ${line}\n`;
};

/** POST /graphql; throws the first error with its stable code. */
async function gql(query, variables, token) {
  const response = await fetch("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) {
    const [error] = body.errors;
    throw new Error(`${error.extensions?.code ?? "ERROR"}: ${error.message}`);
  }
  return body.data;
}

const key = () => $("key").value.trim();
let serviceSid = null;
async function service() {
  serviceSid ??= (await gql("{ services(first: 1) { nodes { sid } } }", {}, key())).services.nodes[0].sid;
  return serviceSid;
}

function run(button, output, action) {
  $(button).addEventListener("click", async () => {
    $(output).textContent = "…";
    try {
      $(output).textContent = await action();
    } catch (error) {
      $(output).textContent = `Failed: ${error.message}`;
      log(`${button}: ${error.message}`);
    }
  });
}

// Passkeys: createFactor → navigator.credentials.create → verifyFactor.
run("register", "passkey-status", async () => {
  const { createFactor } = await gql(
    `mutation($input: CreateFactorInput!) { createFactor(input: $input) { factor { sid } passkeyCreationOptions } }`,
    { input: { serviceSid: await service(), identity: $("identity").value, friendlyName: "Demo passkey", factorType: "PASSKEY" } },
    key(),
  );
  const registration = await startRegistration({ optionsJSON: createFactor.passkeyCreationOptions });
  const { verifyFactor } = await gql(
    `mutation($input: VerifyFactorInput!) { verifyFactor(input: $input) { sid status } }`,
    { input: { sid: createFactor.factor.sid, passkeyResponse: registration } },
    key(),
  );
  log(`factor ${verifyFactor.sid} ${verifyFactor.status}`);
  return `Passkey registered: ${verifyFactor.status}`;
});

// Sign-in: createChallenge (backend) → navigator.credentials.get → updateChallenge with the client token.
async function signIn(identity, autofill = false) {
  const { createChallenge } = await gql(
    `mutation($input: CreateChallengeInput!) { createChallenge(input: $input) { clientToken challenge { sid } passkeyRequestOptions } }`,
    { input: { serviceSid: await service(), factorType: "PASSKEY", ...(identity ? { identity } : {}), details: { message: "Sign in to the demo" } } },
    key(),
  );
  const assertion = await startAuthentication({ optionsJSON: createChallenge.passkeyRequestOptions, useBrowserAutofill: autofill });
  const { updateChallenge } = await gql(
    `mutation($input: UpdateChallengeInput!) { updateChallenge(input: $input) { sid status identity } }`,
    { input: { sid: createChallenge.challenge.sid, passkeyResponse: assertion } },
    createChallenge.clientToken,
  );
  log(`challenge ${updateChallenge.sid} ${updateChallenge.status} for ${updateChallenge.identity}`);
  return `Signed in as ${updateChallenge.identity}: ${updateChallenge.status}`;
}
run("signin", "passkey-status", () => signIn($("identity").value));
run("signin-any", "passkey-status", () => signIn(null));
run("enable-autofill", "passkey-status", async () => {
  if (!(await browserSupportsWebAuthnAutofill())) return "This browser has no passkey autofill.";
  signIn(null, true).then(
    (text) => ($("passkey-status").textContent = text),
    (error) => log(`autofill: ${error.message}`),
  );
  return "Autofill is on: focus the field above.";
});

// SMS: startVerification (backend) → watch verificationUpdated over graphql-ws with the client token.
let verification = null;
function watch(sid, clientToken) {
  const socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`, "graphql-transport-ws");
  socket.onopen = () => socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${clientToken}` } }));
  socket.onmessage = ({ data }) => {
    const message = JSON.parse(data);
    if (message.type === "connection_ack") {
      socket.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query: "subscription($sid: ID!) { verificationUpdated(sid: $sid) { status sendCodeAttempts { channel status } } }", variables: { sid } } }));
    } else if (message.type === "next") {
      const v = message.payload.data.verificationUpdated;
      const attempt = v.sendCodeAttempts.at(-1);
      $("sms-status").textContent = `${v.status} (message ${attempt?.status ?? "–"})`;
      log(`live: ${v.status}, ${attempt?.channel} ${attempt?.status}`);
    } else if (message.type === "complete") {
      socket.close();
    }
  };
}
run("start-sms", "sms-status", async () => {
  const { startVerification } = await gql(
    `mutation($input: StartVerificationInput!) { startVerification(input: $input) { clientToken verification { sid status } } }`,
    { input: { serviceSid: await service(), to: $("phone").value, channel: "SMS" } },
    key(),
  );
  verification = { sid: startVerification.verification.sid, clientToken: startVerification.clientToken };
  watch(verification.sid, verification.clientToken);
  return startVerification.verification.status;
});
run("read-outbox", "sms-status", async () => {
  const { devOutbox } = await gql(`query($to: String) { devOutbox(to: $to, first: 1) { code } }`, { to: $("phone").value }, key());
  $("code").value = devOutbox[0]?.code ?? "";
  return $("sms-status").textContent;
});
run("check-sms", "sms-status", async () => {
  const { checkVerification } = await gql(
    `mutation($input: CheckVerificationInput!) { checkVerification(input: $input) { verification { status } } }`,
    { input: { serviceSid: await service(), verificationSid: verification.sid, code: $("code").value } },
    verification.clientToken,
  );
  return checkVerification.verification.status;
});
