"""The volunteers service: grids, teams, volunteers, actions, visits, and charity (services/volunteers/charity/)."""
