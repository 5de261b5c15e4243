"""The review compliance report (DESIGN §9)."""
