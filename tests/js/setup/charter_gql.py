"""Python's gql for Charter: over HTTP, and over graphql-transport-ws for subscriptions
(the key in connection_init); the schema is fetched from the server to check queries."""

from gql import Client
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport


def charter_http(url: str, key: str) -> Client:
    transport = HTTPXAsyncTransport(url=url, headers={"Authorization": f"Bearer {key}"})
    return Client(transport=transport, fetch_schema_from_transport=True)


def charter_ws(ws_url: str, key: str) -> Client:
    transport = WebsocketsTransport(
        url=ws_url,  # ws(s)://HOST/graphql
        init_payload={"Authorization": f"Bearer {key}"},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
    )
    return Client(transport=transport, fetch_schema_from_transport=True)
