// Part of consent.js: the one read of the banner, then what to show; the public API.
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
