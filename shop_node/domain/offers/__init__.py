"""Offers (issue 18): their definition, conditions, rewards and profit check, as pure code.
The node's services read the member's facts and purchases and record what is given."""
