// The official Standard Webhooks verifier (npm standardwebhooks) on a delivery Charter sent.
//   node webhook.mjs <file with {secret, headers, body}>
// Prints {verified, type} for the delivery as received, then {tampered} for the same
// delivery with one byte of its body changed (which must be refused).
import { readFileSync } from "node:fs";
import { Webhook } from "standardwebhooks";

const { secret, headers, body } = JSON.parse(readFileSync(process.argv[2], "utf8"));
const hook = new Webhook(secret);
const payload = hook.verify(body, headers);
console.log(JSON.stringify({ verified: true, type: payload.type }));
let tampered = "accepted";
try {
  hook.verify(body.replace("}", " }"), headers);
} catch (error) {
  tampered = error.constructor.name;
}
console.log(JSON.stringify({ tampered }));
