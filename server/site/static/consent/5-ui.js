// Part of consent.js: the banner, the notice and the preferences dialog.
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
