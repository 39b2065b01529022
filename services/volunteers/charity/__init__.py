"""Charity: merchants (shops), their charity items, claims and their redemption at the counter, micro-wishes,
and their reports. Tables in `models`, pure rules in `rules`, the RPC contract in `contracts`; one use-case
module per area (`merchants`, `items`, `claims`, `wishes`, `reports`), what they share in `access`."""
