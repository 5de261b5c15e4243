"""The review compliance report."""
