"""The node's GraphQL API: resolvers parse, authorise, call one service, map the result."""
