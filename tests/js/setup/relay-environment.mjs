// A Relay environment for Charter: one fetch function for queries and mutations.
import { Environment, Network, RecordSource, Store } from "relay-runtime";

export function charterRelay(url, key) {
  async function fetchGraphQL(operation, variables) {
    const response = await fetch(url, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/graphql-response+json",
        ...(key ? { Authorization: `Bearer ${key}` } : {}),
      },
      body: JSON.stringify({ query: operation.text, variables }),
    });
    return response.json();
  }
  return new Environment({ network: Network.create(fetchGraphQL), store: new Store(new RecordSource()) });
}
