// Part of consent.js (server/site/assets.py joins static/consent/*.js in name order,
// inside the function 0-head.js opens): the visitor's first-party record.
  function readRecord() {
    var found = document.cookie.split("; ").filter(function (c) {
      return c.indexOf(COOKIE + "=") === 0;
    })[0];
    if (!found) return null;
    try {
      var value = JSON.parse(decodeURIComponent(found.slice(COOKIE.length + 1)));
      if (typeof value.s !== "string" || typeof value.v !== "number") return null;
      if (!Array.isArray(value.g) || !Array.isArray(value.r)) return null;
      return value;
    } catch (e) {
      return null;
    }
  }

  function writeRecord(value) {
    saved = value;
    document.cookie =
      COOKIE + "=" + encodeURIComponent(JSON.stringify(value)) + "; Path=/; Max-Age=" +
      KEEP_SECONDS + "; SameSite=Lax" + (location.protocol === "https:" ? "; Secure" : "");
  }

  function randomId(prefix) {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes); // randomUUID needs a secure context; this does not
    var out = prefix;
    for (var i = 0; i < bytes.length; i++) out += ("0" + bytes[i].toString(16)).slice(-2);
    return out;
  }
