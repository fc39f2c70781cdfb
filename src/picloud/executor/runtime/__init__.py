"""Code that runs inside a worker process, in the sandbox.

Only this package, `picloud.sdk`, the standard library and msgspec are visible to a strict-mode
worker, so nothing here may import the rest of PiCloud.
"""
