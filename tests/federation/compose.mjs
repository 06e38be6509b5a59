// Composes subgraph SDLs with both common composers and writes Apollo's supergraph SDL.
//   node compose.mjs services.json supergraph.graphql
// services.json: [{"name": "crossdock", "url": "http://127.0.0.1:8000/graphql", "sdl": "..."}]
// Prints one JSON line: {"apollo": [errors] | [], "guild": [errors] | []}.
import { readFileSync, writeFileSync } from "node:fs";
import { parse } from "graphql";
import { composeServices as composeApollo } from "@apollo/composition";
import { composeServices as composeGuild } from "@theguild/federation-composition";

const [servicesFile, supergraphFile] = process.argv.slice(2);
const services = JSON.parse(readFileSync(servicesFile, "utf8")).map((s) => ({
  name: s.name,
  url: s.url,
  typeDefs: parse(s.sdl),
}));
const messages = (result) => (result.errors ?? []).map((e) => e.message);
const apollo = composeApollo(services);
const guild = composeGuild(services);
if (!apollo.errors) writeFileSync(supergraphFile, apollo.supergraphSdl);
console.log(JSON.stringify({ apollo: messages(apollo), guild: messages(guild) }));
