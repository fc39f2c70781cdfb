"""The executor: runs user scripts in sandboxed worker processes.

Kept free of imports: a sandboxed worker imports `picloud.executor.runtime` through this package
and must not pull in host-side code.
"""
