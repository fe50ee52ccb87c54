/* Charter's consent banner: one script tag, no framework, no eval, no inline styles.
 * <script src="https://CHARTER/t/SITE/consent.js" data-key="pk_..." async></script>
 * It asks Charter (and no other host) for the site's published policy and banner, asks the
 * visitor, records the choice with recordConsent, keeps a first-party record of it, and
 * runs <script type="text/plain" data-charter-purpose="..."> only once that is allowed.
 * Built from static/consent/*.js, joined in name order (server/site/assets.py): one
 * function scope, opened here and closed at the end of 6-start.js. */
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
