"""Business rules of the control plane, shared by the admin API and the dashboard.

Each function validates with `picloud.core`, runs its writes in one transaction, publishes the
change after commit when dispatch must see it, and raises `picloud.manager.problems.Problem`
for anything the caller did wrong. HTTP handlers stay thin wrappers around these.
"""
