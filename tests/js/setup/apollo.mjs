// Apollo Client 4 for Charter: automatic persisted queries, hashed queries sent as GET
// (so publishedPolicy is served from Charter's cache and revalidated with ETags).
import { ApolloClient, HttpLink, InMemoryCache } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";

async function sha256(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export function charterApollo(url, key) {
  const persisted = new PersistedQueryLink({ sha256, useGETForHashedQueries: true });
  const http = new HttpLink({ uri: url, headers: key ? { Authorization: `Bearer ${key}` } : {} });
  return new ApolloClient({ link: persisted.concat(http), cache: new InMemoryCache() });
}
