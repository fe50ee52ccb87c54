// The bench's JavaScript peers: one GraphQL server answering `{ publishedPolicy { version
// title body } }` with the object in BENCH_ANSWER_FILE (the same 4 KB answer the Python
// peers give), on 127.0.0.1:PORT at /graphql. Production settings: no landing page, no
// introspection, no masked-error stack traces.
//
//   node bench/js/peers.mjs yoga|apollo PORT
import { readFileSync } from "node:fs";
import { createServer } from "node:http";

const [kind, port] = process.argv.slice(2);
const answer = JSON.parse(readFileSync(process.env.BENCH_ANSWER_FILE, "utf8"));
const typeDefs = `
  type Policy { version: Int! title: String! body: String! }
  type Query { publishedPolicy: Policy! }
`;
const resolvers = { Query: { publishedPolicy: () => answer } };

if (kind === "yoga") {
  const { createSchema, createYoga } = await import("graphql-yoga");
  const yoga = createYoga({
    schema: createSchema({ typeDefs, resolvers }),
    graphiql: false,
    logging: false,
    landingPage: false,
  });
  createServer(yoga).listen(Number(port), "127.0.0.1");
} else if (kind === "apollo") {
  const { ApolloServer } = await import("@apollo/server");
  const { startStandaloneServer } = await import("@apollo/server/standalone");
  const server = new ApolloServer({ typeDefs, resolvers, introspection: false });
  await startStandaloneServer(server, { listen: { port: Number(port), host: "127.0.0.1" } });
} else {
  throw new Error(`unknown peer ${kind}`);
}
