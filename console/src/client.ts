import { Client, type CombinedError, cacheExchange, fetchExchange, mapExchange, subscriptionExchange } from "@urql/core";
import { createClient as createWsClient } from "graphql-ws";

/** Did the gateway refuse the key (wrong, revoked, expired)? Then the console goes back to sign-in. */
export const refusedKey = (error: CombinedError | undefined): boolean => !!error?.graphQLErrors.some((e) => e.extensions?.code === "UNAUTHENTICATED") || error?.response?.status === 401;

/**
 * One urql client per signed-in key: queries and mutations over HTTP POST /graphql, subscriptions over
 * graphql-ws on the same path, each carrying the key as a bearer token. `onRefused` runs when the gateway
 * says the key no longer works (revoked in another tab, say).
 */
export function gatewayClient(key: string, onRefused: () => void) {
  const wsUrl = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;
  const ws = createWsClient({
    url: wsUrl,
    connectionParams: { authorization: `Bearer ${key}` },
    lazy: true,
    retryAttempts: 3,
    on: {
      closed: (event) => {
        if ((event as CloseEvent).code === 4403) onRefused();
      },
    },
  });
  const client = new Client({
    url: "/graphql",
    requestPolicy: "network-only",
    fetchOptions: () => ({ headers: { authorization: `Bearer ${key}` } }),
    exchanges: [
      mapExchange({
        onError: (error) => {
          if (refusedKey(error)) onRefused();
        },
      }),
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? "" }, sink) }),
        }),
      }),
    ],
  });
  return { client, close: () => ws.dispose() };
}
