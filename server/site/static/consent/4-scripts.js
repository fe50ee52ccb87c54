// Part of consent.js: tagged scripts run once allowed; listeners hear of changes.
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
