// Part of consent.js: a choice (or a GPC signal) becomes a recordConsent call.
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
