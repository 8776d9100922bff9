"""A shop's node: its club, its members' personal data, its GraphQL API and dashboard."""
