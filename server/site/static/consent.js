/* Charter's consent banner: one script tag, no framework, no eval, no inline styles.
 * <script src="https://CHARTER/t/SITE/consent.js" data-key="pk_..." async></script>
 * It asks Charter (and no other host) for the site's published policy and banner, asks the
 * visitor, records the choice with recordConsent, keeps a first-party record of it, and
 * runs <script type="text/plain" data-charter-purpose="..."> only once that is allowed. */
(function () {
  "use strict";
  var me = document.currentScript || document.querySelector('script[src*="/consent"][data-key]');
  if (!me || (window.Charter && window.Charter.consent)) return;
  var src = new URL(me.src, location.href);
  var path = /^\/t\/([^/]+)\//.exec(src.pathname);
  if (!path) return;
  var ORIGIN = src.origin;
  var SITE = decodeURIComponent(path[1]);
  var KEY = me.getAttribute("data-key") || "";
  var CSS = ORIGIN + "/t/" + encodeURIComponent(SITE) + "/assets/__BANNER_CSS__";
  var COOKIE = "charter_consent";
  var KEEP_SECONDS = 34128000; // 13 months, the longest a consent cookie should live
  var QUERY =
    "query($site:String!){publishedPolicy(site:$site){version locale banner{" +
    "consentModel gpcBinding materialVersion privacyCenterUrl texts " +
    "colors{background text accent accentText} categories{key name description required " +
    "purposes{key name description legalBasis requiresConsent gpcOptOut}}}}}";
  var RECORD =
    "mutation($input:ConsentInput!){recordConsent(input:$input){" +
    "receipt{id decisions{purpose granted}} userErrors{code}}}";

  var policy = null; // {version, locale, banner}
  var purposes = []; // every disclosed purpose, flat
  var saved = readRecord(); // the first-party record of the visitor's choice
  var gpc = navigator.globalPrivacyControl === true;
  var ui = null;
  var readyResolve;
  var ready = new Promise(function (resolve) { readyResolve = resolve; });

  /* ---- the first-party record ------------------------------------------------------ */

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

  /* ---- what is allowed ----------------------------------------------------------------- */

  function info(key) {
    for (var i = 0; i < purposes.length; i++) if (purposes[i].key === key) return purposes[i];
    return null;
  }
  function keys(list) { return list.map(function (p) { return p.key; }); }
  function asked() {
    return purposes.filter(function (p) { return p.requiresConsent; });
  }
  function blockedByGpc(p) {
    return gpc && policy.banner.gpcBinding && p.gpcOptOut;
  }
  // Stale: a granted, consent-based choice made under a version older than the latest
  // MATERIAL one in force. Refusals never go stale.
  function stale(record) {
    return !!record && record.v < policy.banner.materialVersion &&
      record.g.some(function (k) { var p = info(k); return p && p.requiresConsent; });
  }
  function get(key) {
    if (!policy) return false;
    var p = info(key);
    if (p) {
      if (blockedByGpc(p)) return false;
      if (!p.requiresConsent) return true;
      if (!saved || !saved.c || stale(saved)) return false;
      return saved.g.indexOf(key) >= 0;
    }
    var under = purposes.filter(function (q) { return q.key.indexOf(key + ".") === 0; });
    return under.length > 0 && under.every(function (q) { return get(q.key); });
  }
  function choices() {
    var out = {};
    asked().forEach(function (p) { out[p.key] = get(p.key); });
    return out;
  }

  /* ---- recording ------------------------------------------------------------------------ */

  // One event: the person's choice (BANNER, IMPLIED) or, with no question asked, the
  // opt-out a Global Privacy Control signal makes (GPC). The record keeps the person's
  // own choice (v, c) apart from what a signal added.
  function decide(grant, method) {
    var person = method !== "GPC";
    var granted = [], refused = [];
    if (person) {
      asked().forEach(function (p) {
        (grant(p) && !blockedByGpc(p) ? granted : refused).push(p.key);
      });
    } else {
      refused = keys(purposes.filter(blockedByGpc));
    }
    writeRecord({
      s: saved ? saved.s : randomId("cb_"),
      v: person || !saved ? policy.version : saved.v,
      l: policy.locale,
      m: method,
      c: person || !!(saved && saved.c),
      g: person ? granted : merge(saved, [], refused).g,
      r: person ? refused : merge(saved, [], refused).r,
      t: Math.floor(Date.now() / 1000),
      e: randomId("ce_"), // the clientEventId: retries of this event record it once
      ev: policy.version
    });
    changed();
    send(saved, granted, refused, 0);
  }

  function merge(record, granted, refused) {
    var g = record ? record.g.slice() : [], r = record ? record.r.slice() : [];
    function put(key, list, other) {
      if (other.indexOf(key) >= 0) other.splice(other.indexOf(key), 1);
      if (list.indexOf(key) < 0) list.push(key);
    }
    granted.forEach(function (k) { put(k, g, r); });
    refused.forEach(function (k) { put(k, r, g); });
    return { g: g, r: r };
  }

  function send(record, granted, refused, attempt) {
    var decisions = granted.map(function (k) { return { purpose: k, granted: true }; })
      .concat(refused.map(function (k) { return { purpose: k, granted: false }; }));
    var input = {
      subjectId: record.s, decisions: decisions, policyVersion: record.ev, locale: record.l,
      method: record.m, clientEventId: record.e, sourceUrl: location.origin + location.pathname
    };
    fetch(ORIGIN + "/graphql", {
      method: "POST", credentials: "omit", keepalive: true,
      headers: { "Content-Type": "application/json", Accept: "application/json",
                 Authorization: "Bearer " + KEY },
      body: JSON.stringify({ query: RECORD, variables: { input: input } })
    }).then(function (response) {
      if (response.status === 429 || response.status >= 500) throw new Error("retry");
      return response.json();
    }).then(function (body) {
      if (!saved || saved.e !== record.e) return; // a newer event replaced this one
      var result = body.data && body.data.recordConsent;
      var next = copy(saved);
      delete next.e; // recorded (or refused for good): nothing left to send
      delete next.ev;
      if (result && result.receipt) {
        // The receipt is the truth: the ledger may have turned a grant into a GPC opt-out.
        var d = result.receipt.decisions;
        var both = merge(next, keys(d.filter(function (x) { return x.granted; }).map(byPurpose)),
                         keys(d.filter(function (x) { return !x.granted; }).map(byPurpose)));
        next.g = both.g;
        next.r = both.r;
        next.id = result.receipt.id;
      }
      writeRecord(next);
      changed();
    }).catch(function () {
      // Offline or overloaded: again with the same clientEventId, then on the next page.
      if (attempt < 3) {
        setTimeout(function () { send(record, granted, refused, attempt + 1); },
                   1000 * Math.pow(2, attempt));
      }
    });
  }

  function byPurpose(d) { return { key: d.purpose }; }
  function copy(value) { return JSON.parse(JSON.stringify(value)); }

  function resend() {
    if (!saved || !saved.e || saved.ev !== policy.version) return;
    if (saved.m === "GPC") send(saved, [], keys(purposes.filter(blockedByGpc)), 0);
    else send(saved, saved.g, saved.r, 0);
  }

  /* ---- tagged scripts and listeners ------------------------------------------------------ */

  function runAllowed() {
    if (!policy) return;
    var tagged = document.querySelectorAll('script[type="text/plain"][data-charter-purpose]');
    Array.prototype.forEach.call(tagged, function (old) {
      if (old.hasAttribute("data-charter-ran")) return;
      var wanted = old.getAttribute("data-charter-purpose").split(/\s+/).filter(Boolean);
      if (!wanted.length || !wanted.every(get)) return;
      var script = document.createElement("script");
      Array.prototype.forEach.call(old.attributes, function (a) {
        if (a.name !== "type" && a.name !== "data-charter-purpose" && a.name !== "nonce") {
          script.setAttribute(a.name, a.value);
        }
      });
      if (old.nonce) script.nonce = old.nonce; // a strict CSP's nonce carries over
      if (!old.hasAttribute("src")) script.text = old.text;
      else script.async = false; // keep the page's order among them
      old.setAttribute("data-charter-ran", "");
      old.parentNode.insertBefore(script, old.nextSibling);
    });
  }

  function changed() {
    runAllowed();
    var detail = { version: policy.version, choices: choices() };
    window.dispatchEvent(new CustomEvent("charter:consent", { detail: detail }));
  }

  /* ---- the banner, the notice and the preferences dialog -------------------------------- */

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    for (var name in attrs) if (attrs[name] !== null) node.setAttribute(name, attrs[name]);
    if (text) node.textContent = text;
    return node;
  }

  function build() {
    var b = policy.banner, t = b.texts;
    var host = el("div", { "data-charter-consent": "", lang: policy.locale, hidden: "" });
    var colors = { bg: b.colors.background, fg: b.colors.text, accent: b.colors.accent,
                   "accent-fg": b.colors.accentText };
    for (var name in colors) host.style.setProperty("--cb-" + name, colors[name]); // CSSOM
    var root = host.attachShadow({ mode: "open" });
    var sheet = el("link", { rel: "stylesheet", href: CSS });
    sheet.addEventListener("load", function () {
      ui.styled = true; // shown only once styled: no flash of bare markup
      host.removeAttribute("hidden");
      fit();
      if (ui.waiting) openPreferences(ui.waiting.opener);
    });
    root.appendChild(sheet);

    var implied = b.consentModel === "IMPLIED";
    var bar = el("section", { "class": "bar", "aria-labelledby": "cb-title", lang: policy.locale });
    bar.appendChild(el("h2", { id: "cb-title" }, implied ? t["notice.title"] : t["banner.title"]));
    var body = el("p", { "class": "body" }, (implied ? t["notice.body"] : t["banner.body"]) + " ");
    body.appendChild(el("a", { href: ORIGIN + b.privacyCenterUrl }, t["banner.policy_link"]));
    bar.appendChild(body);
    if (implied) {
      bar.appendChild(el("p", { "class": "uses" }, policy.banner.categories.map(function (c) {
        return c.name;
      }).join(" · ")));
    }
    var actions = el("div", { "class": "actions" });
    var buttons = implied
      ? [["ok", t["notice.ok"]], ["optout", t["notice.opt_out"]], ["customise", t["banner.customise"]]]
      : [["accept", t["banner.accept_all"]], ["reject", t["banner.reject_all"]],
         ["customise", t["banner.customise"]]];
    buttons.forEach(function (pair) {
      var button = el("button", { type: "button", "data-action": pair[0] }, pair[1]);
      if (pair[0] === "customise") button.setAttribute("aria-haspopup", "dialog");
      actions.appendChild(button);
    });
    bar.appendChild(actions);
    root.appendChild(bar);

    var dialog = preferences(t);
    root.appendChild(dialog);
    root.addEventListener("click", function (event) {
      var target = event.target.closest ? event.target.closest("[data-action]") : null;
      if (target) act(target.getAttribute("data-action"), target);
    });
    ui = { host: host, root: root, bar: bar, dialog: dialog, opener: null, styled: false,
           waiting: null };
    (document.body.firstChild
      ? document.body.insertBefore(host, document.body.firstChild) // first in tab order
      : document.body.appendChild(host));
  }

  function preferences(t) {
    var dialog = el("dialog", { "class": "prefs", "aria-labelledby": "cb-prefs-title",
                                lang: policy.locale });
    dialog.appendChild(el("h2", { id: "cb-prefs-title" }, t["prefs.title"]));
    dialog.appendChild(el("p", null, t["prefs.body"]));
    policy.banner.categories.forEach(function (c) {
      var box = el("section", { "class": "category", "aria-labelledby": "cb-c-" + c.key });
      var row = el("div", { "class": "row" });
      var open = c.purposes.filter(function (p) { return p.requiresConsent && !blockedByGpc(p); });
      if (c.required || !open.length) {
        row.appendChild(el("h3", { id: "cb-c-" + c.key }, c.name));
        row.appendChild(el("span", { "class": "always" },
          c.required ? t["prefs.always_on"] : t["prefs.gpc"]));
      } else {
        var input = el("input", { type: "checkbox", id: "cb-in-" + c.key, "data-category": c.key,
                                  "aria-describedby": "cb-d-" + c.key });
        var label = el("label", { "for": "cb-in-" + c.key });
        label.appendChild(el("span", { id: "cb-c-" + c.key }, c.name));
        row.appendChild(input);
        row.appendChild(label);
      }
      box.appendChild(row);
      box.appendChild(el("p", { id: "cb-d-" + c.key, "class": "description" }, c.description));
      var list = el("ul", { "class": "purposes" });
      c.purposes.forEach(function (p) {
        var item = el("li", null, p.name + (p.description ? ": " + p.description : ""));
        var basis = t["basis." + p.legalBasis];
        if (!p.requiresConsent && basis) item.appendChild(el("span", { "class": "basis" }, " (" + basis + ")"));
        if (blockedByGpc(p)) item.appendChild(el("span", { "class": "gpc" }, " " + t["prefs.gpc"]));
        list.appendChild(item);
      });
      box.appendChild(list);
      dialog.appendChild(box);
    });
    var actions = el("div", { "class": "actions" });
    [["save", t["prefs.save"]], ["accept", t["banner.accept_all"]], ["reject", t["banner.reject_all"]]]
      .forEach(function (pair) {
        actions.appendChild(el("button", { type: "button", "data-action": pair[0] }, pair[1]));
      });
    dialog.appendChild(actions);
    dialog.appendChild(el("button", { type: "button", "class": "close", "data-action": "close",
                                      "aria-label": t["prefs.close"] }, "\u00d7"));
    dialog.addEventListener("keydown", trap);
    dialog.addEventListener("close", function () {
      var back = ui.opener;
      ui.opener = null;
      if (back && back.isConnected) back.focus();
    });
    return dialog;
  }

  // Keep keyboard focus inside the open dialog (WCAG 2.4.3): Tab past the last control
  // comes back to the first, Shift+Tab before the first goes to the last.
  function trap(event) {
    if (event.key !== "Tab") return;
    var focusable = Array.prototype.filter.call(
      ui.dialog.querySelectorAll("button, input, a[href]"),
      function (n) { return !n.disabled && n.offsetParent !== null; });
    if (!focusable.length) return;
    var first = focusable[0], last = focusable[focusable.length - 1];
    var active = ui.root.activeElement;
    if (event.shiftKey && (active === first || !ui.dialog.contains(active))) {
      event.preventDefault(); last.focus();
    } else if (!event.shiftKey && (active === last || !ui.dialog.contains(active))) {
      event.preventDefault(); first.focus();
    }
  }

  function openPreferences(opener) {
    if (!policy) return;
    if (!ui) { build(); ui.bar.hidden = true; }
    if (!ui.styled) { ui.waiting = { opener: opener }; return; }
    ui.waiting = null;
    Array.prototype.forEach.call(ui.dialog.querySelectorAll("input[data-category]"), function (input) {
      var category = policy.banner.categories.filter(function (c) {
        return c.key === input.getAttribute("data-category");
      })[0];
      input.checked = category.purposes.every(function (p) {
        return !p.requiresConsent || blockedByGpc(p) || get(p.key);
      });
    });
    ui.opener = opener || document.activeElement;
    if (!ui.dialog.open) ui.dialog.showModal();
    var first = ui.dialog.querySelector("input, button");
    if (first) first.focus();
  }

  function act(action, target) {
    if (action === "customise") return openPreferences(target);
    if (action === "close") return ui.dialog.close();
    if (action === "accept") decide(function () { return true; }, "BANNER");
    else if (action === "reject" || action === "optout") decide(function () { return false; }, "BANNER");
    else if (action === "ok") decide(function () { return true; }, "IMPLIED");
    else if (action === "save") {
      var allowed = {};
      Array.prototype.forEach.call(ui.dialog.querySelectorAll("input[data-category]"), function (i) {
        allowed[i.getAttribute("data-category")] = i.checked;
      });
      decide(function (p) {
        return policy.banner.categories.some(function (c) {
          return allowed[c.key] && c.purposes.indexOf(p) >= 0;
        });
      }, "BANNER");
    }
    if (ui.dialog.open) ui.dialog.close();
    hide();
  }

  function show() {
    if (!ui) build();
    ui.bar.hidden = false;
    if (!ui.host.hasAttribute("hidden")) fit();
  }

  function hide() {
    if (!ui) return;
    ui.bar.hidden = true;
    document.documentElement.style.removeProperty("scroll-padding-bottom");
  }

  // The bar is fixed to the bottom of the window: what gets focus must not hide behind
  // it (WCAG 2.2 SC 2.4.11), so the page scrolls focused elements above it.
  function fit() {
    if (ui && !ui.bar.hidden) {
      document.documentElement.style.setProperty("scroll-padding-bottom", ui.bar.offsetHeight + "px");
    }
  }

  /* ---- start --------------------------------------------------------------------------- */

  function acceptLanguage() {
    var tags = (navigator.languages && navigator.languages.length ? navigator.languages
      : [navigator.language || "en"]).filter(function (tag) {
        return /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/.test(tag);
      }).slice(0, 10);
    return tags.map(function (tag, i) {
      return i ? tag + ";q=" + Math.max(0.1, 1 - i / 10).toFixed(1) : tag;
    }).join(", ") || "en";
  }

  function start(found) {
    policy = found;
    purposes = [];
    policy.banner.categories.forEach(function (c) { purposes = purposes.concat(c.purposes); });
    resend();
    var covered = purposes.filter(blockedByGpc);
    var gpcOwed = covered.length && (!saved || covered.some(function (p) {
      return saved.r.indexOf(p.key) < 0;
    }));
    if (gpcOwed) decide(function () { return false; }, "GPC"); // no question asked
    var implied = policy.banner.consentModel === "IMPLIED";
    var chosen = saved && saved.c && !stale(saved);
    var noticed = false;
    try { noticed = sessionStorage.getItem("charter_notice") === String(policy.version); } catch (e) {}
    if (!chosen && asked().some(function (p) { return !blockedByGpc(p); })) {
      if (implied && noticed) {
        decide(function () { return true; }, "IMPLIED"); // the visitor went on using the site
      } else {
        show();
        if (implied) try { sessionStorage.setItem("charter_notice", String(policy.version)); } catch (e) {}
      }
    }
    changed();
    readyResolve(api);
  }

  var api = {
    get: get,
    choices: choices,
    open: function () { ready.then(function () { openPreferences(null); }); },
    ready: ready
  };
  window.Charter = window.Charter || {};
  window.Charter.consent = api;

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("[data-charter-preferences]") : null;
    if (link) { event.preventDefault(); api.open(); }
  });
  new MutationObserver(runAllowed).observe(document.documentElement, { childList: true, subtree: true });

  var url = ORIGIN + "/graphql?query=" + encodeURIComponent(QUERY) +
    "&variables=" + encodeURIComponent(JSON.stringify({ site: SITE }));
  // no-cache: revalidated (a 304 from memory) on every page, so a new version is seen at once
  fetch(url, { credentials: "omit", cache: "no-cache", headers: { Accept: "application/json",
                                              "Accept-Language": acceptLanguage() } })
    .then(function (response) { return response.json(); })
    .then(function (body) {
      var found = body.data && body.data.publishedPolicy;
      if (!found || !found.banner) return readyResolve(api); // nothing published: nothing runs
      if (document.body) start(found);
      else document.addEventListener("DOMContentLoaded", function () { start(found); });
    })
    .catch(function () { readyResolve(api); });
})();
