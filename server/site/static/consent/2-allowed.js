// Part of consent.js: what the record and the policy allow, purpose by purpose.
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
