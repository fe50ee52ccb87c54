// Charter's GraphiQL: everything it loads comes from this server (no CDN, so it works
// offline under a CSP of 'self'). Headers, where a secret key goes, are never written to
// localStorage: shouldPersistHeaders is off, and since GraphiQL's history and tabs would
// still keep each query's headers, its storage drops every "headers" entry on the way in.
// A key typed here lives as long as the tab.
(function () {
  "use strict";

  function withoutHeaders(key, value) {
    if (key === "graphiql:headers") return null;
    try {
      return JSON.stringify(JSON.parse(value), function (name, item) {
        return name === "headers" ? undefined : item;
      });
    } catch (notJson) {
      return value;
    }
  }

  var storage = {
    getItem: function (key) { return window.localStorage.getItem(key); },
    setItem: function (key, value) {
      var kept = withoutHeaders(key, value);
      if (kept === null) window.localStorage.removeItem(key);
      else window.localStorage.setItem(key, kept);
    },
    removeItem: function (key) { window.localStorage.removeItem(key); },
    clear: function () { window.localStorage.clear(); },
    get length() { return window.localStorage.length; },
  };

  var url = window.location.origin + window.location.pathname;
  var socket = new URL(url);
  socket.protocol = socket.protocol === "https:" ? "wss:" : "ws:";
  var fetcher = GraphiQL.createFetcher({ url: url, subscriptionUrl: socket.toString() });
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      storage: storage,
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      inputValueDeprecation: true,
    }),
  );
})();
