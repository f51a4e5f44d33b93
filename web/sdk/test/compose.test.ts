import { test } from "node:test";
import assert from "node:assert/strict";
import { attachmentMessage, composeMembers, forward, isAddress, parseAddresses, reply, type Original } from "../src/compose.js";

const orig: Original = {
  mailbox: "INBOX", uid: 42, uidValidity: 7,
  envelope: {
    date: "2026-11-22T10:00:00+01:00", subject: "Quarterly report",
    from: [{ name: "Alice", addr: "alice@example.com" }], sender: [], replyTo: [],
    to: [{ addr: "me@example.com" }, { name: "Bob", addr: "bob@example.com" }], cc: [{ addr: "carol@example.com" }], bcc: [],
    messageId: "<r1@example.com>",
  },
  references: "<r0@example.com>",
  text: "Numbers attached.\nThanks",
};
const me = { name: "Me", email: "me@example.com" };

test("reply: Reply-To else From, Re: once, threading, quoting, \\Answered", () => {
  const r = reply(orig, me);
  assert.deepEqual(r.to, [{ name: "Alice", email: "alice@example.com" }]);
  assert.equal(r.cc, undefined);
  assert.equal(r.subject, "Re: Quarterly report");
  assert.equal(r.inReplyTo, "<r1@example.com>");
  assert.deepEqual(r.references, ["<r0@example.com>", "<r1@example.com>"]);
  assert.match(r.text ?? "", /Alice <alice@example.com> wrote:\n> Numbers attached\.\n> Thanks/u);
  assert.deepEqual(r.original, { mailbox: "INBOX", uid: 42, uidValidity: 7, action: "reply" });
  assert.equal(reply({ ...orig, envelope: { ...orig.envelope, subject: "RE: x" } }, me).subject, "RE: x");
  const withReplyTo = reply({ ...orig, envelope: { ...orig.envelope, replyTo: [{ addr: "list@example.com" }] } }, me);
  assert.deepEqual(withReplyTo.to, [{ email: "list@example.com" }]);
});

test("reply-all: every To and Cc but me and the To already there", () => {
  const r = reply(orig, me, true);
  assert.deepEqual(r.cc, [{ name: "Bob", email: "bob@example.com" }, { email: "carol@example.com" }]);
});

test("forward: Fwd:, header block, references, $Forwarded, attachments kept", () => {
  const f = forward(orig, me, [{ mailbox: "INBOX", uid: 42, part: "2" }]);
  assert.equal(f.subject, "Fwd: Quarterly report");
  assert.equal(f.to, undefined);
  assert.match(f.text ?? "", /Forwarded message[\s\S]*From: Alice <alice@example.com>[\s\S]*Numbers attached/u);
  assert.equal(f.original?.action, "forward");
  assert.equal(f.attachments?.length, 1);
});

test("composeMembers: canonical order, empty members dropped", () => {
  const m = composeMembers({ draft: { uid: 1, mailbox: "Drafts" }, text: "", to: [], subject: "s", from: { email: "a@b.c", name: "" } });
  assert.equal(JSON.stringify(m), '{"from":{"name":"","email":"a@b.c"},"subject":"s","draft":{"mailbox":"Drafts","uid":1}}');
});

test("address validation", () => {
  assert.ok(isAddress("a.b+c@example.co.uk"));
  for (const bad of ["", "a@b", "a b@c.d", "<a@b.c>", "a@b.c\r\nBcc: x@y.z", "@b.c"]) assert.ok(!isAddress(bad), bad);
  const p = parseAddresses('Ann Lee <ann@x.org>, bob@y.org; "Q, R" <q@z.org>, nonsense');
  assert.deepEqual(p.addresses.map((a) => a.email), ["ann@x.org", "bob@y.org", "q@z.org"]);
  assert.equal(p.addresses[2]?.name, "Q, R");
  assert.ok(p.invalid.includes("nonsense"));
});

test("attachmentMessage: one base64 part with an RFC 2231 filename", async () => {
  const blob = await attachmentMessage(new Blob([new Uint8Array([0, 1, 2, 255])], { type: "image/png" }), "résumé (1).png");
  const text = await blob.text();
  assert.match(text, /Content-Type: image\/png\r\n/u);
  assert.match(text, /filename\*=utf-8''r%C3%A9sum%C3%A9%20%281%29\.png\r\n/u);
  assert.match(text, /\r\n\r\nAAEC\/w==\r\n$/u);
});
