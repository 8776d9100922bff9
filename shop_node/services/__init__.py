"""The node's use cases: one function each, called alike by GraphQL resolvers and tasks."""
