import { fill } from "../../i18n/catalogue.js";
import { templateText, transactionLines } from "../compose.js";
import type { ChannelPlugin, MessageInput } from "../channel.js";

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string);

/** The From this start chose, if any (the transport fills in what it leaves out). */
const sender = (input: MessageInput) => (input.sender ? { from: input.sender } : {});

export const email: ChannelPlugin = {
  name: "EMAIL",
  address: "email",
  selectable: true,
  delivers: true,
  attempt: true,
  geo: false,
  psd2: true,
  chosenSender: true,
  describe: { channel: "An email; `to` is an address", attempt: "An email", fallback: "An email" },
  render(input) {
    const w = input.wording;
    const values = { name: input.friendlyName, code: input.code };
    const custom = templateText(input, "EMAIL", input.code, "\n\n");
    if (custom) {
      // The template words the body; the subject stays the built-in one.
      const html = `<!doctype html><html lang="${escapeHtml(custom.locale)}"><body style="font-family:sans-serif">
${custom.text
  .split(/\n{2,}/)
  .map((p) => `<p>${escapeHtml(p).replace(/\n/g, "<br>")}</p>`)
  .join("\n")}
</body></html>`;
      return { to: input.to, channel: "EMAIL", subject: fill(w.subject, values), body: custom.text, html, locale: custom.locale, ...sender(input) };
    }
    const sentence = fill(w.code, values);
    const warning = input.doNotShareWarning ? w.doNotShare : "";
    const transaction = transactionLines(input);
    const body = [sentence, transaction.join("\n"), warning].filter(Boolean).join("\n\n");
    const html = `<!doctype html><html lang="${escapeHtml(input.locale)}"><body style="font-family:sans-serif">
<p>${escapeHtml(fill(w.code, { name: input.friendlyName, code: "" })).trim()}</p>
<p style="font-size:28px;letter-spacing:6px;font-weight:bold">${escapeHtml(input.code)}</p>
${transaction.map((line) => `<p>${escapeHtml(line)}</p>`).join("\n")}
${warning ? `<p style="color:#555">${escapeHtml(warning)}</p>` : ""}
</body></html>`;
    return { to: input.to, channel: "EMAIL", subject: fill(w.subject, values), body, html, locale: input.locale, ...sender(input) };
  },
};
