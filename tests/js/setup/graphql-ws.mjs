// Subscriptions over graphql-transport-ws: the key goes in connection_init, since a
// browser's WebSocket cannot send an Authorization header.
import { createClient } from "graphql-ws";
import WebSocket from "ws"; // in a browser, leave webSocketImpl out

export function charterSubscriptions(wsUrl, key) {
  return createClient({
    url: wsUrl, // ws(s)://HOST/graphql
    webSocketImpl: WebSocket,
    connectionParams: key ? { Authorization: `Bearer ${key}` } : {},
  });
}
