// urql for Charter: the default exchanges (document cache, then fetch); the key as a
// bearer token on every request.
import { Client, cacheExchange, fetchExchange } from "@urql/core";

export function charterUrql(url, key) {
  return new Client({
    url,
    exchanges: [cacheExchange, fetchExchange],
    fetchOptions: () => ({ headers: key ? { Authorization: `Bearer ${key}` } : {} }),
  });
}
